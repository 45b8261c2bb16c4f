"""A synthetic French PII corpus: valid identifiers (checksums right) and look-alikes (one digit off).

Deterministic for a seed. Every value is invented; every span is recorded so the
tests and ``bench/dlp.py`` can score detection per kind.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from bot.governance.dlp_identifiers import (
    card_valid,
    compact,
    iban_complete,
    iban_valid,
    luhn_complete,
    nir_key,
    nir_valid,
    siren_valid,
    siret_valid,
)

FIRST_NAMES = ("Marie", "Jean", "Nathalie", "Philippe", "Isabelle", "Michel", "Sylvie", "Pierre",
               "Catherine", "Nicolas", "Camille", "Julien", "Élodie", "François", "Sophie",
               "Thierry", "Aurélie", "Laurent", "Chloé", "Mathieu", "Marie-Claire", "Jean-Luc")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier",
              "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Mercier")
DOMAINS = ("exemple.fr", "mutuelle-exemple.fr", "orange.fr", "gmail.com", "laposte.net")

# Kinds the corpus holds; "lookalike" entities carry the kind they imitate.
KINDS = ("NIR", "IBAN", "SIREN", "SIRET", "CARTE", "TELEPHONE", "EMAIL", "SECRET", "PERSONNE")
TEMPLATES = {
    "NIR": ("Mon numéro de sécurité sociale est le {}.", "NIR de l'assuré : {}",
            "Pouvez-vous vérifier le n° SS {} ?"),
    "IBAN": ("Merci de rembourser sur l'IBAN {}.", "Nouveau RIB : {}, à enregistrer.",
             "Virement reçu de {} hier."),
    "SIREN": ("L'entreprise a pour SIREN {}.", "SIREN {} (société cliente)"),
    "SIRET": ("Établissement SIRET {} à Lyon.", "Le SIRET {} figure sur la facture."),
    "CARTE": ("Payé avec la carte {} expirant en 09/27.", "Carte bancaire n° {}"),
    "TELEPHONE": ("Rappelez-moi au {} demain.", "Tél. : {}", "Son portable est le {}."),
    "EMAIL": ("Écrivez à {} pour le suivi.", "Adresse de contact : {}"),
    "SECRET": ("Voici la config : {}", "Le script échoue avec {} dans l'en-tête."),
    "PERSONNE": ("L'assurée {} a appelé ce matin pour son dossier.",
                 "Compte rendu de l'entretien avec {} : la cliente souhaite résilier.",
                 "Bonjour, je transmets la demande de {} au service gestion.",
                 "Le conseiller {} rappellera le client vendredi."),
}


@dataclass(frozen=True, slots=True)
class Entity:
    """One value placed in a sample; ``valid`` is False for a look-alike."""

    kind: str
    start: int
    end: int
    valid: bool = True


@dataclass(frozen=True, slots=True)
class Sample:
    """A text and the entities it holds."""

    text: str
    entities: tuple[Entity, ...]


def _any_checksum_valid(value: str) -> bool:
    digits = compact(value)
    return any(check(digits) for check in (nir_valid, iban_valid, siren_valid, siret_valid,
                                           card_valid))


class PiiGenerator:
    """Invented identifiers and sentences, reproducible from ``seed``."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def _digits(self, count: int) -> str:
        return "".join(self._random.choice(string.digits) for _ in range(count))

    def _group(self, value: str, sizes: tuple[int, ...], separator: str) -> str:
        parts, position = [], 0
        for size in sizes:
            parts.append(value[position:position + size])
            position += size
        if position < len(value):
            parts.append(value[position:])
        return separator.join(part for part in parts if part)

    def nir(self, corsica: str | None = None) -> str:
        """A valid NIR (15 characters), in Corsica (``"2A"``/``"2B"``) if asked."""
        sex = self._random.choice("12")
        year = f"{self._random.randint(0, 99):02d}"
        month = f"{self._random.randint(1, 12):02d}"
        department = corsica or f"{self._random.choice([1, 13, 33, 59, 69, 75, 92, 971]):02d}"[:2]
        first13 = sex + year + month + department + self._digits(6)
        return first13 + f"{nir_key(first13):02d}"

    def iban(self, country: str = "FR") -> str:
        """A valid IBAN for FR, DE, BE, ES, IT or GB."""
        bban = {
            "FR": lambda: self._digits(21) + self._digits(2),
            "DE": lambda: self._digits(18),
            "BE": lambda: self._digits(12),
            "ES": lambda: self._digits(20),
            "IT": lambda: self._random.choice(string.ascii_uppercase) + self._digits(22),
            "GB": lambda: "".join(self._random.choices(string.ascii_uppercase, k=4))
            + self._digits(14),
        }[country]()
        return iban_complete(country, bban)

    def siren(self) -> str:
        """A valid SIREN (9 digits, Luhn)."""
        return luhn_complete(self._random.choice("3456789") + self._digits(7))

    def siret(self, la_poste: bool = False) -> str:
        """A valid SIRET; La Poste's follows its digit-sum rule instead of Luhn."""
        if la_poste:
            while True:
                value = "356000000" + self._digits(5)
                if siret_valid(value):
                    return value
        return luhn_complete(self.siren() + self._digits(4))

    def card(self) -> str:
        """A valid 16-digit Visa or Mastercard number."""
        prefix = self._random.choice(["4970", "4", "51", "53", "55"])
        return luhn_complete(prefix + self._digits(15 - len(prefix)))

    def phone(self) -> str:
        """A French phone number in one of several written formats."""
        national = self._random.choice("1234567899") + self._digits(8)
        pairs = [national[1:3], national[3:5], national[5:7], national[7:9]]
        return self._random.choice([
            "0{} {}".format(national[0], " ".join(pairs)),
            "0{}.{}".format(national[0], ".".join(pairs)),
            "0{}-{}".format(national[0], "-".join(pairs)),
            "0" + national,
            "+33 {} {}".format(national[0], " ".join(pairs)),
            "+33" + national,
            "0033 {} {}".format(national[0], " ".join(pairs)),
            "+33 (0){} {}".format(national[0], " ".join(pairs)),
        ])

    def person(self) -> str:
        """A French first name and surname."""
        return f"{self._random.choice(FIRST_NAMES)} {self._random.choice(LAST_NAMES)}"

    def email(self) -> str:
        """A personal e-mail address."""
        first = self._random.choice(FIRST_NAMES).lower().replace("é", "e").replace("è", "e")
        last = self._random.choice(LAST_NAMES).lower().replace("è", "e")
        return f"{first}.{last}{self._random.randint(1, 99)}@{self._random.choice(DOMAINS)}"

    def secret(self) -> tuple[str, str]:
        """(sentence fragment, the secret in it)."""
        alnum = string.ascii_letters + string.digits

        def word(count: int) -> str:
            return "".join(self._random.choices(alnum, k=count))

        value = self._random.choice([
            "sk-proj-" + word(40), "xoxb-" + self._digits(12) + "-" + word(24), "ghp_" + word(36),
            "AKIA" + "".join(self._random.choices(string.ascii_uppercase + string.digits, k=16)),
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx" + word(20) + "." + word(43),
            "Soleil" + self._digits(4) + "!",
        ])
        if value.startswith("Soleil"):
            return self._random.choice(["mot de passe : {}", "password={}"]), value
        if value.startswith("eyJ"):
            return "Authorization: Bearer {}", value
        return self._random.choice(["OPENAI_API_KEY={}", "clé {}", "{}"]), value

    def formatted(self, kind: str, value: str) -> str:
        """``value`` as people write it: grouped by spaces or dots, or compact."""
        style = self._random.choice([" ", ".", ""]) if kind != "IBAN" else self._random.choice(
            [" ", ""])
        sizes = {"NIR": (1, 2, 2, 2, 3, 3), "IBAN": (4,) * 8, "SIREN": (3, 3),
                 "SIRET": (3, 3, 3), "CARTE": (4, 4, 4)}.get(kind)
        if sizes is None or not style:
            return value
        return self._group(value, sizes, style if kind != "CARTE" else self._random.choice(
            [" ", "-"]))

    def lookalike(self, kind: str) -> str:
        """A value of ``kind`` with one digit changed, so that no checksum holds."""
        while True:
            value = self.valid(kind)
            positions = [index for index, char in enumerate(value) if char.isdigit()]
            index = self._random.choice(positions[1:] if kind in {"NIR", "CARTE"} else positions)
            changed = value[:index] + str((int(value[index]) + 1) % 10) + value[index + 1:]
            if not _any_checksum_valid(changed):
                return changed

    def valid(self, kind: str) -> str:
        """A valid compact value of a checksummed ``kind``."""
        choice = self._random.random()
        if kind == "NIR":
            return self.nir("2A" if choice < 0.15 else "2B" if choice < 0.3 else None)
        if kind == "IBAN":
            return self.iban("FR" if choice < 0.6 else self._random.choice(
                ["DE", "BE", "ES", "IT", "GB"]))
        if kind == "SIREN":
            return self.siren()
        if kind == "SIRET":
            return self.siret(la_poste=choice < 0.2)
        if kind == "CARTE":
            return self.card()
        raise ValueError(kind)

    def sample(self, kinds: tuple[str, ...], lookalikes: tuple[str, ...] = ()) -> Sample:
        """One text with a sentence per kind (valid) and per look-alike kind (invalid)."""
        parts: list[tuple[str, str | None, str, bool]] = []
        for kind in kinds:
            parts.append((kind, *self._sentence(kind, valid=True)))
        for kind in lookalikes:
            parts.append((kind, *self._sentence(kind, valid=False)))
        self._random.shuffle(parts)
        text, entities = "", []
        for kind, template, value, valid in parts:
            prefix, _, suffix = (template or "{}").partition("{}")
            text += ("" if not text else " ") + prefix
            entities.append(Entity(kind, len(text), len(text) + len(value), valid))
            text += value + suffix
        return Sample(text, tuple(entities))

    def _sentence(self, kind: str, *, valid: bool) -> tuple[str, str, bool]:
        sentence = self._random.choice(TEMPLATES[kind])
        if kind == "SECRET":
            fragment, value = self.secret()
            return sentence.replace("{}", fragment), value, True
        if kind in {"TELEPHONE", "EMAIL", "PERSONNE"}:
            value = {"TELEPHONE": self.phone, "EMAIL": self.email, "PERSONNE": self.person}[kind]()
            return sentence, value, True
        raw = self.valid(kind) if valid else self.lookalike(kind)
        return sentence, self.formatted(kind, raw), valid

    def corpus(self, size: int) -> list[Sample]:
        """``size`` samples mixing 1–4 kinds and, one time in two, a look-alike."""
        checksummed = ("NIR", "IBAN", "SIREN", "SIRET", "CARTE")
        samples = []
        for _ in range(size):
            kinds = tuple(self._random.sample(KINDS, self._random.randint(1, 4)))
            lookalikes = (self._random.choice(checksummed),) if self._random.random() < 0.5 else ()
            samples.append(self.sample(kinds, lookalikes))
        return samples

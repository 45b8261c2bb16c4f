"""Realistic French insurance messages with gold person-name spans, for ``bench/dlp.py``.

Two halves with disjoint vocabularies (``bench/dlp_corpus/vocabulary.py``): ``dev`` to
tune on, ``test`` held out. Deterministic for a (half, seed). Messages mix imperative
openings, claims, contracts, customer calls, job titles, places, products, companies,
months, amounts and phone numbers, small firms no shipped list holds, signatures, and a
few sentence shapes of one half only; names come in the ways people write them (« Prénom
Nom », « Prénom NOM », « NOM Prénom », « M. Nom », « Maître Nom », a first name alone).

    .venv/bin/python bench/dlp_corpus/generate.py --half test --seed 2 --count 1000 > test.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vocabulary import DAYS, DEV_NAMES, DEV_WORDS, MONTHS, TEST_NAMES, TEST_WORDS

# {P}: a person; other slots: see Generator._fill.
OPENINGS = (
    "{V} la réponse au courrier de {P} concernant son sinistre du {DATE}.",
    "{V} l'appel de {P} : dégât des eaux déclaré le {DATE}, passage de {T} prévu {DAY}.",
    "{V} le dossier de {P} avant la réunion de {DAY} avec {T}.",
    "{V} les points clés de l'entretien avec {P} sur son contrat {R}.",
    "{V} un mail pour {P} : son contrat {R} est résilié au 1er {M}.",
    "{V} le montant de l'indemnisation pour {P} (franchise de {AMOUNT} €).",
    "{CONTACT} {P} pour le devis du garage de {L}.",
    "{V} le compte rendu de la visite de {T} chez {P} à {L}.",
    "{V} les pièces manquantes du dossier {REF} de {P}.",
    "{V} ce texte pour {P}, client {C} depuis {YEAR}.",
    "{V} la synthèse des réclamations de {M} pour {T}.",
    "{V} les garanties du contrat {R} souscrit par {P} en {M} {YEAR}.",
    "{V} la lettre de relance à {P}, sans mentionner {C}.",
    "{V} le tableau des sinistres de l'agence de {L} pour {M}.",
    "{V} l'échange entre {P} et {P2} au sujet du dossier {REF}.",
    "{V} en trois points la demande de {P}.",
    "{V} mon brouillon de réponse à {P} ; ton cordial, pas plus de dix lignes.",
)
STATEMENTS = (
    "{P} a appelé ce matin au sujet de son contrat {R}.",
    "Suite à l'appel de {P}, le sinistre {REF} est ouvert depuis le {DATE}.",
    "Bonjour, {P} conteste le montant de {AMOUNT} € proposé par {T}.",
    "Le client {P} souhaite passer au contrat {R} à partir de {M}.",
    "Compte rendu : {P} ({L}) signale un vol de vélo, plainte déposée le {DATE}.",
    "{T} a rencontré {P} {DAY} à {L}.",
    "Pouvez-vous rappeler {P} au {PHONE} avant {DAY} ?",
    "Mme {LAST} nous a transmis les factures du garage {C}.",
    "M. {LAST} demande un geste commercial sur son contrat {R}.",
    "Maître {LAST}, avocat de {P}, demande une copie du rapport d'expertise.",
    "Dossier {REF} : {P} a envoyé les photos, {T} valide le chiffrage de {AMOUNT} €.",
    "Objet : résiliation {R}\nLa cliente {P} part chez {C} au 1er {M}.",
    "Note de {P2} : {P} attend une réponse depuis le {DATE}.",
    "{C} a transmis le constat signé par {P} et {P2}.",
    "{TC} : {P}, agence de {L}.",
    "Merci à {P} pour son aide sur le dossier {REF}.",
    "{P} m'a dit qu'il rappellerait {DAY}.",
    "Le rendez-vous avec {P} est déplacé à {DAY} {HOUR} h.",
    "Le contrat {R} de {P} arrive à échéance en {M} {YEAR}.",
    "Aucun nom à signaler : {T} de {L} relit les conditions générales du contrat {R}.",
    "Le sinistre du {DATE} à {L} concerne un véhicule assuré chez {C}.",
    "Réunion {DAY} avec {T} et {C} sur le contrat {R}.",
)
# Templates of one half only, so that the held-out half also holds sentence shapes never
# tuned on; {U}: a small firm that no shipped list holds.
HALF_STATEMENTS = {
    "dev": (
        "Bonjour {P},\nvoici le récapitulatif du dossier {REF}.",
        "Le devis de {U} pour le sinistre de {P} s'élève à {AMOUNT} €.",
        "{P} passe de {C} à {U} au 1er {M}.",
        "Cordialement,\n{P}\n{TC}",
        "D'après {U}, les travaux chez {P} commencent {DAY}.",
    ),
    "test": (
        "Pour info, {P} a signé chez {U} la semaine dernière.",
        "Transfert du dossier de {P} vers l'agence de {L}, avis de {U} joint.",
        "Bien à vous,\n{P}\n{TC}, {C}",
        "{U} intervient {DAY} chez {P} pour la fuite déclarée le {DATE}.",
        "Relevé de {U} : {P} absent lors du passage du {DATE}.",
    ),
}
CLOSINGS = ("", "", "", " Merci.", " Merci d'avance.", " C'est urgent.",
            " Réponds en français.", " Cordialement.")
HONORIFICS = ("M.", "Mme", "Monsieur", "Madame", "Maître", "Mme", "M.")


@dataclass(frozen=True, slots=True)
class Message:
    """A message and the character spans of the person names in it (gold)."""

    text: str
    names: tuple[tuple[int, int], ...]
    phones: tuple[tuple[int, int], ...]

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps({"text": self.text, "names": self.names, "phones": self.phones},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Message:
        """The message of one JSON line."""
        data = json.loads(line)
        return cls(data["text"], tuple(map(tuple, data["names"])),  # type: ignore[arg-type]
                   tuple(map(tuple, data["phones"])))  # type: ignore[arg-type]


class Generator:
    """Messages of one half (``dev`` or ``test``), reproducible from ``seed``."""

    def __init__(self, half: str, seed: int) -> None:
        self._random = random.Random(f"{half}-{seed}")
        names = DEV_NAMES if half == "dev" else TEST_NAMES
        self._words = DEV_WORDS if half == "dev" else TEST_WORDS
        self._first = [first for firsts, _ in names.values() for first in firsts]
        self._last = [last for _, lasts in names.values() for last in lasts]
        self._origins = list(names.values())
        self._statements = STATEMENTS + HALF_STATEMENTS[half]

    def messages(self, count: int) -> list[Message]:
        """``count`` messages: one or two sentences, an imperative opening six times in ten."""
        return [self.message() for _ in range(count)]

    def message(self) -> Message:
        """One message."""
        choice = self._random
        parts = []
        if choice.random() < 0.6:
            parts.append(choice.choice(OPENINGS))
            if choice.random() < 0.4:
                parts.append(choice.choice(self._statements))
        else:
            parts.append(choice.choice(self._statements))
            if choice.random() < 0.3:
                parts.append(choice.choice(OPENINGS))
        template = (" " if choice.random() < 0.7 else "\n").join(parts) + choice.choice(CLOSINGS)
        return self._fill(template)

    def _person(self) -> tuple[str, str, str]:
        """(honorific or "", the name as written, i.e. the gold span)."""
        choice = self._random
        firsts, lasts = choice.choice(self._origins) if choice.random() < 0.7 else (
            self._first, self._last)
        first, last = choice.choice(firsts), choice.choice(lasts)
        style = choice.random()
        if style < 0.35:
            return "", f"{first} {last}", ""
        if style < 0.50:
            return "", f"{first} {_upper_surname(last)}", ""
        if style < 0.58:
            return "", f"{_upper_surname(last)} {first}", ""
        if style < 0.78:
            honorific = choice.choice(HONORIFICS)
            return honorific + " ", last if choice.random() < 0.6 else f"{first} {last}", ""
        if style < 0.90:
            return "", first, ""
        return "", f"{first} {last}", ""

    def _fill(self, template: str) -> Message:
        choice = self._random
        text, names, phones = "", [], []
        position = 0
        for match in re.finditer(r"\{(\w+)\}", template):
            text += template[position:match.start()]
            position = match.end()
            slot = match.group(1)
            if slot in {"P", "P2"}:
                honorific, name, _ = self._person()
                text = _contracted(text, honorific or name)
                text += honorific
                names.append((len(text), len(text) + len(name)))
                text += name
            elif slot == "LAST":
                last = choice.choice(self._last)
                last = _upper_surname(last) if choice.random() < 0.3 else last
                text = _contracted(text, last)
                names.append((len(text), len(text) + len(last)))
                text += last
            elif slot == "PHONE":
                phone = "0{} {:02d} {:02d} {:02d} {:02d}".format(
                    choice.choice("1234567"), *(choice.randint(0, 99) for _ in range(4)))
                phones.append((len(text), len(text) + len(phone)))
                text += phone
            else:
                word = self._word(slot)
                text = _contracted(text, word)
                if text.endswith(("du ", "au ", "des ", "aux ")) and word.startswith(("le ", "les ")):
                    word = word.split(" ", 1)[1]
                text += word
        text += template[position:]
        if text.startswith(("{", "[")):
            raise AssertionError(text)
        return Message(text[:1].upper() + text[1:], tuple(names), tuple(phones))

    def _word(self, slot: str) -> str:
        choice = self._random
        words = self._words
        return {
            "V": lambda: choice.choice(words["verbs"]),
            "CONTACT": lambda: choice.choice(words["contact_verbs"]),
            "T": lambda: choice.choice(words["titles"]),
            "TC": lambda: choice.choice(words["titles_capitalised"]),
            "L": lambda: choice.choice(words["places"]),
            "R": lambda: choice.choice(words["products"]),
            "C": lambda: choice.choice(words["companies"]),
            "U": lambda: choice.choice(words["unlisted_companies"]),
            "M": lambda: choice.choice(MONTHS),
            "DAY": lambda: choice.choice(DAYS),
            "DATE": lambda: f"{choice.randint(1, 28)} {choice.choice(MONTHS)}",
            "YEAR": lambda: str(choice.randint(2008, 2026)),
            "AMOUNT": lambda: f"{choice.randint(1, 9)} {choice.randint(0, 999):03d}",
            "REF": lambda: f"SIN-{choice.randint(2020, 2026)}-{choice.randint(0, 999999):06d}",
            "HOUR": lambda: str(choice.randint(8, 18)),
        }[slot]()


def _contracted(text: str, following: str) -> str:
    """``text`` ending in « de »/« à » contracted for the word that follows (du, au, d')."""
    for preposition, article, contracted in (("de", "le ", "du"), ("de", "les ", "des"),
                                             ("à", "le ", "au"), ("à", "les ", "aux")):
        if text.endswith(f" {preposition} ") and following.startswith(article):
            return text[:-len(preposition) - 1] + contracted + " "
    if text.endswith(" de ") and following[:1] in "AEIOUÉÈaeiouéèl" and (
            following[:1] != "l" or following.startswith("l'")):
        if following[:1] == "l":
            return text
        return text[:-1].removesuffix("de") + "d'"
    return text


def _upper_surname(last: str) -> str:
    """« de La Roche » → « de LA ROCHE »: particles stay as written."""
    return " ".join(word if word.islower() else word.upper() for word in last.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--half", choices=("dev", "test"), default="dev")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    arguments = parser.parse_args()
    for message in Generator(arguments.half, arguments.seed).messages(arguments.count):
        print(message.to_json())


if __name__ == "__main__":
    main()

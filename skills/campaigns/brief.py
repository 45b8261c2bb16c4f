"""A campaign brief: what the marketing team asks for, validated, from YAML or a form.

Keys may be written in French or English (``produit``/``product``…); unknown keys are
refused by name so that a typo is not silently ignored.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.i18n import Text
from bot.skills import SkillError


class Medium(StrEnum):
    """Where a campaign piece is published."""

    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"
    BANNER = "banner"
    LINKEDIN = "linkedin"


MEDIUM_LABELS: dict[Medium, Text] = {
    Medium.EMAIL: Text("e-mail", "e-mail"),
    Medium.SMS: Text("SMS", "SMS"),
    Medium.LETTER: Text("courrier", "letter"),
    Medium.BANNER: Text("bannière web", "web banner"),
    Medium.LINKEDIN: Text("post LinkedIn", "LinkedIn post"),
}
_MEDIUM_WORDS = {"email": Medium.EMAIL, "e-mail": Medium.EMAIL, "mail": Medium.EMAIL,
                 "courriel": Medium.EMAIL, "sms": Medium.SMS, "letter": Medium.LETTER,
                 "courrier": Medium.LETTER, "postal": Medium.LETTER, "banner": Medium.BANNER,
                 "banniere": Medium.BANNER, "bannière": Medium.BANNER, "web": Medium.BANNER,
                 "linkedin": Medium.LINKEDIN}
_KEY_ALIASES = {"titre": "title", "produit": "product", "cible": "segment",
                "segment_cible": "segment", "canaux": "channels", "ton": "tone",
                "messages_cles": "key_messages", "messages": "key_messages", "offre": "offer",
                "conditions_offre": "conditions", "appel_a_l_action": "call_to_action",
                "cta": "call_to_action", "appel_action": "call_to_action",
                "appel_a_action": "call_to_action", "echeance": "deadline",
                "date_limite": "deadline", "relecteurs": "reviewers", "validation": "approval",
                "variantes": "variants", "fin_offre": "offer_end", "preuves": "proofs",
                "langue": "language",
                # English words people write for a field (« target » for the segment)
                "target": "segment", "target_segment": "segment", "audience": "segment",
                "channel": "channels", "key_message": "key_messages", "due_date": "deadline",
                "reviewer": "reviewers"}
# each field's French key, as the usage and the error messages name it
FRENCH_NAMES = {"title": "titre", "product": "produit", "segment": "cible",
                "channels": "canaux", "tone": "ton", "key_messages": "messages_cles",
                "offer": "offre", "conditions": "conditions", "offer_end": "fin_offre",
                "call_to_action": "appel_a_l_action", "deadline": "echeance",
                "reviewers": "relecteurs", "approval": "validation", "variants": "variantes",
                "proofs": "preuves", "language": "langue"}
_APPROVAL_WORDS = {"all": "all", "tous": "all", "any": "any", "un": "any", "un_seul": "any",
                   "n'importe": "any"}


# the brief's fields as the form card shows them (name, label, multi-line)
BRIEF_FIELDS: tuple[tuple[str, Text, bool], ...] = (
    ("title", Text("Titre de la campagne", "Campaign title"), False),
    ("product", Text("Produit", "Product"), False),
    ("segment", Text("Cible", "Target segment"), False),
    ("channels", Text("Canaux (email, sms, letter, banner, linkedin)",
                      "Channels (email, sms, letter, banner, linkedin)"), False),
    ("tone", Text("Ton", "Tone"), False),
    ("key_messages", Text("Messages clés (un par ligne)", "Key messages (one per line)"), True),
    ("offer", Text("Offre", "Offer"), False),
    ("conditions", Text("Conditions de l'offre", "Offer conditions"), True),
    ("offer_end", Text("Fin de l'offre (AAAA-MM-JJ)", "Offer end (YYYY-MM-DD)"), False),
    ("call_to_action", Text("Appel à l'action", "Call to action"), False),
    ("deadline", Text("Échéance de validation (AAAA-MM-JJ)", "Approval deadline (YYYY-MM-DD)"),
     False),
    ("reviewers", Text("Relecteurs (identifiants, groupes ou rôles, séparés par des virgules)",
                       "Reviewers (ids, groups or roles, comma separated)"), False),
    ("approval", Text("Validation", "Approval"), False),
)
# the fields chosen from a list in the form: (value, its title), the first the default
BRIEF_CHOICES: dict[str, tuple[tuple[str, Text], ...]] = {
    "tone": (("chaleureux", Text("Chaleureux", "Warm")),
             ("formel", Text("Formel", "Formal")),
             ("dynamique", Text("Dynamique", "Lively"))),
    "approval": (("all", Text("Tous les relecteurs approuvent", "All reviewers approve")),
                 ("any", Text("Un seul relecteur suffit", "Any one reviewer is enough"))),
}



class BriefError(SkillError):
    """A brief that cannot be used; the message names the field."""


_INVALID = Text("Brief de campagne invalide : {problems_fr}.",
                "Invalid campaign brief: {problems_en}.")
# pydantic's error types, said plainly in both languages
_PROBLEMS = {
    "missing": Text("champ obligatoire manquant", "required field missing"),
    "extra_forbidden": Text("clé inconnue", "unknown key"),
    "string_too_short": Text("trop court ({min_length} caractères au moins)",
                             "too short (at least {min_length} characters)"),
    "string_too_long": Text("trop long ({max_length} caractères au plus)",
                            "too long (at most {max_length} characters)"),
    "too_short": Text("il en faut au moins {min_length}", "at least {min_length} needed"),
    "too_long": Text("{max_length} au plus", "at most {max_length}"),
    "literal_error": Text("« {input} » n'est pas proposé ({expected})",
                          "“{input}” is not offered ({expected})"),
    "offer_without_conditions": Text(
        "une offre doit avoir ses conditions (« conditions » : durée, public, limites), que "
        "chaque pièce cite en renvoi", "an offer needs its conditions (“conditions”: "
        "duration, audience, limits), which every piece refers to"),
    "unknown_channel": Text("canal inconnu « {input} » (email, sms, courrier, bannière, "
                            "linkedin)",
                            "unknown channel “{input}” (email, sms, letter, banner, linkedin)"),
    "date_from_datetime_parsing": Text("date attendue, au format AAAA-MM-JJ",
                                       "a date is expected, as YYYY-MM-DD"),
    "date_parsing": Text("date attendue, au format AAAA-MM-JJ",
                         "a date is expected, as YYYY-MM-DD"),
    "date_type": Text("date attendue, au format AAAA-MM-JJ", "a date is expected, as YYYY-MM-DD"),
    "int_parsing": Text("nombre entier attendu", "a whole number is expected"),
    "greater_than_equal": Text("{ge} au moins", "at least {ge}"),
    "less_than_equal": Text("{le} au plus", "at most {le}"),
}
_OTHER_PROBLEM = Text("valeur refusée", "value refused")
_NOT_YAML = Text("Le brief n'est pas du YAML lisible ({error}).",
                 "The brief is not readable YAML ({error}).")
_NOT_YAML_AT = Text("Le brief n'est pas du YAML lisible : erreur ligne {line}, colonne "
                    "{column} (une liste entre [ ] ou des guillemets non fermés ?).",
                    "The brief is not readable YAML: error at line {line}, column {column} (a "
                    "list in [ ] or quotes left open?).")
_PAST = Text("« {field_fr} » ({day}) est déjà passé : donnez une date à venir.",
             "“{field_en}” ({day}) has already passed: give a date to come.")
_FRENCH_KEYS = {"offer_end": "fin_offre", "deadline": "echeance"}


def check_dates(brief: Brief, today: date) -> None:
    """Refuse a brief whose offer end or approval deadline is already past: its drafts
    would announce an offer that is over."""
    for field, day in (("offer_end", brief.offer_end), ("deadline", brief.deadline)):
        if day is not None and day < today:
            raise BriefError(_PAST, field_fr=_FRENCH_KEYS[field], field_en=field,
                             day=day.isoformat())


_NOT_MAPPING = Text("Le brief doit être une liste de champs « clé: valeur ».",
                    "The brief must be a list of “key: value” fields.")


class Brief(BaseModel):
    """Everything the drafts and the checks are built from."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    title: str = Field(min_length=2, max_length=120)
    product: str = Field(min_length=2, max_length=120)
    segment: str = Field(min_length=2, max_length=300)
    channels: tuple[Medium, ...] = Field(min_length=1, max_length=5)
    tone: Literal["formel", "chaleureux", "dynamique"] = "chaleureux"
    key_messages: tuple[str, ...] = Field(default=(), max_length=8)
    offer: str = Field(default="", max_length=300)
    conditions: str = Field(default="", max_length=1000)
    offer_end: date | None = None
    call_to_action: str = Field(min_length=2, max_length=120)
    deadline: date | None = None  # approval needed by (reminders before it)
    reviewers: tuple[str, ...] = Field(min_length=1, max_length=10)
    approval: Literal["all", "any"] = "all"
    variants: int = Field(default=2, ge=1, le=3)
    proofs: tuple[str, ...] = Field(default=(), max_length=10)  # sources for claims
    language: Literal["fr", "en"] | None = None  # of the drafts; default: the author's

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> Any:
        words = {"francais": "fr", "français": "fr", "french": "fr", "anglais": "en",
                 "english": "en"}
        return words.get(str(value).strip().lower(), str(value).strip().lower()) \
            if value is not None else None

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        items = value.replace(",", " ").split() if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        chosen = []
        for item in items:
            medium = _MEDIUM_WORDS.get(str(item).strip().lower())
            if medium is None:
                raise PydanticCustomError("unknown_channel", "unknown channel {input}",
                                          {"input": str(item)[:30]})
            if medium not in chosen:
                chosen.append(medium)
        return tuple(chosen)

    @field_validator("key_messages", "reviewers", "proofs", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        if isinstance(value, str):
            separator = "\n" if "\n" in value else ","
            return tuple(part.strip(" -•\t") for part in value.split(separator)
                         if part.strip(" -•\t"))
        return value

    @field_validator("tone", mode="before")
    @classmethod
    def _tone(cls, value: Any) -> Any:
        words = {"formal": "formel", "warm": "chaleureux", "friendly": "chaleureux",
                 "dynamic": "dynamique", "amical": "chaleureux"}
        return words.get(str(value).strip().lower(), str(value).strip().lower())

    @field_validator("approval", mode="before")
    @classmethod
    def _approval(cls, value: Any) -> Any:
        return _APPROVAL_WORDS.get(str(value).strip().lower(), value)

    @model_validator(mode="after")
    def _offer_has_conditions(self) -> Brief:
        if self.offer and not self.conditions:  # a promise with no small print behind it
            raise PydanticCustomError("offer_without_conditions", "offer without conditions")
        return self

    def as_yaml(self) -> str:
        """The brief as YAML (the format :func:`parse_brief` reads)."""
        return yaml.safe_dump(self.model_dump(mode="json"), allow_unicode=True,
                              sort_keys=False)


def brief_from_mapping(data: dict[str, Any]) -> Brief:
    """A brief from already-parsed fields (French or English keys)."""
    fields = {_KEY_ALIASES.get(_key(name), _key(name)): value for name, value in data.items()
              if value not in (None, "")}
    try:
        return Brief.model_validate(fields)
    except ValidationError as error:
        said: dict[str, list[str]] = {"fr": [], "en": []}
        for item in error.errors()[:6]:
            field = (str(item["loc"][0]) if item["loc"] else
                     "conditions" if item["type"] == "offer_without_conditions" else "brief")
            said["fr"].append(f"{FRENCH_NAMES.get(field, field)} : {_problem(item, 'fr')}")
            said["en"].append(f"{field}: {_problem(item, 'en')}")
        raise BriefError(_INVALID, problems_fr=" ; ".join(said["fr"]),
                         problems_en="; ".join(said["en"])) from None


def _problem(item: ErrorDetails, locale: Literal["fr", "en"]) -> str:
    """One field's problem in the person's language, with the value and limits it names."""
    known = _PROBLEMS.get(item["type"])
    if known is None:
        return _OTHER_PROBLEM(locale)
    context = dict(item.get("ctx") or {})
    value = item.get("input")
    context["input"] = context.get("input", str(value)[:40] if value is not None else "")
    if item["type"] == "literal_error":
        context["expected"] = str(context.get("expected", "")).replace("'", "")
        if locale == "fr":
            context["expected"] = context["expected"].replace(" or ", " ou ")
    return known(locale, **context)


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: a date is read by the brief's own rules, so that
    « 2099-13-45 » gets its field named rather than a crash in the YAML reader."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def parse_brief(text: str) -> Brief:
    """A brief from YAML text."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader without timestamps
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is not None:  # where, rather than the parser's English words
            raise BriefError(_NOT_YAML_AT, line=mark.line + 1, column=mark.column + 1) from None
        raise BriefError(_NOT_YAML, error=str(error).splitlines()[0][:120]) from None
    if not isinstance(data, dict):
        raise BriefError(_NOT_MAPPING)
    return brief_from_mapping(data)


def _key(name: object) -> str:
    return (str(name).strip().lower().replace(" ", "_").replace("-", "_")
            .replace("é", "e").replace("è", "e").replace("à", "a"))

"""Plan de codes (codebook): the themes a customer-experience team already tracks.

A codebook lists codes, each with a label, a description and keywords. It is what survey
analysts work with: the themes keep the team's own names and stay comparable from one wave
to the next, while themes outside the codebook are still discovered (see
``skills.verbatims.analysis.coding``). The default one (``codebooks/assurance.yaml``) holds
the usual themes of an insurer's satisfaction survey; a team can pass its own (same format),
or none to rely on discovery alone.

Keyword syntax: a word matches whole words, accents and case aside; a final ``*`` matches
any word that starts so; several words match them in a row.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from bot.text import fold

DEFAULT = "assurance"
_NONE = frozenset({"aucun", "none", "non", "no", "sans", "off"})
_MAX_BYTES = 1_000_000


class Code(BaseModel):
    """One theme of the codebook."""

    id: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    label: str = Field(min_length=1, max_length=80)
    label_en: str | None = Field(default=None, min_length=1, max_length=80)  # English readers
    description: str = Field(default="", max_length=400)
    keywords: list[str] = Field(min_length=1, max_length=200)

    @field_validator("keywords")
    @classmethod
    def _clean(cls, keywords: list[str]) -> list[str]:
        cleaned = [" ".join(str(keyword).split()) for keyword in keywords]
        kept = [keyword for keyword in cleaned if fold(keyword).strip("* ")]
        if not kept:
            raise ValueError("au moins un mot-clé")
        return kept


class Codebook(BaseModel):
    """A named list of codes (2 to 60, ids and labels unique)."""

    name: str = Field(min_length=1, max_length=120)
    name_en: str | None = Field(default=None, min_length=1, max_length=120)
    codes: list[Code] = Field(min_length=2, max_length=60)

    @field_validator("codes")
    @classmethod
    def _unique(cls, codes: list[Code]) -> list[Code]:
        english = {(code.label_en or code.label).casefold() for code in codes}
        if len({code.id for code in codes}) != len(codes) \
                or len({code.label.casefold() for code in codes}) != len(codes) \
                or len(english) != len(codes):
            raise ValueError("identifiants et libellés des codes uniques")
        return codes

    def for_locale(self, locale: str) -> Codebook:
        """The codebook as a reader in ``locale`` sees it: for English, each code's
        ``label_en`` (and ``name_en``) where the file gives one; the French labels otherwise."""
        if locale != "en":
            return self
        codes = [code.model_copy(update={"label": code.label_en or code.label})
                 for code in self.codes]
        return self.model_copy(update={"name": self.name_en or self.name, "codes": codes})


class CodebookError(Exception):
    """A codebook file that cannot be used; ``message`` is for the user (French)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_codebook(data: bytes) -> Codebook:
    """The codebook in YAML (or JSON) ``data``; clear French errors."""
    if len(data) > _MAX_BYTES:
        raise CodebookError("Plan de codes trop volumineux (1 Mo au plus).")
    try:
        raw = yaml.safe_load(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError):
        raise CodebookError("Plan de codes illisible : un fichier YAML en UTF-8 est "
                            "attendu (name, codes : id, label, description, keywords).") from None
    try:
        return Codebook.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CodebookError(f"Plan de codes invalide ({where or 'racine'}) : "
                            f"{first['msg']}.") from None


def _shipped() -> Traversable:
    return resources.files("skills.verbatims") / "codebooks"


def shipped_codebook(name: str = DEFAULT) -> Codebook:
    """A codebook shipped with Almia (``codebooks/<name>.yaml``)."""
    return parse_codebook((_shipped() / f"{name}.yaml").read_bytes())


def shipped_names() -> list[str]:
    """The names of the codebooks shipped with Almia."""
    return sorted(entry.name.removesuffix(".yaml") for entry in _shipped().iterdir()
                  if entry.name.endswith(".yaml"))


def is_no_codebook(choice: str) -> bool:
    """« aucun », « none »…: discovery only."""
    return choice.strip().casefold() in _NONE


def known_codebook(choice: str) -> bool:
    """A choice a conversation may make: a shipped name or « aucun » (never a path)."""
    return is_no_codebook(choice) or choice.strip().casefold() in shipped_names()


def chat_codebook(choice: str | None) -> Codebook | None:
    """A codebook chosen in a conversation: none given → the default; « aucun » → None; a
    shipped name → it (anything else: ``CodebookError``)."""
    if choice is None or not choice.strip():
        return shipped_codebook()
    if is_no_codebook(choice):
        return None
    if not known_codebook(choice):
        raise CodebookError(f"Plan de codes inconnu : « {choice.strip()[:40]} ».")
    return shipped_codebook(choice.strip().casefold())


def load_codebook(choice: str | None) -> Codebook | None:
    """``None``/empty → the default; « aucun » → no codebook; else a shipped name or a file."""
    if choice is None or known_codebook(choice) or not choice.strip():
        return chat_codebook(choice)
    path = Path(choice)
    try:
        return parse_codebook(path.read_bytes())
    except OSError:
        raise CodebookError(f"Plan de codes introuvable : {path.name}.") from None


_TOKEN = re.compile(r"\w+")
_MIN_STEM = 2


def _terms(keyword: str) -> tuple[tuple[str, bool], ...]:
    """(word, is_prefix) per word of a keyword, folded."""
    terms = []
    for word in re.split(r"[^\w*]+", fold(keyword)):
        stem = word.rstrip("*")
        if stem:
            terms.append((stem, word.endswith("*") and len(stem) >= _MIN_STEM))
    return tuple(terms)


def _matches(term: tuple[str, bool], token: str) -> bool:
    word, prefix = term
    return token.startswith(word) if prefix else token == word


class KeywordMatcher:
    """Which codes' keywords a text holds (each keyword counted once; expressions count 2).

    Texts are folded and cut into words; a keyword's first word is looked up (whole words in
    a dictionary, stems by the word's prefixes), the rest checked in place.
    """

    def __init__(self, codebook: Codebook) -> None:
        self._exact: dict[str, list[tuple[int, int, tuple[tuple[str, bool], ...]]]] = {}
        self._stems: dict[str, list[tuple[int, int, tuple[tuple[str, bool], ...]]]] = {}
        self._codes = len(codebook.codes)
        self._code_of: list[int] = []
        self._weight: list[float] = []
        number = 0
        for code, entry in enumerate(codebook.codes):
            for keyword in entry.keywords:
                terms = _terms(keyword)
                if not terms:
                    continue
                first, prefix = terms[0]
                (self._stems if prefix else self._exact).setdefault(first, []).append(
                    (code, number, terms))
                self._code_of.append(code)
                self._weight.append(2.0 if len(terms) > 1 else 1.0)
                number += 1
        self._lengths = sorted({len(stem) for stem in self._stems})

    @property
    def code_count(self) -> int:
        """How many codes the matcher reports on."""
        return self._codes

    def found(self, text: str) -> set[int]:
        """The numbers of the keywords found in ``text``."""
        tokens = _TOKEN.findall(fold(text))
        found: set[int] = set()
        for start, token in enumerate(tokens):
            candidates = list(self._exact.get(token, ()))
            for length in self._lengths:
                if length > len(token):
                    break
                candidates.extend(self._stems.get(token[:length], ()))
            for _, number, terms in candidates:
                if number in found or start + len(terms) > len(tokens):
                    continue
                if all(_matches(term, tokens[start + offset])
                       for offset, term in enumerate(terms[1:], start=1)):
                    found.add(number)
        return found

    def hits(self, text: str) -> list[float]:
        """Per code, the weight of its keywords found in ``text`` (expressions count 2)."""
        weights = [0.0] * self._codes
        for number in self.found(text):
            weights[self._code_of[number]] += self._weight[number]
        return weights

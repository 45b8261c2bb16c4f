"""The offline draft library: per-channel variants with typed variables filled from the brief.

Variables are written ``[[name]]`` and declared once, typed, in ``library/variables.yaml``
(``text``, ``list``, ``item``, ``date``, ``choice``); personalisation fields
(``{{prenom}}``) are left for the sending platform. A variant using a variable the brief
leaves empty is skipped, so that no draft says « jusqu'au  » or « profitez de * »; one
``instead_of`` another is used only when that one is not (the offer without its end date,
when the brief has none or the dated text is too long for an SMS).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from skills.campaigns.brief import Brief, Medium
from skills.campaigns.pieces import Piece
from skills.campaigns.rules import CampaignRules

LIBRARY_DIR = Path(__file__).with_name("library")
_PRODUCT_FIRST = re.compile(r"\[\[produit\]\]\s*:\s*")
_PLACEHOLDER = re.compile(r"\[\[\s*([a-z_][a-z0-9_]{0,39})\s*\]\]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_ELISION = re.compile(r"\b([dD]e|[qQ]ue) (?=[AEIOUYÉÈÊÂÎÔaeiouyéèêâîô])")
_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n\s*)([a-zà-ÿ])", re.MULTILINE)
_MONTHS = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                  "septembre", "octobre", "novembre", "décembre"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")}
Language = Literal["fr", "en"]


class VariableSpec(BaseModel):
    """A typed variable and the brief field it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["text", "list", "item", "date", "choice"]
    source: str = Field(alias="from")
    index: int = 0  # an item's position; where a list starts
    choices: dict[str, str] = Field(default_factory=dict)
    optional: bool = False  # empty, it leaves its line out rather than the variant


class Variant(BaseModel):
    """One variant of a channel's template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    body: str
    subject: str = ""
    instead_of: str = ""  # a variant this one replaces when that one is not used


class ChannelTemplates(BaseModel):
    """The variants of one channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    medium: Medium
    variants: tuple[Variant, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class DraftLibrary:
    """Every channel's variants and the typed variables they use."""

    variables: Mapping[str, VariableSpec]
    channels: Mapping[Medium, ChannelTemplates]
    language: Language = "fr"

    def draft(self, brief: Brief, rules: CampaignRules,
              fits: Callable[[Piece], bool] = lambda piece: True) -> tuple[Piece, ...]:
        """Up to ``brief.variants`` filled pieces per channel, mandatory mentions appended,
        in the library's order. Variants whose filled text does not ``fit`` the channel's
        limits (a long product name making a subject of 63 characters) are passed over for
        the next ones; when none fits, the first is kept, and its check says why."""
        values = self.values(brief)
        clauses = {name for name, spec in self.variables.items() if spec.type == "item"}
        pieces: list[Piece] = []
        for medium in brief.channels:
            filled: list[tuple[str, str, Piece]] = []
            for variant in self.channels[medium].variants:
                used = set(_PLACEHOLDER.findall(variant.body + variant.subject))
                if any(not values.get(name) and not self.variables[name].optional
                       for name in used):
                    continue
                body = with_mentions(medium, self._fill(variant.body, values, clauses), rules,
                                     self.language)
                filled.append((variant.id, variant.instead_of, Piece(
                    medium, 0, body, self._fill(variant.subject, values, clauses))))
            taken: set[str] = set()
            chosen: list[Piece] = []
            subjects = {variant.id: variant.subject for variant in self.channels[medium].variants}
            for name, replaced, piece in filled:
                if replaced in taken:
                    continue
                if not fits(piece) and "[[produit]]" in subjects.get(name, ""):
                    # a long product name: the subject without it (« -20 % la 1re année »)
                    shorter = _PRODUCT_FIRST.sub("", subjects[name])
                    piece = replace(piece, subject=self._fill(shorter, values, clauses))
                if fits(piece):
                    taken.add(name)
                    chosen.append(piece)
            chosen = chosen or [piece for _, _, piece in filled[:1]]
            pieces.extend(replace(piece, variant=number)
                          for number, piece in enumerate(chosen[: brief.variants], 1))
        return tuple(pieces)

    def missing(self, brief: Brief) -> dict[Medium, tuple[tuple[str, int], ...]]:
        """The brief's channels no variant can be filled for, each with the brief fields
        (and, for key messages, how many) of the variant that lacks the fewest."""
        values = self.values(brief)
        gaps: dict[Medium, tuple[tuple[str, int], ...]] = {}
        for medium in brief.channels:
            fewest: dict[str, int] | None = None
            for variant in self.channels[medium].variants:
                needed: dict[str, int] = {}
                for name in _PLACEHOLDER.findall(variant.body + variant.subject):
                    spec = self.variables[name]
                    if not values.get(name) and not spec.optional:
                        count = spec.index + 1 if spec.type == "item" else 1
                        needed[spec.source] = max(needed.get(spec.source, 0), count)
                if not needed:
                    fewest = None
                    break
                if fewest is None or len(needed) < len(fewest):
                    fewest = needed
            if fewest:
                gaps[medium] = tuple(sorted(fewest.items()))
        return gaps

    def _fill(self, template: str, values: Mapping[str, str], clauses: Set[str]) -> str:
        filled = _fill(template, values, clauses)
        return _elided(filled) if self.language == "fr" else filled

    def values(self, brief: Brief) -> dict[str, str]:
        """Each variable's text for ``brief`` (empty when the brief leaves it out)."""
        data: dict[str, Any] = brief.model_dump()
        return {name: _typed(spec, data.get(spec.source), self.language)
                for name, spec in self.variables.items()}


def with_mentions(medium: Medium, body: str, rules: CampaignRules,
                  language: str = "fr") -> str:
    """``body`` with the channel's mandatory mentions it lacks (SMS: on the same line), in
    the draft's language."""
    missing = [mention.text_for(language) for mention in rules.mentions_for(medium)
               if not mention.found_in(body)]
    if not missing:
        return body
    separator = " " if medium is Medium.SMS else "\n\n"
    return body.rstrip() + separator + " ".join(missing)


def load_library(directory: Path = LIBRARY_DIR, language: Language = "fr") -> DraftLibrary:
    """The library shipped with Almia (or another directory of the same layout); English
    templates live in its ``en`` folder."""
    if language == "en":
        directory = directory / "en"
    raw = yaml.safe_load((directory / "variables.yaml").read_text(encoding="utf-8")) or {}
    variables = {str(name): VariableSpec.model_validate(spec) for name, spec in raw.items()}
    channels: dict[Medium, ChannelTemplates] = {}
    for medium in Medium:
        path = directory / f"{medium.value}.yaml"
        templates = ChannelTemplates.model_validate(
            yaml.safe_load(path.read_text(encoding="utf-8")))
        for variant in templates.variants:
            unknown = set(_PLACEHOLDER.findall(variant.body + variant.subject)) - set(variables)
            if unknown:
                raise ValueError(f"{path.name}: variant {variant.id} uses undeclared "
                                 f"variables {', '.join(sorted(unknown))}")
        channels[medium] = templates
    return DraftLibrary(variables, channels, language)


def format_date(day: date, language: str = "fr") -> str:
    """``31 janvier 2027`` (``31 January 2027`` in English)."""
    months = _MONTHS["en" if language == "en" else "fr"]
    return f"{day.day} {months[day.month - 1]} {day.year}"


def _typed(spec: VariableSpec, value: object, language: str = "fr") -> str:
    if value in (None, "", ()):
        return ""
    if spec.type == "date":
        return format_date(value, language) if isinstance(value, date) else ""
    if spec.type == "choice":
        return spec.choices.get(str(value), "")
    if spec.type in ("list", "item"):
        items = [_clause(str(item)) for item in value] if isinstance(value, Sequence) else []
        if spec.type == "item":
            return items[spec.index] if spec.index < len(items) else ""
        return "\n".join(f"- {item}" for item in items[spec.index:])
    return _clause(str(value))


def _clause(text: str) -> str:
    """A value used inside a sentence: no trailing punctuation, no line breaks."""
    return " ".join(text.split()).rstrip(" .;!")


def _fill(template: str, values: Mapping[str, str], clauses: Set[str] = frozenset()) -> str:
    """``template`` filled; a key message (``clauses``) inside a sentence loses its capital."""

    def value(match: re.Match[str]) -> str:
        text = values.get(match.group(1), "")
        before = template[: match.start()].rstrip(" ")
        inside = bool(before) and before[-1] not in ".!?\n"
        if match.group(1) in clauses and inside and text[:2].istitle():
            return text[0].lower() + text[1:]  # « Une attestation » → « …, une attestation »
        return text

    filled = _PLACEHOLDER.sub(value, template)
    filled = _BLANK_LINES.sub("\n\n", filled)  # an optional list left empty
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), filled).strip()


def _elided(text: str) -> str:
    """« de Assurance » → « d'Assurance », « que AXA » → « qu'AXA »: French elides before a
    vowel, which a value filled in (a product, an offer) may start with."""
    return _ELISION.sub(lambda found: f"{found.group(1)[:-1]}'", text)

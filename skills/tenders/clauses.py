"""Clauses: the sentences and bullets of each section, the unit facts are read and quoted from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.text import fold
from skills.tenders.french import window
from skills.tenders.model import Dossier, Section, Source

_BULLET = re.compile(r"^[–•▪◦·*-]\s*|^[☐☑☒]\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[«(]?[A-ZÀ-ÖØ-Þ])")
_LOT_LIST = re.compile(r"\blots?\s*(?:n[°o]s?\.?\s*)?(\d{1,2}(?:\s*(?:,|et|à|-)\s*(?:n[°o]\s*)?"
                       r"\d{1,2})*)", re.IGNORECASE)
_LOT_RANGE = re.compile(r"(\d{1,2})\s*à\s*(?:n[°o]\s*)?(\d{1,2})")


@dataclass(frozen=True, slots=True)
class Clause:
    """One sentence or bullet of a section (with the line it starts on)."""

    section: Section
    text: str
    line: int

    @property
    def folded(self) -> str:
        """Lower case without accents, for matching."""
        return fold(self.text)

    def source(self, start: int | None = None, end: int | None = None, width: int = 110
               ) -> Source:
        """A source quoting the clause, or the part of it around ``[start, end)``."""
        if start is None or end is None or len(self.text) <= 2 * width:
            return self.section.source(self.text[:400], self.line)
        return self.section.source(window(self.text, start, end, width), self.line)

    def quote(self, fragment: str) -> Source:
        """A source quoting exactly ``fragment`` (a part of the clause)."""
        return self.section.source(fragment, self.line)


_NUMBERED_PART = re.compile(r"^\d{1,2}\.\d{1,2}(?:\.\d{1,2})?\s*[–—-]\s")  # a part of its own
_GOES_ON = re.compile(r"^[a-zà-ÿ)»,;]")  # a line going on with the one above it


def clauses_of(section: Section) -> list[Clause]:
    """Sentences and bullets; a bullet line starts a new clause, a table line stays alone
    when the section is a spreadsheet. A heading is a clause of its own, unless it is the
    first line of a paragraph the page wrapped (« 5.2 – Agréments : … les branches 3 (corps
    de véhicules » then « terrestres) et 10 … »)."""
    lines = section.lines
    wrapped = (len(lines) > 1 and lines[0] == section.heading
               and _GOES_ON.match(lines[1]) is not None)
    groups: list[tuple[int, list[str]]] = []
    for index, line in enumerate(lines):
        starts = (not groups or _BULLET.match(line) is not None or section.cells != ()
                  or (index == 0 and line == section.heading)
                  or _NUMBERED_PART.match(line) is not None)  # « 6.2 – Lot n° 3 : … »
        cleaned = _BULLET.sub("", line).strip()
        if not cleaned:
            continue
        if starts or (groups and groups[-1][1] and groups[-1][1][0] == section.heading
                      and index == 1 and not wrapped):
            groups.append((index, [cleaned]))
        else:
            groups[-1][1].append(cleaned)
    clauses: list[Clause] = []
    for first, parts in groups:
        text = " ".join(" ".join(parts).split())
        for sentence in _SENTENCE_END.split(text):
            if sentence.strip():
                clauses.append(Clause(section, sentence.strip(), first))
    return clauses


class Reader:
    """The clauses of a dossier, computed once, with search helpers."""

    def __init__(self, dossier: Dossier) -> None:
        self.dossier = dossier
        self.clauses = [clause for section in dossier.sections for clause in clauses_of(section)]

    def matching(self, pattern: re.Pattern[str], *, kinds: Iterable[str] | None = None
                 ) -> Iterator[tuple[Clause, re.Match[str]]]:
        """Clauses whose folded text matches ``pattern`` (first match each)."""
        allowed = set(kinds) if kinds is not None else None
        for clause in self.clauses:
            if allowed is not None and clause.section.kind not in allowed:
                continue
            match = pattern.search(clause.folded)
            if match is not None:
                yield clause, match

    def sections_about(self, pattern: re.Pattern[str]) -> list[Section]:
        """Sections whose heading matches ``pattern`` (folded)."""
        return [section for section in self.dossier.sections
                if pattern.search(fold(section.heading))]


def lots_named(text: str) -> set[int]:
    """Lot numbers a text names (« lot n° 1 », « lots 1 et 2 », « lots n° 1 à 3 »)."""
    found: set[int] = set()
    for match in _LOT_LIST.finditer(text):
        group = match.group(1)
        for low, high in _LOT_RANGE.findall(group):
            found.update(range(int(low), int(high) + 1))
        found.update(int(number) for number in re.findall(r"\d{1,2}", group))
    return {number for number in found if 0 < number < 100}


def clause_lots(clause: Clause) -> set[int]:
    """The lots a clause is about: named in it, else in its section's heading, else in the
    heading of the article the section is part of (empty: all)."""
    named = lots_named(clause.text)
    if named:
        return named
    return (lots_named(clause.section.heading)
            or lots_named(clause.section.article if clause.section.cells else "")
            or lots_named(clause.section.parent))

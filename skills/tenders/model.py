"""What the tender screening works on: documents cut into sections, facts with sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = Any  # a JSON-serialisable value (str, number, bool, None, list, dict)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact or an evidence comes from: document, page or article, and the quote."""

    document: str
    page: int | None
    article: str
    quote: str
    cell: str | None = None  # spreadsheets: the cell (the sheet is the article)

    def as_dict(self) -> dict[str, JSON]:
        """The JSON shape of the issue (``document``, ``page``, ``article``, ``quote``)."""
        data: dict[str, JSON] = {"document": self.document, "page": self.page,
                                 "article": self.article, "quote": self.quote}
        if self.cell is not None:
            data["cell"] = self.cell
        return data

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Source:
        """The inverse of :meth:`as_dict` (the facts cache)."""
        page = data.get("page")
        cell = data.get("cell")
        return cls(str(data["document"]), int(page) if page is not None else None,
                   str(data.get("article") or ""), str(data.get("quote") or ""),
                   str(cell) if cell is not None else None)

    def where(self) -> str:
        """« RC p. 4, Article 6.1 »: a short place for messages."""
        parts = [self.document]
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.article:
            parts.append(self.article)
        if self.cell:
            parts.append(self.cell)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Section:
    """A stretch of one document on one page under one article heading.

    ``lines`` keep the layout (tables come out one cell per line from PDFs); ``text`` is
    the same content with white space collapsed, which quotes are taken from.
    """

    document: str
    kind: str  # RC, CCAP, CCTP, AE, BPU, DPGF, AAPC, … or "" when unknown
    page: int | None
    article: str
    heading: str
    lines: tuple[str, ...]
    cells: tuple[str, ...] = ()  # spreadsheets: the cell of each line's first value
    parent: str = ""  # the heading of the article it is part of (« ARTICLE 4 – LOT N° 3 … »)

    @property
    def text(self) -> str:
        """The section's text on one line."""
        return " ".join(" ".join(self.lines).split())

    def source(self, quote: str, line: int | None = None) -> Source:
        """A source in this section quoting ``quote``."""
        cell = self.cells[line] if line is not None and line < len(self.cells) else None
        return Source(self.document, self.page, self.article, " ".join(quote.split()), cell)


@dataclass(frozen=True, slots=True)
class Document:
    """One file of the dossier."""

    name: str
    kind: str
    sections: tuple[Section, ...]
    pages: int | None = None


@dataclass(frozen=True, slots=True)
class Dossier:
    """The consultation documents, in reading order (RC first), with their digest."""

    name: str
    digest: str
    documents: tuple[Document, ...]
    skipped: tuple[str, ...] = ()  # files that could not be read (scans, unknown types)

    @property
    def sections(self) -> tuple[Section, ...]:
        """Every section of every document."""
        return tuple(section for document in self.documents for section in document.sections)


@dataclass(frozen=True, slots=True)
class Fact:
    """A key fact: a normalised value and the passages it was read from."""

    id: str
    value: JSON
    sources: tuple[Source, ...]
    note: str = ""  # « à examiner » and similar remarks

    def as_dict(self) -> dict[str, JSON]:
        """``{"value", "sources"}`` (plus ``note`` when there is one)."""
        data: dict[str, JSON] = {"value": self.value,
                                 "sources": [source.as_dict() for source in self.sources]}
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True, slots=True)
class Lot:
    """A lot of the consultation: its number, title and the passages that describe it."""

    number: int
    title: str
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Documents that disagree on one topic; never resolved, only shown."""

    topic: str
    values: tuple[tuple[str, Source], ...]

    def as_dict(self) -> dict[str, JSON]:
        """``{"topic", "values": [{"value", "source"}]}``."""
        return {"topic": self.topic,
                "values": [{"value": value, "source": source.as_dict()}
                           for value, source in self.values]}


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything read from a dossier (cached by digest: re-screening reuses it)."""

    dossier: str
    digest: str
    facts: dict[str, Fact]
    lots: tuple[Lot, ...]
    contradictions: tuple[Contradiction, ...]
    lot_amounts: dict[int, float] = field(default_factory=dict)  # annual TTC estimate per lot
    documents: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

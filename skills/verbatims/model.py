"""The verbatim analysis's data: what is read from a survey export, and what the analysis finds.

The contract between the reader (``skills/verbatims/reader.py``), the analysis
(``skills/verbatims/analysis/``) and the outputs (summary, workbook, HTML report, rows.csv).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ScoreKind = Literal["stars5", "nps", "sat10"]
Sentiment = Literal["negative", "neutral", "positive"]
Progress = Callable[[float, str], Awaitable[None]]  # (fraction of this stage, status)


@dataclass(frozen=True, slots=True)
class Verbatim:
    """One survey answer; ``row`` is its input row number (1 = first data row)."""

    row: int
    text: str
    id: str | None = None
    score: float | None = None
    date: date | None = None
    product: str | None = None
    channel: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Columns:
    """Which input column holds what (names as in the file's header)."""

    text: str
    id: str | None = None
    score: str | None = None
    score_kind: ScoreKind | None = None
    date: str | None = None
    product: str | None = None
    channel: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class InputCounts:
    """What the reader kept and set aside (never lost: counted)."""

    rows: int
    analysed: int
    empty: int = 0
    no_content: int = 0  # « RAS », « rien », « . »
    duplicates: int = 0
    not_french: int = 0


@dataclass
class Theme:
    """A theme as a person names it, with its figures."""

    id: int
    label: str
    keywords: list[str]
    size: int  # verbatims mentioning it
    share: float  # of analysed verbatims
    mean_score: float | None
    sentiment: dict[Sentiment, int]  # of its mentions
    monthly: dict[str, int] = field(default_factory=dict)  # "YYYY-MM" → mentions
    breakdowns: dict[str, dict[str, int]] = field(default_factory=dict)  # column → value → n
    examples: list[str] = field(default_factory=list)  # pseudonymised
    axis: str | None = None  # what customers ask for (a model writes it; None offline)
    coded: bool = False  # a code of the team's codebook (its label is kept as written)


@dataclass(frozen=True, slots=True)
class Driver:
    """A theme's weight on the score: share of detractors whose verbatim mentions it."""

    theme: int
    detractor_share: float
    impact: float  # mean score without the theme minus with it (points of the score scale)


@dataclass(frozen=True, slots=True)
class Trend:
    """A theme that emerged or improved between two periods."""

    theme: int
    kind: Literal["emerging", "improving", "worsening", "fading"]
    before: float  # share (emerging/fading) or negative share (improving/worsening)
    after: float
    since: str  # "YYYY-MM": first month of the later period


@dataclass
class Analysis:
    """Everything the outputs show."""

    counts: InputCounts
    themes: list[Theme]
    assignments: list[tuple[int, ...]]  # per analysed verbatim, in input order: theme ids
    sentiments: list[Sentiment]  # per analysed verbatim
    drivers: list[Driver]
    trends: list[Trend]
    notes: list[str] = field(default_factory=list)  # honest remarks (offline, thin data…)
    stage_seconds: Mapping[str, float] = field(default_factory=dict)

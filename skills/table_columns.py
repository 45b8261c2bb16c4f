"""What a table's columns hold, as questions about it need: which hold figures, days or a
rating, which the question names, and which of their values it says (« pour l'auto »)."""

from __future__ import annotations

import re
from datetime import date

from bot.text import content_tokens, fold
from knowledge.english import french_search_words, rendered_units
from knowledge.table_profile import Table, day_of, number, reads_as, shown
from skills.table_periods import Span

_WORD = re.compile(r"[\w'’-]+")

NPS_WORDS = frozenset(content_tokens("nps net promoter score"))
_NPS_NAMES = re.compile(r"\b(?:nps|recommand\w*|recommend\w*|promoter)\b")
_MAX_SCALE = 11  # distinct values of a column of figures rows are grouped by (0 to 10)
_SCALE_ROWS = 5_000  # rows looked at to tell
_SAMPLE_ROWS = 5_000  # rows, spread over the table, that tell a column of figures
_MAX_FILTER_VALUES = 500  # distinct values of a column looked for in the question


def date_column(table: Table) -> int | None:
    """The table's first column whose cells read as days."""
    for index in range(len(table.header)):
        if reads_as([row[index] for row in table.rows[:2_000] if index < len(row)], day_of):
            return index
    return None


def last_day(table: Table, dated: int | None) -> date | None:
    """The table's last date (what gives « depuis mars » its year)."""
    if dated is None:
        return None
    days = [day for day in (day_of(row[dated]) for row in table.rows if dated < len(row)) if day]
    return max(days, default=None)


def within(row: list[object], index: int, span: Span) -> bool:
    day = day_of(row[index]) if index < len(row) else None
    return day is not None and span.holds(day)


def cell(row: list[object], index: int) -> str:
    return shown(row[index]) if index < len(row) and row[index] is not None else ""


def holds_figures(table: Table, index: int) -> bool:
    """Whether a column holds figures, judged on up to 5,000 rows spread over the table (the
    computation then says how many cells it left out)."""
    step = max(1, len(table.rows) // _SAMPLE_ROWS)
    return reads_as([row[index] for row in table.rows[::step] if index < len(row)], number)


def distinct_values(table: Table, index: int) -> set[str]:
    """A column's values as shown, when it has few enough to be looked for in a question
    (none for an identifier or free text: the reading stops past the limit)."""
    raw: set[object] = set()
    for row in table.rows:
        raw.add(row[index] if index < len(row) else None)
        if len(raw) > _MAX_FILTER_VALUES:
            return set()
    return {shown(value) if value is not None else "" for value in raw}


def header_words(name: str) -> frozenset[str]:
    """The words of a column's name, and the French renderings of its English words (a
    French question over an English export: « produit » names “Product Line”, « prime »
    “Annual premium”)."""
    words = set(content_tokens(name))
    if _english(name):
        words |= set(content_tokens(french_search_words(name)))
    return frozenset(words)


_FRENCH_MARKS = re.compile(r"[àâçéèêëîïôûùüÿœ]|\b(?:de|du|des|la|le|les|et|en|au|aux|par|pour|"
                           r"sur|d'|l')\b")


def _english(name: str) -> bool:
    """Whether a column's name reads as English: no French accent or small word, and a word
    French writes otherwise (“Product”, not « Type de sinistre », « Prime » or « Note »)."""
    lowered = name.lower()
    return _FRENCH_MARKS.search(lowered) is None and any(
        renderings is not None and fold(word) not in {fold(french) for french in renderings}
        for word, renderings in rendered_units(lowered))


def column_named(table: Table, words: set[str], numeric: set[int], *, figures: bool,
                  exclude: set[int] | None = None) -> tuple[int, int | None]:
    """How many of ``words`` the best column's name says, and that column (of figures or
    not, as asked; None when two say as many); for a figure, the table's only column of
    numbers when the question names none. ``numeric``: the table's columns of numbers."""
    candidates = [index for index in range(len(table.header))
                  if index not in (exclude or set()) and (index in numeric) == figures]
    scored = [(len(words & header_words(table.header[index])), index)
              for index in candidates]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        only = figures and len(candidates) == 1 and not words
        return 0, candidates[0] if only else None
    chosen = [index for score, index in scored if score == best]
    return best, chosen[0] if len(chosen) == 1 else None


def scales(table: Table, numeric: set[int]) -> set[int]:
    """Columns of figures with few values (a rating, a score from 0 to 10), which rows can be
    grouped by (« Combien de réponses par note ? »)."""
    return {index for index in numeric
            if len({cell(row, index) for row in table.rows[:_SCALE_ROWS]}) <= _MAX_SCALE}


def nps_column(table: Table, words: set[str], numeric: set[int]) -> int | None:
    """The column of 0-10 answers an NPS is computed from: the one the question names, else
    the one named like it (« NPS », « Recommandation »), else the table's only one."""
    scales = [index for index in sorted(numeric) if _zero_to_ten(table, index)]
    named = [index for index in scales
             if (words - NPS_WORDS) & header_words(table.header[index])]
    if len(named) == 1:
        return named[0]
    like = [index for index in scales if _NPS_NAMES.search(fold(table.header[index]))]
    if len(like) == 1:
        return like[0]
    return scales[0] if len(scales) == 1 else None


def _zero_to_ten(table: Table, index: int) -> bool:
    """Whether a column's figures are whole numbers from 0 to 10, some above 5 (answers to
    « would you recommend us? », not a rating out of 5)."""
    figures = [read for read in (number(row[index]) for row in table.rows if index < len(row))
               if read is not None]
    return (bool(figures) and max(figures) > 5  # not a 1-5 rating
            and all(read.is_integer() and 0 <= read <= 10 for read in figures))


def _words_of(value: str, words: list[tuple[int, int, str]]) -> tuple[int, int] | None:
    """Where a value of two words is said in the other order (“mobile app” → « application
    mobile », its French renderings following the question), as a span of the text."""
    tokens = content_tokens(value)
    if len(tokens) != 2 or len(set(tokens)) != 2:
        return None
    spans = [next(((start, end) for start, end, token in words if token == wanted), None)
             for wanted in tokens]
    if any(span is None for span in spans):
        return None
    starts = [span[0] for span in spans if span is not None]
    ends = [span[1] for span in spans if span is not None]
    return min(starts), max(ends)


def values_said(table: Table, folded: str, exclude: set[int]) -> list[tuple[int, str]]:
    """The values of text columns that the question says (« pour l'auto en agence », « pour
    l'auto ou l'habitation »), as (column, value) in the question's order: the longest read
    first, none overlapping another."""
    found: list[tuple[int, int, int, str]] = []  # length, start, column, value
    words = [(word.start(), word.end(), token) for word in _WORD.finditer(folded)
             for token in content_tokens(word.group(0))[:1]]
    for index in range(len(table.header)):
        if index in exclude:
            continue
        values = distinct_values(table, index)
        for value in values:
            said = fold(value)
            if len(said) < 3:
                continue
            where = re.search(rf"(?<![\w-]){re.escape(said)}(?![\w-])", folded)
            if where:
                found.append((len(said), where.start(), index, value))
            else:
                span = _words_of(said, words)
                if span is not None:
                    found.append((span[1] - span[0], span[0], index, value))
    kept: list[tuple[int, int, str]] = []  # start, column, value
    for length, start, index, value in sorted(found, key=lambda item: (-item[0], item[1])):
        if any(start < begin + len(fold(said)) and begin < start + length
               for begin, _, said in kept):
            continue
        kept.append((start, index, value))
    return [(index, value) for _, index, value in sorted(kept)]  # in the question's order

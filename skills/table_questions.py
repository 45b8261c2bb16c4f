"""Questions about an attached table answered by computing over its cells rather than by
quoting a row: « Quelle est la note moyenne ? », « Quel est le total de l'effectif estimé par
niveau ? », « Combien de réponses en Île-de-France ? », “What is the average score by
product?”.

The question must name an aggregate (moyenne, total, minimum, maximum, combien de lignes…)
and, for a figure, a column of numbers whose name it says (or the table's only one); it may
name a column to group by (« par produit », “by channel”) or a period of the date column
(« par mois »), one value of a column to keep (« pour l'auto », « en Île-de-France ») and a
year (« en 2024 »). Anything less clear is left to the search.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from bot.i18n import Text, figure, grouped, plural
from bot.messages import Locale
from bot.text import content_tokens, fold
from knowledge.attached import AttachedFile
from knowledge.english import french_search_words
from knowledge.records import KnowledgeError
from knowledge.table_profile import (
    Table,
    day_of,
    is_table,
    number,
    read_tables,
    reads_as,
    shown,
)

Aggregate = Literal["mean", "sum", "min", "max", "count"]
_AGGREGATES: tuple[tuple[Aggregate, re.Pattern[str]], ...] = (
    ("count", re.compile(r"\b(?:combien (?:de |d')?(?:lignes|reponses|verbatims|avis|"
                         r"enregistrements|entrees|commentaires|clients|personnes)|nombre (?:de |"
                         r"d')(?:lignes|reponses|verbatims|avis|enregistrements|entrees|"
                         r"commentaires)|how many (?:rows|responses|answers|entries|records|"
                         r"comments|reviews))\b")),
    # “mean” alone is also a verb (“What does NPS mean?”)
    ("mean", re.compile(r"\b(?:moyenne|moyennes|moyen|average|the mean|mean (?:value|of))\b")),
    ("sum", re.compile(r"\b(?:total|totale|totaux|somme|cumul|cumule|cumulee|sum)\b")),
    ("min", re.compile(r"\b(?:minimum|minimale?|plus (?:petite?|faible|basse?)|lowest|"
                       r"smallest)\b")),
    ("max", re.compile(r"\b(?:maximum|maximale?|plus (?:grande?|elevee?|haute?|fort|forte)|"
                       r"highest|largest|biggest)\b")),
)
_GROUP = re.compile(r"\b(?:par|selon|by|per|for each) ([a-z0-9'’ -]+?)\s*(?:\?|$|,|\bet\b|\band\b)")
# words of the question that say the aggregate, not the column
_ASKING = frozenset(content_tokens(
    "quel quelle quels quelles est sont la le les de des du moyenne moyen total totale somme "
    "cumul minimum maximum plus petit petite grand grande élevé élevée faible bas basse haut "
    "haute combien nombre lignes réponses verbatims avis fichier tableau colonne what is are "
    "the average mean sum total lowest highest smallest largest biggest how many rows "
    "responses answers entries records comments reviews in file table column of"))
_MAX_GROUPS = 12
_MAX_PERIODS = 36  # months shown in time order
# « par mois », “by quarter”: the period of the table's date column to group by
_PERIOD = re.compile(r"\b(?:par|by|per|each|chaque) (mois|month|trimestre|quarter|annee|an|year)\b")
_PERIODS = {"mois": "month", "month": "month", "trimestre": "quarter", "quarter": "quarter",
            "annee": "year", "an": "year", "year": "year"}
_PERIOD_WORDS = frozenset(content_tokens("mois trimestre année an month quarter year par by"))
_PERIOD_NAMES = {"month": Text("mois", "month"), "quarter": Text("trimestre", "quarter"),
                 "year": Text("année", "year")}
# « en 2024 », “in 2023”: the year of the table's date column to keep to
_YEAR = re.compile(r"\b(?:en|in|pour|for|de|of|durant|during|sur) (19\d{2}|20\d{2})\b")
_MAX_QUESTION = 300  # characters
_MAX_FILTER_VALUES = 500  # distinct values of a column looked for in the question

_NAMES = {"mean": Text("Moyenne", "Average"), "sum": Text("Total", "Total"),
          "min": Text("Minimum", "Minimum"), "max": Text("Maximum", "Maximum")}
_FIGURE = Text("**{what} de « {column} »**{where} : {value}",
               "**{what} of “{column}”**{where}: {value}")
_BY = Text("**{what} de « {column} » par « {group} »**{where} :",
           "**{what} of “{column}” by “{group}”**{where}:")
_COUNT = Text("**{count} ligne{s}**{where}.", "**{count} row{s}**{where}.")
_COUNT_BY = Text("**Lignes par « {group} »**{where} :", "**Rows by “{group}”**{where}:")
_WHERE = Text(" où « {column} » vaut « {value} »", " where “{column}” is “{value}”")
_IN_YEAR = Text(" en {year} (« {column} »)", " in {year} (“{column}”)")
_GROUP_LINE = Text("- {value} : {figure} ({rows} ligne{s})", "- {value}: {figure} ({rows} row{s})")
_COUNT_LINE = Text("- {value} : {rows} ({share} %)", "- {value}: {rows} ({share} %)")
_MORE_GROUPS = Text("- … et {count} autre{s} valeur{s}", "- … and {count} more value{s}")
_BASIS = Text("Calculé sur {rows} ligne{s} de {source}{skipped}, sans modèle : vérifiez la "
              "colonne retenue.",
              "Computed over {rows} row{s} of {source}{skipped}, without a model: check the "
              "column used.")
_COUNTED = Text("Compté sur {source}, sans modèle.", "Counted in {source}, without a model.")
_SKIPPED = Text(" ({count} cellule{s} vide{s} ou non numérique{s} ignorée{s})",
                " ({count} empty or non-numeric cell{s} left out)")
_EMPTY_VALUE = Text("(vide)", "(empty)")


@dataclass(frozen=True)
class Grouping:
    """How rows are grouped: by a column's values, or by the period of a date column."""

    column: int
    name: str  # as shown: the column's name, or « mois » / “month”…
    period: str = ""  # "" (the values), "month", "quarter" or "year"

    def key(self, row: list[object]) -> str:
        """The group a row falls in (« 2024-03 », « 2024-T1 », « 2024 », or its value)."""
        if not self.period:
            return _cell(row, self.column)
        day = day_of(row[self.column]) if self.column < len(row) else None
        if day is None:
            return ""
        if self.period == "year":
            return str(day.year)
        if self.period == "quarter":
            return f"{day.year}-T{(day.month - 1) // 3 + 1}"
        return f"{day.year}-{day.month:02d}"

    def ordered(self, keys: Counter[str]) -> list[str]:
        """Periods in time order; values the most frequent first."""
        if self.period:
            return sorted(keys)
        return [key for key, _ in sorted(keys.items(), key=lambda item: (-item[1], item[0]))]


@dataclass(frozen=True)
class NamedTable:
    """A table with the file (and sheet) it comes from."""

    file: str
    table: Table

    def source(self, locale: Locale) -> str:
        """« « BPU.xlsx », feuille « Lot 1 » »."""
        name = f"“{self.file}”" if locale == "en" else f"« {self.file} »"
        if not self.table.title:
            return name
        return (f"{name}, sheet “{self.table.title}”" if locale == "en"
                else f"{name}, feuille « {self.table.title} »")


def asks_computation(question: str) -> bool:
    """Whether a short question names an aggregate (cheap: before any file is read)."""
    if len(question) > _MAX_QUESTION:  # pasted text asks nothing to compute
        return False
    folded = fold(question)
    return any(pattern.search(folded) for _, pattern in _AGGREGATES)


def answer(question: str, tables: Sequence[NamedTable], locale: Locale,
           follow_ups: Sequence[str] = ()) -> str | None:
    """The computed answer, or None when the question does not say clearly what to compute
    over which column (the search then answers). An English question's words are also
    matched through their French renderings (“score” → « note »). Its ``follow_ups``, oldest
    first (« Et pour la santé ? », « Et par région ? », « Et en 2023 ? »), each replace the
    value kept, the grouping, the year or the aggregate they name, the latest first."""
    if not asks_computation(question) or any(len(text) > _MAX_QUESTION for text in follow_ups):
        return None
    latest = [fold(text) for text in reversed(follow_ups)]
    folded = fold(question)
    texts = [*latest, folded]  # the latest says it first
    aggregate = next((kind for text in texts for kind, pattern in _AGGREGATES
                      if pattern.search(text)), None)
    if aggregate is None:
        return None
    asked = next((text for text in texts if _PERIOD.search(text) or _GROUP.search(text)),
                 folded)
    period = _PERIOD.search(asked)
    grouping = None if period else _GROUP.search(asked)
    year = next((found for found in (_YEAR.search(text) for text in texts) if found), None)
    question = " ".join((question, *follow_ups))
    said = question if locale != "en" else f"{question} {french_search_words(question)}"
    group_said = "" if grouping is None else grouping.group(1) if locale != "en" else (
        f"{grouping.group(1)} {french_search_words(grouping.group(1))}")
    words = set(content_tokens(said)) - _ASKING
    group_words = set(content_tokens(group_said)) - _ASKING
    if period is not None:
        words -= set(content_tokens(period.group(1)))
    plans: list[tuple[int, NamedTable, int | None, int | None]] = []  # score, table, column, group
    figures: dict[int, set[int]] = {}  # id of a table → its columns of numbers
    for named in tables:
        table = named.table
        if not table.rows:
            continue
        numeric = figures.setdefault(id(table), {index for index in range(len(table.header))
                                                 if _numeric(table, index)})
        group = (_column_named(table, group_words, numeric, figures=False)[1] if group_words
                 else None)
        if group_words and group is None:
            continue
        if (period or year) and _date_column(table) is None:
            continue  # « par mois », « en 2024 » over a table without dates
        if aggregate == "count":
            plans.append((1, named, None, group))
            continue
        score, column = _column_named(table, words - group_words, numeric, figures=True,
                                      exclude=set() if group is None else {group})
        if column is not None:
            plans.append((score, named, column, group))
    best = max((plan[0] for plan in plans), default=0)
    chosen = [plan for plan in plans if plan[0] == best]
    if len(chosen) != 1:  # nothing fits, or two tables fit as well: the search answers
        return None
    _, named, column, group = chosen[0]
    table = named.table
    dated = _date_column(table)
    taken = figures[id(table)] | {index for index in (group, column, dated) if index is not None}
    kept = next((found for found in (_filter(table, text, exclude=taken) for text in texts)
                 if found), None)
    if follow_ups and not _explained(follow_ups[-1], table, kept, locale):
        return None  # « Et le délai de traitement ? » asks about something else
    rows = [row for row in table.rows if kept is None or _cell(row, kept[0]) == kept[1]]
    where = _WHERE(locale, column=table.header[kept[0]], value=kept[1]) if kept else ""
    if year is not None and dated is not None:
        rows = [row for row in rows if _year(row, dated) == int(year.group(1))]
        where += _IN_YEAR(locale, column=table.header[dated], year=year.group(1))
    by = (Grouping(dated, _PERIOD_NAMES[_PERIODS[period.group(1)]](locale),
                   _PERIODS[period.group(1)]) if period is not None and dated is not None
          else Grouping(group, table.header[group]) if group is not None else None)
    if column is None:
        return _count(named, rows, by, where, locale)
    return _figure(named, rows, aggregate, column, by, where, locale)


def _explained(follow_up: str, table: Table, kept: tuple[int, str] | None,
               locale: Locale) -> bool:
    """Whether every word a follow-up names is a column's name, the value it keeps to, a
    period or a year: then it goes on with the computation rather than asking of another
    subject."""
    said = follow_up if locale != "en" else f"{follow_up} {french_search_words(follow_up)}"
    named = set(content_tokens(follow_up)) - _ASKING - _PERIOD_WORDS
    known = {token for name in table.header for token in content_tokens(name)}
    if kept is not None:
        known |= set(content_tokens(kept[1]))
    renderings = set(content_tokens(said)) - set(content_tokens(follow_up))
    return all(token in known or token.isdigit() or (
        locale == "en" and renderings & known) for token in named)


def _date_column(table: Table) -> int | None:
    """The table's first column whose cells read as days."""
    for index in range(len(table.header)):
        if reads_as([row[index] for row in table.rows[:2_000] if index < len(row)], day_of):
            return index
    return None


def _year(row: list[object], index: int) -> int | None:
    day = day_of(row[index]) if index < len(row) else None
    return day.year if day is not None else None


def _cell(row: list[object], index: int) -> str:
    return shown(row[index]) if index < len(row) and row[index] is not None else ""


def _numeric(table: Table, index: int) -> bool:
    return reads_as([row[index] for row in table.rows if index < len(row)], number)


def _column_named(table: Table, words: set[str], numeric: set[int], *, figures: bool,
                  exclude: set[int] | None = None) -> tuple[int, int | None]:
    """How many of ``words`` the best column's name says, and that column (of figures or
    not, as asked; None when two say as many); for a figure, the table's only column of
    numbers when the question names none. ``numeric``: the table's columns of numbers."""
    candidates = [index for index in range(len(table.header))
                  if index not in (exclude or set()) and (index in numeric) == figures]
    scored = [(len(words & set(content_tokens(table.header[index]))), index)
              for index in candidates]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        only = figures and len(candidates) == 1 and not words
        return 0, candidates[0] if only else None
    chosen = [index for score, index in scored if score == best]
    return best, chosen[0] if len(chosen) == 1 else None


def _filter(table: Table, folded: str, exclude: set[int]) -> tuple[int, str] | None:
    """A value of a text column that the question says (« pour l'auto », « en
    Île-de-France »): the longest one, as (column, value)."""
    found: list[tuple[int, int, str]] = []
    for index in range(len(table.header)):
        if index in exclude:
            continue
        values = Counter(_cell(row, index) for row in table.rows)
        if len(values) > _MAX_FILTER_VALUES:
            continue
        for value in values:
            said = fold(value)
            if len(said) >= 3 and re.search(rf"(?<![\w-]){re.escape(said)}(?![\w-])", folded):
                found.append((len(said), index, value))
    if not found:
        return None
    _, index, value = max(found)
    return index, value


def _figure(named: NamedTable, rows: list[list[object]], aggregate: Aggregate, column: int,
            group: Grouping | None, where: str, locale: Locale) -> str | None:
    table = named.table
    values: dict[str, list[float]] = defaultdict(list)
    skipped = 0
    for row in rows:
        read = number(row[column]) if column < len(row) else None
        if read is None:
            skipped += 1
            continue
        values[group.key(row) if group is not None else ""].append(read)
    if not values:  # no figure where the question points: the search answers
        return None
    what = _NAMES[aggregate](locale)
    lines: list[str]
    if group is None:
        lines = [_FIGURE(locale, what=what, column=table.header[column], where=where,
                         value=figure(_compute(aggregate, values[""]), locale))]
    else:
        lines = [_BY(locale, what=what, column=table.header[column], group=group.name,
                     where=where)]
        ordered = group.ordered(Counter({key: len(figures) for key, figures in values.items()}))
        shown = _MAX_PERIODS if group.period else _MAX_GROUPS
        for value in ordered[:shown]:
            figures = values[value]
            lines.append(_GROUP_LINE(locale, value=value or _EMPTY_VALUE(locale),
                                     figure=figure(_compute(aggregate, figures), locale),
                                     rows=grouped(len(figures), locale),
                                     s=plural(len(figures), locale)))
        if len(ordered) > shown:
            more = len(ordered) - shown
            lines.append(_MORE_GROUPS(locale, count=more, s=plural(more, locale)))
    counted = len(rows) - skipped
    lines += ["", _BASIS(locale, rows=grouped(counted, locale), s=plural(counted, locale),
                         source=named.source(locale),
                         skipped=_SKIPPED(locale, count=skipped, s=plural(skipped, locale))
                         if skipped else "")]
    return "\n".join(lines)


def _count(named: NamedTable, rows: list[list[object]], group: Grouping | None, where: str,
           locale: Locale) -> str:
    if group is None:
        lines = [_COUNT(locale, count=grouped(len(rows), locale), s=plural(len(rows), locale),
                        where=where)]
    else:
        counts = Counter(group.key(row) for row in rows)
        lines = [_COUNT_BY(locale, group=group.name, where=where)]
        shown = _MAX_PERIODS if group.period else _MAX_GROUPS
        ordered = group.ordered(counts)
        for value in ordered[:shown]:
            lines.append(_COUNT_LINE(locale, value=value or _EMPTY_VALUE(locale),
                                     rows=grouped(counts[value], locale),
                                     share=round(100 * counts[value] / max(1, len(rows)))))
        if len(ordered) > shown:
            more = len(ordered) - shown
            lines.append(_MORE_GROUPS(locale, count=more, s=plural(more, locale)))
    lines += ["", _COUNTED(locale, source=named.source(locale))]
    return "\n".join(lines)


def _compute(aggregate: Aggregate, figures: list[float]) -> float:
    if aggregate == "mean":
        return sum(figures) / len(figures)
    if aggregate == "sum":
        return sum(figures)
    return min(figures) if aggregate == "min" else max(figures)


class ReadTables:
    """Tables already read, by their file's content (a thread's next question about the same
    workbook is not read again), at most ``max_cells`` cells kept, the oldest dropped first.
    Kept in the replica's memory only, like the prepared attachments."""

    def __init__(self, max_cells: int = 2_000_000) -> None:
        self._max_cells = max_cells
        self._kept: OrderedDict[str, tuple[list[Table], int]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, attached: AttachedFile) -> list[Table]:
        """Blocking: the file's tables (KnowledgeError when it cannot be read)."""
        key = hashlib.sha256(attached.data).hexdigest() + PurePosixPath(attached.name).suffix
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key][0]
        tables = read_tables(attached.name, attached.data)
        cells = sum(len(table.header) * max(1, len(table.rows)) for table in tables)
        if cells <= self._max_cells:
            with self._lock:
                self._kept[key] = (tables, cells)
                while sum(size for _, size in self._kept.values()) > self._max_cells:
                    self._kept.popitem(last=False)
        return tables


def answer_from_files(question: str, files: Sequence[AttachedFile], locale: Locale,
                      read: ReadTables | None = None,
                      follow_ups: Sequence[str] = ()) -> str | None:
    """Blocking: the computed answer over the tables among ``files`` (None: none fits, or a
    table cannot be read — the search then says why); see :func:`answer`."""
    tables: list[NamedTable] = []
    for attached in files:
        if not is_table(attached.name):
            continue
        try:
            found = read.read(attached) if read is not None else read_tables(attached.name,
                                                                              attached.data)
        except KnowledgeError:
            return None
        tables += [NamedTable(attached.name, table) for table in found]
    return answer(question, tables, locale, follow_ups) if tables else None

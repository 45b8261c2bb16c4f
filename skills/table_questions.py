"""Questions about an attached table answered by computing over its cells rather than by
quoting a row: « Quelle est la note moyenne ? », « Quel est le total de l'effectif estimé par
niveau ? », « Combien de réponses en Île-de-France ? », “What is the average score by
product?”.

The question must name an aggregate (moyenne, total, minimum, maximum, combien de lignes…)
and, for a figure, a column of numbers whose name it says (or the table's only one); it may
name a column to group by (« par produit », “by channel”) or a period of the date column
(« par mois »), values of columns to keep to (« pour l'auto en Île-de-France ») and a
stretch of time (« depuis mars 2024 », see ``skills.table_periods``). Anything less clear is
left to the search; words nothing accounts for are named in the answer.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import Literal

from bot.i18n import Text, figure, grouped, plural
from bot.messages import Locale
from bot.text import content_tokens, fold
from knowledge.attached import AttachedFile
from knowledge.english import french_search_words
from knowledge.language import ENGLISH_FUNCTION_WORDS
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
from skills.table_periods import Span, names_span, said_span, span_in

Aggregate = Literal["mean", "sum", "min", "max", "count", "nps"]
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
    # « Quel est le NPS par canal ? »: the Net Promoter Score of 0-10 answers, not their mean
    # (« le NPS moyen » asks the mean, found first)
    ("nps", re.compile(r"\b(?:nps|net promoter(?: score)?)\b")),
)
_SPREAD = re.compile(r"\b(?:repartition|distribution|ventilation|breakdown)\b (?:des |de la |du |"
                     r"de l'|d'|of (?:the )?)?(?P<what>[a-z0-9'’ -]+?)\s*(?=\?|$|,|\bet\b|"
                     r"\band\b|\ben\b|\bin\b|\bpour\b|\bfor\b|\bdepuis\b|\bsince\b)")
# « Que veut dire NPS ? », “What does NPS mean?”: what a word means, nothing to compute
_DEFINITION = re.compile(r"\b(?:what (?:does|do|is meant by)|que (?:veut dire|signifie)|"
                         r"qu'est-ce qu(?:e|'on appelle)|c'est quoi|definition|definis|"
                         r"define)\b")
_NPS_WORDS = frozenset(content_tokens("nps net promoter score"))
_NPS_NAMES = re.compile(r"\b(?:nps|recommand\w*|recommend\w*|promoter)\b")
_GROUP = re.compile(r"\b(?:par|selon|by|per|for each) ([a-z0-9'’ -]+?)\s*(?:\?|$|,|\bet\b|\band\b)")
# words of the question that say the aggregate, not the column
_ASKING = frozenset(content_tokens(
    "quel quelle quels quelles est sont la le les de des du moyenne moyen total totale somme "
    "cumul minimum maximum plus petit petite grand grande élevé élevée faible bas basse haut "
    "haute combien nombre répartition distribution ventilation breakdown lignes réponses "
    "verbatims avis fichier tableau colonne what is are the average mean sum total lowest "
    "highest smallest largest biggest how many rows responses answers entries records "
    "comments reviews in file table column of"))
# words a question about a table says without naming anything in it
_FILLERS = frozenset(content_tokens(
    "client clients donné donnée données obtenu obtenue global globale général générale "
    "ensemble tout tous toutes actuel actuelle enquête sondage export extraction pour "
    "customer customers given overall all survey export current et and ou or each every "
    "per which"))
_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_MAX_GROUPS = 12
_MAX_SCALE = 11  # distinct values of a column of figures rows are grouped by (0 to 10)
_SCALE_ROWS = 5_000  # rows looked at to tell
_SAMPLE_ROWS = 5_000  # rows, spread over the table, that tell a column of figures
_MAX_PERIODS = 36  # months shown in time order
# « par mois », “by quarter”: the period of the table's date column to group by
_PERIOD = re.compile(r"\b(?:par|by|per|each|chaque) (mois|month|trimestre|quarter|annee|an|year)\b")
_PERIODS = {"mois": "month", "month": "month", "trimestre": "quarter", "quarter": "quarter",
            "annee": "year", "an": "year", "year": "year"}
_PERIOD_WORDS = frozenset(content_tokens("mois trimestre année an month quarter year par by"))
_PERIOD_NAMES = {"month": Text("mois", "month"), "quarter": Text("trimestre", "quarter"),
                 "year": Text("année", "year")}
_MAX_QUESTION = 300  # characters
_MAX_FILTER_VALUES = 500  # distinct values of a column looked for in the question

_NAMES = {"mean": Text("Moyenne", "Average"), "sum": Text("Total", "Total"),
          "min": Text("Minimum", "Minimum"), "max": Text("Maximum", "Maximum"),
          "nps": Text("NPS", "NPS")}
_NPS_FIGURE = Text("{nps} (promoteurs {promoters} %, passifs {passives} %, détracteurs "
                   "{detractors} %)",
                   "{nps} (promoters {promoters} %, passives {passives} %, detractors "
                   "{detractors} %)")
_NPS_RULE = Text("NPS : part des promoteurs (9 ou 10) moins part des détracteurs (0 à 6), "
                 "en points, de -100 à +100.",
                 "NPS: share of promoters (9 or 10) minus share of detractors (0 to 6), in "
                 "points, from -100 to +100.")
_FIGURE = Text("**{what} de « {column} »**{where} : {value}",
               "**{what} of “{column}”**{where}: {value}")
_BY = Text("**{what} de « {column} » par « {group} »**{where} :",
           "**{what} of “{column}” by “{group}”**{where}:")
_COUNT = Text("**{count} ligne{s}**{where}.", "**{count} row{s}**{where}.")
_COUNT_BY = Text("**Lignes par « {group} »**{where} :", "**Rows by “{group}”**{where}:")
_WHERE = Text(" où « {column} » vaut « {value} »", " where “{column}” is “{value}”")
_AND = Text(" et « {column} » vaut « {value} »", " and “{column}” is “{value}”")
_IN_SPAN = Text(" {span} (« {column} »)", " {span} (“{column}”)")
_GROUP_LINE = Text("- {value} : {figure} ({rows} ligne{s})", "- {value}: {figure} ({rows} row{s})")
_COUNT_LINE = Text("- {value} : {rows} ({share} %)", "- {value}: {rows} ({share} %)")
_MORE_GROUPS = Text("- … et {count} autre{s} valeur{s}", "- … and {count} more value{s}")
_BASIS = Text("Calculé sur {rows} ligne{s} de {source}{skipped}, sans modèle : vérifiez la "
              "colonne retenue.",
              "Computed over {rows} row{s} of {source}{skipped}, without a model: check the "
              "column used.")
_NO_FIGURE = Text("**Aucun nombre dans « {column} »**{where} ({rows} ligne{s}).",
                  "**No figure in “{column}”**{where} ({rows} row{s}).")
_COUNT_SHEETS = Text("**Lignes par feuille** :", "**Rows by sheet**:")
_SHEET_LINE = Text("- {sheet} : {rows} ligne{s}", "- {sheet}: {rows} row{s}")
_COUNTED = Text("Compté sur {source}, sans modèle.", "Counted in {source}, without a model.")
_SKIPPED = Text(" ({count} cellule{s} vide{s} ou non numérique{s} ignorée{s})",
                " ({count} empty or non-numeric cell{s} left out)")
_LEFT_OUT = Text("\nNon pris en compte : {words} (aucune colonne ni valeur ne {them} dit).",
                 "\nNot taken into account: {words} (no column or value says {them}).")
_EMPTY_VALUE = Text("(vide)", "(empty)")


@dataclass(frozen=True)
class Grouping:
    """How rows are grouped: by a column's values, or by the period of a date column."""

    column: int
    name: str  # as shown: the column's name, or « mois » / “month”…
    period: str = ""  # "" (the values), "month", "quarter" or "year"
    quarter: str = "T"  # « 2024-T1 », “2024-Q1”

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
            return f"{day.year}-{self.quarter}{(day.month - 1) // 3 + 1}"
        return f"{day.year}-{day.month:02d}"

    def ordered(self, keys: Counter[str]) -> list[str]:
        """Periods in time order, figures (a rating's values) from the lowest; other values
        the most frequent first."""
        if self.period:
            return sorted(keys)
        figures = {key: number(key) for key in keys if key}
        if figures and all(value is not None for value in figures.values()):
            return sorted(figures, key=lambda key: figures[key] or 0.0) + (
                [""] if "" in keys else [])  # empty cells last
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
    folded = _spread(fold(question))
    return not _DEFINITION.search(folded) and any(
        pattern.search(folded) for _, pattern in _AGGREGATES)


def _spread(folded: str) -> str:
    """« la répartition des notes », “the breakdown of scores”: rows counted by that column."""
    return _SPREAD.sub(lambda found: f"combien de lignes par {found.group('what')} ", folded)


def answer(question: str, tables: Sequence[NamedTable], locale: Locale,
           follow_ups: Sequence[str] = ()) -> str | None:
    """The computed answer, or None when the question does not say clearly what to compute
    over which column (the search then answers). An English question's words are also
    matched through their French renderings (“score” → « note »). Its ``follow_ups``, oldest
    first (« Et pour la santé ? », « Et par région ? », « Et en 2023 ? »), each replace the
    value kept, the grouping, the year or the aggregate they name, the latest first."""
    if not asks_computation(question) or any(len(text) > _MAX_QUESTION for text in follow_ups):
        return None
    latest = [_spread(fold(text)) for text in reversed(follow_ups)]
    folded = _spread(fold(question))
    texts = [*latest, folded]  # the latest says it first
    aggregate = next((kind for text in texts for kind, pattern in _AGGREGATES
                      if pattern.search(text)), None)
    if aggregate is None:
        return None
    asked = next((text for text in texts if _PERIOD.search(text) or _groups_by_column(
        _GROUP.search(text), tables, locale)), folded)
    period = _PERIOD.search(asked)
    grouping = None if period else _GROUP.search(asked)
    timed = next((text for text in texts if names_span(text)), None)
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
        group = (_column_named(table, group_words, numeric - _scales(table, numeric),
                               figures=False)[1] if group_words else None)
        if group_words and group is None and (grouping is None or not _filters(
                table, _with_renderings([fold(grouping.group(1))], locale)[0],
                exclude=numeric)):
            continue  # (« par téléphone » names a value to keep to, not a column)
        if (period or timed) and _date_column(table) is None:
            continue  # « par mois », « en 2024 » over a table without dates
        if aggregate == "count":
            plans.append((1, named, None, group))
            continue
        if aggregate == "nps":
            column = _nps_column(table, words - group_words, numeric - {group})
            if column is not None:
                plans.append((1, named, column, group))
            continue
        score, column = _column_named(table, words - group_words, numeric, figures=True,
                                      exclude=set() if group is None else {group})
        if column is None and words & _NPS_WORDS:  # « le NPS moyen » over « Recommandation »
            score, column = 1, _nps_column(table, words - group_words, numeric - {group})
        if column is not None:
            plans.append((score, named, column, group))
    best = max((plan[0] for plan in plans), default=0)
    chosen = [plan for plan in plans if plan[0] == best]
    if aggregate == "count" and len(chosen) > 1 and not (group_words or period or timed):
        return _count_sheets([plan[1] for plan in chosen], texts, figures, follow_ups, locale)
    if len(chosen) != 1:  # nothing fits, or two tables fit as well: the search answers
        return None
    _, named, column, group = chosen[0]
    table = named.table
    dated = _date_column(table)
    taken = figures[id(table)] | {index for index in (group, column, dated) if index is not None}
    kept = _kept(table, _with_renderings(texts, locale), taken)
    if follow_ups and not _explained(follow_ups[-1], table, kept, locale):
        return None  # « Et le délai de traitement ? » asks about something else
    rows = [row for row in table.rows if all(_cell(row, index) == value for index, value in kept)]
    where = "".join((_AND if number_ else _WHERE)(locale, column=table.header[index], value=value)
                    for number_, (index, value) in enumerate(kept))
    span = span_in(timed, _last_day(table, dated)) if timed and dated is not None else None
    if span is not None and dated is not None:
        rows = [row for row in rows if _within(row, dated, span)]
        where += _IN_SPAN(locale, column=table.header[dated], span=span.text(locale))
    by = (Grouping(dated, _PERIOD_NAMES[_PERIODS[period.group(1)]](locale),
                   _PERIODS[period.group(1)], "Q" if locale == "en" else "T")
          if period is not None and dated is not None
          else Grouping(group, table.header[group]) if group is not None else None)
    computed = (_count(named, rows, by, where, locale) if column is None
                else _figure(named, rows, aggregate, column, by, where, locale))
    left = _left_out((*follow_ups, question), table, kept, locale)
    return computed + (_LEFT_OUT(locale, s=plural(len(left), locale), words=", ".join(
        f"“{word}”" if locale == "en" else f"« {word} »" for word in left),
        them=("les" if locale != "en" else "them") if len(left) > 1 else (
            "le" if locale != "en" else "it")) if left else "")


def _left_out(texts: Sequence[str], table: Table, kept: Sequence[tuple[int, str]],
              locale: Locale) -> list[str]:
    """The words of the question that nothing computed accounts for (« pour la voiture »
    when no cell says « voiture »): said, so that a count over every row is not read as one
    over the rows meant."""
    known = {token for name in table.header for token in content_tokens(name)}
    known |= {token for _, value in kept for token in content_tokens(value)}
    left: list[str] = []
    for text in texts:
        remaining = set(_WORDS.findall(said_span(_PERIOD.sub(" ", fold(text)))))
        for word in (word for word in _WORDS.findall(text) if fold(word) in remaining):
            if locale == "en" and word.lower() not in ENGLISH_FUNCTION_WORDS:
                tokens = set(content_tokens(word)) or {fold(word)}  # “car”, not « car »
            else:
                tokens = set(content_tokens(word))
            tokens -= _ASKING | _FILLERS | _PERIOD_WORDS | _NPS_WORDS
            if not tokens or tokens & known or any(token.isdigit() for token in tokens):
                continue
            if locale == "en" and set(content_tokens(french_search_words(word))) & known:
                continue
            if word not in left:
                left.append(word)
    return left


def _groups_by_column(grouping: re.Match[str] | None, tables: Sequence[NamedTable],
                      locale: Locale) -> bool:
    """Whether « par … » names a column of some table (« par canal »), not a value to keep
    to (« par téléphone », which leaves the earlier grouping as it was)."""
    if grouping is None:
        return False
    said = grouping.group(1) if locale != "en" else (
        f"{grouping.group(1)} {french_search_words(grouping.group(1))}")
    words = set(content_tokens(said)) - _ASKING
    return bool(words & {token for named in tables for name in named.table.header
                         for token in content_tokens(name)})


def _with_renderings(texts: Sequence[str], locale: Locale) -> list[str]:
    """An English question's texts followed by their French renderings (“for health” keeps
    to « santé »)."""
    if locale != "en":
        return list(texts)
    return [f"{text} | {fold(french_search_words(text))}" for text in texts]


def _kept(table: Table, texts: Sequence[str], taken: set[int]) -> list[tuple[int, str]]:
    """The values the question and its follow-ups keep to, one a column, the latest said
    first: « Et pour la santé ? » replaces « auto » and keeps « en agence »."""
    kept: dict[int, str] = {}
    for text in texts:
        for index, value in _filters(table, text, exclude=taken):
            kept.setdefault(index, value)
    return sorted(kept.items())


def _count_sheets(tables: Sequence[NamedTable], texts: Sequence[str],
                  figures: dict[int, set[int]], follow_ups: Sequence[str],
                  locale: Locale) -> str | None:
    """« Combien de lignes ? » over a workbook of several sheets: each sheet's rows; the one
    sheet holding the value the question keeps to, if only one does."""
    rendered = _with_renderings(texts, locale)
    kept = [(named, _kept(named.table, rendered, figures[id(named.table)])) for named in tables]
    holding = [(named, values) for named, values in kept if values]
    if len(holding) == 1:
        named, values = holding[0]
        if follow_ups and not _explained(follow_ups[-1], named.table, values, locale):
            return None
        rows = [row for row in named.table.rows
                if all(_cell(row, index) == value for index, value in values)]
        where = "".join((_AND if number_ else _WHERE)(
            locale, column=named.table.header[index], value=value)
            for number_, (index, value) in enumerate(values))
        return _count(named, rows, None, where, locale)
    if holding or (follow_ups and not all(_explained(follow_ups[-1], named.table, [], locale)
                                          for named in tables)):
        return None  # values in several sheets, or a follow-up about something else
    lines = [_COUNT_SHEETS(locale)]
    lines += [_SHEET_LINE(locale, sheet=named.table.title or named.file,
                          rows=grouped(len(named.table.rows), locale),
                          s=plural(len(named.table.rows), locale)) for named in tables]
    files = list(dict.fromkeys(named.file for named in tables))
    lines += ["", _COUNTED(locale, source=", ".join(
        f"“{name}”" if locale == "en" else f"« {name} »" for name in files))]
    return "\n".join(lines)


def _last_day(table: Table, dated: int | None) -> date | None:
    """The table's last date (what gives « depuis mars » its year)."""
    if dated is None:
        return None
    days = [day for day in (day_of(row[dated]) for row in table.rows if dated < len(row)) if day]
    return max(days, default=None)


def _within(row: list[object], index: int, span: Span) -> bool:
    day = day_of(row[index]) if index < len(row) else None
    return day is not None and span.holds(day)


def _explained(follow_up: str, table: Table, kept: Sequence[tuple[int, str]],
               locale: Locale) -> bool:
    """Whether every word a follow-up names is a column's name, a value it keeps to, a
    period or a stretch of time: then it goes on with the computation rather than asking of
    another subject."""
    follow_up = said_span(fold(follow_up))
    said = follow_up if locale != "en" else f"{follow_up} {french_search_words(follow_up)}"
    named = set(content_tokens(follow_up)) - _ASKING - _PERIOD_WORDS - _NPS_WORDS
    known = {token for name in table.header for token in content_tokens(name)}
    for _, value in kept:
        known |= set(content_tokens(value))
    renderings = set(content_tokens(said)) - set(content_tokens(follow_up))
    return all(token in known or token.isdigit() or (
        locale == "en" and renderings & known) for token in named)


def _date_column(table: Table) -> int | None:
    """The table's first column whose cells read as days."""
    for index in range(len(table.header)):
        if reads_as([row[index] for row in table.rows[:2_000] if index < len(row)], day_of):
            return index
    return None


def _cell(row: list[object], index: int) -> str:
    return shown(row[index]) if index < len(row) and row[index] is not None else ""


def _numeric(table: Table, index: int) -> bool:
    """Whether a column holds figures, judged on up to 5,000 rows spread over the table (the
    computation then says how many cells it left out)."""
    step = max(1, len(table.rows) // _SAMPLE_ROWS)
    return reads_as([row[index] for row in table.rows[::step] if index < len(row)], number)


def _distinct(table: Table, index: int) -> set[str]:
    """A column's values as shown, when it has few enough to be looked for in a question
    (none for an identifier or free text: the reading stops past the limit)."""
    raw: set[object] = set()
    for row in table.rows:
        raw.add(row[index] if index < len(row) else None)
        if len(raw) > _MAX_FILTER_VALUES:
            return set()
    return {shown(value) if value is not None else "" for value in raw}


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


def _scales(table: Table, numeric: set[int]) -> set[int]:
    """Columns of figures with few values (a rating, a score from 0 to 10), which rows can be
    grouped by (« Combien de réponses par note ? »)."""
    return {index for index in numeric
            if len({_cell(row, index) for row in table.rows[:_SCALE_ROWS]}) <= _MAX_SCALE}


def _nps_column(table: Table, words: set[str], numeric: set[int]) -> int | None:
    """The column of 0-10 answers an NPS is computed from: the one the question names, else
    the one named like it (« NPS », « Recommandation »), else the table's only one."""
    scales = [index for index in sorted(numeric) if _zero_to_ten(table, index)]
    named = [index for index in scales
             if (words - _NPS_WORDS) & set(content_tokens(table.header[index]))]
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


def _filters(table: Table, folded: str, exclude: set[int]) -> list[tuple[int, str]]:
    """The values of text columns that the question says (« pour l'auto en agence »), as
    (column, value): the longest first, one a column, none overlapping another."""
    found: list[tuple[int, int, int, str]] = []  # length, start, column, value
    for index in range(len(table.header)):
        if index in exclude:
            continue
        values = _distinct(table, index)
        for value in values:
            said = fold(value)
            if len(said) < 3:
                continue
            where = re.search(rf"(?<![\w-]){re.escape(said)}(?![\w-])", folded)
            if where:
                found.append((len(said), where.start(), index, value))
    kept: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    for length, start, index, value in sorted(found, key=lambda item: (-item[0], item[1])):
        if any(index == taken for taken, _ in kept) or any(
                start < end and begin < start + length for begin, end in spans):
            continue
        kept.append((index, value))
        spans.append((start, start + length))
    return kept


def _figure(named: NamedTable, rows: list[list[object]], aggregate: Aggregate, column: int,
            group: Grouping | None, where: str, locale: Locale) -> str:
    table = named.table
    values: dict[str, list[float]] = defaultdict(list)
    skipped = 0
    for row in rows:
        read = number(row[column]) if column < len(row) else None
        if read is None:
            skipped += 1
            continue
        values[group.key(row) if group is not None else ""].append(read)
    if not values:  # no figure where the question points: said, with the rows found
        return "\n".join((_NO_FIGURE(locale, column=table.header[column], where=where,
                                      rows=grouped(len(rows), locale),
                                      s=plural(len(rows), locale)),
                           "", _COUNTED(locale, source=named.source(locale))))
    what = _NAMES[aggregate](locale)
    lines: list[str]
    if group is None:
        lines = [_FIGURE(locale, what=what, column=table.header[column], where=where,
                         value=_value(aggregate, values[""], locale))]
    else:
        lines = [_BY(locale, what=what, column=table.header[column], group=group.name,
                     where=where)]
        ordered = group.ordered(Counter({key: len(figures) for key, figures in values.items()}))
        shown = _MAX_PERIODS if group.period else _MAX_GROUPS
        for value in ordered[:shown]:
            figures = values[value]
            lines.append(_GROUP_LINE(locale, value=value or _EMPTY_VALUE(locale),
                                     figure=_value(aggregate, figures, locale),
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
    if aggregate == "nps":
        lines.append(_NPS_RULE(locale))
    return "\n".join(lines)


def _value(aggregate: Aggregate, figures: list[float], locale: Locale) -> str:
    """A group's figure as read: the NPS with its three shares, else the aggregate."""
    if aggregate != "nps":
        return figure(_compute(aggregate, figures), locale)
    promoters = 100 * sum(read >= 9 for read in figures) / len(figures)
    detractors = 100 * sum(read <= 6 for read in figures) / len(figures)
    score = round(promoters - detractors)
    return _NPS_FIGURE(locale, nps=f"{score:+d}" if score else "0",
                       promoters=round(promoters), passives=round(100 - promoters - detractors),
                       detractors=round(detractors))


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
    if aggregate in ("mean", "nps"):  # (an NPS is read by _value)
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

"""How a computed answer about a table reads: the figure or the rows counted, grouped or
not, with what they were kept to, the rows counted and the cells left out."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.i18n import Text, figure, grouped, plural, quoted
from bot.messages import Locale
from knowledge.table_profile import Table, day_of, number
from skills.table_columns import cell

Aggregate = Literal["mean", "median", "sum", "min", "max", "count", "nps"]
_MAX_GROUPS = 12
_MAX_PERIODS = 36  # months shown in time order
PERIOD_NAMES = {"month": Text("mois", "month"), "quarter": Text("trimestre", "quarter"),
                "year": Text("année", "year")}
_NAMES = {"mean": Text("Moyenne", "Average"), "median": Text("Médiane", "Median"),
          "sum": Text("Total", "Total"),
          "min": Text("Minimum", "Minimum"), "max": Text("Maximum", "Maximum"),
          "nps": Text("NPS", "NPS")}
_NPS_FIGURE = Text("{nps} (promoteurs {promoters} %, passifs {passives} %, détracteurs "
                   "{detractors} %)",
                   "{nps} (promoters {promoters}%, passives {passives}%, detractors "
                   "{detractors}%)")
_NPS_RULE = Text("NPS : part des promoteurs (9 ou 10) moins part des détracteurs (0 à 6), "
                 "en points, de -100 à +100.",
                 "NPS: share of promoters (9 or 10) minus share of detractors (0 to 6), in "
                 "points, from -100 to +100.")
_FIGURE = Text("**{what} de « {column} »**{where} : {value}",
               "**{what} of “{column}”**{where}: {value}")
_BY = Text("**{what} de « {column} » par « {group} »**{where} :",
           "**{what} of “{column}” by “{group}”**{where}:")
_COUNT = Text("**{count} ligne{s}**{where}.", "**{count} row{s}**{where}.")
_SHARE = Text("**{count} ligne{s}**{where}, soit **{share} %** des {total} ligne{ts}{among}.",
              "**{count} row{s}**{where}, that is **{share}%** of the {total} row{ts}{among}.")
_COUNT_BY = Text("**Lignes par « {group} »**{where} :", "**Rows by “{group}”**{where}:")
_DISTINCT = Text("**{count} valeur{s} de « {group} »**{where} :",
                 "**{count} value{s} of “{group}”**{where}:")
WHERE = Text(" où « {column} » vaut {value}", " where “{column}” is {value}")
AND = Text(" et « {column} » vaut {value}", " and “{column}” is {value}")
LIMIT = Text(" où « {column} » {condition}", " where “{column}” {condition}")
AND_LIMIT = Text(" et « {column} » {condition}", " and “{column}” {condition}")
IN_SPAN = Text(" {span} (« {column} »)", " {span} (“{column}”)")
_GROUP_LINE = Text("- {value} : {figure} ({rows} ligne{s})", "- {value}: {figure} ({rows} row{s})")
_COUNT_LINE = Text("- {value} : {rows} ({share} %)", "- {value}: {rows} ({share}%)")
_MORE_GROUPS = Text("- … et {count} autre{s} valeur{s}", "- … and {count} more value{s}")
_BASIS = Text("Calculé sur {rows} ligne{s} de {source}{skipped}, sans modèle : vérifiez la "
              "colonne retenue.",
              "Computed over {rows} row{s} of {source}{skipped}, without a model: check the "
              "column used.")
_NO_FIGURE = Text("**Aucun nombre dans « {column} »**{where} ({rows} ligne{s}).",
                  "**No figure in “{column}”**{where} ({rows} row{s}).")
COUNT_SHEETS = Text("**Lignes par feuille** :", "**Rows by sheet**:")
SHEET_LINE = Text("- {sheet} : {rows} ligne{s}", "- {sheet}: {rows} row{s}")
COUNTED = Text("Compté sur {source}, sans modèle.", "Counted in {source}, without a model.")
_SKIPPED = Text(" ({count} cellule{s} vide{s} ou non numérique{s} ignorée{s})",
                " ({count} empty or non-numeric cell{s} left out)")
_EMPTY_VALUE = Text("(vide)", "(empty)")
_FIRST = Text("{value} : {what} de « {column} » ({figure}){few}.\n",
              "{value}: {what} of “{column}” ({figure}){few}.\n")
_FEW = Text(", sur {rows} ligne{s} seulement : à confirmer", ", over only {rows} row{s}: to be "
            "confirmed")
_FEW_ROWS = 30  # a group ranked first on fewer rows is said to be
_RANKED = {
    ("mean", "asc"): Text("la moyenne la plus basse", "the lowest average"),
    ("mean", "desc"): Text("la moyenne la plus haute", "the highest average"),
    ("median", "asc"): Text("la médiane la plus basse", "the lowest median"),
    ("median", "desc"): Text("la médiane la plus haute", "the highest median"),
    ("sum", "asc"): Text("le total le plus bas", "the lowest total"),
    ("sum", "desc"): Text("le total le plus haut", "the highest total"),
    ("nps", "asc"): Text("le NPS le plus bas", "the lowest NPS"),
    ("nps", "desc"): Text("le NPS le plus haut", "the highest NPS"),
    ("min", "asc"): Text("le minimum le plus bas", "the lowest minimum"),
    ("min", "desc"): Text("le minimum le plus haut", "the highest minimum"),
    ("max", "asc"): Text("le maximum le plus bas", "the lowest maximum"),
    ("max", "desc"): Text("le maximum le plus haut", "the highest maximum"),
}
_FIRST_COUNT = {"asc": Text("{value} : le moins de lignes ({rows}).\n",
                            "{value}: the fewest rows ({rows}).\n"),
                "desc": Text("{value} : le plus de lignes ({rows}).\n",
                             "{value}: the most rows ({rows}).\n")}


@dataclass(frozen=True)
class Grouping:
    """How rows are grouped: by a column's values, or by the period of a date column."""

    column: int
    name: str  # as shown: the column's name, or « mois » / “month”…
    period: str = ""  # "" (the values), "month", "quarter" or "year"
    quarter: str = "T"  # « 2024-T1 », “2024-Q1”
    rank: str = ""  # "asc" / "desc": groups by their figure, the first said (« Quel canal… »)
    distinct: bool = False  # « Combien de niveaux ? »: how many values, each with its rows

    def key(self, row: list[object]) -> str:
        """The group a row falls in (« 2024-03 », « 2024-T1 », « 2024 », or its value)."""
        if not self.period:
            return cell(row, self.column)
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
        name = quoted(self.file, locale)
        if not self.table.title:
            return name
        return (f"{name}, sheet “{self.table.title}”" if locale == "en"
                else f"{name}, feuille « {self.table.title} »")


def where_text(table: Table, kept: Sequence[tuple[int, tuple[str, ...]]], locale: Locale,
               limits: Sequence[tuple[int, str]] = ()) -> str:
    """« où « produit » vaut « auto » ou « habitation » et « note » < 3 »: the values kept,
    then the limits put on columns of figures (as their conditions read)."""
    parts = [(WHERE if not position else AND)(locale, column=table.header[index],
                                               value=_either(values, locale))
             for position, (index, values) in enumerate(kept)]
    parts += [(LIMIT if not parts and not position else AND_LIMIT)(
        locale, column=table.header[index], condition=condition)
        for position, (index, condition) in enumerate(limits)]
    return "".join(parts)


def _either(values: Sequence[str], locale: Locale) -> str:
    """« « auto » ou « habitation » », ““auto” or “habitation””."""
    return (" or " if locale == "en" else " ou ").join(quoted(value, locale) for value in values)


def figure_answer(named: NamedTable, rows: list[list[object]], aggregate: Aggregate,
                  column: int, group: Grouping | None, where: str, locale: Locale) -> str:
    """The aggregate of ``column`` over ``rows``, per group if grouped, with its basis."""
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
                           "", COUNTED(locale, source=named.source(locale))))
    what = _NAMES[aggregate](locale)
    lines: list[str]
    if group is None:
        lines = [_FIGURE(locale, what=what, column=table.header[column], where=where,
                         value=_value(aggregate, values[""], locale))]
    else:
        lines = [_BY(locale, what=what, column=table.header[column], group=group.name,
                     where=where)]
        ordered = group.ordered(Counter({key: len(figures) for key, figures in values.items()}))
        if group.rank:
            ordered = sorted((key for key in ordered if key), reverse=group.rank == "desc",
                             key=lambda key: _ranked_by(aggregate, values[key]))
            if ordered:
                first = _ranked_by(aggregate, values[ordered[0]])
                few = len(values[ordered[0]])
                lines.insert(0, _FIRST(locale, value=_leaders(
                    [key for key in ordered if _ranked_by(aggregate, values[key]) == first],
                    locale), what=_RANKED[aggregate, group.rank](locale),
                    column=table.header[column],
                    figure=_value(aggregate, values[ordered[0]], locale).split(" (")[0],
                    few=_FEW(locale, rows=few, s=plural(few, locale)) if few < _FEW_ROWS
                    else ""))
        shown = _MAX_PERIODS if group.period else _MAX_GROUPS
        # « 3,00 » beside « 2,88 », not « 3 »
        decimals = any(not _compute(aggregate, values[value]).is_integer()
                       for value in ordered[:shown])
        for value in ordered[:shown]:
            figures = values[value]
            lines.append(_GROUP_LINE(locale, value=value or _EMPTY_VALUE(locale),
                                     figure=_value(aggregate, figures, locale, decimals),
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


def _value(aggregate: Aggregate, figures: list[float], locale: Locale,
           decimals: bool = False) -> str:
    """A group's figure as read: the NPS with its three shares, else the aggregate
    (``decimals``: two even when whole, as the other groups' figures have them)."""
    if aggregate != "nps":
        return figure(_compute(aggregate, figures), locale, decimals=decimals)
    promoters, detractors = _nps_shares(figures)
    score = round(promoters - detractors)
    return _NPS_FIGURE(locale, nps=f"{score:+d}" if score else "0",
                       promoters=round(promoters), passives=round(100 - promoters - detractors),
                       detractors=round(detractors))


def count_answer(named: NamedTable, rows: list[list[object]], group: Grouping | None,
                 where: str, locale: Locale, population: tuple[int, str] | None = None) -> str:
    """How many ``rows``, per group if grouped (with each group's share), and, when the
    question kept to some rows, their share of the ``population`` (how many rows, and what
    they were kept to: all of the table's by default)."""
    total, among = population or (len(named.table.rows), "")
    if group is None and where and total and where != among:
        lines = [_SHARE(locale, count=grouped(len(rows), locale), s=plural(len(rows), locale),
                        where=where, share=_percent(100 * len(rows) / total, locale),
                        total=grouped(total, locale), ts=plural(total, locale), among=among)]
    elif group is None:
        lines = [_COUNT(locale, count=grouped(len(rows), locale), s=plural(len(rows), locale),
                        where=where)]
    else:
        counts = Counter(group.key(row) for row in rows)
        values = sum(1 for key in counts if key)  # empty cells are no value
        lines = [_DISTINCT(locale, count=grouped(values, locale), s=plural(values, locale),
                           group=group.name, where=where) if group.distinct
                 else _COUNT_BY(locale, group=group.name, where=where)]
        shown = _MAX_PERIODS if group.period else _MAX_GROUPS
        ordered = group.ordered(counts)
        if group.rank:
            sign = -1 if group.rank == "desc" else 1
            ordered = sorted((key for key in counts if key),
                             key=lambda key: (sign * counts[key], key))  # ties alphabetical
            if ordered:
                lines.insert(0, _FIRST_COUNT[group.rank](
                    locale, value=_leaders([key for key in ordered
                                            if counts[key] == counts[ordered[0]]], locale),
                    rows=grouped(counts[ordered[0]], locale)))
        for value in ordered[:shown]:
            lines.append(_COUNT_LINE(locale, value=value or _EMPTY_VALUE(locale),
                                     rows=grouped(counts[value], locale),
                                     share=round(100 * counts[value] / max(1, len(rows)))))
        if len(ordered) > shown:
            more = len(ordered) - shown
            lines.append(_MORE_GROUPS(locale, count=more, s=plural(more, locale)))
    lines += ["", COUNTED(locale, source=named.source(locale))]
    return "\n".join(lines)


def _leaders(keys: list[str], locale: Locale) -> str:
    """« **agence** et **téléphone** »: the groups sharing the first place (three at most)."""
    shown = [f"**{key}**" for key in keys[:3]] + (["…"] if len(keys) > 3 else [])
    joined = ", ".join(shown[:-1])
    return f"{joined} {'and' if locale == 'en' else 'et'} {shown[-1]}" if joined else shown[0]


def _ranked_by(aggregate: Aggregate, figures: list[float]) -> float:
    """What groups are ranked by: the aggregate, or for an NPS the score itself."""
    if aggregate == "nps":
        promoters, detractors = _nps_shares(figures)
        return promoters - detractors
    return _compute(aggregate, figures)


def _nps_shares(figures: list[float]) -> tuple[float, float]:
    """The shares, in %, of promoters (9 or 10) and of detractors (0 to 6)."""
    return (100 * sum(read >= 9 for read in figures) / len(figures),
            100 * sum(read <= 6 for read in figures) / len(figures))


def _percent(value: float, locale: Locale) -> str:
    """« 44 », « 66,7 » (“66.7”): one decimal at most."""
    text = f"{value:.1f}".removesuffix(".0")
    return text if locale == "en" else text.replace(".", ",")


def _compute(aggregate: Aggregate, figures: list[float]) -> float:
    if aggregate in ("mean", "nps"):  # (an NPS is read by _value)
        return sum(figures) / len(figures)
    if aggregate == "median":
        return statistics.median(figures)
    if aggregate == "sum":
        return sum(figures)
    return min(figures) if aggregate == "min" else max(figures)

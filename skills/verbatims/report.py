"""The analysis's outputs: the thread summary, the JSON summary, rows.csv and the workbook.

The HTML report is in ``report_html.py``; the stored analysis (rename/merge and regenerate
without recomputing anything) in ``report_state.py``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.i18n import Text, grouped, plural, quoted
from bot.messages import Locale
from skills.verbatims.analysis.notes import note_in
from skills.verbatims.model import Analysis, Columns, ScoreKind, Sentiment, Theme, Trend
from skills.verbatims.reader import (
    ANALYSED,
    DUPLICATE,
    STATUS_NAMES,
    Survey,
)

TOP_THEMES = 8
_CELL_LIMIT = 32_000  # Excel holds 32,767 characters a cell
SCORE_NAMES: Mapping[ScoreKind, Text] = {
    "stars5": Text("étoiles 1-5", "stars 1-5"), "nps": Text("NPS 0-10", "NPS 0-10"),
    "sat10": Text("satisfaction 1-10", "satisfaction 1-10"),
}
SENTIMENT_NAMES: Mapping[Sentiment, Text] = {
    "negative": Text("négatif", "negative"), "neutral": Text("neutre", "neutral"),
    "positive": Text("positif", "positive"),
}
TREND_NAMES: Mapping[str, Text] = {
    "emerging": Text("émergent", "emerging"), "improving": Text("en amélioration", "improving"),
    "worsening": Text("en dégradation", "worsening"), "fading": Text("en recul", "fading"),
}
FIELD_NAMES: Mapping[str, Text] = {
    "text": Text("texte", "text"), "id": Text("identifiant", "id"),
    "score": Text("note", "score"), "date": Text("date", "date"),
    "product": Text("produit", "product"), "channel": Text("canal", "channel"),
    "region": Text("région/agence", "region/agency"),
}
OVERRIDE_KEYS = {"text": "texte", "id": "id", "score": "note", "date": "date",
                 "product": "produit", "channel": "canal", "region": "region"}
OFFLINE_NOTE = Text(
    "Sans modèle configuré, les libellés viennent des mots-clés et les axes d'amélioration ne "
    "sont pas rédigés : un modèle approuvé pour le rôle « verbatims » nommerait les thèmes et "
    "écrirait ces axes à partir d'échantillons (jamais un appel par verbatim).",
    "With no model configured, labels come from keywords and the improvement axes are not "
    "written: a model approved for the “verbatims” role would name the themes and write those "
    "axes from samples (never one call per verbatim).",
)


def offline_said(analysis: Analysis) -> bool:
    """True when axes were written, or the analysis's own notes already say it ran offline."""
    return any(theme.axis for theme in analysis.themes) or any(
        "modèle" in note or "model" in note for note in analysis.notes)


def pct(value: float, locale: Locale = "fr") -> str:
    """A share as a whole percentage (« 17 % », English “17%”)."""
    return f"{value * 100:.0f}{'%' if locale == 'en' else ' %'}"


def theme_sentiment_shares(theme: Theme) -> dict[Sentiment, float]:
    """The theme's negative/neutral/positive shares of its mentions."""
    total = sum(theme.sentiment.values()) or 1
    return {kind: theme.sentiment.get(kind, 0) / total
            for kind in ("negative", "neutral", "positive")}


def ranked(analysis: Analysis) -> list[Theme]:
    """Themes by volume, largest first."""
    return sorted(analysis.themes, key=lambda theme: (-theme.size, theme.id))


def theme_names(analysis: Analysis) -> dict[int, str]:
    """Theme id → label."""
    return {theme.id: theme.label for theme in analysis.themes}


def monthly_totals(survey: Survey) -> dict[str, int]:
    """Analysed verbatims per month ("YYYY-MM"), for shares over time."""
    totals: Counter[str] = Counter(f"{v.date:%Y-%m}" for v in survey.verbatims
                                   if v.date is not None)
    return dict(sorted(totals.items()))


# ---------------------------------------------------------------------------- summary
def summary_data(analysis: Analysis, survey: Survey, source: str = "") -> dict[str, Any]:
    """Everything the summary says, as one JSON-able object (``--json``)."""
    names = theme_names(analysis)
    counts = analysis.counts
    return {
        "source": source,
        "counts": {"rows": counts.rows, "analysed": counts.analysed, "empty": counts.empty,
                   "no_content": counts.no_content, "duplicates": counts.duplicates,
                   "not_french": counts.not_french},
        "columns": {name: getattr(survey.columns, name) for name in FIELD_NAMES}
        | {"score_kind": survey.columns.score_kind},
        "themes": [{
            "id": theme.id, "label": theme.label, "keywords": theme.keywords,
            "count": theme.size, "share": round(theme.share, 4),
            "mean_score": None if theme.mean_score is None else round(theme.mean_score, 2),
            "sentiment": dict(theme.sentiment),
            "trend": dict(sorted(theme.monthly.items())), "axis": theme.axis,
            "examples": theme.examples, "codebook": theme.coded,
        } for theme in ranked(analysis)],
        "drivers": [{"theme": driver.theme, "label": names.get(driver.theme, ""),
                     "detractor_share": round(driver.detractor_share, 4),
                     "impact": round(driver.impact, 3)} for driver in analysis.drivers],
        "trends": [{"theme": trend.theme, "label": names.get(trend.theme, ""),
                    "kind": trend.kind, "before": round(trend.before, 4),
                    "after": round(trend.after, 4), "since": trend.since}
                   for trend in analysis.trends],
        "emerging": [names.get(t.theme, "") for t in analysis.trends if t.kind == "emerging"],
        "improving": [names.get(t.theme, "") for t in analysis.trends if t.kind == "improving"],
        "axes": [{"theme": theme.label, "axis": theme.axis} for theme in ranked(analysis)
                 if theme.axis],
        "sentiment": dict(Counter(analysis.sentiments)),
        "notes": analysis.notes,
        "stage_seconds": {k: round(v, 2) for k, v in analysis.stage_seconds.items()},
    }


_HEAD = Text("**Analyse de {rows} verbatims** : {analysed} analysés{aside}.",
             "**Analysis of {rows} verbatims**: {analysed} analysed{aside}.")
_ASIDE = {"empty": Text("{n} vide{s}", "{n} empty"),
          "no_content": Text("{n} sans contenu (« RAS »…)", "{n} without content (“RAS”…)"),
          "duplicates": Text("{n} doublon{s}", "{n} duplicate{s}"),
          "not_french": Text("{n} pas en français", "{n} not in French")}
_SET_ASIDE = Text(" ; mis de côté (comptés) : {parts}", "; set aside (counted): {parts}")
_THEMES = Text("**Thèmes principaux**", "**Top themes**")
_THEME_LINE = Text("{n}. {label} — {share} ({count}), {neg} négatif, {pos} positif{score}",
                   "{n}. {label} — {share} ({count}), {neg} negative, {pos} positive{score}")
_OUTSIDE = Text(" (hors plan de codes)", " (outside the codebook)")
# the column and its scale: a 0-10 answer's mean is no rating out of 5
_MEAN = Text(", moyenne de {column} {score}/{scale}", ", mean {column} {score}/{scale}")
_DRIVERS = Text("**Moteurs d'insatisfaction** (part des détracteurs qui en parlent)",
                "**Dissatisfaction drivers** (share of detractors who mention it)")
_DRIVER_LINE = Text("- {label} : {share} des détracteurs, note {impact} quand il est cité",
                    "- {label}: {share} of detractors, score {impact} when mentioned")
_LOWER = Text("plus basse de {value} point{s}", "{value} point{s} lower")
_HIGHER = Text("plus haute de {value} point{s}", "{value} point{s} higher")
_SIGNALS = Text("**Évolutions**", "**Changes over time**")
_TREND_LINE = Text("- {label} : {kind} depuis {since} ({before} → {after}{what})",
                   "- {label}: {kind} since {since} ({before} → {after}{what})")
_NEG_SHARE = Text(" de mentions négatives", " negative mentions")
_AXES = Text("**Axes d'amélioration**", "**Improvement axes**")
_NONE = Text("Aucun thème n'a pu être dégagé.", "No theme could be found.")


def summary_text(analysis: Analysis, survey: Survey, locale: Locale) -> str:
    """The summary posted in the thread (Markdown)."""
    counts = analysis.counts
    aside = [_ASIDE[name](locale, n=grouped(getattr(counts, name), locale),
                          s=plural(getattr(counts, name), locale))
             for name in _ASIDE if getattr(counts, name)]
    lines = [_HEAD(locale, rows=grouped(counts.rows, locale),
                   analysed=grouped(counts.analysed, locale),
                   aside=_SET_ASIDE(locale, parts=", ".join(aside)) if aside else "")]
    themes = ranked(analysis)
    if not themes:
        lines.append(_NONE(locale))
    else:
        lines += ["", _THEMES(locale)]
        coding = any(theme.coded for theme in themes)
        for theme in themes[:TOP_THEMES]:
            shares = theme_sentiment_shares(theme)
            score = ("" if theme.mean_score is None
                     else _MEAN(locale, score=_decimal(theme.mean_score, locale),
                                column=quoted(survey.columns.score or "score", locale),
                                scale=5 if survey.columns.score_kind == "stars5" else 10))
            label = theme.label + (_OUTSIDE(locale) if coding and not theme.coded else "")
            lines.append(_THEME_LINE(locale, n=theme.id + 1, label=label, share=pct(theme.share, locale),
                                     count=grouped(theme.size, locale),
                                     neg=pct(shares["negative"], locale),
                                     pos=pct(shares["positive"], locale), score=score))
    names = theme_names(analysis)
    if analysis.drivers:
        lines += ["", _DRIVERS(locale)]
        lines += [_DRIVER_LINE(locale, label=names.get(d.theme, "?"),
                               share=pct(d.detractor_share, locale),
                               impact=score_change(-d.impact, locale))
                  for d in analysis.drivers[:5]]
    if analysis.trends:
        lines += ["", _SIGNALS(locale)]
        lines += [_trend_line(trend, names, locale) for trend in analysis.trends[:6]]
    axes = [theme for theme in themes if theme.axis]
    if axes:
        lines += ["", _AXES(locale)]
        lines += [f"- {theme.label} : {theme.axis}" if locale == "fr"
                  else f"- {theme.label}: {theme.axis}" for theme in axes[:TOP_THEMES]]
    notes = [note_in(note, locale) for note in analysis.notes]
    if not offline_said(analysis):
        notes.append(OFFLINE_NOTE(locale))
    if notes:
        lines += ["", *(f"_{note}_" for note in notes)]
    return "\n".join(lines)


def _trend_line(trend: Trend, names: Mapping[int, str], locale: Locale) -> str:
    negative = trend.kind in ("improving", "worsening")
    return _TREND_LINE(locale, label=names.get(trend.theme, "?"),
                       kind=TREND_NAMES[trend.kind](locale), since=trend.since,
                       before=pct(trend.before, locale), after=pct(trend.after, locale),
                       what=_NEG_SHARE(locale) if negative else "")


def score_change(change: float, locale: Locale) -> str:
    """« plus basse de 1,3 point », “1.3 points lower” (French: singular under 2)."""
    size = round(abs(change), 1)
    several = size >= 2 if locale == "fr" else size != 1
    return (_LOWER if change < 0 else _HIGHER)(locale, value=_decimal(size, locale),
                                               s="s" if several else "")


def _decimal(value: float, locale: Locale) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if locale == "fr" else text


_COLUMNS_LINE = Text("- {field} : « {column} »{extra}", "- {field}: “{column}”{extra}")
_NOT_FOUND = Text("- {field} : (aucune)", "- {field}: (none)")


def columns_text(columns: Columns, locale: Locale) -> list[str]:
    """One line per field: the column chosen for it."""
    lines = []
    for name, label in FIELD_NAMES.items():
        column = getattr(columns, name)
        if column is None:
            lines.append(_NOT_FOUND(locale, field=label(locale)))
            continue
        extra = (f" ({SCORE_NAMES[columns.score_kind](locale)})"
                 if name == "score" and columns.score_kind else "")
        lines.append(_COLUMNS_LINE(locale, field=label(locale), column=column, extra=extra))
    return lines


# ---------------------------------------------------------------------------- per row
@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One input row as the outputs show it."""

    row: int
    status: str
    id: str | None
    themes: tuple[str, ...]
    sentiment: str
    index: int  # into survey.verbatims, or -1


def row_outcomes(analysis: Analysis, survey: Survey) -> Iterator[RowOutcome]:
    """Every data row, set-aside ones included: duplicates carry their original's result."""
    names = theme_names(analysis)
    rows = survey.rows
    for position, status in enumerate(rows.status):
        target = rows.target[position]
        ident = rows.ids[position] if rows.ids is not None else None
        if status in (ANALYSED, DUPLICATE) and 0 <= target < len(analysis.assignments):
            labels = tuple(names[theme] for theme in analysis.assignments[target]
                           if theme in names)
            yield RowOutcome(position + 1, STATUS_NAMES[status], ident, labels,
                             analysis.sentiments[target], target)
        else:
            yield RowOutcome(position + 1, STATUS_NAMES[status], ident, (), "", -1)


def rows_csv(analysis: Analysis, survey: Survey) -> bytes:
    """rows.csv: row;[id;]themes;sentiment;status — UTF-8, « ; », labels joined by « | »."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    with_id = survey.columns.id is not None
    writer.writerow(["row", *(["id"] if with_id else []), "themes", "sentiment", "status"])
    for outcome in row_outcomes(analysis, survey):
        themes = "|".join(label.replace("|", "/") for label in outcome.themes)
        writer.writerow([outcome.row, *([outcome.id or ""] if with_id else []), themes,
                         outcome.sentiment, outcome.status])
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------- workbook
_SHEETS = {"summary": Text("Synthèse", "Summary"), "themes": Text("Thèmes", "Themes"),
           "trends": Text("Tendances", "Trends"), "drivers": Text("Moteurs", "Drivers"),
           "changes": Text("Évolutions", "Changes"),
           "breakdowns": Text("Répartitions", "Breakdowns"),
           "rows": Text("Verbatims", "Verbatims")}
_STATUS_LABELS = {"analysed": Text("analysé", "analysed"),
                  "duplicate": Text("doublon", "duplicate"), "empty": Text("vide", "empty"),
                  "no_content": Text("sans contenu", "no content"),
                  "not_french": Text("pas en français", "not in French")}


def workbook(analysis: Analysis, survey: Survey, locale: Locale, source: str = "") -> bytes:
    """The XLSX: one sheet per view, and every input row with its themes and sentiment."""
    book = Workbook(write_only=True)
    fr = locale == "fr"
    _summary_sheet(book.create_sheet(_SHEETS["summary"](locale)), analysis, survey, locale,
                   source)
    themes_sheet = book.create_sheet(_SHEETS["themes"](locale))
    _row(themes_sheet, ["n°" if fr else "no.", "thème" if fr else "theme", "mots-clés" if fr else "keywords",
                        "verbatims", "part" if fr else "share",
                        "note moyenne" if fr else "mean score",
                        "négatif" if fr else "negative", "neutre" if fr else "neutral",
                        "positif" if fr else "positive", "% négatif" if fr else "% negative",
                        "axe d'amélioration" if fr else "improvement axis",
                        "exemples" if fr else "examples"])
    for theme in ranked(analysis):
        shares = theme_sentiment_shares(theme)
        _row(themes_sheet, [theme.id + 1, theme.label, ", ".join(theme.keywords), theme.size,
                            round(theme.share, 4),
                            None if theme.mean_score is None else round(theme.mean_score, 2),
                            theme.sentiment.get("negative", 0),
                            theme.sentiment.get("neutral", 0),
                            theme.sentiment.get("positive", 0),
                            round(shares["negative"], 4), theme.axis or "",
                            "\n".join(theme.examples)])
    _trends_sheet(book.create_sheet(_SHEETS["trends"](locale)), analysis, survey, locale)
    _drivers_sheet(book.create_sheet(_SHEETS["drivers"](locale)), analysis, locale)
    _changes_sheet(book.create_sheet(_SHEETS["changes"](locale)), analysis, locale)
    if any(theme.breakdowns for theme in analysis.themes):
        _breakdowns_sheet(book.create_sheet(_SHEETS["breakdowns"](locale)), analysis, locale)
    _rows_sheet(book.create_sheet(_SHEETS["rows"](locale)), analysis, survey, locale)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _row(sheet: WriteOnlyWorksheet, values: Sequence[Any]) -> None:
    """A row whose text cells stay text (a leading « = » is never run as a formula)."""
    cells: list[Any] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:_CELL_LIMIT])
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    sheet.append(cells)


def _summary_sheet(sheet: WriteOnlyWorksheet, analysis: Analysis, survey: Survey,
                   locale: Locale, source: str) -> None:
    fr = locale == "fr"
    counts = analysis.counts
    _row(sheet, ["Analyse de verbatims" if fr else "Verbatim analysis", source])
    _row(sheet, [])
    for label, value in (("lignes" if fr else "rows", counts.rows),
                         ("analysées" if fr else "analysed", counts.analysed),
                         ("vides" if fr else "empty", counts.empty),
                         ("sans contenu (RAS…)" if fr else "no content (RAS…)",
                          counts.no_content),
                         ("doublons" if fr else "duplicates", counts.duplicates),
                         ("pas en français" if fr else "not in French", counts.not_french)):
        _row(sheet, [label, value])
    _row(sheet, [])
    _row(sheet, ["colonnes" if fr else "columns"])
    for name, field_label in FIELD_NAMES.items():
        _row(sheet, [field_label(locale), getattr(survey.columns, name) or ""])
    if survey.columns.score_kind:
        _row(sheet, ["type de note" if fr else "score type",
                     SCORE_NAMES[survey.columns.score_kind](locale)])
    _row(sheet, [])
    _row(sheet, ["sentiment", "verbatims"])
    tally = Counter(analysis.sentiments)
    for kind, kind_label in SENTIMENT_NAMES.items():
        _row(sheet, [kind_label(locale), tally.get(kind, 0)])
    _row(sheet, [])
    _row(sheet, ["thèmes principaux" if fr else "top themes", "verbatims",
                 "part" if fr else "share"])
    for theme in ranked(analysis)[:TOP_THEMES]:
        _row(sheet, [theme.label, theme.size, round(theme.share, 4)])
    notes = [*(note_in(note, locale) for note in analysis.notes),
             *([] if offline_said(analysis) else [OFFLINE_NOTE(locale)])]
    if notes:
        _row(sheet, [])
        for note in notes:
            _row(sheet, [note])


def _trends_sheet(sheet: WriteOnlyWorksheet, analysis: Analysis, survey: Survey,
                  locale: Locale) -> None:
    """Months down, themes across: mentions, then shares of the month's verbatims."""
    totals = monthly_totals(survey)
    themes = ranked(analysis)
    months = sorted(set(totals) | {m for t in themes for m in t.monthly})
    fr = locale == "fr"
    _row(sheet, ["mois" if fr else "month", "verbatims",
                 *(f"{t.label} (n)" for t in themes), *(f"{t.label} (%)" for t in themes)])
    for month in months:
        total = totals.get(month, 0)
        _row(sheet, [month, total, *(t.monthly.get(month, 0) for t in themes),
                     *(round(t.monthly.get(month, 0) / total, 4) if total else None
                       for t in themes)])


def _drivers_sheet(sheet: WriteOnlyWorksheet, analysis: Analysis, locale: Locale) -> None:
    fr = locale == "fr"
    names = theme_names(analysis)
    _row(sheet, ["thème" if fr else "theme", "part des détracteurs" if fr
                 else "share of detractors", "impact (points)"])
    for driver in analysis.drivers:
        _row(sheet, [names.get(driver.theme, ""), round(driver.detractor_share, 4),
                     round(driver.impact, 3)])


def _changes_sheet(sheet: WriteOnlyWorksheet, analysis: Analysis, locale: Locale) -> None:
    fr = locale == "fr"
    names = theme_names(analysis)
    _row(sheet, ["thème" if fr else "theme", "évolution" if fr else "change",
                 "depuis" if fr else "since", "avant" if fr else "before",
                 "après" if fr else "after"])
    for trend in analysis.trends:
        _row(sheet, [names.get(trend.theme, ""), TREND_NAMES[trend.kind](locale), trend.since,
                     round(trend.before, 4), round(trend.after, 4)])


def _breakdowns_sheet(sheet: WriteOnlyWorksheet, analysis: Analysis, locale: Locale) -> None:
    fr = locale == "fr"
    _row(sheet, ["thème" if fr else "theme", "colonne" if fr else "column",
                 "valeur" if fr else "value", "verbatims"])
    for theme in ranked(analysis):
        for column, values in theme.breakdowns.items():
            for value, count in sorted(values.items(), key=lambda item: -item[1]):
                _row(sheet, [theme.label, column, value, count])


def _rows_sheet(sheet: WriteOnlyWorksheet, analysis: Analysis, survey: Survey,
                locale: Locale) -> None:
    fr = locale == "fr"
    columns = survey.columns
    extra = [name for name in ("date", "score", "product", "channel", "region")
             if getattr(columns, name) is not None]
    _row(sheet, ["ligne" if fr else "row", *(["id"] if columns.id else []),
                 *(FIELD_NAMES[name](locale) for name in extra), "verbatim",
                 "thèmes" if fr else "themes", "sentiment", "statut" if fr else "status"])
    verbatims = survey.verbatims
    for outcome in row_outcomes(analysis, survey):
        verbatim = verbatims[outcome.index] if outcome.index >= 0 else None
        text = verbatim.text if verbatim is not None else survey.rows.texts.get(outcome.row, "")
        values: list[Any] = []
        for name in extra:
            value = getattr(verbatim, name) if verbatim is not None else None
            values.append(value)
        _row(sheet, [outcome.row, *([outcome.id or ""] if columns.id else []), *values, text,
                     " | ".join(outcome.themes),
                     SENTIMENT_NAMES[outcome.sentiment](locale)  # type: ignore[index]
                     if outcome.sentiment else "",
                     _STATUS_LABELS[outcome.status](locale)])

"""The self-contained HTML report: matplotlib charts as embedded PNGs, every user text escaped.

matplotlib rather than plotly: the same PNG serves the report and the chat thread (channels
show images, not scripts), a report stays ~100-300 KB instead of carrying 4.6 MB of
JavaScript, and it opens offline in any browser or mail client, scripts blocked or not.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from typing import Any

from bot.i18n import Text, grouped
from bot.messages import Locale
from skills.verbatims.analysis.notes import note_in
from skills.verbatims.model import Analysis, Theme
from skills.verbatims.reader import Survey
from skills.verbatims.report import (
    FIELD_NAMES,
    OFFLINE_NOTE,
    SCORE_NAMES,
    TREND_NAMES,
    monthly_totals,
    offline_said,
    pct,
    ranked,
    theme_names,
    theme_sentiment_shares,
)

CHART_THEMES = 15
TREND_LINES = 6
_COLOURS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
_BAR = "#2c6fbb"


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(8.5, height), dpi=110, layout="constrained")


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _short(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def themes_chart(analysis: Analysis, locale: Locale) -> bytes:
    """Horizontal bars: each theme's share of the analysed verbatims."""
    themes = ranked(analysis)[:CHART_THEMES][::-1]
    figure = _figure(0.45 * max(len(themes), 3) + 1.2)
    axes = figure.add_subplot()
    shares = [theme.share * 100 for theme in themes]
    axes.barh([_short(t.label) for t in themes], shares, color=_BAR)
    for y, value in enumerate(shares):
        axes.text(value, y, f" {value:.0f} %", va="center", fontsize=8)
    axes.set_xlabel("% des verbatims analysés" if locale == "fr" else "% of analysed verbatims")
    axes.set_title("Thèmes" if locale == "fr" else "Themes")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def sentiment_chart(analysis: Analysis, locale: Locale) -> bytes:
    """Stacked bars: negative / neutral / positive share of each theme's mentions."""
    themes = ranked(analysis)[:CHART_THEMES][::-1]
    figure = _figure(0.45 * max(len(themes), 3) + 1.4)
    axes = figure.add_subplot()
    labels = [_short(t.label) for t in themes]
    left = [0.0] * len(themes)
    names = {"negative": ("négatif", "negative"), "neutral": ("neutre", "neutral"),
             "positive": ("positif", "positive")}
    for kind in ("negative", "neutral", "positive"):
        values = [theme_sentiment_shares(t)[kind] * 100 for t in themes]
        axes.barh(labels, values, left=left, color=_COLOURS[kind],
                  label=names[kind][locale == "en"])
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlim(0, 100)
    axes.set_xlabel("% des mentions" if locale == "fr" else "% of mentions")
    axes.set_title("Sentiment par thème" if locale == "fr" else "Sentiment by theme")
    axes.legend(loc="lower right", fontsize=8)
    return _png(figure)


def trend_chart(analysis: Analysis, survey: Survey, locale: Locale) -> bytes | None:
    """Monthly lines: share of each top theme among the month's verbatims (None: no dates)."""
    totals = monthly_totals(survey)
    if len(totals) < 2:
        return None
    months = list(totals)
    figure = _figure(4.2)
    axes = figure.add_subplot()
    for theme in ranked(analysis)[:TREND_LINES]:
        values = [theme.monthly.get(m, 0) / totals[m] * 100 if totals[m] else 0.0
                  for m in months]
        axes.plot(months, values, marker="o", markersize=3, label=_short(theme.label, 36))
    step = max(1, len(months) // 12)
    axes.set_xticks(range(0, len(months), step), months[::step], rotation=45, fontsize=8)
    axes.set_ylabel("% des verbatims du mois" if locale == "fr" else "% of the month's verbatims")
    axes.set_title("Tendances mensuelles" if locale == "fr" else "Monthly trends")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(figure)


def drivers_chart(analysis: Analysis, locale: Locale) -> bytes | None:
    """Bars: share of detractors whose verbatim mentions each driver theme (None: no score)."""
    if not analysis.drivers:
        return None
    names = theme_names(analysis)
    drivers = analysis.drivers[:CHART_THEMES][::-1]
    figure = _figure(0.45 * max(len(drivers), 3) + 1.2)
    axes = figure.add_subplot()
    values = [d.detractor_share * 100 for d in drivers]
    axes.barh([_short(names.get(d.theme, "?")) for d in drivers], values, color="#c0392b")
    for y, (value, driver) in enumerate(zip(values, drivers, strict=True)):
        axes.text(value, y, f" {value:.0f} % ({-driver.impact:+.1f})", va="center", fontsize=8)
    axes.set_xlabel("% des détracteurs qui en parlent (écart de note)" if locale == "fr"
                    else "% of detractors who mention it (score gap)")
    axes.set_title("Moteurs d'insatisfaction" if locale == "fr" else "Dissatisfaction drivers")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:70rem;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.n{text-align:right;white-space:nowrap}
img{max-width:100%;height:auto}.note{color:#555;font-style:italic}
blockquote{margin:.3rem 0 .3rem 1rem;color:#444;border-left:3px solid #ccc;padding-left:.6rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}.scroll+.scroll{margin-top:1.2rem}
@media (max-width:640px){body{margin:1rem auto;padding:0 .6rem}table{font-size:.8rem}
th,td{padding:.25rem .35rem}td:not(.n){min-width:9rem}h1{font-size:1.3rem}
.chart img{max-width:none;width:40rem}}
"""
_TITLE = Text("Analyse des verbatims", "Verbatim analysis")
_FIGURE = re.compile(r"[-+−]?[\d\s\u202f,.]+\s?%?|—")  # « 14 % », « 4,5 », « -1,3 »


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _img(data: bytes | None, alt: str) -> str:
    if data is None:
        return ""
    encoded = base64.b64encode(data).decode("ascii")
    # on a phone the chart keeps a readable size and scrolls sideways
    return (f'<div class="scroll chart"><img alt="{_e(alt)}" '
            f'src="data:image/png;base64,{encoded}"></div>')


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ['<div class="scroll"><table><thead><tr>', *(f"<th>{_e(h)}</th>" for h in head),
           "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>")
        for cell in row:
            numeric = isinstance(cell, int | float) or (
                isinstance(cell, str) and _FIGURE.fullmatch(cell) is not None)
            css = ' class="n"' if numeric else ""
            out.append(f"<td{css}>{_e(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def html_report(analysis: Analysis, survey: Survey, locale: Locale, source: str = "") -> bytes:
    """The report, one file: opens offline, runs no script, every user text escaped."""
    fr = locale == "fr"
    counts = analysis.counts
    parts = [
        "<!DOCTYPE html>", f'<html lang="{locale}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        'img-src data:; style-src \'unsafe-inline\'">',
        f"<title>{_e(_TITLE(locale))} — {_e(source)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(_TITLE(locale))}</h1>",
        f"<p>{_e(source)}</p>" if source else "",
        _counts_table(analysis, locale),
        _columns_table(survey, locale),
        f"<h2>{'Thèmes' if fr else 'Themes'}</h2>",
        _img(themes_chart(analysis, locale), "Thèmes" if fr else "Themes"),
        _themes_table(analysis, locale),
        f"<h2>{'Sentiment par thème' if fr else 'Sentiment by theme'}</h2>",
        _img(sentiment_chart(analysis, locale), "Sentiment"),
    ]
    trend = trend_chart(analysis, survey, locale)
    if trend is not None or analysis.trends:
        parts += [f"<h2>{'Tendances' if fr else 'Trends'}</h2>", _img(trend, "Tendances"),
                  _trends_table(analysis, locale)]
    if analysis.drivers:
        parts += [f"<h2>{'Moteurs' if fr else 'Drivers'}</h2>",
                  _img(drivers_chart(analysis, locale), "Moteurs")]
    parts += [f"<h2>{'Verbatims représentatifs' if fr else 'Representative verbatims'}</h2>",
              *(_examples(theme) for theme in ranked(analysis))]
    notes = [*(note_in(note, locale) for note in analysis.notes),
             *([] if offline_said(analysis) else [OFFLINE_NOTE(locale)])]
    parts += [f'<p class="note">{_e(note)}</p>' for note in notes]
    parts.append(f"<p class=\"note\">{grouped(counts.rows, locale)} "
                 f"{'lignes' if fr else 'rows'}</p></body></html>")
    return "\n".join(part for part in parts if part).encode("utf-8")


def _counts_table(analysis: Analysis, locale: Locale) -> str:
    fr = locale == "fr"
    c = analysis.counts
    return _table(["lignes" if fr else "rows", "analysées" if fr else "analysed",
                   "vides" if fr else "empty", "sans contenu" if fr else "no content",
                   "doublons" if fr else "duplicates", "pas en français" if fr
                   else "not in French"],
                  [[c.rows, c.analysed, c.empty, c.no_content, c.duplicates, c.not_french]])


def _columns_table(survey: Survey, locale: Locale) -> str:
    columns = survey.columns
    rows = []
    for name, label in FIELD_NAMES.items():
        column = getattr(columns, name)
        if column is None:
            continue
        kind = (f" ({SCORE_NAMES[columns.score_kind](locale)})"
                if name == "score" and columns.score_kind else "")
        rows.append([label(locale), f"{column}{kind}"])
    return _table(["champ" if locale == "fr" else "field",
                   "colonne du fichier" if locale == "fr" else "file column"], rows)


def _themes_table(analysis: Analysis, locale: Locale) -> str:
    """One row per theme; the improvement axes' column only when a model wrote some."""
    fr = locale == "fr"
    themes = ranked(analysis)
    axes = any(theme.axis for theme in themes)
    rows = []
    for theme in themes:
        shares = theme_sentiment_shares(theme)
        rows.append([theme.label, theme.size, pct(theme.share), pct(shares["negative"]),
                     pct(shares["positive"]),
                     "" if theme.mean_score is None else round(theme.mean_score, 1),
                     ", ".join(theme.keywords[:6]), *([theme.axis or ""] if axes else [])])
    return _table(["thème" if fr else "theme", "verbatims", "part" if fr else "share",
                   "négatif" if fr else "negative", "positif" if fr else "positive",
                   "note moyenne" if fr else "mean score", "mots-clés" if fr else "keywords",
                   *(["axe d'amélioration" if fr else "improvement axis"] if axes else [])],
                  rows)


def _trends_table(analysis: Analysis, locale: Locale) -> str:
    if not analysis.trends:
        return ""
    names = theme_names(analysis)
    fr = locale == "fr"
    return _table(["thème" if fr else "theme", "évolution" if fr else "change",
                   "depuis" if fr else "since", "avant" if fr else "before",
                   "après" if fr else "after"],
                  [[names.get(t.theme, "?"), TREND_NAMES[t.kind](locale), t.since,
                    pct(t.before), pct(t.after)] for t in analysis.trends])


def _examples(theme: Theme) -> str:
    if not theme.examples:
        return ""
    quotes = "".join(f"<blockquote>{_e(example)}</blockquote>" for example in theme.examples)
    return f"<h3>{_e(theme.label)}</h3>{quotes}"

"""Every output of one analysis at once (the job and the command line share it)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Locale
from skills.verbatims.model import Analysis
from skills.verbatims.reader import Survey
from skills.verbatims.report import rows_csv, summary_text, workbook
from skills.verbatims.report_html import html_report, themes_chart
from skills.verbatims.report_state import dump_analysis


@dataclass(frozen=True, slots=True)
class Outputs:
    """The summary text and the files."""

    XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    summary: str
    workbook: bytes
    html: bytes
    rows_csv: bytes
    chart: bytes  # the themes bar chart (PNG), for channels that show images
    state: bytes  # the analysis as JSON: rename/merge and regenerate without recomputing


def render(analysis: Analysis, survey: Survey, locale: Locale, source: str = "") -> Outputs:
    """Summary, workbook, HTML report, rows.csv, chart and stored state."""
    return Outputs(summary_text(analysis, survey, locale),
                   workbook(analysis, survey, locale, source),
                   html_report(analysis, survey, locale, source),
                   rows_csv(analysis, survey), themes_chart(analysis, locale),
                   dump_analysis(analysis))

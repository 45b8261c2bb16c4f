"""``almia verbatims analyze FILE --out DIR`` and ``almia verbatims relabel``: in-process, no job.

``analyze`` writes the workbook, the HTML report, ``rows.csv``, a chart and
``analysis.json``; ``relabel`` renames or merges themes from ``analysis.json`` and writes
every output again without embedding anything.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from skills.verbatims.codebook import Codebook
    from skills.verbatims.model import Analysis
    from skills.verbatims.reader import Survey

_FILES = {"workbook": "analyse-verbatims.xlsx", "html": "rapport-verbatims.html",
          "rows": "rows.csv", "chart": "themes.png", "state": "analysis.json"}


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _overrides(text: str | None, score: str | None, date: str | None, product: str | None,
               channel: str | None, region: str | None, ident: str | None,
               kind: str | None) -> dict[str, str]:
    chosen = {"text": text, "score": score, "date": date, "product": product,
              "channel": channel, "region": region, "id": ident, "score_kind": kind}
    return {key: value for key, value in chosen.items() if value is not None}


def _read(path: Path, overrides: dict[str, str]) -> Survey:
    from skills.verbatims.reader import ReaderError, read_survey

    started = time.monotonic()
    try:
        survey = read_survey(path, overrides)
    except ReaderError as error:
        _say(error.message_for("en"))
        raise typer.Exit(2) from None
    counts = survey.counts
    _say(f"read {counts.rows} rows in {time.monotonic() - started:.1f} s: {counts.analysed} "
         f"to analyse, {counts.empty} empty, {counts.no_content} without content, "
         f"{counts.duplicates} duplicates, {counts.not_french} not in French")
    _say("columns: " + ", ".join(f"{name}={value!r}" for name, value in
                                 vars_of(survey).items() if value is not None))
    return survey


def vars_of(survey: Survey) -> dict[str, str | None]:
    """The chosen columns by field (for messages)."""
    columns = survey.columns
    return {"text": columns.text, "score": columns.score, "score_kind": columns.score_kind,
            "date": columns.date, "product": columns.product, "channel": columns.channel,
            "region": columns.region, "id": columns.id}


def _write(analysis: Analysis, survey: Survey, out: Path, source: str, as_json: bool) -> None:
    from skills.verbatims.report import summary_data
    from skills.verbatims.report_outputs import render

    started = time.monotonic()
    outputs = render(analysis, survey, "fr", source)
    out.mkdir(parents=True, exist_ok=True)
    for key, data in (("workbook", outputs.workbook), ("html", outputs.html),
                      ("rows", outputs.rows_csv), ("chart", outputs.chart),
                      ("state", outputs.state)):
        (out / _FILES[key]).write_bytes(data)
    _say(f"outputs written to {out} in {time.monotonic() - started:.1f} s")
    if as_json:
        typer.echo(json.dumps(summary_data(analysis, survey, source), ensure_ascii=False))
    else:
        typer.echo(outputs.summary)


def register_commands(app: typer.Typer) -> None:
    """Add the ``verbatims`` command group to ``app``."""
    group = typer.Typer(help="Survey verbatims: themes, sentiment, drivers, trends.",
                        no_args_is_help=True)
    app.add_typer(group, name="verbatims")

    @group.command("analyze")
    def analyze(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                             help="CSV or XLSX survey export.")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")],
        text_column: Annotated[str | None, typer.Option(help="Verbatim column.")] = None,
        score_column: Annotated[str | None, typer.Option(
            help="Score column ('none' to ignore).")] = None,
        score_kind: Annotated[str | None, typer.Option(
            help="stars5 | nps | sat10 (default: from the values).")] = None,
        date_column: Annotated[str | None, typer.Option(help="Date column.")] = None,
        product_column: Annotated[str | None, typer.Option(help="Product column.")] = None,
        channel_column: Annotated[str | None, typer.Option(help="Channel column.")] = None,
        region_column: Annotated[str | None, typer.Option(help="Region/agency column.")] = None,
        id_column: Annotated[str | None, typer.Option(help="Id column.")] = None,
        codebook: Annotated[str | None, typer.Option(
            help="Codebook: a YAML file, a shipped name (default: assurance), or 'none' "
                 "(theme discovery only).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
        = False,
    ) -> None:
        """Analyse a survey export in this process; progress on stderr."""
        from skills.verbatims.codebook import CodebookError, load_codebook

        try:
            chosen = load_codebook(codebook)
        except CodebookError as error:
            _say(error.message)
            raise typer.Exit(2) from None
        survey = _read(file, _overrides(text_column, score_column, date_column, product_column,
                                        channel_column, region_column, id_column, score_kind))
        if not survey.verbatims:
            _say("nothing to analyse")
            raise typer.Exit(1)
        if chosen is not None:
            _say(f"codebook: {chosen.name} ({len(chosen.codes)} codes)")
        analysis = asyncio.run(_analyse(survey, chosen))
        _write(analysis, survey, out, file.name, as_json)

    @group.command("relabel")
    def relabel(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                             help="The same survey export.")],
        out: Annotated[Path, typer.Option("--out", help="The folder of the first analysis.")],
        rename: Annotated[list[str] | None, typer.Option(
            help="N=New label, N as in the summary and the Themes sheet (repeatable).")]
        = None,
        merge: Annotated[list[str] | None, typer.Option(
            help="N=M,P… folds themes M, P… into theme N (repeatable).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
        = False,
    ) -> None:
        """Rename or merge themes and write every output again (nothing recomputed)."""
        from skills.verbatims.report_state import DETRACTOR, load_analysis
        from skills.verbatims.report_state import merge as merge_themes
        from skills.verbatims.report_state import rename as rename_themes

        state = out / _FILES["state"]
        if not state.exists():
            _say(f"{state} not found: run `almia verbatims analyze` first")
            raise typer.Exit(2)
        analysis = load_analysis(state.read_bytes())
        survey = _read(file, {})
        if len(survey.verbatims) != len(analysis.assignments):
            _say("this file is not the one analysed in that folder")
            raise typer.Exit(2)
        kind = survey.columns.score_kind
        try:
            for item in merge or []:
                into, _, others = item.partition("=")
                analysis = merge_themes(analysis, survey.verbatims, int(into) - 1,
                                        [int(x) - 1 for x in others.split(",") if x.strip()],
                                        DETRACTOR[kind] if kind else None)
            renames = {int(key) - 1: label.strip() for key, _, label in
                       (item.partition("=") for item in rename or [])}
        except (KeyError, ValueError):
            _say("unknown theme number (see the summary or the Thèmes sheet)")
            raise typer.Exit(2) from None
        analysis = rename_themes(analysis, renames)
        _write(analysis, survey, out, file.name, as_json)


async def _analyse(survey: Survey, codebook: Codebook | None) -> Analysis:
    from skills.verbatims.skill import default_analyser, default_embedder

    last = [""]

    async def progress(fraction: float, status: str) -> None:
        if status != last[0] or fraction >= 1.0:
            _say(f"{status} {fraction:.0%}")
            last[0] = status

    started = time.monotonic()
    analysis = await default_analyser()(survey.verbatims, counts=survey.counts,
                                        embedder=default_embedder(),
                                        score_kind=survey.columns.score_kind, progress=progress,
                                        codebook=codebook)
    _say(f"analysed in {time.monotonic() - started:.1f} s")
    return analysis

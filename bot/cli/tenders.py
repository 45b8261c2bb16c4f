"""``almia tenders screen DIR|ZIP``: screen a tender dossier in this process, no job.

Prints the verdict per lot (or, with ``--json``, one JSON object: ``facts``, ``lots``,
``contradictions``); with ``--out`` also writes the XLSX grid, the DOCX outline and the JSON.
Extracted facts are cached by dossier digest (``--cache``, default
``<data_dir>/tenders/facts``): re-screening after the criteria file changes reads nothing again.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

FILES = {"grid": "analyse-appel-offres.xlsx", "outline": "plan-memoire-technique.docx",
         "json": "screening.json"}


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _default_cache() -> Path:
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings().data_dir / "tenders" / "facts"
    except (SettingsError, ValueError):
        return Path(".almia") / "tenders" / "facts"


def register_commands(app: typer.Typer) -> None:
    """Add the ``tenders`` command group to ``app``."""
    group = typer.Typer(help="Tender screening: facts, go/no-go per lot, outline.",
                        no_args_is_help=True)
    app.add_typer(group, name="tenders")

    @group.command("screen")
    def screen(
        dossier: Annotated[Path, typer.Argument(exists=True, readable=True,
                                                help="Folder of the DCE or one ZIP.")],
        criteria: Annotated[Path | None, typer.Option(
            "--criteria", exists=True, dir_okay=False,
            help="Bid criteria YAML (default: the shipped sample).")] = None,
        today: Annotated[str | None, typer.Option(
            "--today", help="Screening day YYYY-MM-DD (default: today).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        out: Annotated[Path | None, typer.Option("--out", help="Folder for the XLSX, DOCX "
                                                 "and JSON.")] = None,
        cache: Annotated[Path | None, typer.Option("--cache", help="Facts cache folder.")]
        = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Read the dossier again.")]
        = False,
    ) -> None:
        """Screen a dossier against the criteria; progress on stderr."""
        from skills.tenders.cache import FactCache
        from skills.tenders.criteria import CriteriaError, load_criteria
        from skills.tenders.documents import DossierError, load_path
        from skills.tenders.report import summary
        from skills.tenders.service import run

        try:
            day = date.fromisoformat(today) if today else date.today()
        except ValueError:
            _say("--today must be YYYY-MM-DD")
            raise typer.Exit(2) from None
        try:
            policy = load_criteria(criteria)
        except CriteriaError as error:
            _say(f"criteria: {error}")
            raise typer.Exit(2) from None
        started = time.monotonic()
        try:
            loaded = load_path(dossier)
        except (DossierError, OSError, ValueError) as error:
            _say(f"dossier: {error}")
            raise typer.Exit(2) from None
        if all(document.kind != "RC" for document in loaded.documents):
            _say("warning: no RC (règlement de la consultation) in the dossier: lots, deadline "
                 "and award criteria are read from the other documents and may be incomplete")
        store = None if no_cache else FactCache(cache or _default_cache())
        result = run(loaded, policy, day, store)
        _say(f"{len(loaded.documents)} documents, {len(result.lots)} lot(s) screened in "
             f"{time.monotonic() - started:.1f} s"
             + (" (facts from cache)" if result.from_cache else ""))
        if out is not None:
            _write(result, policy.company_name, out)
        if as_json:
            typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            typer.echo(summary(result))


def _write(result: object, company: str, out: Path) -> None:
    from skills.tenders.outline import prepare
    from skills.tenders.report import outline_document, workbook
    from skills.tenders.service import Screening

    assert isinstance(result, Screening)
    preparation = asyncio.run(prepare(result.extraction, result.today))
    out.mkdir(parents=True, exist_ok=True)
    (out / FILES["grid"]).write_bytes(workbook(result, preparation))
    (out / FILES["outline"]).write_bytes(outline_document(result, preparation, company))
    (out / FILES["json"]).write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    _say(f"outputs written to {out}")

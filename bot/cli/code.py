"""``almia code document PATH|ZIP [--lang fr|en] [--out DIR] [--json]``: in-process, offline.

Reads a folder or a ZIP (same checks as an upload), never executes anything, and writes the
Markdown pages, the HTML page, ``documentation.patch`` (verified), the test skeletons and
``inventory.json`` to ``--out``. The unit purposes a model would write are not asked for
here: the command works without any model.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bot.messages import Locale


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def register_commands(app: typer.Typer) -> None:
    """Add the ``code`` command group to ``app``."""
    group = typer.Typer(help="Almia Dev: document and retro-document code.",
                        no_args_is_help=True)
    app.add_typer(group, name="code")

    @group.command("document")
    def document(
        path: Annotated[Path, typer.Argument(exists=True, readable=True,
                                             help="A source folder or a ZIP of it.")],
        lang: Annotated[str | None, typer.Option(
            "--lang", help="fr | en (default: French docs, comments in the code's language)")]
        = None,
        out: Annotated[Path, typer.Option("--out", help="Folder for the outputs.")] = Path(
            "almia-code-docs"),
        as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")]
        = False,
    ) -> None:
        """Document a folder or ZIP offline; progress on stderr."""
        from bot.files.intake import FileRejected
        from skills.codedoc.pipeline import NothingToDocument, document
        from skills.codedoc.sources import from_folder, from_zip

        locale: Locale = "en" if lang and lang.lower().startswith("en") else "fr"
        started = time.monotonic()
        try:
            sources = (from_folder(path) if path.is_dir()
                       else from_zip(path.name, path.read_bytes()))
        except FileRejected as rejected:
            _say(rejected.message_for(locale))
            raise typer.Exit(2) from None
        try:
            outputs = document(sources, locale, follow_comments=lang is None,
                               option="--lang ")
        except NothingToDocument:
            _say(NothingToDocument.text(locale))
            raise typer.Exit(1) from None
        seconds = time.monotonic() - started
        out.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.pages.items():
            target = out / "docs" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for name, text in outputs.skeletons.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (out / "documentation.html").write_bytes(outputs.html)
        if outputs.patch:
            (out / "documentation.patch").write_bytes(outputs.patch)
        (out / "inventory.json").write_bytes(outputs.inventory_json())
        metrics = outputs.metrics
        _say(f"{metrics.files} files, {metrics.lines} lines in {seconds:.1f} s; outputs in {out}")
        if as_json:
            typer.echo(json.dumps({"files": metrics.files, "lines": metrics.lines,
                                   "units": metrics.units, "public": metrics.public,
                                   "coverage": round(metrics.coverage, 4),
                                   "patched_files": metrics.patched_files,
                                   "preserved_files": metrics.preserved_files,
                                   "git_checked": outputs.verification.git_checked,
                                   "skeletons": metrics.skeletons, "secrets": metrics.secrets,
                                   "seconds": round(seconds, 3)}))
        else:
            typer.echo(outputs.summary)

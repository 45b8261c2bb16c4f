"""Admin commands for the ``almia`` CLI: ingest, search, collections.

The bot core calls :func:`register_commands` with its Typer app and a factory
that builds the :class:`KnowledgeBase` from settings.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from knowledge.base import KnowledgeBase, iter_files
from knowledge.records import CollectionInfo, IngestReport, KnowledgeError, Outcome, Passage
from knowledge.search import passages_json

T = TypeVar("T")


def _run(
    open_knowledge: Callable[[], KnowledgeBase],
    work: Callable[[KnowledgeBase], Coroutine[Any, Any, T]],
) -> T:
    """Open the knowledge base, run one coroutine, close; KnowledgeError → message, exit 1."""
    kb = open_knowledge()
    try:
        return asyncio.run(work(kb))
    except KnowledgeError as error:
        typer.echo(f"Erreur : {error}", err=True)
        raise typer.Exit(1) from error
    finally:
        kb.close()


def _summary(report: IngestReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    for item in report.files:
        if item.outcome is Outcome.FAILED:
            console.print(
                f"ÉCHEC {item.path} : {item.message}", markup=False, highlight=False, soft_wrap=True
            )
        elif item.outcome is Outcome.SKIPPED:
            console.print(
                f"ignoré {item.path} : {item.message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    table = Table(title=f"Ingestion dans « {report.collection} » ({report.seconds:.1f} s)")
    for outcome in (
        Outcome.ADDED,
        Outcome.UPDATED,
        Outcome.UNCHANGED,
        Outcome.FAILED,
        Outcome.SKIPPED,
    ):
        table.add_column(outcome.value, justify="right")
    table.add_column("chunks", justify="right")
    table.add_row(
        *(str(report.count(outcome)) for outcome in Outcome if outcome is not Outcome.SKIPPED),
        str(report.count(Outcome.SKIPPED)),
        str(report.chunks_written),
    )
    console.print(table)


def _passages_table(passages: list[Passage]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=True)
    for column in ("#", "score", "document", "section / page", "collection", "passage"):
        table.add_column(column)
    for rank, passage in enumerate(passages, start=1):
        where = " — ".join(
            part
            for part in (passage.section, f"p. {passage.page}" if passage.page else None)
            if part
        )
        snippet = passage.text if len(passage.text) <= 300 else passage.text[:300] + "…"
        table.add_row(
            str(rank), f"{passage.score:.3f}", passage.document, where, passage.collection, snippet
        )
    Console().print(table)


def _collections_table(infos: list[CollectionInfo]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("name", "title", "data class", "company-wide", "spaces", "chunks", "created"):
        table.add_column(column)
    for info in infos:
        table.add_row(
            info.name,
            info.title,
            info.data_class.value,
            "yes" if info.company_wide else "no",
            "\n".join(info.spaces) or "-",
            str(info.chunk_count if info.chunk_count is not None else "?"),
            info.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    Console().print(table)


IngestProgress = Callable[[float, str], None]
# (paths, collection, data class, company-wide, title, progress) -> report, or None when the
# runner cannot run (then this process ingests itself); KnowledgeError when refused or failed
IngestRunner = Callable[
    [list[Path], str, str | None, bool | None, str | None, IngestProgress], IngestReport | None
]


def _ingest_elsewhere(
    run_ingest: IngestRunner | None,
    paths: list[Path],
    collection: str,
    data_class: str | None,
    company_wide: bool | None,
    title: str | None,
) -> IngestReport | None:
    """The report of ``run_ingest`` (a progress bar meanwhile); None when it did not run."""
    if run_ingest is None:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f} %"),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("Ingestion (tâche)", total=1.0)

        def show(fraction: float, text: str) -> None:
            progress.update(task, completed=fraction, description=text or "Ingestion (tâche)")

        try:
            return run_ingest(paths, collection, data_class, company_wide, title, show)
        except KnowledgeError as error:
            typer.echo(f"Erreur : {error}", err=True)
            raise typer.Exit(1) from error


def register_commands(
    app: typer.Typer,
    open_knowledge: Callable[[], KnowledgeBase],
    run_ingest: IngestRunner | None = None,
) -> None:
    """Add ``ingest``, ``search`` and ``collections …`` to ``app``.

    ``run_ingest`` runs an ingestion elsewhere (the bot: as a job, with progress);
    without it, or when it returns None, ``ingest`` runs in this process.
    """
    _register_ingest(app, open_knowledge, run_ingest)
    _register_search(app, open_knowledge)
    _register_collections(app, open_knowledge)


def _register_ingest(app: typer.Typer, open_knowledge: Callable[[], KnowledgeBase],
                     run_ingest: IngestRunner | None) -> None:
    """``ingest``: here, or elsewhere through ``run_ingest`` (the bot's job)."""

    @app.command("ingest")
    def ingest(
        paths: Annotated[
            list[Path], typer.Argument(help="Files and folders (folders are read recursively).")
        ],
        collection: Annotated[
            str, typer.Option("--collection", "-c", help="Target collection (created if new).")
        ],
        data_class: Annotated[
            str | None,
            typer.Option(
                "--data-class", help="public|internal|confidential|secret (default internal)."
            ),
        ] = None,
        company_wide: Annotated[
            bool | None,
            typer.Option(
                "--company-wide/--not-company-wide", help="Visible from every space, or not."
            ),
        ] = None,
        title: Annotated[str | None, typer.Option("--title", help="Collection title.")] = None,
    ) -> None:
        """Index documents (PDF, Word, Excel, HTML, Markdown, text, CSV) into a collection."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        report = _ingest_elsewhere(run_ingest, paths, collection, data_class, company_wide,
                                   title)
        if report is not None:
            _summary(report)
            if report.failed:
                raise typer.Exit(1)
            return
        total = sum(1 for _ in iter_files(paths))

        async def work(kb: KnowledgeBase) -> IngestReport:
            with Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            ) as progress:
                task = progress.add_task("Ingestion", total=total)
                return await kb.ingest(
                    paths,
                    collection,
                    data_class=data_class,
                    company_wide=company_wide,
                    title=title,
                    progress=lambda outcome: progress.advance(task),
                )

        report = _run(open_knowledge, work)
        _summary(report)
        if report.failed:
            raise typer.Exit(1)


def _register_search(app: typer.Typer, open_knowledge: Callable[[], KnowledgeBase]) -> None:
    """``search``: one question, or a file of them (one JSON list per line)."""

    @app.command("search")
    def search(
        query: Annotated[str | None, typer.Argument(help="Question (or use --queries).")] = None,
        collection: Annotated[
            list[str] | None,
            typer.Option("--collection", "-c", help="Search these collections (admin)."),
        ] = None,
        space: Annotated[
            str | None,
            typer.Option("--space", help="Search as this space (e.g. teams:<id>, web:default)."),
        ] = None,
        k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages to return.")] = 5,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        queries: Annotated[
            Path | None,
            typer.Option(
                "--queries", help="File with one query per line; prints one JSON list per line."
            ),
        ] = None,
    ) -> None:
        """Search the knowledge base as a space sees it, or given collections."""
        if (query is None) == (queries is None):
            typer.echo("Erreur : donnez soit une requête, soit --queries FICHIER.", err=True)
            raise typer.Exit(2)
        if queries is not None:
            lines = queries.read_text(encoding="utf-8").splitlines()

            async def many(kb: KnowledgeBase) -> None:
                for line in lines:
                    if not line.strip():
                        continue
                    hits = await kb.search(line, space=space, collections=collection, k=k)
                    sys.stdout.write(passages_json(hits) + "\n")
                    sys.stdout.flush()

            _run(open_knowledge, many)
            return
        assert query is not None

        async def one(kb: KnowledgeBase) -> list[Passage]:
            return await kb.search(query, space=space, collections=collection, k=k)

        hits = _run(open_knowledge, one)
        if as_json:
            sys.stdout.write(passages_json(hits) + "\n")
        elif hits:
            _passages_table(hits)
        else:
            typer.echo("Aucun passage trouvé.")


def _register_collections(app: typer.Typer,
                          open_knowledge: Callable[[], KnowledgeBase]) -> None:
    """``collections list|create|attach|detach|set|delete|remove-document``."""
    collections_app = typer.Typer(
        help="List and manage knowledge collections.", no_args_is_help=True
    )
    app.add_typer(collections_app, name="collections")

    @collections_app.command("list")
    def list_collections(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List collections with their spaces, data class and size."""
        infos = _run(open_knowledge, lambda kb: kb.list_collections(with_counts=True))
        if as_json:
            payload = [
                {
                    "name": info.name,
                    "title": info.title,
                    "data_class": info.data_class.value,
                    "company_wide": info.company_wide,
                    "spaces": list(info.spaces),
                    "chunks": info.chunk_count,
                    "created_at": info.created_at.isoformat(),
                }
                for info in infos
            ]
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            _collections_table(infos)

    @collections_app.command("create")
    def create(
        name: str,
        title: Annotated[str | None, typer.Option("--title")] = None,
        data_class: Annotated[str, typer.Option("--data-class")] = "internal",
        company_wide: Annotated[bool, typer.Option("--company-wide")] = False,
    ) -> None:
        """Create an empty collection."""
        _run(
            open_knowledge,
            lambda kb: kb.create_collection(
                name, title=title, data_class=data_class, company_wide=company_wide
            ),
        )
        typer.echo(f"Collection « {name} » créée.")

    @collections_app.command("attach")
    def attach(name: str, space: str) -> None:
        """Let a space (teams:<id>, slack:<team>:<channel>, web:default) search a collection."""
        _run(open_knowledge, lambda kb: kb.attach(name, space))
        typer.echo(f"« {name} » rattachée à {space}.")

    @collections_app.command("detach")
    def detach(name: str, space: str) -> None:
        """Stop a space searching a collection."""
        _run(open_knowledge, lambda kb: kb.detach(name, space))
        typer.echo(f"« {name} » détachée de {space}.")

    @collections_app.command("set")
    def set_options(
        name: str,
        company_wide: Annotated[
            bool | None,
            typer.Option("--company-wide/--not-company-wide", help="Visible from every space."),
        ] = None,
        data_class: Annotated[str | None, typer.Option("--data-class")] = None,
        title: Annotated[str | None, typer.Option("--title")] = None,
    ) -> None:
        """Change a collection's company-wide flag, data class or title."""
        info = _run(
            open_knowledge,
            lambda kb: kb.update_collection(
                name, title=title, data_class=data_class, company_wide=company_wide
            ),
        )
        typer.echo(
            f"« {info.name} » : {info.data_class.value}, "
            f"{'toute l’entreprise' if info.company_wide else 'espaces rattachés seulement'}."
        )

    @collections_app.command("delete")
    def delete(
        name: str,
        yes: Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
        ] = False,
    ) -> None:
        """Delete a collection and all its chunks."""
        if not yes:
            typer.confirm(f"Supprimer la collection « {name} » et tous ses passages ?", abort=True)
        _run(open_knowledge, lambda kb: kb.delete_collection(name))
        typer.echo(f"Collection « {name} » supprimée.")

    @collections_app.command("remove-document")
    def remove_document(name: str, document: str) -> None:
        """Remove one document (source path or file name) from a collection."""
        removed = _run(open_knowledge, lambda kb: kb.delete_document(name, document))
        if not removed:
            typer.echo(f"Aucun document « {document} » dans « {name} ».", err=True)
            raise typer.Exit(1)
        typer.echo(f"{removed} passages supprimés.")

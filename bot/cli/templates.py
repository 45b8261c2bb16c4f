"""``almia templates list|import|export`` and ``almia stats templates --since 30d`` (admins)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.store.templates import TemplateStore

T = TypeVar("T")


def register_commands(app: typer.Typer, open_runtime: Callable[[], Runtime]) -> None:
    """Add the ``templates`` and ``stats`` command groups to ``app``."""
    templates_app = typer.Typer(help="Prompt templates (administration).", no_args_is_help=True)
    stats_app = typer.Typer(help="Usage analytics.", no_args_is_help=True)
    app.add_typer(templates_app, name="templates")
    app.add_typer(stats_app, name="stats")

    def run(work: Callable[[TemplateStore], Awaitable[T]]) -> T:
        async def main() -> T:
            from bot.store.templates import TemplateStore
            from skills.templates import starter_library

            runtime = open_runtime()
            try:
                await runtime.store.migrate()
                store = TemplateStore(runtime.store.engine)
                await store.ensure((e.name, e.content) for e in starter_library())
                return await work(store)
            finally:
                await runtime.close()

        return asyncio.run(main())

    @templates_app.command("list")
    def list_templates(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every template with its scope, owner, latest version and archived flag."""
        found = run(lambda store: store.every())
        if as_json:
            typer.echo(json.dumps([{"name": t.name, "title": t.content.title, "scope": t.scope,
                                    "space": t.space_id, "owner": t.owner_id,
                                    "version": t.latest, "archived": t.archived}
                                   for t in found], ensure_ascii=False, indent=2))
            return
        table = Table("name", "title", "scope", "space", "owner", "version", "archived",
                      title="Templates")
        for t in found:
            table.add_row(t.name, t.content.title, t.scope, t.space_id or "", t.owner_id,
                          str(t.latest), "yes" if t.archived else "")
        Console().print(table)

    @templates_app.command("export")
    def export_templates(
        output: Annotated[Path, typer.Argument(help="YAML file to write ('-' for stdout).")],
    ) -> None:
        """Write every template (latest version) as YAML."""
        from skills.templates import dump_library

        text = dump_library(run(lambda store: store.every()))
        if str(output) == "-":
            typer.echo(text)
        else:
            output.write_text(text, encoding="utf-8")
            Console(stderr=True).print(f"Templates written to {output}")

    @templates_app.command("import")
    def import_templates(
        source: Annotated[Path, typer.Argument(help="YAML file (one template or a list).")],
    ) -> None:
        """Create absent templates and add a new version to existing ones."""
        from bot.governance.roles import Role
        from bot.store.templates import Actor
        from skills.templates import parse_library

        try:
            entries = parse_library(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            Console(stderr=True).print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None

        async def work(store: TemplateStore) -> tuple[int, int]:
            created = updated = 0
            for entry in entries:  # matched in its own scope: names repeat across scopes
                admin = Actor("cli:admin", entry.space_id or "", frozenset(Role))
                current = await store.scoped(entry.name, entry.scope, entry.owner_id,
                                             entry.space_id)
                if current is None:
                    await store.create(entry.name, entry.content, admin, scope=entry.scope,
                                       space_id=entry.space_id, owner_id=entry.owner_id,
                                       change="import")
                    created += 1
                    continue
                if current.content != entry.content:
                    owner = Actor(current.owner_id, current.space_id or "", frozenset(Role))
                    await store.edit(entry.name, entry.content, owner, current.latest,
                                     template_id=current.id)
                    updated += 1
            return created, updated

        created, updated = run(work)
        Console().print(f"{created} template(s) created, {updated} updated.")

    @stats_app.command("templates")
    def template_stats(
        since: Annotated[str, typer.Option(help="Period: 30d, 12w, 48h.")] = "30d",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Most-used templates, use cases per space, weekly trend and feedback ratio."""
        from bot.store.templates import parse_period

        try:
            period = parse_period(since)
        except ValueError as error:
            Console(stderr=True).print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None
        stats = run(lambda store: store.stats(period))
        if as_json:
            typer.echo(json.dumps(stats.as_json(), ensure_ascii=False, indent=2))
            return
        console = Console()
        ratio = stats.feedback_ratio
        console.print(f"{stats.runs} run(s) since {stats.since:%Y-%m-%d}; 👍 ratio: "
                      f"{'-' if ratio is None else f'{ratio:.0%}'}")
        top = Table("template", "scope", "runs", "users", "👍", "👎", "avg ms", "tokens",
                    title="Most-used templates")
        for usage in stats.templates:
            top.add_row(usage.name, usage.scope, str(usage.runs), str(usage.users),
                        str(usage.positive),
                        str(usage.negative), f"{usage.avg_latency_ms:.0f}", str(usage.tokens))
        console.print(top)
        cases = Table("space", "use case", "runs", title="Use cases per space")
        for space, use_case, runs in stats.use_cases:
            cases.add_row(space, use_case, str(runs))
        console.print(cases)
        weekly = Table("week", "runs", title="Weekly trend")
        for week, runs in stats.weekly:
            weekly.add_row(week.isoformat(), str(runs))
        console.print(weekly)

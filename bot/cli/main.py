"""The ``almia`` command line. Heavy modules are imported inside commands to keep ``--help`` fast."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.settings import Settings
    from bot.store import Store
    from knowledge import KnowledgeBase

_T = TypeVar("_T")

app = typer.Typer(
    name="almia",
    help="Almia: a self-hosted generative-AI assistant for Teams, Slack and a web chat.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
teams_app = typer.Typer(help="Microsoft Teams app package.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
audit_app = typer.Typer(help="The append-only audit trail (governance).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _settings(**overrides: object) -> Settings:
    from bot.governance.policy import PolicyError
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings(**overrides)
    except (SettingsError, PolicyError) as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _open_knowledge() -> KnowledgeBase:
    from knowledge import KnowledgeBase

    settings = _settings()
    return KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                              chroma_url=settings.chroma_url)


def _ingest_as_job(paths: list[Path], collection: str, data_class: str | None,
                   company_wide: bool | None, title: str | None,
                   progress: Callable[[float, str], None]) -> Any:
    """``almia ingest`` as a ``team_docs`` job (None when files or jobs are disabled)."""
    from skills.team_docs_cli import IngestRequest, ingest_as_job

    request = IngestRequest(paths, collection, data_class, company_wide, title)
    return asyncio.run(ingest_as_job(_settings(), request, progress))


@jobs_app.command("probe")
def jobs_probe(
    steps: Annotated[int, typer.Option(help="Steps of the probe job.")] = 10,
    step_seconds: Annotated[float, typer.Option(help="Seconds per step.")] = 0.5,
    wait: Annotated[bool, typer.Option(help="Wait for the result.")] = True,
) -> None:
    """Queue a probe job: checks that workers take, checkpoint and finish jobs."""
    import asyncio

    from bot.cli.worker import WorkerNotConfigured, run_probe

    settings = _settings()
    _configure_logging(settings.log_level)
    try:
        job = asyncio.run(run_probe(settings, steps=steps, step_seconds=step_seconds,
                                    wait=wait))
    except WorkerNotConfigured as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    text = job.result.text if job.result is not None else ""
    Console().print(f"job {job.id}: {job.state.value} {text}".rstrip())
    if wait and job.state.value != "succeeded":
        raise typer.Exit(1)


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="Name shown in logs and the queue.")] = None,
) -> None:
    """Run jobs from the PostgreSQL queue (production; several workers on any machines)."""
    import asyncio

    from bot.cli.worker import WorkerNotConfigured, run_worker
    from bot.ops import logs

    settings = _settings()
    logs.configure(settings.log_level,  # JSON lines in production, as `serve`
                   json_lines=logs.wants_json(settings.ops.log_format, settings.production))
    try:
        asyncio.run(run_worker(settings, name=name))
    except WorkerNotConfigured as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Processes sharing the port (default: ALMIA_OPS__WORKERS, 1).")] = None,
    reuse_port: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Start the HTTP server: web chat, and the Slack and Teams endpoints when configured."""
    from bot.app import build_app
    from bot.governance.crypto import KeyUnavailable
    from bot.governance.policy import PolicyError
    from bot.ops import logs
    from bot.ops.server import run as serve_app

    overrides: dict[str, object] = {}
    base = _settings()
    web_overrides = base.web.model_dump()
    if host is not None:
        web_overrides["host"] = host
    if port is not None:
        web_overrides["port"] = port
    overrides["web"] = web_overrides
    settings = _settings(**overrides)
    logs.configure(settings.log_level,
                   json_lines=logs.wants_json(settings.ops.log_format, settings.production))
    console = Console(stderr=True)
    if settings.web.enabled and not settings.web.is_loopback() and settings.web.api_token is None:
        message = (f"The web chat listens on {settings.web.host} without ALMIA_WEB__API_TOKEN: "
                   "anyone on the network could use it.")
        if settings.production:
            console.print(f"[red]{message} Refused in production.[/red]")
            raise typer.Exit(2)
        console.print(f"[yellow]Warning: {message}[/yellow]")
    processes = workers if workers is not None else settings.ops.workers
    if processes > 1 and not reuse_port:  # a supervisor of N processes sharing the port
        from bot.ops.workers import Supervisor, child_command
        from bot.settings import process_environment

        console.print(f"Almia listens on http://{settings.web.host}:{settings.web.port}/ "
                      f"with {processes} processes")
        ops = settings.ops
        raise typer.Exit(Supervisor(
            child_command(settings.web.host, settings.web.port), processes, process_environment(),
            stop_seconds=ops.drain_seconds + ops.shutdown_timeout_seconds + 15).run())
    try:
        application = build_app(settings)
    except (PolicyError, KeyUnavailable) as error:  # e.g. a key file others can read
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    if not reuse_port:
        console.print(f"Almia listens on http://{settings.web.host}:{settings.web.port}/")
    serve_app(application, settings.web.host, settings.web.port, settings.ops,
              reuse_port=reuse_port)


@app.command()
def chat(
    user: Annotated[str, typer.Option(help="User id to speak as.")] = "cli-local",
    space: Annotated[str, typer.Option(help="Space whose collections are searched.")] = "web:default",
) -> None:
    """A conversation in the terminal, through the same core as every channel."""
    from bot.cli.chat import chat_command

    chat_command(_settings(), user=user, space=space)


@config_app.command("check")
def config_check(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate settings and policy; print the models, skills and where each setting came from."""
    from bot.cli.config import NoKnowledge, build_report, print_report
    from bot.governance.policy import PolicyError, load_policy
    from bot.settings import process_environment
    from skills import SkillServices, build_skills

    settings = _settings()
    try:
        policy = load_policy(settings.resolved_policy_file, process_environment())
        skills = build_skills(SkillServices(knowledge=NoKnowledge()))
        policy.check_skills({skill.name: skill.model_roles for skill in skills})
    except PolicyError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    report = build_report(settings, policy, skills)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print_report(report, Console())


def _since(value: str | None) -> datetime | None:
    """``30d``, ``12h`` or an ISO date → a UTC moment."""
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)([dh])", value.strip())
    if match:
        amount = int(match.group(1))
        delta = timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)
        return datetime.now(UTC) - delta
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use 30d, 12h or an ISO date such as 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _with_store(work: Callable[[Store], Awaitable[_T]]) -> _T:
    from bot.store import Store

    settings = _settings()
    store = Store.open(settings.resolved_database_url)
    try:
        await store.migrate()
        return await work(store)
    finally:
        await store.close()


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit chain: any edited, removed or reordered record is reported."""
    from bot.governance.audit import verify_chain

    async def work(store: Store) -> list[dict[str, Any]]:
        return await store.audit_records()

    report = verify_chain(asyncio.run(_with_store(work)))
    console = Console()
    if report.intact:
        console.print(f"[green]Audit trail intact[/green]: {report.records} records; "
                      f"head hash {report.head}")
        console.print("Keep the head hash outside Almia to detect removal of the last records.")
        return
    for problem in report.problems:
        console.print(f"[red]{problem}[/red]")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    since: Annotated[str | None, typer.Option(help="30d, 12h or an ISO date.")] = None,
    form: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
) -> None:
    """Export audit records for the data-protection officer (JSON lines or CSV)."""
    from bot.governance.audit import export_rows

    if form not in {"jsonl", "csv"}:
        raise typer.BadParameter("--format is jsonl or csv")
    start = _since(since)

    async def work(store: Store) -> list[dict[str, Any]]:
        return await store.audit_records(since=start)

    rows = export_rows(asyncio.run(_with_store(work)), form)
    if output is None:
        for row in rows:
            sys.stdout.write(row)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(rows)
    Console(stderr=True).print(f"Written to {output}")


@app.command()
def purge(
    user: Annotated[str | None, typer.Option(help="Erase this user's conversations.")] = None,
    older_than: Annotated[str | None, typer.Option(help="Erase content older than 90d…")] = None,
) -> None:
    """Erase conversation content (right to erasure, retention). The audit trail stays."""
    if (user is None) == (older_than is None):
        raise typer.BadParameter("give exactly one of --user or --older-than")
    cutoff = _since(older_than)

    async def work(store: Store) -> dict[str, int]:
        return await store.purge(user_id=user, older_than=cutoff)

    removed = asyncio.run(_with_store(work))
    Console().print("Removed: " + ", ".join(f"{count} {name}" for name, count in removed.items()))


@teams_app.command("package")
def teams_package(
    output: Annotated[Path, typer.Option(help="Zip file to write.")] = Path("almia-teams.zip"),
) -> None:
    """Build the Teams app package (manifest with your app id, icons) to upload in Teams."""
    from adapters.teams_package import PackageError, package_command

    settings = _settings()
    try:
        written = package_command(output, settings)
    except PackageError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    Console().print(f"Teams app package written to {written}")


def _register_optional_commands() -> None:
    from bot.cli.code import register_commands as register_code_commands
    from bot.cli.templates import register_commands as register_template_commands
    from bot.cli.verbatims import register_commands as register_verbatim_commands
    from knowledge.cli import register_commands

    register_commands(app, _open_knowledge, _ingest_as_job)
    from bot.ops.cli_keys import register_commands as register_key_commands

    register_key_commands(app, _settings)
    register_code_commands(app)
    register_verbatim_commands(app)
    from bot.cli.tenders import register_commands as register_tender_commands

    register_tender_commands(app)
    from bot.cli.admin import register_commands as register_admin_commands

    register_admin_commands(app, _settings)

    def open_runtime() -> Runtime:
        from bot.app import build_runtime

        return build_runtime(_settings())

    register_template_commands(app, open_runtime)
    from bot.cli.campaigns import register_commands as register_campaign_commands

    register_campaign_commands(app, open_runtime)


def main() -> None:
    """Console-script entry point."""
    _register_optional_commands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]

"""``almia campaigns new FILE.yaml``, ``list``, ``export ID --out DIR``, ``remind``.

``new`` goes through the assistant like any message (drafts, checks, audit) under
``--user`` (e.g. ``web:aline`` or ``cli:aline``); ``export`` writes the approved version's
files only, stamped with their approval; ``remind`` (for cron) records the reminders due
before the deadlines, shown to reviewers in their campaign inbox.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.store.campaigns import CampaignStore

T = TypeVar("T")


def register_commands(app: typer.Typer, open_runtime: Callable[[], Runtime]) -> None:
    """Add the ``campaigns`` command group to ``app``."""
    group = typer.Typer(help="Marketing campaigns: brief, drafts, review, approved exports.",
                        no_args_is_help=True)
    app.add_typer(group, name="campaigns")

    def run(work: Callable[[Runtime, CampaignStore], Awaitable[T]]) -> T:
        async def main() -> T:
            from bot.governance.policy import PolicyError
            from bot.store.campaigns import CampaignStore

            try:
                runtime = open_runtime()
            except PolicyError as error:  # e.g. a bad `campaigns:` section: say which key
                _say(str(error))
                raise typer.Exit(2) from None
            try:
                await runtime.store.migrate()
                return await work(runtime, CampaignStore(runtime.store.engine,
                                                        runtime.store))
            finally:
                await runtime.close()

        return asyncio.run(main())

    @group.command("new")
    def new(
        brief: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                              help="The brief (YAML).")],
        user: Annotated[str, typer.Option(
            help="Author id (web:…, slack:T…:U…, teams:…); 'cli:NAME' by default.")] = "",
        space: Annotated[str, typer.Option(help="Space the campaign belongs to.")] = "cli",
    ) -> None:
        """Create a campaign from a brief: drafts, checks, version 1 (then review it)."""
        from bot.messages import Channel, Message, Space, User

        author = user or "cli:operator"
        text = "campagne nouvelle\n" + brief.read_text(encoding="utf-8")

        async def work(runtime: Runtime, _store: CampaignStore) -> tuple[str, str, str]:
            message = Message(text=text, user=User(id=author), space=Space(id=space),
                              channel=Channel.CLI, thread_id=uuid.uuid4().hex)
            reply = await runtime.assistant.answer(message)
            return reply.kind, reply.skill or "", reply.text

        kind, skill, answer = run(work)
        typer.echo(answer)
        if skill == "charter":  # the author has not accepted the usage charter yet
            where = (f"almia chat --user {author.removeprefix('cli:')} (répondez « J'accepte »)"
                     if author.startswith("cli:") else "dans votre canal habituel")
            Console(stderr=True).print(
                f"Acceptez d'abord la charte : {where}, puis relancez cette commande.")
            raise typer.Exit(2)
        if kind == "error":
            raise typer.Exit(2)

    @group.command("list")
    def list_campaigns(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Every recent campaign with its state (operator view; JSON keeps stored ids)."""
        from skills.campaigns.present import people, person

        found = run(lambda _runtime, store: store.recent())
        if as_json:
            typer.echo(json.dumps([{"id": c.id, "title": c.title, "status": c.status,
                                    "version": c.current.number, "author": c.author_id,
                                    "reviewers": list(c.reviewers), "approval": c.approval,
                                    "updated": c.updated_at.isoformat()} for c in found],
                                  ensure_ascii=False, indent=2))
            return
        table = Table("id", "title", "status", "version", "author", "reviewers", "updated",
                      title="Campaigns")
        for c in found:
            table.add_row(c.id[:8], c.title, c.status, str(c.current.number),
                          person(c.author_id, "en"), people(c.reviewers, "en"),
                          f"{c.updated_at:%Y-%m-%d %H:%M}")
        Console().print(table)

    @group.command("export")
    def export(
        campaign: Annotated[str, typer.Argument(help="Campaign id (or its first 8 characters).")],
        out: Annotated[Path, typer.Option("--out", help="Folder for the files.")],
    ) -> None:
        """Write the approved version (DOCX, HTML e-mails, SMS CSV), stamped; refuses others."""
        from bot.skills import SkillError
        from bot.store.campaigns import CampaignNotFound
        from skills.campaigns.export import approved_version, export_files
        from skills.campaigns.rules import load_rules

        async def work(runtime: Runtime, store: CampaignStore) -> list[str]:
            found = await store.find(campaign)
            _version, stamp = approved_version(found, "en")
            files = export_files(found, load_rules(runtime.settings.data_dir / "campaigns.yaml"))
            out.mkdir(parents=True, exist_ok=True)
            for file in files:
                (out / file.name).write_bytes(file.data)
            return [*stamp.lines(), *(str(out / file.name) for file in files)]

        try:
            lines = run(work)
        except CampaignNotFound:
            _say(f"no campaign {campaign!r}")
            raise typer.Exit(2) from None
        except SkillError as refusal:
            _say(refusal.message_for("en"))
            raise typer.Exit(2) from None
        typer.echo("\n".join(lines))

    @group.command("remind")
    def remind() -> None:
        """Record reminders for reviews due within the rules' ``remind_hours_before`` (cron)."""
        from skills.campaigns.access import access_rules
        from skills.campaigns.reminders import Reminders
        from skills.campaigns.rules import load_rules

        async def work(runtime: Runtime, store: CampaignStore) -> list[str]:
            rules = load_rules(runtime.settings.data_dir / "campaigns.yaml")
            access = access_rules(runtime.policy.campaigns, rules)
            reminders = Reminders(store, rules, lambda slot: (slot, *access.user_members(slot)))
            reminded = await reminders.once(None, datetime.now(UTC).date())
            return [f"{campaign_id[:8]} reminded" for campaign_id in reminded]

        reminded = run(work)
        typer.echo("\n".join(reminded) if reminded else "no reminder due")


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()

"""``almia admin link``: a one-time sign-in link to the governance console.

For the embedded default (no Entra ID sign-in) and for break-glass access: whoever can
run commands on the server signs in as the local administrator. The link works once,
for ``console.link_minutes``; only its hash is stored. Creating it is audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console

if TYPE_CHECKING:
    from bot.settings import Settings


def console_origin(settings: Settings) -> str:
    """Where the console is reached: the sign-in callback's origin, else the web server."""
    callback = settings.console.oidc.redirect_url
    if callback:
        parts = urlsplit(callback)
        return f"{parts.scheme}://{parts.netloc}"
    host = settings.web.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 (a bind address, shown as loopback)
        host = "127.0.0.1"
    return f"http://{host}:{settings.web.port}"


async def create_link(settings: Settings) -> str:
    """A new one-time link (audited), as a full URL."""
    from bot.messages import Channel, Message, Space, User
    from bot.store import Store
    from bot.store.console_sessions import ConsoleSessionStore
    from bot.store.store import AuditEntry

    store = Store.open(settings.resolved_database_url)
    try:
        await store.migrate()
        token = await ConsoleSessionStore(store.engine).create_link(
            timedelta(minutes=settings.console.link_minutes))
        operator = Message(text="", user=User("cli:admin"), space=Space("console"),
                           channel=Channel.CLI, thread_id="console")
        await store.record_event(operator, AuditEntry(
            action="console_link", outcome="ok",
            details={"minutes": settings.console.link_minutes}))
    finally:
        await store.close()
    return f"{console_origin(settings)}/console/auth/link?token={token}"


def register_commands(app: typer.Typer, load: Callable[[], Settings]) -> None:
    """Add the ``admin`` command group to ``app``."""
    admin_app = typer.Typer(help="The governance console (administration).",
                            no_args_is_help=True)
    app.add_typer(admin_app, name="admin")

    @admin_app.command("link")
    def link(
        quiet: Annotated[bool, typer.Option("--quiet", help="Print the link only.")] = False,
    ) -> None:
        """Print a one-time link that signs the local administrator in to the console."""
        settings = load()
        if not settings.console.enabled:
            Console(stderr=True).print("[red]The console is off (ALMIA_CONSOLE__ENABLED).[/red]")
            raise typer.Exit(2)
        url = asyncio.run(create_link(settings))
        if quiet:
            typer.echo(url)
            return
        Console().print(f"Open within {settings.console.link_minutes} minutes "
                        "(it works once):")
        typer.echo(url)

"""``almia keys rotate`` and ``almia keys status``: the key-encryption key (KEK)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from bot.ops.keys import RotationReport
    from bot.settings import Settings


def register_commands(app: typer.Typer, load_settings: Callable[[], Settings]) -> None:
    """Add the ``keys`` command group to ``app``."""
    keys_app = typer.Typer(help="Encryption keys: rotate the key-encryption key.",
                           no_args_is_help=True)
    app.add_typer(keys_app, name="keys")

    @keys_app.command("rotate")
    def rotate(
        new_key_file: Annotated[Path | None, typer.Option(
            help="Local key file only: the new key (created 0600 if absent); then point "
                 "ALMIA_ENCRYPTION__KEY_FILE at it and restart the replicas one by one.")] = None,
    ) -> None:
        """Re-wrap every data key with a new KEK (Vault: a new transit key version); running
        replicas keep serving, stored content is not re-encrypted."""
        from bot.governance.crypto import KeyUnavailable

        settings = load_settings()
        try:
            report = asyncio.run(_rotate(settings, new_key_file))
        except KeyUnavailable as error:
            Console(stderr=True).print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None
        _print(report)
        if report.unreadable:
            raise typer.Exit(1)

    @keys_app.command("status")
    def status() -> None:
        """Data keys per key-encryption key (and Vault key version)."""
        from bot.ops.keys import key_status
        from bot.store import Store

        settings = load_settings()

        async def work() -> dict[str, int]:
            store = Store.open(settings.resolved_database_url)
            try:
                await store.migrate()
                return await key_status(store.engine)
            finally:
                await store.close()

        for label, count in sorted(asyncio.run(work()).items()):
            Console().print(f"{label}: {count} data key(s)")


async def _rotate(settings: Settings, new_key_file: Path | None) -> RotationReport:
    from bot.governance.crypto import KeyUnavailable
    from bot.ops.keys import build_key_provider, rotate_local, rotate_vault
    from bot.ops.vault_keys import VaultTransit
    from bot.store import Store

    provider = build_key_provider(settings)
    if provider is None:
        raise KeyUnavailable("encryption at rest is off (ALMIA_ENCRYPTION__ENABLED=false)")
    store = Store.open(settings.resolved_database_url)
    try:
        await store.migrate()
        if isinstance(provider, VaultTransit):
            if new_key_file is not None:
                raise KeyUnavailable("--new-key-file is for a local key file, not Vault")
            return await rotate_vault(store.engine, provider)
        if new_key_file is None:
            raise KeyUnavailable("give --new-key-file (the local KEK is a file you replace)")
        return await rotate_local(store.engine, provider, new_key_file)
    finally:
        await store.close()


def _print(report: RotationReport) -> None:
    console = Console()
    version = f" (version {report.version})" if report.version is not None else ""
    console.print(f"Key-encryption key {report.kek_id}{version}: {report.rewrapped} data key(s) "
                  f"re-wrapped, {report.unchanged} already current, "
                  f"{report.changed_meanwhile} changed meanwhile (run again), "
                  f"{report.unreadable} unreadable.")

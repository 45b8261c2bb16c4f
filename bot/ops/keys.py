"""Which key-encryption key (KEK) wraps the data keys, and rotating it without downtime.

Rotation re-wraps every data key row (a few hundred bytes each, one per person): stored
content is never re-encrypted, since each record names its data key, and replicas keep
serving throughout — each row is updated only if it did not change since it was read.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.governance.crypto import KeyProvider, KeyUnavailable, LocalKeyFile
from bot.ops.vault_keys import VaultTransit
from bot.settings import Settings
from bot.store.store import writer
from bot.store.tables import DataKey

_KEYS = DataKey.__table__
_BATCH = 200
Rewrap = Callable[[str, bytes], bytes | None]  # (kek id, wrapped) → new wrapped, None: as is


def build_key_provider(settings: Settings) -> KeyProvider | None:
    """Vault transit when ``ops.vault.url`` is set, else the local key file; None when
    encryption at rest is off."""
    if not settings.encryption.enabled:
        return None
    if settings.ops.vault.url:
        return VaultTransit(settings.ops.vault)
    return LocalKeyFile(settings.encryption.key_file or settings.data_dir / "keys" / "kek.key")


@dataclass
class RotationReport:
    """What a rotation did."""

    kek_id: str
    rewrapped: int = 0
    unchanged: int = 0
    unreadable: int = 0  # wrapped by a KEK neither side holds: left as they were
    changed_meanwhile: int = 0  # rewritten by a replica during the rotation: left to it
    version: int | None = None  # Vault: the key version now used


async def rewrap_data_keys(engine: AsyncEngine, rewrap: Rewrap, kek_id: str) -> RotationReport:
    """Apply ``rewrap`` to every data key row, in batches, each row only if unchanged."""
    report = RotationReport(kek_id)
    async with engine.connect() as connection:
        rows = (await connection.execute(
            select(_KEYS.c.id, _KEYS.c.kek_id, _KEYS.c.wrapped).order_by(_KEYS.c.id))).all()
    for start in range(0, len(rows), _BATCH):
        batch = rows[start:start + _BATCH]
        updates: list[tuple[str, str, str]] = []
        for row in batch:
            try:
                renewed = await asyncio.to_thread(rewrap, row.kek_id,
                                                  base64.b64decode(row.wrapped))
            except KeyUnavailable:
                report.unreadable += 1
                continue
            if renewed is None:
                report.unchanged += 1
                continue
            updates.append((row.id, row.wrapped, base64.b64encode(renewed).decode("ascii")))
        async with writer(engine).begin() as connection:
            for key_id, old, new in updates:
                result = await connection.execute(
                    update(DataKey).where(DataKey.id == key_id, DataKey.wrapped == old)
                    .values(wrapped=new, kek_id=kek_id))
                if result.rowcount:
                    report.rewrapped += 1
                else:
                    report.changed_meanwhile += 1
    return report


async def rotate_vault(engine: AsyncEngine, vault: VaultTransit) -> RotationReport:
    """A new transit key version, then every data key re-wrapped inside Vault."""
    latest = await asyncio.to_thread(vault.rotate)

    def rewrap(_kek_id: str, wrapped: bytes) -> bytes | None:
        version = VaultTransit.version_of(wrapped)
        if version is None:
            raise KeyUnavailable("not wrapped by Vault")
        return None if version >= latest else vault.rewrap(wrapped)

    report = await rewrap_data_keys(engine, rewrap, vault.key_id)
    report.version = latest
    return report


async def rotate_local(engine: AsyncEngine, old: KeyProvider, new_key_file: Path
                       ) -> RotationReport:
    """Every data key unwrapped with ``old`` and wrapped with the key in ``new_key_file``
    (created, mode 0600, when absent)."""
    new = LocalKeyFile(new_key_file)
    if new.key_id == old.key_id:
        raise KeyUnavailable("the new key file holds the current key")

    def rewrap(kek_id: str, wrapped: bytes) -> bytes | None:
        if kek_id == new.key_id:
            return None
        return new.wrap(old.unwrap(wrapped))

    return await rewrap_data_keys(engine, rewrap, new.key_id)


async def key_status(engine: AsyncEngine) -> dict[str, int]:
    """Data keys per KEK (and Vault key version): ``{"vault:transit/almia v2": 12, …}``."""
    async with engine.connect() as connection:
        rows = (await connection.execute(select(_KEYS.c.kek_id, _KEYS.c.wrapped))).all()
    counts: dict[str, int] = {}
    for row in rows:
        version = VaultTransit.version_of(base64.b64decode(row.wrapped))
        label = f"{row.kek_id} v{version}" if version is not None else row.kek_id
        counts[label] = counts.get(label, 0) + 1
    return counts

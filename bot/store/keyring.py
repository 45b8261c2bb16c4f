"""Data keys in the database (wrapped by the KEK), unwrapped on demand and kept in memory.

Service keys (``owner_id`` NULL) seal content that belongs to no one person (template
bodies, text written before per-user keys). Each person has one active key of their own,
created on first use; erasing the person deletes their keys (crypto-shredding).
"""

from __future__ import annotations

import base64
import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.governance.crypto import ContentCipher, KeyProvider, KeyUnavailable
from bot.store.tables import DataKey

log = logging.getLogger(__name__)

Writing = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
_SERVICE_KEY_LOCK = 0x616C6D69614B4559  # "almiaKEY": one creator of the service key at a time
_KEYS = DataKey.__table__
# built once (SQLAlchemy then reuses its compiled form); "active" as the partial index has it
_ACTIVE_KEY = select(_KEYS).where(_KEYS.c.owner_id == bindparam("owner"), text("active"))


class KeyRing:
    """The data keys this process can use. Create, then :meth:`load` (after migrations).

    ``writing`` opens a write transaction of the store. Never call :meth:`key_for` while
    holding one: creating a person's key is itself a write.
    """

    def __init__(self, engine: AsyncEngine, provider: KeyProvider, writing: Writing) -> None:
        self._engine = engine
        self._provider = provider
        self._writing = writing
        self._cipher = ContentCipher("", {})
        self._owners: dict[str, str | None] = {}  # key id → its person (None: service key)
        self._current: dict[str, str] = {}  # person → their active key id, as last read

    @property
    def cipher(self) -> ContentCipher:
        """Encrypts and decrypts with the keys loaded so far."""
        return self._cipher

    async def load(self) -> None:
        """Unwrap every service key this KEK can; create an active one if none is usable.

        On PostgreSQL the replicas starting together on a new database take turns here:
        each one creating its own service key would seal content (a reviewer's remembered
        chat) that the others cannot open."""
        async with self._writing() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": _SERVICE_KEY_LOCK})
            rows = (await connection.execute(
                select(_KEYS).where(_KEYS.c.owner_id.is_(None)))).mappings().all()
            active = next((row["id"] for row in rows if row["active"] and self._usable(row)),
                          None)
            for row in rows:
                self._usable(row)
            if active is None:
                active = uuid.uuid4().hex
                key = secrets.token_bytes(32)
                await connection.execute(update(DataKey).where(DataKey.owner_id.is_(None))
                                         .values(active=False))
                await connection.execute(insert(DataKey).values(self._row(active, None, key)))
                self._cipher.add(active, key)
                self._owners[active] = None
        self._cipher.activate(active)

    async def key_for(self, owner: str) -> str:
        """The id of ``owner``'s active key, created (or replaced, if the KEK lost it) here."""
        for _ in range(2):
            async with self._engine.connect() as connection:
                row = (await connection.execute(
                    _ACTIVE_KEY, {"owner": owner})).mappings().first()
            if row is not None and self._usable(row):
                self._current[owner] = str(row["id"])
                return str(row["id"])
            await self._create(owner, retire=row["id"] if row is not None else None)
        raise KeyUnavailable(f"no usable data key for a person (KEK {self._provider.key_id})")

    async def current_key(self, owner: str, *, fresh: bool = False) -> str:
        """``owner``'s active key id as this process last read it (no round trip), else as
        :meth:`key_for` finds it. A write sealed with it must check, in its transaction,
        that the key is still active (another replica may have erased the person since):
        :mod:`bot.store.group_commit` does, and then asks again with ``fresh``."""
        if not fresh:
            known = self._current.get(owner)
            if known is not None and self._cipher.knows(known):
                return known
        self._current.pop(owner, None)
        return await self.key_for(owner)

    async def readable(self, key_id: str, owner: str) -> bool:
        """True when ``key_id`` is usable for content of ``owner`` (loaded if need be)."""
        if key_id not in self._owners:
            async with self._engine.connect() as connection:
                row = (await connection.execute(
                    select(_KEYS).where(_KEYS.c.id == key_id))).mappings().first()
            if row is None or not self._usable(row):
                return False
        holder = self._owners.get(key_id)
        return holder is None or holder == owner

    def forget(self, key_ids: Iterable[str]) -> None:
        """Drop erased keys from memory."""
        gone = set(key_ids)
        for key_id in gone:
            self._owners.pop(key_id, None)
            self._cipher.forget(key_id)
        for owner in [owner for owner, key_id in self._current.items() if key_id in gone]:
            del self._current[owner]

    async def _create(self, owner: str, retire: str | None) -> None:
        """A new active key for ``owner``; another process may win the race (then theirs)."""
        key_id = uuid.uuid4().hex
        async with self._writing() as connection:
            if retire is not None:  # its content stays unreadable unless the old KEK returns
                await connection.execute(
                    update(DataKey).where(DataKey.id == retire).values(active=False))
            insert_for = postgres_insert if connection.dialect.name == "postgresql" \
                else sqlite_insert
            await connection.execute(
                insert_for(DataKey).values(self._row(key_id, owner, secrets.token_bytes(32)))
                .on_conflict_do_nothing(
                    index_elements=["owner_id"], index_where=text("active")))

    def _row(self, key_id: str, owner: str | None, key: bytes) -> dict[str, Any]:
        return {"id": key_id, "kek_id": self._provider.key_id, "active": True, "owner_id": owner,
                "wrapped": base64.b64encode(self._provider.wrap(key)).decode("ascii"),
                "created_at": datetime.now(UTC)}

    def _usable(self, row: Any) -> bool:
        """Unwrap ``row``'s key into the ring; False (logged) when this KEK cannot."""
        if self._cipher.knows(row["id"]):
            return True
        try:
            key = self._provider.unwrap(base64.b64decode(row["wrapped"]))
        except KeyUnavailable:
            log.error("data key %s cannot be unwrapped: content it protects is unreadable",
                      row["id"])
            return False
        self._cipher.add(row["id"], key)
        self._owners[row["id"]] = row["owner_id"]
        return True

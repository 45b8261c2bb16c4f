"""Chat inbox rows: a message kept, sealed, while a replica holds its lease and answers it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.inbox_tables import InboxRecord
from bot.store.inbox_writes import InboxWrites
from bot.store.sealing import OwnerSealer, seal_text_quickly, unseal_text
from bot.store.store import writer

Clock = Callable[[], datetime]
_INBOX = InboxRecord.__table__


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class InboxEntry:
    """A waiting message taken by this replica. ``payload`` is None when its owner's key
    is gone (the person was erased meanwhile); ``exhausted`` when it must not be tried again
    (too many attempts, or too old): the asker is then told instead."""

    id: str
    channel: str
    user_id: str
    payload: dict[str, Any] | None
    attempts: int
    created_at: datetime
    exhausted: bool = False


class InboxStore:
    """Rows of the ``chat_inbox`` table; the payload sealed with the asker's key."""

    def __init__(self, engine: AsyncEngine, sealer: OwnerSealer, *, clock: Clock = _now) -> None:
        self._engine = engine
        self._sealer = sealer
        self._clock = clock
        self._writes = InboxWrites(engine)  # inserts, notes and deletes, batched under load

    async def add(self, channel: str, user_id: str, payload: Mapping[str, Any], *,
                  owner: str, lease: timedelta) -> str:
        """Keep a message leased to ``owner``; its id."""
        entry_id = uuid.uuid4().hex
        sealed = await self._seal(entry_id, user_id, payload)
        now = self._clock()
        await self._writes.insert({
            "id": entry_id, "channel": channel, "user_id": user_id, "payload": sealed,
            "attempts": 1, "lease_owner": owner, "lease_until": now + lease, "created_at": now})
        return entry_id

    async def rewrite(self, entry_id: str, user_id: str, payload: Mapping[str, Any], *,
                      owner: str) -> bool:
        """Replace the kept payload (the channel noted what it already posted); False when
        the message is no longer ``owner``'s."""
        sealed = await self._seal(entry_id, user_id, payload)
        return await self._writes.update(entry_id, owner, sealed)

    async def renew(self, entry_ids: Collection[str], *, owner: str, lease: timedelta) -> int:
        """Extend ``owner``'s leases on these messages; how many are still its own."""
        return await self._lease_until(entry_ids, owner, self._clock() + lease)

    async def remove(self, entry_id: str, *, owner: str) -> bool:
        """The message was answered (or given up) by ``owner``: forget it."""
        return await self._writes.delete(entry_id, owner)

    async def close(self) -> None:
        """Finish the writes under way."""
        await self._writes.close()

    async def hand_back(self, entry_ids: Collection[str], *, owner: str) -> int:
        """End ``owner``'s leases now (it is stopping): another replica takes them at once."""
        return await self._lease_until(entry_ids, owner, self._clock() - timedelta(seconds=1))

    async def _lease_until(self, entry_ids: Collection[str], owner: str,
                           until: datetime) -> int:
        """Move the end of ``owner``'s leases on these messages; how many are its own."""
        if not entry_ids:
            return 0
        async with writer(self._engine).begin() as connection:
            result = await connection.execute(
                update(InboxRecord).where(_INBOX.c.id.in_(list(entry_ids)),
                                          _INBOX.c.lease_owner == owner)
                .values(lease_until=until))
        return int(result.rowcount or 0)

    async def _seal(self, entry_id: str, user_id: str, payload: Mapping[str, Any]) -> str:
        return await seal_text_quickly(self._sealer, user_id,
                                       json.dumps(payload, ensure_ascii=False),
                                       _context(entry_id))

    async def take_expired(self, channels: Collection[str], *, owner: str, lease: timedelta,
                           max_attempts: int, max_age: timedelta,
                           limit: int = 20) -> list[InboxEntry]:
        """Lease to ``owner`` the messages of ``channels`` whose replica went silent.

        Each row is taken by one replica only (a conditional update). A message already
        tried ``max_attempts`` times, or older than ``max_age``, comes back ``exhausted``.
        """
        if not channels:
            return []
        now = self._clock()
        async with self._engine.connect() as connection:
            candidates = (await connection.scalars(
                select(_INBOX.c.id).where(_INBOX.c.channel.in_(list(channels)),
                                          _INBOX.c.lease_until < now)
                .order_by(_INBOX.c.created_at).limit(limit))).all()
        taken: list[InboxEntry] = []
        for entry_id in candidates:
            async with writer(self._engine).begin() as connection:
                won = await connection.execute(
                    update(InboxRecord).where(_INBOX.c.id == entry_id, _INBOX.c.lease_until < now)
                    .values(lease_owner=owner, lease_until=now + lease,
                            attempts=_INBOX.c.attempts + 1))
                if not won.rowcount:
                    continue  # another replica took it first
                row = (await connection.execute(
                    select(_INBOX).where(_INBOX.c.id == entry_id))).mappings().one()
            created = _aware(row["created_at"])
            exhausted = row["attempts"] > max_attempts or created < now - max_age
            opened = await unseal_text(self._sealer, row["user_id"], row["payload"],
                                       _context(entry_id))
            taken.append(InboxEntry(entry_id, row["channel"], row["user_id"],
                                    json.loads(opened) if opened else None,
                                    row["attempts"], created, exhausted))
        return taken

    async def count(self) -> int:
        """How many messages are kept (being answered, or waiting to be taken up)."""
        counts = await self.counts()
        return counts["answering"] + counts["orphaned"]

    async def counts(self) -> dict[str, int]:
        """Kept messages by state: ``answering`` (a live lease) and ``orphaned`` (its replica
        went silent; the next sweep takes it up)."""
        now = self._clock()
        orphaned = func.coalesce(func.sum(case((_INBOX.c.lease_until < now, 1), else_=0)), 0)
        async with self._engine.connect() as connection:
            total, expired = (await connection.execute(
                select(func.count(), orphaned).select_from(_INBOX))).one()
        return {"answering": int(total) - int(expired), "orphaned": int(expired)}


def _context(entry_id: str) -> str:
    """What a payload's ciphertext is bound to."""
    return f"inbox:{entry_id}"


__all__ = ["InboxEntry", "InboxStore"]

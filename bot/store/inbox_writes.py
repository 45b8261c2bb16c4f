"""Inbox inserts, notes and deletes written together: one transaction for whatever is
waiting.

Every Slack or Teams message adds an inbox row before its answer, notes what it posted
(a progress message, a stream) and deletes the row after.
Each in its own transaction, a burst of messages queues behind SQLite's one writer (and
holds pooled connections the answers need meanwhile). Here one writer task per store takes
every insert and delete waiting and stores them in one transaction; writes that arrive
while it commits wait for the next one, so a lone message is written at once. Each caller
returns once its own write is committed, or gets the batch's error.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.inbox_tables import InboxRecord
from bot.store.store import writer

_INBOX = InboxRecord.__table__


@dataclass
class _Waiting:
    """Writes not yet taken by the writer task, and who waits for each."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    inserted: list[asyncio.Future[None]] = field(default_factory=list)
    removals: list[tuple[str, str, asyncio.Future[bool]]] = field(default_factory=list)
    updates: list[tuple[str, str, str, asyncio.Future[bool]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows or self.removals or self.updates)


class InboxWrites:
    """One writer task per store (started on first use, in the running loop)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._waiting = _Waiting()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def insert(self, row: dict[str, Any]) -> None:
        """Insert ``row``; returns once committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.rows.append(row)
        self._waiting.inserted.append(done)
        self._start()
        await done

    async def update(self, entry_id: str, owner: str, payload: str) -> bool:
        """Replace the row's sealed payload if ``owner`` holds it; whether it did, once
        committed."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.updates.append((entry_id, owner, payload, done))
        self._start()
        return await done

    async def delete(self, entry_id: str, owner: str) -> bool:
        """Delete the row if ``owner`` holds it; whether it did, once committed."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.removals.append((entry_id, owner, done))
        self._start()
        return await done

    async def close(self) -> None:
        """Write what is waiting, then stop the writer task."""
        task, wake = self._task, self._wake
        if task is None or wake is None:
            return
        self._stopping = True
        wake.set()
        await task
        self._task = None

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while True:
            if not self._waiting:
                if self._stopping:
                    return
                await wake.wait()
                wake.clear()
                continue
            batch, self._waiting = self._waiting, _Waiting()
            try:
                updated, removed = await self._store(batch)
            except Exception as error:  # noqa: BLE001 (each caller of the batch gets it)
                waiting: list[asyncio.Future[Any]] = [
                    *batch.inserted, *(update[-1] for update in batch.updates),
                    *(removal[-1] for removal in batch.removals)]
                for future in waiting:
                    if not future.done():
                        future.set_exception(error)
                continue
            for inserted in batch.inserted:
                if not inserted.done():
                    inserted.set_result(None)
            for entry_id, _owner, _payload, noted in batch.updates:
                if not noted.done():
                    noted.set_result(entry_id in updated)
            for entry_id, _owner, answer in batch.removals:
                if not answer.done():
                    answer.set_result(entry_id in removed)

    async def _store(self, batch: _Waiting) -> tuple[set[str], set[str]]:
        """Inserts, then notes, then deletes, in one transaction: the ids updated and the
        ids removed."""
        owners: dict[str, list[str]] = defaultdict(list)
        for entry_id, owner, _answer in batch.removals:
            owners[owner].append(entry_id)
        updated: set[str] = set()
        removed: set[str] = set()
        async with writer(self._engine).begin() as connection:
            if batch.rows:
                await connection.execute(insert(InboxRecord), batch.rows)
            for entry_id, owner, payload, _noted in batch.updates:
                result = await connection.execute(
                    update(InboxRecord).where(_INBOX.c.id == entry_id,
                                              _INBOX.c.lease_owner == owner)
                    .values(payload=payload))
                if result.rowcount:
                    updated.add(entry_id)
            for owner, ids in owners.items():
                gone = await connection.execute(
                    delete(InboxRecord).where(_INBOX.c.id.in_(ids), _INBOX.c.lease_owner == owner)
                    .returning(_INBOX.c.id))
                removed.update(gone.scalars())
        return updated, removed


__all__ = ["InboxWrites"]

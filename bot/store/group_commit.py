"""Group commit: the writes of many messages in one transaction, one audit-chain append each.

Every message ends with one write (its conversation, turns, model calls and audit record).
Each used to be a transaction of its own that took the audit chain's lock, read the chain
head and committed: one at a time across all replicas, with seven round trips to the
database each. Here one writer task per store takes whatever writes are waiting, and
stores them all in one transaction: the rows as multi-row statements, then the chain's
lock *once*, the head, and the audit records linked one after another in the order they
are inserted. Writes that arrive while a batch commits wait for the next one, so the
batches grow with the load and a lone message is written at once.

Nothing is acknowledged before it is durable: :meth:`GroupCommit.write` returns only once
the transaction holding that write has committed. When a batch fails, its writes are
retried one transaction each, so that one bad write fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.governance.audit import GENESIS, record_hash
from bot.store.tables import AuditEvent, DataKey, Turn, UsageEvent

log = logging.getLogger(__name__)

Writing = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
MAX_BATCH = 256  # writes per transaction
AUDIT_LOCK_KEY = 0x616C6D6962  # one writer extends the audit chain at a time (all replicas)

_EVENTS = AuditEvent.__table__
_KEYS = DataKey.__table__
_CHAIN_HEAD = (select(_EVENTS.c.hash).where(_EVENTS.c.hash.is_not(None))
               .order_by(_EVENTS.c.id.desc()).limit(1))
_AUDIT_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_INSERT_AUDIT = insert(AuditEvent)
_INSERT_TURNS = insert(Turn)
_INSERT_USAGE = insert(UsageEvent)
_LIVE_KEYS = select(_KEYS.c.id).where(_KEYS.c.id.in_(bindparam("ids", expanding=True)),
                                      text("active"))


class StaleKey(Exception):
    """A data key the write was sealed with was erased or retired meanwhile (another replica
    erased its person): nothing of the write was stored; seal again with a fresh key."""


@dataclass(slots=True)
class PendingWrite:
    """The rows of one write; ``audit`` without its chain links (added at insertion)."""

    audit: dict[str, Any]
    conversation: dict[str, Any] | None = None
    turns: Sequence[dict[str, Any]] = ()
    usage: Sequence[dict[str, Any]] = ()
    key_ids: Sequence[str] = ()  # data keys the turns are sealed with: must still be active
    done: asyncio.Future[None] | None = field(default=None, repr=False)


class GroupCommit:
    """One writer task per store and event loop; :meth:`write` waits for the commit."""

    def __init__(self, writing: Writing, upsert_conversation: Any) -> None:
        self._writing = writing
        self._upsert_conversation = upsert_conversation
        self._queue: list[PendingWrite] = []
        self._batch: list[PendingWrite] = []  # being stored now
        self.batches = 0  # transactions of more than one write tried so far
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def write(self, pending: PendingWrite) -> None:
        """Store ``pending`` with the writes queued beside it; returns once committed."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._wake = asyncio.Event()
            self._loop = loop
            self._task = loop.create_task(self._run(), name="almia-group-commit")
        pending.done = loop.create_future()
        self._queue.append(pending)
        self._wake.set()
        await pending.done

    async def close(self, seconds: float = 30.0) -> None:
        """Stop the writer once the writes queued so far are stored (``seconds`` at
        most: a database that stopped answering does not hold the shutdown forever)."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        waiting = [pending.done for pending in (*self._batch, *self._queue)
                   if pending.done is not None]
        if waiting:
            await asyncio.wait(waiting, timeout=seconds)
            if any(not future.done() for future in waiting):
                log.error("the database did not store %d answer(s) before shutdown",
                          sum(not future.done() for future in waiting))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                self._batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
                await self._store(self._batch)
                self._batch = []

    async def _store(self, batch: list[PendingWrite]) -> None:
        self.batches += len(batch) > 1
        try:
            async with self._transaction() as connection:
                await append(connection, batch, self._upsert_conversation)
        except Exception as error:  # noqa: BLE001 (handed to the writers waiting for it)
            if len(batch) == 1:
                _settle(batch[0], error)
                return
            for pending in batch:  # one transaction each: a bad write fails alone
                try:
                    async with self._transaction() as connection:
                        await append(connection, [pending], self._upsert_conversation)
                except Exception as single:  # noqa: BLE001 (handed to its writer)
                    _settle(pending, single)
                else:
                    _settle(pending, None)
            return
        for pending in batch:
            _settle(pending, None)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._writing() as connection:
            yield connection


def _settle(pending: PendingWrite, error: BaseException | None) -> None:
    if pending.done is None or pending.done.done():
        return
    if error is None:
        pending.done.set_result(None)
    else:
        pending.done.set_exception(error)


async def append(connection: AsyncConnection, batch: Sequence[PendingWrite],
                 upsert_conversation: Any) -> None:
    """Insert the rows of ``batch`` and link its audit records to the chain, in ``batch``
    order, inside the caller's transaction."""
    key_ids = sorted({key for pending in batch for key in pending.key_ids})
    if key_ids:
        live = set((await connection.execute(_LIVE_KEYS, {"ids": key_ids})).scalars())
        if live != set(key_ids):
            raise StaleKey("a data key was erased or retired while the write was prepared")
    conversations: dict[str, dict[str, Any]] = {}
    for pending in batch:
        if pending.conversation is not None:
            conversations[pending.conversation["id"]] = pending.conversation
    if conversations:  # in id order, so that two replicas' batches never deadlock
        await connection.execute(upsert_conversation,
                                 [conversations[key] for key in sorted(conversations)])
    turns = [row for pending in batch for row in pending.turns]
    if turns:
        await connection.execute(_INSERT_TURNS, turns)
    usage = [row for pending in batch for row in pending.usage]
    if usage:
        await connection.execute(_INSERT_USAGE, usage)
    if connection.dialect.name == "postgresql":
        # one writer of the chain at a time; the head is read after the lock is granted,
        # and in READ COMMITTED (the default) that read sees the previous holder's commit
        await connection.execute(_AUDIT_LOCK, {"key": AUDIT_LOCK_KEY})
    previous = await connection.scalar(_CHAIN_HEAD) or GENESIS
    records = []
    for pending in batch:  # inserted in this order: the ids follow the links
        digest = record_hash(previous, pending.audit)
        records.append({**pending.audit, "prev_hash": previous, "hash": digest})
        previous = digest
    await connection.execute(_INSERT_AUDIT, records)

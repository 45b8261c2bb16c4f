"""Group read: the history of every message waiting for it, in one statement (PostgreSQL).

Each message reads the last turns of its thread before the skill runs. One read each costs
a pooled connection's check-out, a statement and, under load, new connections opened and
closed beyond the pool's kept ones. Here one reader task per store takes the reads
waiting and answers them all with one ``LATERAL`` query (each thread's own ``LIMIT``, on
the ``(conversation_id, created_at)`` index); reads that arrive meanwhile go in the next.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MAX_BATCH = 256
_HISTORIES = text("""
SELECT wanted.ord, turn.id, turn.role, turn.text, turn.user_id, turn.skill, turn.files
FROM unnest(CAST(:conversations AS text[]), CAST(:limits AS integer[]))
     WITH ORDINALITY AS wanted(conversation_id, lim, ord)
CROSS JOIN LATERAL (
    SELECT id, role, text, user_id, skill, files, created_at FROM turns
    WHERE turns.conversation_id = wanted.conversation_id
    ORDER BY created_at DESC, id DESC LIMIT wanted.lim
) AS turn
ORDER BY wanted.ord, turn.created_at DESC, turn.id DESC
""")


@dataclass(slots=True)
class _Wanted:
    conversation: str
    limit: int
    done: asyncio.Future[list[Any]] = field(repr=False)


class GroupRead:
    """One reader task per store and event loop; :meth:`latest` waits for its rows."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine  # in autocommit (a single statement)
        self._queue: list[_Wanted] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def latest(self, conversation: str, limit: int) -> list[Any]:
        """The last ``limit`` turns of ``conversation`` (id, role, text, user_id, skill, files),
        newest first."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._wake = asyncio.Event()
            self._loop = loop
            self._task = loop.create_task(self._run(), name="almia-group-read")
        wanted = _Wanted(conversation, limit, loop.create_future())
        self._queue.append(wanted)
        self._wake.set()
        return await wanted.done

    async def close(self) -> None:
        """Stop the reader (reads still waiting fail as cancelled)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for wanted in self._queue:
            wanted.done.cancel()
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
                await self._read(batch)

    async def _read(self, batch: list[_Wanted]) -> None:
        try:
            async with self._engine.connect() as connection:
                rows = (await connection.execute(_HISTORIES, {
                    "conversations": [wanted.conversation for wanted in batch],
                    "limits": [wanted.limit for wanted in batch]})).all()
        except Exception as error:  # noqa: BLE001 (handed to the readers waiting for it)
            for wanted in batch:
                if not wanted.done.done():
                    wanted.done.set_exception(error)
            return
        found: defaultdict[int, list[Any]] = defaultdict(list)
        for row in rows:
            found[int(row.ord)].append(row)
        for position, wanted in enumerate(batch, start=1):
            if not wanted.done.done():
                wanted.done.set_result(found[position])

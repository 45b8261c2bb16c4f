"""Inbox inserts and deletes batched by one writer task, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.store import Store
from bot.store.inbox_tables import InboxRecord
from bot.store.inbox_writes import InboxWrites

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _row(entry_id: str, owner: str = "a") -> dict[str, Any]:
    return {"id": entry_id, "channel": "slack", "user_id": "slack:T1:U1", "payload": "scellé",
            "attempts": 1, "lease_owner": owner, "lease_until": NOW + timedelta(seconds=60),
            "created_at": NOW}


async def _rows(store: Store) -> int:
    async with store.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(InboxRecord)) or 0)


async def test_concurrent_writes_are_all_committed_and_each_caller_gets_its_answer(
        store: Store) -> None:
    writes = InboxWrites(store.engine)
    await asyncio.gather(*(writes.insert(_row(f"e{index}", "a" if index % 2 else "b"))
                           for index in range(30)))
    assert await _rows(store) == 30
    removed = await asyncio.gather(*(writes.delete(f"e{index}", "a") for index in range(30)))
    assert removed == [bool(index % 2) for index in range(30)]  # only a's own rows
    assert await _rows(store) == 15
    await writes.close()
    await writes.close()  # twice is harmless


async def test_a_failed_batch_reaches_its_callers_and_the_next_batch_still_runs(
        store: Store) -> None:
    writes = InboxWrites(store.engine)
    await writes.insert(_row("taken"))
    with pytest.raises(IntegrityError) as refused:
        await writes.insert(_row("taken"))  # the same id again
    assert "slack:T1:U1" not in str(refused.value)  # a logged error shows no values
    await writes.insert(_row("next"))
    assert await writes.delete("next", "a") and await _rows(store) == 1
    await writes.close()

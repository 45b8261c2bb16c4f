"""The chat inbox's cost per message, on SQLite and PostgreSQL.

For bursts of N messages at once (``--bursts 1 10 50 200``), each message is kept (sealed
with its asker's key, inserted) and then forgotten (deleted), as Slack and Teams messages
are around their answer. The askers already have their data keys (as after the charter).
Prints, per database and burst: keep and forget latency p50/p99, messages per second, and
the transactions the batching writer used. Also the time a sweep takes to take up 200
orphaned messages.

    .venv/bin/python bench/inbox.py [--bursts 1 10 50 200] [--skip-postgres]

It prints figures; it never fails on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.governance.crypto import LocalKeyFile
from bot.inbox import ChatInbox
from bot.settings import InboxSettings
from bot.store import Store
from bot.store.inbox import InboxEntry, InboxStore

POSTGRES = os.environ.get("ALMIA_TEST_POSTGRES_URL",
                          "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PAYLOAD = {"team": "T1", "event": {"channel": "C1", "user": "U1", "ts": "1.2",
                                   "text": "Quel délai pour déclarer un dégât des eaux ? " * 4}}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _Counting:
    """Counts the transactions committed on an engine (the batching writer's)."""

    def __init__(self) -> None:
        self.commits = 0

    def __call__(self, *_args: object) -> None:
        self.commits += 1


class _Nowhere:
    """A channel that takes up messages and does nothing with them."""

    def __init__(self) -> None:
        self.taken: list[InboxEntry] = []

    def resume(self, entry: InboxEntry) -> None:
        self.taken.append(entry)

    def give_up(self, entry: InboxEntry) -> None:
        self.taken.append(entry)


@asynccontextmanager
async def _store(kind: str, workdir: Path) -> AsyncIterator[Store]:
    keys = LocalKeyFile(workdir / f"{kind}-kek.key")
    if kind == "sqlite":
        store = Store.open(f"sqlite+aiosqlite:///{workdir / 'inbox.db'}", key_provider=keys)
        await store.migrate()
        try:
            yield store
        finally:
            await store.close()
        return
    schema = f"almia_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = Store.open(POSTGRES, connect_args={"server_settings": {"search_path": schema}},
                       key_provider=keys)
    try:
        await store.migrate()
        yield store
    finally:
        await store.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def _burst(inbox: ChatInbox, users: list[str]) -> tuple[list[float], list[float], float]:
    keeps: list[float] = []
    forgets: list[float] = []

    async def one(user: str) -> None:
        started = time.perf_counter()
        entry = await inbox.keep("slack", user, PAYLOAD)
        keeps.append(time.perf_counter() - started)
        started = time.perf_counter()
        await inbox.forget(entry)
        forgets.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(user) for user in users))
    return keeps, forgets, time.perf_counter() - started


async def _measure(kind: str, bursts: list[int], workdir: Path) -> None:
    async with _store(kind, workdir) as store:
        users = [f"slack:T1:U{index:04d}" for index in range(max(bursts))]
        for user in users:  # the askers' data keys exist (created at their charter)
            await store.seal_text(user, "clé", "bench")
        counting = _Counting()
        event.listen(store.engine.sync_engine, "commit", counting)
        inbox = ChatInbox(InboxStore(store.engine, store), InboxSettings())
        for size in bursts:
            before = counting.commits
            keeps, forgets, wall = await _burst(inbox, users[:size])
            print(f"{kind:10s} burst {size:4d}  keep p50 {_percentile(keeps, .5) * 1000:7.1f} ms"
                  f"  p99 {_percentile(keeps, .99) * 1000:7.1f} ms  forget p50 "
                  f"{_percentile(forgets, .5) * 1000:7.1f} ms  p99 "
                  f"{_percentile(forgets, .99) * 1000:7.1f} ms  {size / wall:7.0f} msg/s  "
                  f"{counting.commits - before:4d} transactions")
        dead = InboxStore(store.engine, store)
        for user in users[:200]:
            await dead.add("slack", user, PAYLOAD, owner="dead", lease=timedelta(seconds=-1))
        channel = _Nowhere()
        inbox.register("slack", channel)
        started = time.perf_counter()
        while len(channel.taken) < min(200, len(users)):
            await inbox.sweep()
        print(f"{kind:10s} sweep took up {len(channel.taken)} orphaned messages in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        await inbox.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bursts", type=int, nargs="+", default=[1, 10, 50, 200])
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="almia-inbox-bench-") as workdir:
        await _measure("sqlite", arguments.bursts, Path(workdir))
        if not arguments.skip_postgres:
            await _measure("postgresql", arguments.bursts, Path(workdir))


if __name__ == "__main__":
    asyncio.run(main())

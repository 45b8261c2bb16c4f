"""The per-message database cost on PostgreSQL, and recovery when the server drops the pool.

Round trips are counted, not timed: on a busy 2-core machine each costs far more than its
SQL, so their number is what the throughput follows. A loopback proxy in front of the server
reads the frontend protocol and counts the messages the server answers with ReadyForQuery
(a simple Query, or the Sync closing a Parse/Bind/Execute batch).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bot.governance.crypto import LocalKeyFile
from bot.messages import Channel, Message, Reply, Space, User
from bot.store import AuditEntry, Store
from tests.fakes.postgres_proxy import PostgresProxy

pytestmark = pytest.mark.postgres
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
async def database() -> AsyncIterator[str]:
    name = f"almia_trips_{uuid.uuid4().hex[:10]}"

    def run(statement: sql.Composed) -> None:
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(statement)

    await asyncio.to_thread(run, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    await asyncio.to_thread(run, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


def _message(user: str = "web:alice") -> Message:
    return Message(text="Quel délai pour un dégât des eaux ?", user=User(user),
                   space=Space("web:default"), channel=Channel.WEB, thread_id="fil")


async def test_a_stored_exchange_costs_nine_round_trips(
        database: str, tmp_path: Path) -> None:
    async with PostgresProxy() as proxy:
        store = Store.open(f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{database}",
                           key_provider=LocalKeyFile(tmp_path / "kek.key"))
        try:
            await store.migrate()
            for _ in range(2):  # the person's key created, statements prepared on the connection
                await store.history(_message(), 10)
                await store.record_exchange(_message(), Reply("Cinq jours.", skill="qa"), [],
                                            AuditEntry(action="message", outcome="ok"))
            assert proxy.round_trips() > 9, "the proxy saw the warm-up"
            before = len(proxy.messages)
            await store.history(_message(), 10)
            await store.record_exchange(_message(), Reply("Cinq jours ouvrés.", skill="qa"), [],
                                        AuditEntry(action="message", outcome="ok", skill="qa"))
            measured = proxy.messages[before:]
        finally:
            await store.close()
    # history 1, then BEGIN, the person's key still active, conversation, turns, audit lock,
    # chain head, audit row, COMMIT: no ping per check-out, no BEGIN/ROLLBACK around a single
    # read, the key id remembered (checked in the transaction)
    assert proxy.round_trips(before) == 9, measured


async def test_the_pool_recovers_after_the_server_dropped_every_connection(
        database: str) -> None:
    store = Store.open(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}")
    await store.migrate()
    audit = AuditEntry(action="message", outcome="ok")
    try:
        await asyncio.gather(*(store.record_event(_message(f"web:u{i}"), audit)
                               for i in range(5)))  # several pooled connections

        def terminate() -> int:
            with psycopg.connect(ADMIN, autocommit=True) as connection:
                return len(connection.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall())

        assert await asyncio.to_thread(terminate) >= 1
        failures = 0
        for index in range(10):
            try:
                await store.record_event(_message(f"web:v{index}"), audit)
            except Exception:
                failures += 1
        assert failures <= 1  # the first use of a dropped connection renews the whole pool
        results = await asyncio.gather(*(store.history(_message(), 5) for _ in range(5)))
        assert all(result == () for result in results)
    finally:
        await store.close()

"""Governance console page times on 1,000,000 usage events in PostgreSQL.

Creates a scratch database on PostgreSQL (127.0.0.1:5432, trust auth), fills it through
COPY with a year of history (usage events, the audit trail's ``message`` records, some
feedback), starts the real app on it and times each console page over HTTP, signed in
with a one-time admin link, then times a department change (the person's summed events
move to their new department). The database is dropped at the end. Prints figures; asserts
nothing (timings depend on the machine).

    .venv/bin/python bench/console.py [--events 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import RUNTIME, build_app
from bot.governance.audit import GENESIS, record_hash
from bot.settings import load_settings
from bot.store import Store
from bot.store.console_departments import ConsoleDepartments
from bot.store.console_rollups import ConsoleRollups
from bot.store.console_sessions import ConsoleSessionStore

POSTGRES_URL = os.environ.get("ALMIA_TEST_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SKILLS = ["qa", "summarise", "templates", "codedoc", "campaigns", "call_summary", "verbatims",
          "tenders"]
MODELS = [("interne-mistral", "internal"), ("interne-llama", "internal"),
          ("externe-gpt", "external"), ("externe-claude", "external")]
CLASSES = ["public", "internal", "internal", "confidential"]
SPACES = [f"teams:team-{n:02d}" for n in range(40)] + [f"slack:T1:C{n:02d}" for n in range(10)]
USERS = 3000
DAYS = 365


def _rows(events: int, now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Usage events and their ``message`` audit records (one each), a year of history."""
    rng = random.Random(11)
    usage: list[tuple[Any, ...]] = []
    audit: list[tuple[Any, ...]] = []
    for _ in range(events):
        when = now - timedelta(seconds=rng.randint(120, DAYS * 86400))  # none still settling
        skill = SKILLS[min(int(rng.expovariate(0.5)), len(SKILLS) - 1)]
        data_class = rng.choice(CLASSES)
        alias, hosting = rng.choice(MODELS[:2] if data_class == "confidential" else MODELS)
        space = rng.choice(SPACES)
        channel = space.split(":", 1)[0]
        user = f"{channel}:user-{int(rng.paretovariate(1.2)) % USERS}"
        outcome = "ok" if rng.random() > 0.02 else "error"
        latency = rng.lognormvariate(6.5, 0.6)
        prompt, completion = rng.randint(50, 3000), rng.randint(20, 800)
        cost = (prompt * 2.5e-6 + completion * 1e-5) if hosting == "external" else 0.0
        usage.append((when, None, user, space, channel, skill, "answer", alias, hosting,
                      data_class, prompt, completion, cost, latency, outcome, None))
        refused = rng.random()
        message_outcome = ("quota_exceeded" if refused < 0.01 else
                           "role_refused" if refused < 0.012 else outcome)
        redactions = ({"email": rng.randint(1, 3)} if hosting == "external"
                      and rng.random() < 0.1 else {})
        details = json.dumps({"chars": rng.randint(10, 2000), "redactions": redactions},
                             sort_keys=True)
        audit.append((when, "message", user, space, channel, skill, alias, data_class,
                      message_outcome, details, None, None))
    usage.sort(key=lambda row: row[0])
    audit.sort(key=lambda row: row[0])
    return usage, _chained(audit)


def _chained(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The records with their hash chain, as the store writes them (oldest first)."""
    previous = GENESIS
    chained = []
    names = ("created_at", "action", "user_id", "space_id", "channel", "skill", "model_alias",
             "data_class", "outcome", "details")
    for record in records:
        digest = record_hash(previous, dict(zip(names, record, strict=False)))
        chained.append((*record[:10], previous, digest))
        previous = digest
    return chained


async def fill(url: str, events: int, now: datetime) -> None:
    """COPY the generated history into the migrated scratch database."""
    usage, audit = _rows(events, now)
    departments = [f"Service {letter}" for letter in "ABCDEFGHIJKL"]
    people = sorted({row[2] for row in usage})
    tables: list[tuple[str, list[str], list[tuple[Any, ...]]]] = [
        ("usage_events", ["created_at", "turn_id", "user_id", "space_id", "channel", "skill",
                          "role", "model_alias", "hosting", "data_class", "prompt_tokens",
                          "completion_tokens", "cost", "latency_ms", "outcome", "error"], usage),
        ("audit_events", ["created_at", "action", "user_id", "space_id", "channel", "skill",
                          "model_alias", "data_class", "outcome", "details", "prev_hash",
                          "hash"], audit),
        ("console_departments", ["user_id", "department", "looked_up_at"],
         [(user, departments[index % len(departments)], now)
          for index, user in enumerate(people)]),
    ]
    conninfo = url.replace("postgresql+asyncpg://", "postgresql://")
    async with await psycopg.AsyncConnection.connect(conninfo) as connection:
        async with connection.cursor() as cursor:
            for table, columns, records in tables:
                statement = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(
                    psycopg.sql.Identifier(table),
                    psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, columns)))
                async with cursor.copy(statement) as copy:
                    for record in records:
                        await copy.write_row(record)
        await connection.commit()
        await connection.set_autocommit(True)
        await connection.execute("ANALYZE")


async def time_pages(url: str, events: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as data:
        settings = load_settings(data_dir=Path(data), database_url=url, _env_file=None,
                                 console={"secure_cookies": False})
        app = build_app(settings)
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            store: Store = app[RUNTIME].store
            started = time.perf_counter()
            await ConsoleRollups(store.engine).refresh()  # as the app does in the background
            print(f"daily summaries built from the whole history in "
                  f"{time.perf_counter() - started:.1f} s (then only new events, every minute)")
            token = await ConsoleSessionStore(store.engine).create_link(timedelta(minutes=5))
            await client.post("/console/auth/link", data={"token": token})
            pages = ["/console/usage", "/console/usage?period=7d",
                     "/console/usage?period=90d&skill=qa",
                     "/console/usage?period=365d", "/console/usage?department=Service%20B",
                     "/console/usage?period=90d&department=Service%20B",
                     "/console/usage?period=365d&department=Service%20B",
                     "/console/usage?space=teams:team-07", "/console/protection",
                     "/console/protection?period=365d",
                     "/console/protection?department=Service%20B",
                     "/console/protection?period=365d&department=Service%20B", "/console/audit",
                     "/console/audit?user=teams:user-1&action=message",
                     "/console/audit?since=2026-01-01&until=2026-03-31",
                     f"/console/audit/record/{events // 2}", "/console/policy"]
            print(f"{'page':58} {'median ms':>10} {'max ms':>8}")
            for page in pages:
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    response = await client.get(page)
                    await response.read()
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status == 200, (page, response.status)
                print(f"{page:58} {statistics.median(times):10.0f} {max(times):8.0f}")
            started = time.perf_counter()
            export = await client.get("/console/audit/export?format=csv&since=2026-11-01")
            size = len(await export.read())
            print(f"{'export CSV, last month':58} {(time.perf_counter() - started) * 1000:10.0f}"
                  f" ({size / 1e6:.1f} MB)")
            # the Pareto draw's most active person, then a usual one: their summed events
            # move to the new department in the transaction that records it
            for who, person in (("the busiest person", "teams:user-1"),
                                ("a usual person", "teams:user-40")):
                async with store.engine.connect() as connection:
                    events = await connection.scalar(text(
                        "SELECT count(*) FROM usage_events WHERE user_id = :user"),
                        {"user": person})
                started = time.perf_counter()
                await ConsoleDepartments(store.engine).save({person: "Service Z"})
                print(f"{'department change of ' + who:58} "
                      f"{(time.perf_counter() - started) * 1000:10.0f} "
                      f"({events:,} usage events restated)")
        finally:
            await client.close()


async def main(events: int, repeat: int, keep: bool) -> None:
    name = f"almia_console_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        store = Store.open(url)
        await store.migrate()
        await store.close()
        started = time.perf_counter()
        await fill(url, events, datetime.now(UTC))
        print(f"{events:,} usage events and {events:,} audit records over {DAYS} days, "
              f"{USERS} people: loaded in {time.perf_counter() - started:.0f} s")
        await time_pages(url, events, repeat)
    finally:
        if keep:
            print(f"kept: {url}")
        else:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the database (prints its URL).")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.repeat, arguments.keep))

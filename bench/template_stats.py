"""Template analytics on a generated history of 100,000 runs: query time on SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/template_stats.py [--runs 100000]``. PostgreSQL (127.0.0.1:5432,
database ``test``) gets its own schema, dropped afterwards. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import Store
from bot.store.tables import Conversation, Feedback, Turn
from bot.store.template_tables import TemplateRun
from bot.store.templates import TemplateStore, _week

POSTGRES_URL = os.environ.get("ALMIA_TEST_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TEMPLATES = [(f"modele-{n:02d}", f"cas-{n % 8}") for n in range(40)]
SPACES = [f"teams:team-{n:02d}" for n in range(30)]


async def fill(store: Store, runs: int, now: datetime) -> None:
    """``runs`` runs over 26 weeks; 10 % of them rated (with their answer turn)."""
    rng = random.Random(7)
    batch: list[dict[str, object]] = []
    conversations: list[dict[str, object]] = []
    turns: list[dict[str, object]] = []
    feedback: list[dict[str, object]] = []
    for index in range(runs):
        name, use_case = TEMPLATES[min(int(rng.expovariate(0.15)), len(TEMPLATES) - 1)]
        when = now - timedelta(seconds=rng.randint(0, 26 * 7 * 86400))
        turn_id = uuid.uuid4().hex
        user = f"user-{rng.randint(1, 3000)}"
        batch.append({"created_at": when, "week": _week(when), "template_id": name,
                      "template_name": name, "version": 1, "use_case": use_case,
                      "user_id": user, "space_id": rng.choice(SPACES), "channel": "teams",
                      "skill": "templates", "model_alias": "interne",
                      "latency_ms": rng.uniform(300, 4000), "prompt_tokens": rng.randint(50, 900),
                      "completion_tokens": rng.randint(50, 600), "conversation_id": f"c{index}",
                      "turn_id": turn_id})
        if index % 10 == 0:
            conversations.append({"id": f"c{index}", "channel": "teams", "space_id": "s",
                                  "thread_id": "t", "created_at": when, "updated_at": when})
            turns.append({"id": turn_id, "conversation_id": f"c{index}", "role": "assistant",
                          "text": "…", "user_id": user, "skill": "templates",
                          "model_alias": "interne", "citations": None, "created_at": when})
            feedback.append({"turn_id": turn_id, "user_id": user,
                             "value": 1 if rng.random() < 0.75 else -1, "comment": None,
                             "created_at": when})
    async with store.engine.begin() as connection:
        for start in range(0, runs, 5_000):
            await connection.execute(insert(TemplateRun), batch[start:start + 5_000])
        for table, rows in ((Conversation, conversations), (Turn, turns),
                            (Feedback, feedback)):
            for start in range(0, len(rows), 5_000):
                await connection.execute(insert(table), rows[start:start + 5_000])


async def measure(label: str, store: Store, runs: int) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    await fill(store, runs, now)
    filled = time.perf_counter() - started
    templates = TemplateStore(store.engine)
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        stats = await templates.stats(timedelta(days=30), now=now)
        timings.append((time.perf_counter() - started) * 1000)
    whole = await templates.stats(timedelta(days=365), now=now)
    print(f"{label:10s} {runs:,} runs generated in {filled:.1f}s | stats 30d ({stats.runs:,} runs): "
          f"median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms | "
          f"stats 365d ({whole.runs:,} runs) {(await _once(templates, now)):.0f} ms | "
          f"👍 ratio {whole.feedback_ratio:.2f}")


async def _once(templates: TemplateStore, now: datetime) -> float:
    started = time.perf_counter()
    await templates.stats(timedelta(days=365), now=now)
    return (time.perf_counter() - started) * 1000


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}")
        await store.migrate()
        try:
            await measure("SQLite", store, runs)
        finally:
            await store.close()
    schema = f"almia_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OSError as error:
        print(f"PostgreSQL unavailable ({error}); skipped")
        await admin.dispose()
        return
    store = Store.open(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await store.migrate()
        await measure("PostgreSQL", store, runs)
    finally:
        await store.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().runs))

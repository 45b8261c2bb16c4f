"""Console fixtures: settings, a store seeded through its public API, a signed-in client."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import RUNTIME, build_app
from bot.gateway.types import UsageRecord
from bot.governance.policy import DataClass
from bot.messages import Channel, Message, Reply, Space, User
from bot.settings import Settings, load_settings
from bot.store import Store
from bot.store.console_sessions import ConsoleSessionStore
from bot.store.store import AuditEntry
from tests.conftest import POSTGRES_URL, FakeSearch

LINK_TOKEN = re.compile(r'name="token" value="([^"]+)"')


def console_settings(tmp_path: Path, **console: Any) -> Settings:
    """Embedded defaults; plain-HTTP loopback cookies (a test server has no TLS)."""
    return load_settings(data_dir=tmp_path / "data", _env_file=None,
                         console={"secure_cookies": False, **console})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return console_settings(tmp_path)


def message(user: str, *, space: str = "teams:team-1", channel: Channel = Channel.TEAMS,
            text_: str = "question") -> Message:
    return Message(text=text_, user=User(user), space=Space(space), channel=channel,
                   thread_id=uuid.uuid4().hex)


def usage(skill: str, alias: str, *, hosting: str = "internal", data_class: str = "internal",
          latency: float = 100.0, prompt: int = 10, completion: int = 5, cost: float = 0.0,
          outcome: str = "ok", redactions: tuple[tuple[str, int], ...] = ()) -> UsageRecord:
    return UsageRecord(skill=skill, role="answer", alias=alias, hosting=hosting,
                       data_class=DataClass.parse(data_class), outcome=outcome,  # type: ignore[arg-type]
                       latency_ms=latency, prompt_tokens=prompt, completion_tokens=completion,
                       cost=cost, redactions=redactions)


@dataclass
class Seeded:
    """What :func:`seed` wrote, for tests that compare pages with the store."""

    answers: dict[str, str]  # user → the id of one of their answers


async def seed(store: Store) -> Seeded:
    """A small, known history: three people, two skills, two models, refusals, feedback."""
    answers: dict[str, str] = {}
    plan = [
        ("teams:alice", "qa", "interne-mistral", 120.0, ()),
        ("teams:alice", "qa", "interne-mistral", 80.0, ()),
        ("teams:bob", "qa", "externe-gpt", 300.0, (("email", 2), ("person", 1))),
        ("teams:bob", "summarise", "interne-mistral", 200.0, ()),
        ("slack:T1:U9", "summarise", "externe-gpt", 900.0, (("phone", 1),)),
    ]
    for user, skill, alias, latency, redactions in plan:
        hosting = "external" if alias.startswith("externe") else "internal"
        record = usage(skill, alias, hosting=hosting, latency=latency, prompt=100, completion=40,
                       cost=0.01 if hosting == "external" else 0.0, redactions=redactions)
        channel = Channel.SLACK if user.startswith("slack:") else Channel.TEAMS
        sent = message(user, channel=channel,
                       space="slack:T1:C1" if channel is Channel.SLACK else "teams:team-1")
        details = {"chars": 8, "redactions": dict(redactions)}
        answers[user] = await store.record_exchange(
            sent, Reply("réponse", skill=skill, model=alias), [record],
            AuditEntry(action="message", outcome="ok", skill=skill, model_alias=alias,
                       data_class="internal", details=details))
    for outcome in ("quota_exceeded", "quota_exceeded", "role_refused"):
        await store.record_event(message("teams:carol"),
                                 AuditEntry(action="message", outcome=outcome))
    await store.record_feedback(answers["teams:alice"], "teams:alice", 1)
    await store.record_feedback(answers["teams:bob"], "teams:bob", -1)
    await store.accept_charter(message("teams:alice"), "2026-11")
    await store.accept_charter(message("teams:bob"), "2026-11")
    return Seeded(answers)


async def scalar(store: Store, sql: str, **values: Any) -> Any:
    """One value straight from the database (what a page's figure must equal)."""
    async with store.engine.connect() as connection:
        return await connection.scalar(text(sql), values)


@dataclass
class Console:
    """A running app with a seeded store and a client signed in as local administrator."""

    client: TestClient[Any, Any]
    store: Store
    seeded: Seeded

    @property
    def base(self) -> str:
        return str(self.client.make_url("")).rstrip("/")

    async def csrf(self, path: str = "/console/audit") -> str:
        page = await (await self.client.get(path)).text()
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found, "no CSRF token on the page"
        return found.group(1)


async def admin_link(store: Store) -> str:
    """A one-time link token, as ``almia admin link`` creates it."""
    from datetime import timedelta

    return await ConsoleSessionStore(store.engine).create_link(timedelta(minutes=5))


async def sign_in(client: TestClient[Any, Any], token: str) -> None:
    response = await client.post("/console/auth/link", data={"token": token},
                                 allow_redirects=False)
    assert response.status == 302, await response.text()


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[Console]:
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        store = app[RUNTIME].store
        seeded = await seed(store)
        await sign_in(client, await admin_link(store))
        yield Console(client, store, seeded)
    finally:
        await client.close()


def records(lines: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines.splitlines() if line.strip()]


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Store]:
    """A migrated, seeded store: a SQLite file, or a scratch PostgreSQL database."""
    if request.param == "sqlite":
        opened = Store.open(f"sqlite+aiosqlite:///{tmp_path}/console.db")
        await opened.migrate()
        await seed(opened)
        yield opened
        await opened.close()
        return
    name = f"almia_console_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no server: the SQLite run still checks the queries
        await admin.dispose()
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not reachable")
    opened = Store.open(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        await opened.migrate()
        await seed(opened)
        yield opened
    finally:
        await opened.close()
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()

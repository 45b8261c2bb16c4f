"""Adoption per department: departments from Entra ID through Graph, small groups merged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.store import Store
from bot.store.console_departments import OTHER, ConsoleDepartments, merge_small
from bot.store.console_filters import ConsoleFilters
from bot.store.console_rollups import ConsoleRollups
from bot.store.console_usage import UNKNOWN, ConsoleUsage
from console.departments import DepartmentsUnavailable, EntraDepartments
from tests.console.conftest import Console, seed
from tests.fakes.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    FakeEntra,
    LoopbackHttpClient,
)


@dataclass
class FakeEntraWithDepartments(FakeEntra):
    """Graph's ``GET /users/{id}?$select=department`` besides the groups of the base fake."""

    departments: dict[str, str | None] = field(default_factory=dict)

    def routes(self, app: web.Application) -> None:
        super().routes(app)
        app.router.add_get("/v1.0/users/{user}", self._user)

    async def _user(self, request: web.Request) -> web.Response:
        await self._record(request)
        if self.graph_status is not None:
            return web.json_response({"error": {"code": "Fake"}}, status=self.graph_status)
        user = request.match_info["user"]
        if user not in self.departments:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}},
                                     status=404)
        assert request.query.get("$select") == "department"
        return web.json_response({"department": self.departments[user]})


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store.open(f"sqlite+aiosqlite:///{tmp_path}/departments.db")
    await opened.migrate()
    await seed(opened)
    yield opened
    await opened.close()


def _lookup(entra: FakeEntra) -> EntraDepartments:
    return EntraDepartments(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            graph_url=entra.graph_url, http_client=LoopbackHttpClient(entra.url))


async def test_departments_are_looked_up_for_people_seen_then_counted(store: Store) -> None:
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    await rollups.refresh()
    departments = ConsoleDepartments(store.engine, rollups)
    pending = await departments.pending(datetime.now(UTC) - timedelta(days=7), limit=100)
    assert sorted(pending) == ["teams:alice", "teams:bob", "teams:carol"]  # Teams users only
    async with FakeEntraWithDepartments(departments={
            "alice": "Sinistres", "bob": "Sinistres", "carol": None}) as entra:
        found = await _lookup(entra).departments(pending)
    assert found == {"teams:alice": "Sinistres", "teams:bob": "Sinistres", "teams:carol": None}
    await departments.save(found)
    assert not await departments.pending(datetime.now(UTC) - timedelta(days=7), limit=100)
    report = await ConsoleUsage(store.engine, rollups).report(ConsoleFilters.last("30d"))
    rows = merge_small(report.departments, 2)
    assert [(row.department, row.people, row.messages, row.hidden) for row in rows] == [
        ("Sinistres", 2, 4, False), (UNKNOWN, 2, 4, False)]  # carol (3 refusals), slack:U9


async def test_small_departments_are_merged_then_hidden() -> None:
    rows = merge_small([("Sinistres", 12, 90), ("Juridique", 3, 10), ("RH", 1, 2)], 5)
    assert [(row.department, row.people, row.merged, row.hidden) for row in rows] == [
        ("Sinistres", 12, 0, False), (OTHER, 4, 2, True)]
    assert merge_small([("A", 3, 9), ("B", 4, 1)], 5)[0].people == 7
    assert not merge_small([("A", 3, 9), ("B", 4, 1)], 5)[0].hidden


async def test_graph_down_is_reported_without_secrets(store: Store) -> None:
    async with FakeEntraWithDepartments(graph_status=503) as entra:
        with pytest.raises(DepartmentsUnavailable, match="Graph HTTP 503") as raised:
            await _lookup(entra).departments(["teams:alice"])
    assert CLIENT_SECRET not in str(raised.value)


async def test_the_usage_page_never_counts_fewer_than_the_minimum(console: Console) -> None:
    await ConsoleDepartments(console.store.engine).save({"teams:alice": "Sinistres"})
    page = await (await console.client.get("/console/usage")).text()
    assert 'data-department="__other__"' in page
    assert 'data-department="Sinistres"' not in page  # one person: merged, then hidden
    assert "&lt; 5</td>" in page

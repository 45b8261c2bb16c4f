"""Adoption per department: departments from Entra ID through Graph, small groups merged."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import RUNTIME
from bot.store import Store
from bot.store.console_departments import OTHER, ConsoleDepartments, merge_small
from bot.store.console_filters import ConsoleFilters
from bot.store.console_rollups import ConsoleRollups
from bot.store.console_usage import UNKNOWN, ConsoleUsage
from console.departments import (
    DepartmentsUnavailable,
    DirectoryDepartments,
    EntraDepartments,
    SlackDepartments,
)
from console.web import ConsoleEndpoint
from tests.console.conftest import Console, scalar, seed
from tests.fakes.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    FakeEntra,
    LoopbackHttpClient,
)
from tests.fakes.loopback import LoopbackServer


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
    return EntraDepartments(tenant_id=TENANT, client_id=CLIENT_ID, credential=CLIENT_SECRET,
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


@dataclass
class FakeSlackProfiles(LoopbackServer):
    """Slack's ``users.profile.get``: members → their custom profile fields."""

    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # HTTP statuses of the next answers
    _server: object | None = None

    def routes(self, app: web.Application) -> None:
        # Slack takes arguments in the query string or a form body, with GET or POST
        app.router.add_get("/api/users.profile.get", self._profile)
        app.router.add_post("/api/users.profile.get", self._profile)

    async def _profile(self, request: web.Request) -> web.Response:
        self.tokens.append(request.headers.get("Authorization", ""))
        user = str(request.query.get("user") or (await request.post()).get("user", ""))
        self.asked.append(user)
        if self.failures:
            status = self.failures.pop(0)
            if status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                         headers={"Retry-After": "0"})
            return web.Response(status=status, text="upstream failure")
        if user == "U_REVOKED":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if user not in self.profiles:
            return web.json_response({"ok": False, "error": "user_not_found"})
        fields = {key: {"value": value, "alt": ""} for key, value in self.profiles[user].items()}
        return web.json_response({"ok": True, "profile": {"real_name": "x", "fields": fields}})


async def test_slack_departments_come_from_a_profile_field() -> None:
    async with FakeSlackProfiles(profiles={"U9": {"Xf01": "Relation client", "Xf02": "Lyon"},
                                           "U8": {"Xf02": "Paris"}}) as slack:
        lookup = SlackDepartments(bot_token="xoxb-test", field="Xf01",
                                  api_url=f"{slack.base_url}/api/")
        found = await lookup.departments(["slack:T1:U9", "slack:T1:U8", "slack:T1:U7"])
    assert found == {"slack:T1:U9": "Relation client", "slack:T1:U8": None,
                     "slack:T1:U7": None}
    assert set(slack.tokens) == {"Bearer xoxb-test"}
    assert slack.asked == ["U9", "U8", "U7"]


async def test_slack_rate_limits_are_waited_out_and_errors_stop_the_round() -> None:
    async with FakeSlackProfiles(profiles={"U9": {"Xf01": "Relation client"}},
                                 failures=[429]) as slack:
        lookup = SlackDepartments(bot_token="xoxb-test", field="Xf01",
                                  api_url=f"{slack.base_url}/api/")
        assert await lookup.departments(["slack:T1:U9"]) == {"slack:T1:U9": "Relation client"}
        assert slack.asked == ["U9", "U9"]  # asked again after Retry-After
        with pytest.raises(DepartmentsUnavailable, match="invalid_auth") as raised:
            await lookup.departments(["slack:T1:U_REVOKED"])
        assert "xoxb" not in str(raised.value)
        slack.failures.append(400)
        with pytest.raises(DepartmentsUnavailable, match="HTTP 400"):
            await lookup.departments(["slack:T1:U9"])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_the_console_reaches_slack_only_through_the_slack_adapter() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "console").rglob("*.py")):
        assert not _imports(path) & {"slack_sdk", "slack_bolt"}, path
    assert "adapters" in _imports(root / "console" / "departments.py")
    for path in sorted((root / "adapters").rglob("*.py")):
        assert "console" not in _imports(path), path  # no import cycle


@dataclass
class Answering:
    """A directory stand-in that records who it was asked about."""

    answers: dict[str, str | None]
    asked: list[str] = field(default_factory=list)

    async def departments(self, user_ids: list[str]) -> dict[str, str | None]:
        self.asked.extend(user_ids)
        return {user: self.answers.get(user) for user in user_ids}


async def test_the_console_looks_departments_up_for_each_channel(console: Console) -> None:
    await ConsoleRollups(console.store.engine, settle=timedelta(0)).refresh()
    teams = Answering({"teams:alice": "Sinistres"})
    slack = Answering({"slack:T1:U9": "Relation client"})
    runtime = console.client.app[RUNTIME]  # type: ignore[index]
    endpoint = ConsoleEndpoint(runtime, DirectoryDepartments({"teams:": teams,
                                                              "slack:": slack}))
    await endpoint.look_up_departments()
    assert sorted(teams.asked) == ["teams:alice", "teams:bob", "teams:carol"]
    assert slack.asked == ["slack:T1:U9"]
    await endpoint.look_up_departments()  # looked up lately: not asked again
    assert len(teams.asked) == 3
    rows = await scalar(console.store, "SELECT count(*) FROM console_departments "
                        "WHERE department IS NOT NULL")
    assert rows == 2

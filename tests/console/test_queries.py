"""The console's figures against the store, on SQLite and PostgreSQL; exports; tampering."""

from __future__ import annotations

import bisect
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.store import Store
from bot.store.console_audit import AuditQuery, ConsoleAudit
from bot.store.console_filters import ConsoleFilters
from bot.store.console_protection import ConsoleProtection
from bot.store.console_rollups import BOUNDS, ConsoleRollups, latency_bound
from bot.store.console_usage import ConsoleUsage
from tests.console.conftest import Console, records, scalar, seed


def _all() -> ConsoleFilters:
    return ConsoleFilters.last("30d")


@pytest.fixture(params=["events", "summaries"])
async def summed(request: pytest.FixtureRequest, store: Store) -> Store:
    """The seeded store read from the events alone, or from the refreshed daily summaries."""
    if request.param == "summaries":
        await ConsoleRollups(store.engine, settle=timedelta(0)).refresh()
    return store


def _bound(latency: float) -> float:
    return latency_bound(bisect.bisect_right(BOUNDS, latency))


async def test_usage_figures(summed: Store) -> None:
    store = summed
    report = await ConsoleUsage(store.engine).report(_all())
    assert (report.messages, report.people) == (8, 4)
    assert sum(day.messages for day in report.days) == 8
    assert [(case.kind, case.name, case.uses, case.people) for case in report.use_cases] == [
        ("skill", "qa", 3, 2), ("skill", "summarise", 2, 2)]
    models = {row.alias: row for row in report.models}
    assert models["interne-mistral"].calls == 3
    assert models["interne-mistral"].latency == (_bound(120), _bound(200), _bound(200))
    assert models["externe-gpt"].prompt_tokens == 200
    assert models["externe-gpt"].cost == pytest.approx(0.02)
    feedback = {row.name: (row.up, row.down) for row in report.feedback}
    assert feedback == {"qa": (1, 0), "summarise": (0, 1)}  # on each person's last answer


async def test_usage_filters(summed: Store) -> None:
    usage = ConsoleUsage(summed.engine)
    slack = await usage.report(ConsoleFilters(since=_all().since, channel="slack"))
    assert (slack.messages, slack.people) == (1, 1)
    summarise = await usage.report(ConsoleFilters(since=_all().since, skill="summarise"))
    assert sorted(row.alias for row in summarise.models) == ["externe-gpt", "interne-mistral"]
    assert summarise.messages == 2
    future = await usage.report(ConsoleFilters(since=datetime.now(UTC) + timedelta(days=1)))
    assert (future.messages, future.models, future.use_cases) == (0, [], [])


async def test_protection_figures(summed: Store) -> None:
    report = await ConsoleProtection(summed.engine).report(_all())
    assert report.finding_totals == {"email": 2, "person": 1, "phone": 1}
    assert ("message", "quota_exceeded", 2) in report.refusals
    assert ("message", "role_refused", 1) in report.refusals
    assert report.charter == [("2026-11", 2)]
    assert sum(count for _, count in report.quota_days) == 2
    assert not any(row.breach for row in report.classes)
    assert sum(row.calls for row in report.classes) == 5


async def test_a_space_filter_reads_the_events(store: Store) -> None:
    await ConsoleRollups(store.engine, settle=timedelta(0)).refresh()
    space = ConsoleFilters(since=_all().since, space="slack:T1:C1")
    usage = await ConsoleUsage(store.engine).report(space)
    assert (usage.messages, [row.alias for row in usage.models]) == (1, ["externe-gpt"])
    protection = await ConsoleProtection(store.engine).report(space)
    assert protection.finding_totals == {"phone": 1}


async def test_summaries_and_newer_events_add_up(store: Store) -> None:
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    first = await rollups.refresh()
    await seed(store)  # as many again, after the watermark
    usage = ConsoleUsage(store.engine, rollups)
    assert (await usage.report(_all())).messages == 16
    second = await rollups.refresh()
    assert second > first
    again = await usage.report(_all())
    assert (again.messages, again.people) == (16, 4)
    assert {row.alias: row.calls for row in again.models} == {
        "interne-mistral": 6, "externe-gpt": 4}
    assert await rollups.refresh() >= second  # nothing counted twice
    assert (await usage.report(_all())).messages == 16


async def test_one_record_tampered_with_is_shown(store: Store) -> None:
    audit = ConsoleAudit(store.engine)
    assert (await audit.verify()).intact
    async with store.engine.begin() as connection:  # an attacker with DBA rights
        if store.dialect == "postgresql":
            await connection.execute(text(
                "DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            await connection.execute(text("DROP TRIGGER audit_events_no_update"))
        await connection.execute(text("UPDATE audit_events SET outcome = 'error' WHERE id = 2"))
    second = await audit.link_status(2)
    third = await audit.link_status(3)
    assert second is not None and not second.content_intact and second.follows_previous
    assert third is not None and third.intact
    report = await audit.verify()
    assert report.problems == ("record 2: content changed after it was written",)


async def test_search(store: Store) -> None:
    audit = ConsoleAudit(store.engine)
    bob = AuditQuery(user="teams:bob", action="message")
    assert await audit.count(bob) == 2
    found = await audit.search(bob)
    assert [row["skill"] for row in found] == ["summarise", "qa"]  # newest first
    page = await audit.search(AuditQuery(), limit=3)
    older = await audit.search(AuditQuery(), before=page[-1]["id"], limit=3)
    assert older[0]["id"] == page[-1]["id"] - 1


async def test_exports_match_the_store(console: Console) -> None:
    jsonl = await (await console.client.get(
        "/console/audit/export?format=jsonl&action=message")).text()
    exported = records(jsonl)
    assert len(exported) == await scalar(console.store, "SELECT count(*) FROM audit_events "
                                         "WHERE action = 'message'")
    assert [row["id"] for row in exported] == sorted(row["id"] for row in exported)
    response = await console.client.get("/console/audit/export?format=csv&user=teams:bob")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert {row["user_id"] for row in rows} == {"teams:bob"}
    assert len(rows) == await scalar(console.store, "SELECT count(*) FROM audit_events "
                                     "WHERE user_id = 'teams:bob'")


async def test_small_groups_are_not_counted_exactly(console: Console) -> None:
    page = await (await console.client.get("/console/usage")).text()
    assert "&lt; 5" in page  # two people used qa: fewer than the minimum group size


async def test_a_long_history_is_summed_a_week_at_a_time(store: Store) -> None:
    old = datetime.now(UTC) - timedelta(days=20)
    async with store.engine.begin() as connection:  # a request of three weeks ago
        await connection.execute(text(
            "INSERT INTO audit_events (created_at, action, user_id, space_id, channel, skill, "
            "outcome, details) VALUES (:at, 'message', 'teams:dora', 'teams:team-1', 'teams', "
            "'qa', 'ok', '{}')"), {"at": old})
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    assert await rollups.refresh() >= datetime.now(UTC) - timedelta(seconds=5)
    async with store.engine.connect() as connection:
        days = await connection.scalar(text("SELECT count(DISTINCT day) FROM "
                                            "console_people_daily"))
    assert days == 2  # three weeks ago, and today
    report = await ConsoleUsage(store.engine, rollups).report(_all())
    assert (report.messages, report.people) == (9, 5)


async def test_templates_of_one_name_are_counted_per_scope(store: Store) -> None:
    from bot.store.templates import Actor, RunRecord, TemplateContent, TemplateStore

    templates = TemplateStore(store.engine)
    content = TemplateContent(title="Relance", body="Relance {{client}}.")
    company = await templates.create("relance", content, Actor("ada", "web:x"),
                                     scope="company")
    mine = await templates.create("relance", content, Actor("alice", "web:x"))
    now = datetime.now(UTC)
    for template, user in ((company, "bob"), (company, "carl"), (mine, "alice")):
        await templates.record_run(RunRecord(
            template=template, user_id=user, space_id="web:x", channel="web",
            conversation_id="c", skill="templates", model_alias=None, latency_ms=5.0,
            created_at=now - timedelta(minutes=1)))
    report = await ConsoleUsage(store.engine).report(_all())
    assert sorted((case.name, case.scope, case.uses) for case in report.use_cases
                  if case.kind == "template") == [("relance", "company", 2),
                                                 ("relance", "personal", 1)]

"""Department filters read the daily summaries: their figures equal those computed from the
raw events and the people's current departments, also after a department changes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.messages import Reply
from bot.store import Store
from bot.store.console_departments import ConsoleDepartments
from bot.store.console_filters import ConsoleFilters
from bot.store.console_protection import REFUSALS, ConsoleProtection
from bot.store.console_rollups import ConsoleRollups
from bot.store.console_usage import ConsoleUsage
from bot.store.store import AuditEntry
from tests.console.conftest import message, usage


async def _rows(store: Store, sql: str, **values: Any) -> list[tuple[Any, ...]]:
    async with store.engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(text(sql), values)).all()]


async def _from_events(store: Store, department: str) -> dict[str, Any]:
    """A department's figures straight from the events and today's departments."""
    calls = await _rows(store, "SELECT model_alias, count(*), sum(prompt_tokens), sum(cost) "
                        "FROM usage_events WHERE user_id IN (SELECT user_id FROM console_departments "
                        "WHERE department = :department) "
                        "GROUP BY model_alias", department=department)
    refusals = await _rows(store, "SELECT outcome, count(*) FROM audit_events "
                           "WHERE action = 'message' AND user_id IN (SELECT user_id FROM "
                           "console_departments WHERE department = :department) "
                           "GROUP BY outcome", department=department)
    findings: dict[str, int] = {}
    for (details,) in await _rows(store, "SELECT details FROM audit_events WHERE "
                                  "action = 'message' AND user_id IN (SELECT user_id FROM "
                                  "console_departments WHERE department = :department)",
                                  department=department):
        for kind, count in json.loads(details or "{}").get("redactions", {}).items():
            findings[kind] = findings.get(kind, 0) + int(count)
    return {"calls": {str(alias): (int(n), int(tokens), float(cost))
                      for alias, n, tokens, cost in calls},
            "refusals": {str(outcome): int(n) for outcome, n in refusals
                         if outcome in REFUSALS},
            "findings": findings}


async def _from_summaries(store: Store, rollups: ConsoleRollups,
                          department: str) -> dict[str, Any]:
    """The same figures as the console's pages give them (from the summaries)."""
    filters = ConsoleFilters.last("30d", department=department)
    report = await ConsoleUsage(store.engine, rollups).report(filters)
    protection = await ConsoleProtection(store.engine, rollups).report(filters)
    return {"calls": {row.alias: (row.calls, row.prompt_tokens, row.cost)
                      for row in report.models},
            "refusals": {outcome: n for action, outcome, n in protection.refusals
                         if action == "message"},
            "findings": protection.finding_totals}


async def _check(store: Store, rollups: ConsoleRollups, *departments: str) -> None:
    for department in departments:
        summed, expected = (await _from_summaries(store, rollups, department),
                            await _from_events(store, department))
        assert summed["calls"].keys() == expected["calls"].keys(), department
        for alias, (calls, tokens, cost) in expected["calls"].items():
            assert summed["calls"][alias][:2] == (calls, tokens)
            assert summed["calls"][alias][2] == pytest.approx(cost)
        assert summed["refusals"] == expected["refusals"], department
        assert summed["findings"] == expected["findings"], department


async def _summed_only(store: Store) -> None:
    """Nothing is left after the watermark: the figures come from the summaries alone."""
    async with store.engine.connect() as connection:
        events = await connection.scalar(text("SELECT count(*) FROM usage_events"))
        summed = await connection.scalar(text("SELECT sum(calls) FROM console_usage_daily"))
        per_department = await connection.scalar(
            text("SELECT sum(calls) FROM console_usage_department_daily"))
        empty = await connection.scalar(
            text("SELECT count(*) FROM console_usage_department_daily WHERE calls = 0"))
    assert (summed, per_department, empty) == (events, events, 0)


async def test_department_figures_from_the_summaries_equal_the_events(store: Store) -> None:
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    departments = ConsoleDepartments(store.engine, rollups)
    await rollups.refresh()  # people seen before the directory was asked: unknown
    await departments.save({"teams:alice": "Sinistres", "teams:bob": "Sinistres",
                            "teams:carol": "Juridique"})
    await _summed_only(store)
    await _check(store, rollups, "Sinistres", "Juridique")
    sinistres = await _from_summaries(store, rollups, "Sinistres")
    assert {alias: calls[0] for alias, calls in sinistres["calls"].items()} == {
        "interne-mistral": 3, "externe-gpt": 1}
    assert sinistres["findings"] == {"email": 2, "person": 1}  # bob's external call
    juridique = await _from_summaries(store, rollups, "Juridique")
    assert juridique["refusals"] == {"quota_exceeded": 2, "role_refused": 1}  # carol's

    await departments.save({"teams:bob": "Juridique"})  # bob moves, his history with him
    await _summed_only(store)
    await _check(store, rollups, "Sinistres", "Juridique")
    sinistres = await _from_summaries(store, rollups, "Sinistres")
    assert {alias: calls[0] for alias, calls in sinistres["calls"].items()} == {
        "interne-mistral": 2}
    assert sinistres["findings"] == {}

    await departments.forget("teams:bob")  # erased: his counts go to no department
    await _summed_only(store)
    await _check(store, rollups, "Sinistres", "Juridique")
    everyone = await ConsoleUsage(store.engine, rollups).report(ConsoleFilters.last("30d"))
    assert sum(row.calls for row in everyone.models) == 5


async def test_events_after_the_watermark_count_in_their_department(store: Store) -> None:
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    await ConsoleDepartments(store.engine, rollups).save(
        {"teams:alice": "Sinistres", "teams:bob": "Sinistres"})
    await rollups.refresh()
    await store.record_exchange(
        message("teams:alice"), Reply("réponse", skill="qa", model="externe-gpt"),
        [usage("qa", "externe-gpt", hosting="external", redactions=(("email", 1),))],
        AuditEntry(action="message", outcome="ok", skill="qa", model_alias="externe-gpt",
                   details={"chars": 8, "redactions": {"email": 1}}))
    await _check(store, rollups, "Sinistres")  # summaries, then the event not yet summed
    sinistres = await _from_summaries(store, rollups, "Sinistres")
    assert sinistres["calls"]["externe-gpt"][0] == 2
    assert sinistres["findings"] == {"email": 3, "person": 1}

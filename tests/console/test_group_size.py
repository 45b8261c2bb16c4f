"""The minimum group size holds for every combination of filters, on every usage figure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store import Store
from bot.store.console_departments import ConsoleDepartments
from bot.store.console_filters import ConsoleFilters
from bot.store.console_groups import people_behind
from bot.store.console_protection import ConsoleProtection
from bot.store.console_rollups import ConsoleRollups
from bot.store.console_usage import ConsoleUsage
from tests.console.conftest import Console, console_settings

NOTICE = ("Moins de 2 personnes correspondent à ces filtres\u00a0: les chiffres ne sont pas "
          "affichés pour que personne ne soit reconnaissable")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return console_settings(tmp_path, min_group_size=2)


async def _departments(store: Store) -> None:
    """Two departments of two people each (both may be chosen as a filter)."""
    await ConsoleDepartments(store.engine).save({
        "teams:alice": "Sinistres", "teams:bob": "Sinistres",
        "teams:carol": "Juridique", "slack:T1:U9": "Juridique"})


def _last(**chosen: str) -> ConsoleFilters:
    return ConsoleFilters.last("30d", **chosen)


# (filters, distinct people behind them) — from the seeded history (tests/console/conftest)
COMBINATIONS = [
    (_last(department="Juridique", skill="summarise"), 1),  # only the Slack user
    (_last(department="Sinistres", channel="slack"), 0),
    (_last(channel="slack"), 1),
    (_last(space="slack:T1:C1"), 1),
    (_last(department="Juridique", space="slack:T1:C1"), 1),
    (_last(department="Sinistres", skill="qa"), 2),  # alice and bob
    (_last(department="Juridique"), 2),  # carol (refused requests) and the Slack user
    (_last(skill="summarise"), 2),  # bob and the Slack user
    (_last(space="teams:team-1"), 3),
]


async def test_people_behind_each_combination_of_filters(store: Store) -> None:
    await _departments(store)
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    for summed in (False, True):  # from the events alone, then from the summaries
        if summed:
            await rollups.refresh()
        async with rollups.reading() as (connection, mark):
            found = [await people_behind(connection, rollups, filters, mark)
                     for filters, _ in COMBINATIONS]
        assert found == [people for _, people in COMBINATIONS]


async def test_no_figure_for_filters_behind_too_few_people(store: Store) -> None:
    await _departments(store)
    rollups = ConsoleRollups(store.engine, settle=timedelta(0))
    usage = ConsoleUsage(store.engine, rollups)
    protection = ConsoleProtection(store.engine, rollups)
    for summed in (False, True):
        if summed:
            await rollups.refresh()
        for filters, people in COMBINATIONS:
            report = await usage.report(filters, min_group=2)
            shield = await protection.report(filters, min_group=2)
            assert report.withheld is shield.withheld is (people < 2), filters
            if people < 2:
                assert (report.messages, report.people, report.models, report.use_cases,
                        report.feedback, report.departments, report.days) == (
                    0, 0, [], [], [], [], [])
                assert (shield.findings, shield.refusals, shield.classes, shield.charter,
                        shield.quota_days) == ({}, [], [], [], [])
            else:
                assert report.people == people
        # the whole organisation is never withheld, nor anything with a minimum of 1
        assert not (await usage.report(_last(), min_group=50)).withheld
        lone = await usage.report(_last(department="Juridique", skill="summarise"))
        assert (lone.withheld, lone.messages, lone.people) == (False, 1, 1)


async def test_feedback_rows_count_their_voters(store: Store) -> None:
    report = await ConsoleUsage(store.engine).report(_last(skill="summarise"), min_group=2)
    assert not report.withheld
    assert [(row.name, row.down, row.people) for row in report.feedback] == [
        ("summarise", 1, 1)]  # bob alone voted


async def test_pages_show_a_notice_instead_of_figures(console: Console) -> None:
    await _departments(console.store)
    for page in ("usage", "protection"):
        text = await (await console.client.get(
            f"/console/{page}?department=Juridique&skill=summarise")).text()
        assert NOTICE in text, page
        assert 'id="withheld"' in text
        assert "data-figure" not in text and "<table" not in text
        assert 'data-kind="phone"' not in text  # the Slack user's pseudonymised phone number
        assert '<script type="application/json" id="chart-data">{}</script>' in text
    for page in ("usage", "protection"):  # the language chosen sticks: English last
        english = await (await console.client.get(
            f"/console/{page}?lang=en&channel=slack")).text()
        assert "Fewer than 2 people match these filters: the figures are not shown" in english
        assert "<table" not in english
    shown = await (await console.client.get(
        "/console/usage?lang=fr&department=Sinistres&skill=qa")).text()
    assert 'id="withheld"' not in shown
    assert 'data-figure="messages">3<' in shown  # alice's two requests and bob's one
    protection = await (await console.client.get(
        "/console/protection?department=Sinistres&skill=qa")).text()
    assert 'id="withheld"' not in protection
    assert 'data-kind="email"' in protection  # bob's qa request, 2 emails masked


async def test_a_feedback_row_of_one_person_shows_no_votes(console: Console) -> None:
    page = await (await console.client.get("/console/usage?skill=summarise")).text()
    assert 'data-figure="people">2<' in page
    row = page.split('<table id="feedback">', 1)[1].split("</table>", 1)[0]
    assert 'data-name="summarise"' in row
    assert "data-small>&lt; 2 personnes<" in row
    assert "data-down" not in row  # bob's 👎 is not shown

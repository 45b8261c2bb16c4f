"""Filtering the usage and data-protection pages by department (big enough ones only)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.store.console_departments import ConsoleDepartments
from bot.store.console_filters import ConsoleFilters
from bot.store.console_rollups import ConsoleRollups
from bot.store.console_usage import ConsoleUsage
from tests.console.conftest import Console, console_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return console_settings(tmp_path, min_group_size=2)


async def _departments(console: Console) -> None:
    await ConsoleDepartments(console.store.engine).save({
        "teams:alice": "Sinistres", "teams:bob": "Sinistres", "teams:carol": "Juridique"})


async def test_the_figures_of_one_department(console: Console) -> None:
    await _departments(console)
    filters = ConsoleFilters.last("30d", department="Sinistres")
    rollups = ConsoleRollups(console.store.engine, settle=timedelta(0))
    for summed in (False, True):  # from the events alone, then from the summaries
        if summed:
            await rollups.refresh()
        report = await ConsoleUsage(console.store.engine, rollups).report(filters)
        assert (report.messages, report.people) == (4, 2)  # alice's and bob's requests
        assert {row.alias: row.calls for row in report.models} == {
            "interne-mistral": 3, "externe-gpt": 1}
        assert [(case.name, case.uses) for case in report.use_cases] == [
            ("qa", 3), ("summarise", 1)]


async def test_only_departments_big_enough_can_be_chosen(console: Console) -> None:
    await _departments(console)
    page = await (await console.client.get("/console/usage?department=Sinistres")).text()
    assert '<option value="Sinistres" selected>' in page
    assert 'value="Juridique"' not in page  # one person: not offered
    assert 'data-figure="messages">4<' in page
    alone = await (await console.client.get("/console/usage?department=Juridique")).text()
    assert 'data-figure="messages">8<' in alone  # ignored: everyone's figures
    protection = await console.client.get("/console/protection?department=Sinistres")
    assert protection.status == 200
    assert 'data-kind="email"' in await protection.text()  # bob's external call

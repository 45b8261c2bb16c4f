"""The column card on the web page in headless Chromium: drop-downs, then the re-run button."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import build_app
from bot.settings import Settings
from knowledge import KnowledgeBase
from tests.adapters.test_web_browser import ARTIFACTS, CHROMIUM, DESKTOP, browser
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.verbatims.test_skill import SURVEY, _skills, settings

__all__ = ["browser", "settings"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Debian chromium is not installed (CI installs it)"),
]


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[TestServer]:
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    started = TestServer(build_app(settings, knowledge=knowledge, skill_factory=_skills),
                         host="127.0.0.1")
    await started.start_server()
    yield started
    await started.close()


async def test_columns_changed_in_the_card_run_the_analysis_again(
        browser: Any, server: TestServer, tmp_path: Path) -> None:
    survey = tmp_path / "enquete.csv"
    survey.write_bytes(SURVEY)
    context = await browser.new_context(viewport=DESKTOP, locale="fr-FR")
    await context.add_init_script("localStorage.setItem('almia.user', 'alice')")
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{server.port}/")
    await page.set_input_files("#file-input", [str(survey)])
    await page.locator("#attachments li.ready").wait_for(timeout=30_000)
    await page.fill("#question", "/almia verbatims")
    await page.click("#send")
    card = page.locator(".card").first
    await card.wait_for(timeout=60_000)
    assert "Colonnes de « enquete.csv »" in await card.locator(".card-title").inner_text()
    score = card.locator("select[name=score]")
    assert await score.input_value() == "Note NPS"
    assert await card.locator("select[name=text]").input_value() == "Commentaire client"
    await score.select_option("aucune")
    await card.locator("select[name=score_kind]").select_option("stars5")  # ignored
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "verbatims-columns-card.png"))
    await card.get_by_role("button", name="Relancer l'analyse avec ces colonnes").click()
    again = page.locator(".card").nth(1)
    await again.wait_for(timeout=60_000)
    assert await again.locator("select[name=score]").input_value() == "aucune"
    assert await again.locator("select[name=score_kind]").input_value() == "auto"
    shown = await page.locator(".message.assistant").last.inner_text()
    assert "note\u00a0: (aucune)" in shown  # a no-break space before « : » (French typography)
    await context.close()

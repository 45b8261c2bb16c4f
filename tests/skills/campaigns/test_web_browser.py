"""The web review screen in headless Chromium: brief, card, submit, a reviewer approves."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import build_app
from bot.settings import Settings
from tests.adapters.test_web_browser import ARTIFACTS, CHROMIUM, DESKTOP, browser
from tests.conftest import FakeSearch
from tests.skills.campaigns.conftest import brief

__all__ = ["browser"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Debian chromium is not installed (CI installs it)"),
]


@pytest.fixture
async def server(campaign_settings: Settings) -> AsyncIterator[TestServer]:
    started = TestServer(build_app(campaign_settings, knowledge=FakeSearch()),  # type: ignore[arg-type]
                         host="127.0.0.1")
    await started.start_server()
    yield started
    await started.close()


async def page_of(browser: Any, server: TestServer, user: str) -> Any:
    context = await browser.new_context(viewport=DESKTOP, locale="fr-FR")
    await context.add_init_script(f"localStorage.setItem('almia.user', '{user}');")
    page = await context.new_page()
    await page.goto(f"http://127.0.0.1:{server.port}/")
    return page


async def answered(page: Any, count: int) -> Any:
    answer = page.locator(".message.assistant[data-done='true']").nth(count - 1)
    await answer.wait_for(timeout=60_000)
    return answer


async def test_author_submits_and_a_reviewer_approves_on_the_web_page(
        browser: Any, server: TestServer) -> None:
    author = await page_of(browser, server, "aline")
    text = brief("web:claire", "un").replace("canaux: [email, sms]", "canaux: [email]")
    await author.fill("#question", "/almia campagne nouvelle\n" + text)
    await author.click("#send")
    created = await answered(author, 1)
    card = created.locator(".card")
    assert "version 1 (brouillon)" in await card.locator(".card-title").inner_text()
    reference = await card.locator(".card-facts dd").first.inner_text()
    await card.get_by_role("button", name="📨 Soumettre à relecture").click()
    submitted = await answered(author, 2)
    assert "envoyée en relecture à web:claire" in await submitted.inner_text()

    reviewer = await page_of(browser, server, "claire")
    await reviewer.fill("#question", f"/almia campagne voir {reference}")
    await reviewer.click("#send")
    shown = await answered(reviewer, 1)
    review = shown.locator(".card")
    assert "ORIAS" in await shown.inner_text()
    await review.locator("textarea[name=comment]").fill("Parfait")
    ARTIFACTS.mkdir(exist_ok=True)
    await reviewer.screenshot(path=str(ARTIFACTS / "campaign-review-desktop.png"))
    await review.get_by_role("button", name="✅ Approuver").click()
    decided = await answered(reviewer, 2)
    assert "approuvée" in await decided.inner_text()
    assert await decided.get_by_role("button", name="📦 Exporter").count() == 1

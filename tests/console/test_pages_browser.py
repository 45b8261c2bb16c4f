"""Every console page in headless Chromium, as the governance committee uses it.

Screenshots at desktop (1280×800) and phone (390×844) widths land in ``tests/artifacts/``;
each page has a test reading a figure on it and checking it against the store.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import RUNTIME, build_app
from bot.governance.policy import load_policy
from bot.settings import Settings
from bot.store import Store
from tests.adapters.test_web_browser import CHROMIUM, DESKTOP, PHONE
from tests.conftest import FakeSearch
from tests.console.conftest import admin_link, scalar, seed

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Debian chromium is not installed (CI installs it)"),
]


@dataclass
class Running:
    base: str
    store: Store
    settings: Settings


@pytest.fixture
async def running(settings: Settings) -> AsyncIterator[Running]:
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await seed(app[RUNTIME].store)
        yield Running(f"http://127.0.0.1:{server.port}", app[RUNTIME].store, settings)
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield launched
        await launched.close()


async def _signed_in(browser: Any, running: Running, viewport: dict[str, int]) -> Any:
    """A page signed in through the one-time link, as `almia admin link` prints it."""
    context = await browser.new_context(viewport=viewport, locale="fr-FR")
    page = await context.new_page()
    token = await admin_link(running.store)
    await page.goto(f"{running.base}/console/auth/link?token={token}")
    await page.click("#open-session")
    await page.wait_for_url("**/console/usage")
    return page


async def _shoot(page: Any, name: str, viewport: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"console-{name}-{viewport}.png"), full_page=True)


async def _figure(page: Any, selector: str) -> int:
    text = await page.locator(selector).first.inner_text()
    return int(text.replace("\u202f", "").replace(",", "").strip())


async def test_usage_page_figures_match_the_store(browser: Any, running: Running) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await _signed_in(browser, running, viewport)
        await page.wait_for_function("document.querySelector('canvas[data-chart=activity]')"
                                     ".getBoundingClientRect().height > 0")
        messages = await scalar(running.store,
                                "SELECT count(*) FROM audit_events WHERE action = 'message'")
        people = await scalar(running.store, "SELECT count(DISTINCT user_id) FROM audit_events "
                              "WHERE action = 'message'")
        calls = await scalar(running.store, "SELECT count(*) FROM usage_events "
                             "WHERE model_alias = 'interne-mistral'")
        assert await _figure(page, "[data-figure=messages]") == messages == 8
        assert await _figure(page, "[data-figure=people]") == people == 4
        assert await _figure(page, "#models tr[data-alias=interne-mistral] [data-calls]") == calls
        assert await _figure(page, "#use-cases tr[data-name=qa] [data-uses]") == 3
        assert await page.locator("h1").inner_text() == "Utilisation"
        if viewport == PHONE:  # rows become labelled cards: no figure hides sideways
            assert await page.evaluate(
                "[...document.querySelectorAll('main table')].every("
                "t => t.scrollWidth <= t.parentElement.clientWidth)")
            uses = page.locator("#use-cases tr[data-name=qa] [data-uses]")
            assert await uses.get_attribute("data-label") == "Utilisations"
        await _shoot(page, "usage", name)
        await page.context.close()


async def test_usage_page_in_english_with_filters(browser: Any, running: Running) -> None:
    page = await _signed_in(browser, running, DESKTOP)
    await page.goto(f"{running.base}/console/usage?lang=en&period=7d")
    assert await page.locator("h1").inner_text() == "Usage"
    messages = await scalar(running.store, "SELECT count(*) FROM audit_events "
                            "WHERE action = 'message'")
    assert await _figure(page, "[data-figure=messages]") == messages == 8
    await _shoot(page, "usage-en", "desktop")
    # Slack: one person, under the minimum group size (5): no figure, a notice instead
    await page.goto(f"{running.base}/console/usage?lang=en&channel=slack&period=7d")
    slack = await scalar(running.store, "SELECT count(DISTINCT user_id) FROM audit_events "
                         "WHERE action = 'message' AND channel = 'slack'")
    assert slack == 1
    notice = await page.locator("#withheld").inner_text()
    assert notice.startswith("Fewer than 5 people match these filters")
    assert await page.locator("[data-figure]").count() == 0
    assert await page.locator("table").count() == 0
    await _shoot(page, "usage-withheld", "desktop")


async def test_protection_page_figures_match_the_store(browser: Any, running: Running) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await _signed_in(browser, running, viewport)
        await page.goto(f"{running.base}/console/protection")
        quota = await scalar(running.store, "SELECT count(*) FROM audit_events "
                             "WHERE outcome = 'quota_exceeded'")
        charter = await scalar(running.store, "SELECT count(*) FROM charter_acceptances "
                               "WHERE version = '2026-11'")
        assert await _figure(page, "#refusals tr[data-outcome=quota_exceeded] [data-count]") \
            == quota == 2
        assert await _figure(page, "#charter tr[data-version='2026-11'] [data-people]") \
            == charter == 2
        assert await _figure(page, "#findings tr[data-kind=email] [data-total]") == 2
        assert "Aucune donnée confidentielle" in await page.locator("#class-proof").inner_text()
        await _shoot(page, "protection", name)
        await page.context.close()


async def test_audit_page_searches_verifies_and_shows_a_record(
        browser: Any, running: Running) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await _signed_in(browser, running, viewport)
        await page.goto(f"{running.base}/console/audit?action=message&user=teams:bob")
        found = await scalar(running.store, "SELECT count(*) FROM audit_events "
                             "WHERE action = 'message' AND user_id = 'teams:bob'")
        assert await _figure(page, "[data-figure=audit-total]") == found == 2
        await _shoot(page, "audit", name)
        await page.click("#verify")
        result = page.locator("#verify-result")
        assert "Chaîne intacte" in await result.inner_text()
        head = await scalar(running.store, "SELECT prev_hash FROM audit_events "
                            "WHERE action = 'console_verify' ORDER BY id DESC LIMIT 1")
        assert head in await result.inner_text()
        await _shoot(page, "audit-verified", name)
        await page.goto(f"{running.base}/console/audit/record/1")
        assert "Maillon intact" in await page.locator("#link-status").inner_text()
        labels = await page.locator("dl.record dt").all_inner_texts()
        assert labels[0].split() == ["Date", "(UTC)", "created_at"]  # named, and the column
        assert "Empreinte précédente prev_hash" in [" ".join(label.split()) for label in labels]
        await _shoot(page, "audit-record", name)
        await page.context.close()


async def test_purge_from_the_console_with_confirmation(browser: Any, running: Running) -> None:
    page = await _signed_in(browser, running, DESKTOP)
    await page.goto(f"{running.base}/console/audit")
    await page.fill("#purge-user", "teams:alice")
    await page.fill("#purge-confirm", "teams:alice")
    await page.click("#purge")
    assert "Effacement fait" in await page.locator("#purge-result").inner_text()
    assert await scalar(running.store,
                        "SELECT count(*) FROM turns WHERE user_id = 'teams:alice'") == 0
    assert await scalar(running.store, "SELECT count(*) FROM audit_events "
                        "WHERE action = 'console_purge'") == 1
    await _shoot(page, "audit-purged", "desktop")


async def test_policy_page_shows_the_policy_with_sources(browser: Any, running: Running) -> None:
    loaded = load_policy(running.settings.resolved_policy_file, {})  # what the file says
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = await _signed_in(browser, running, viewport)
        await page.goto(f"{running.base}/console/policy")
        first = loaded.models[0]
        row = page.locator(f"#policy-models tr[data-alias='{first.alias}']")
        # the policy's words in the page's language (« interne », « confidentiel »)
        french = {"internal": "interne", "external": "externe", "public": "public",
                  "confidential": "confidentiel", "secret": "secret"}
        assert await row.locator("[data-hosting]").inner_text() == french[first.hosting]
        assert await row.locator("[data-clearance]").inner_text() == french[first.clearance]
        assert await row.locator(".source").inner_text() == "models[0]"
        assert str(running.settings.resolved_policy_file) in await page.locator("main").inner_text()
        version = page.locator("#policy-limits tr[data-key='charter.version'] [data-value]")
        assert running.settings.charter.version in await version.inner_text()
        await _shoot(page, "policy", name)
        await page.context.close()

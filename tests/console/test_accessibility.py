"""Accessibility of every console page: axe-core (WCAG 2 A and AA rules) in Chromium,
and the keyboard reaching the navigation and the filters."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.app import RUNTIME, build_app
from bot.settings import Settings
from tests.adapters.test_web_browser import CHROMIUM, DESKTOP, PHONE
from tests.conftest import FakeSearch
from tests.console.conftest import admin_link, seed

AXE = Path(__file__).with_name("axe") / "axe.min.js"
PAGES = ["/console/usage", "/console/protection", "/console/audit", "/console/audit/record/1",
         "/console/policy", "/console/login"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Debian chromium is not installed (CI installs it)"),
]


@pytest.fixture
async def base(settings: Settings) -> AsyncIterator[tuple[str, Any]]:
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await seed(app[RUNTIME].store)
        yield f"http://127.0.0.1:{server.port}", app[RUNTIME].store
    finally:
        await server.close()


async def test_no_wcag_violation_on_any_page(base: tuple[str, Any]) -> None:
    from playwright.async_api import Browser, async_playwright

    url, store = base

    async def check(browser: Browser, viewport: Any) -> None:
        # axe is injected as an inline script: the page's CSP would refuse it
        context = await browser.new_context(viewport=viewport, bypass_csp=True)
        page = await context.new_page()
        await page.goto(f"{url}/console/auth/link?token={await admin_link(store)}")
        await page.click("#open-session")
        await page.wait_for_url("**/console/usage")
        for path in PAGES:
            await page.goto(url + path)
            await page.add_script_tag(path=str(AXE))
            # every rule of these tags still runs; only passing checks are not itemised
            result = await page.evaluate(
                "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa'],"
                " resultTypes: ['violations']})")
            problems = [(violation["id"], [node["target"] for node in
                                           violation["nodes"]][:3])
                        for violation in result["violations"]]
            assert not problems, (path, viewport, problems)
        await context.close()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=["--no-sandbox", "--disable-gpu"])
        try:  # the two screen sizes side by side, each in its own browser context
            outcomes = await asyncio.gather(*(check(browser, viewport)
                                              for viewport in (DESKTOP, PHONE)),
                                            return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        finally:
            await browser.close()


async def test_the_keyboard_reaches_the_content_first(base: tuple[str, Any]) -> None:
    from playwright.async_api import async_playwright

    url, store = base
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=["--no-sandbox", "--disable-gpu"])
        try:
            page = await (await browser.new_context(viewport=DESKTOP)).new_page()
            await page.goto(f"{url}/console/auth/link?token={await admin_link(store)}")
            for _ in range(5):  # skip link, language link, then « Ouvrir la session »
                await page.keyboard.press("Tab")
                if await page.evaluate("document.activeElement.id") == "open-session":
                    break
            await page.keyboard.press("Enter")
            await page.wait_for_url("**/console/usage")
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.className") == "skip"
            await page.keyboard.press("Enter")
            await page.keyboard.press("Tab")
            focused = await page.evaluate("document.activeElement.name")
            assert focused == "period"  # after the skip link: the first filter
        finally:
            await browser.close()

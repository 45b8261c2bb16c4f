"""End to end, as a person would: headless Chromium on the chat page, real knowledge base.

Uses Debian's chromium through Playwright's ``executable_path`` (no browser download).
The screenshot lands in ``tests/artifacts/web_chat.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import build_app
from bot.settings import Settings
from knowledge import KnowledgeBase

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SAMPLES = Path(__file__).resolve().parents[2] / "knowledge" / "samples"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Debian chromium is not installed (CI installs it)"),
]


async def test_ask_a_question_and_open_a_citation(settings: Settings) -> None:
    from playwright.async_api import async_playwright

    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge)
    report = await knowledge.ingest([SAMPLES], "documents-exemple", company_wide=True)
    assert not report.failed
    server = TestServer(build_app(settings, knowledge=knowledge), host="127.0.0.1")
    await server.start_server()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"],
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(f"http://127.0.0.1:{server.port}/")
            await page.fill("#question", "Dans quel délai faut-il déclarer un dégât des eaux ?")
            await page.click("#send")
            answer = page.locator(".message.assistant[data-done='true']")
            await answer.wait_for(timeout=60_000)
            text = await answer.inner_text()
            assert "D'après les documents" in text
            await page.locator(".message.assistant .citation").first.click()
            source = page.locator("#source")
            await source.wait_for(state="visible")
            assert (await page.locator("#source-text").inner_text()).strip()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "web_chat.png"), full_page=True)
            await page.locator(".feedback button").first.click()
            await page.wait_for_selector(".feedback button[aria-pressed='true']")
            await browser.close()
    finally:
        await server.close()

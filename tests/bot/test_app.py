"""The wiring point: what ``build_app`` starts with the application."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.i18n import Text
from bot.messages import Reply, ReplyEvent
from bot.settings import Settings
from bot.skills import Skill, SkillRequest
from skills import SkillServices, build_skills
from tests.conftest import FakeSearch


class _Warming:
    """A skill whose ``warm_up`` notes the thread it ran on (or fails, when told to)."""

    title = Text("Essai", "Test")
    description = Text("Essai.", "Test.")
    commands: tuple[str, ...] = ()
    model_roles: tuple[str, ...] = ()

    def __init__(self, name: str, fail: bool = False) -> None:
        self.name = name
        self._fail = fail
        self.warmed = threading.Event()
        self.thread: int | None = None

    def warm_up(self) -> None:
        self.thread = threading.get_ident()
        self.warmed.set()
        if self._fail:
            raise RuntimeError("model file missing")

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        yield Reply("ok", locale=request.locale)


async def test_skills_warm_up_at_start_off_the_event_loop_and_a_failure_stops_nothing(
        settings: Settings) -> None:
    warming, failing = _Warming("warming"), _Warming("failing", fail=True)

    def skills(services: SkillServices) -> list[Skill]:
        return [*build_skills(services), warming, failing]

    app = build_app(settings, knowledge=FakeSearch(), skill_factory=skills)  # type: ignore[arg-type]
    client: TestClient = TestClient(TestServer(app, host="127.0.0.1"))  # type: ignore[type-arg]
    await client.start_server()
    try:
        for skill in (warming, failing):
            assert await asyncio.to_thread(skill.warmed.wait, 60)
        assert warming.thread is not None and warming.thread != threading.get_ident()
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()

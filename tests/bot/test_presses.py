"""A card button pressed again while its first press is still handled runs once: in
memory, in Redis across replicas, and in the core pipeline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.app import Runtime, build_runtime
from bot.messages import Action, Channel, Message, ReplyEvent, Space, User
from bot.presses import MemoryPresses, RedisPresses, press_key
from bot.settings import Settings
from bot.skills import Skill, SkillRequest
from skills import SkillServices, build_skills
from tests.conftest import FakeSearch

REDIS_URL = "redis://127.0.0.1:6379/0"


def _press(user: str = "web:alice", **values: str) -> Message:
    return Message(text="", user=User(user), space=Space("web:default"), channel=Channel.WEB,
                   thread_id="t1", action=Action("campaigns:decide",
                                                 values or {"campaign": "c0ffee"}))


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_same_press_runs_once_while_it_is_handled() -> None:
    clock = _Clock()
    presses = MemoryPresses(hold_seconds=600, clock=clock)
    assert await presses.first(_press())
    assert not await presses.first(_press())  # a double click while the first runs
    assert await presses.first(_press(campaign="c0ffee", text="autre texte"))  # other values
    assert await presses.first(_press(user="web:bob"))  # someone else
    await presses.release(_press())  # answered: it may be pressed again
    assert await presses.first(_press())
    clock.now = 601.0  # a claim its process never released expires
    assert await presses.first(_press())
    plain = Message(text="bonjour", user=User("web:alice"), space=Space("web:default"),
                    channel=Channel.WEB, thread_id="t1")
    assert await presses.first(plain) and await presses.first(plain)  # messages are not presses


async def test_replicas_share_presses_through_redis() -> None:
    user = f"web:{uuid.uuid4().hex}"  # a run of its own in the shared Redis
    one, two = RedisPresses(REDIS_URL), RedisPresses(REDIS_URL)
    try:
        assert await one.first(_press(user))
        assert not await two.first(_press(user))  # the second click reached another replica
        key = press_key(_press(user))
        assert user not in key and "c0ffee" not in key  # the key names no one and no value
        redis = Redis.from_url(REDIS_URL)
        try:
            assert 0 < await redis.ttl(key) <= 600
            await two.release(_press(user))  # answered on the other replica
            assert not await redis.exists(key)
            assert await one.first(_press(user))
        finally:
            await redis.aclose()
    finally:
        await one.close()
        await two.close()


async def test_presses_fall_back_to_memory_without_redis() -> None:
    presses = RedisPresses("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        assert await presses.first(_press())
        assert not await presses.first(_press())
        await presses.release(_press())
        assert await presses.first(_press())
    finally:
        await presses.close()


class Gated:
    """The campaigns skill, holding each press until the test lets it go on."""

    def __init__(self, inner: Skill) -> None:
        self._inner = inner
        self.started = asyncio.Event()
        self.going = asyncio.Event()
        self.going.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        self.started.set()
        await self.going.wait()
        async for event in self._inner.handle(request):
            yield event


@pytest.fixture
async def gated(settings: Settings) -> AsyncIterator[tuple[Runtime, Gated]]:
    settings.charter.enabled = False
    made: list[Gated] = []

    def skills(services: SkillServices) -> list[Any]:
        made.extend(Gated(skill) for skill in build_skills(services) if skill.name == "campaigns")
        return [made[0] if skill.name == "campaigns" else skill
                for skill in build_skills(services)]

    built = build_runtime(settings, knowledge=FakeSearch(),  # type: ignore[arg-type]
                          skill_factory=skills)
    await built.start()
    yield built, made[0]
    await built.close()


async def test_a_press_repeated_while_handled_gets_a_notice_not_a_second_run(
        gated: tuple[Runtime, Gated]) -> None:
    runtime, skill = gated
    first = await runtime.assistant.answer(_press())
    assert first.kind == "error" and "c0ffee" in first.text  # the skill ran: no such campaign
    again = await runtime.assistant.answer(_press())  # answered: it may be pressed again
    assert again.kind == "error" and "c0ffee" in again.text
    skill.going.clear()
    skill.started.clear()
    one = asyncio.create_task(runtime.assistant.answer(_press()))
    await skill.started.wait()
    skill.started.clear()
    repeated = await runtime.assistant.answer(_press())  # a second click meanwhile
    assert repeated.kind == "info" and "déjà en cours de traitement" in repeated.text
    assert not skill.started.is_set(), "the skill did not run for the second click"
    skill.going.set()
    assert "c0ffee" in (await one).text
    assert "c0ffee" in (await runtime.assistant.answer(_press())).text  # released once answered

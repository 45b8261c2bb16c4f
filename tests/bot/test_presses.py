"""A card button pressed twice in a row runs once: in memory, in Redis across replicas,
and in the core pipeline."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.app import Runtime, build_runtime
from bot.messages import Action, Channel, Message, Space, User
from bot.presses import MemoryPresses, RedisPresses, press_key
from bot.settings import Settings
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


async def test_the_same_press_twice_within_the_window_runs_once() -> None:
    clock = _Clock()
    presses = MemoryPresses(window_seconds=20, clock=clock)
    assert await presses.first(_press())
    assert not await presses.first(_press())  # a double click
    assert await presses.first(_press(campaign="c0ffee", text="autre texte"))  # other values
    assert await presses.first(_press(user="web:bob"))  # someone else
    clock.now = 21.0
    assert await presses.first(_press())  # later: a new press
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
            assert 0 < await redis.ttl(key) <= 20
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
    finally:
        await presses.close()


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    settings.charter.enabled = False
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    yield built
    await built.close()


async def test_a_repeated_press_gets_a_notice_not_a_second_run(runtime: Runtime) -> None:
    first = await runtime.assistant.answer(_press())
    assert first.kind == "error" and "c0ffee" in first.text  # the skill ran: no such campaign
    again = await runtime.assistant.answer(_press())
    assert again.kind == "info" and "déjà d'être pris en compte" in again.text
    other = await runtime.assistant.answer(_press(campaign="c0ffee", comment="vu"))
    assert other.kind == "error" and "c0ffee" in other.text

"""Claims of Slack deliveries: all keys or none, once per TTL, in memory and in Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.slack_dedupe import Deduplicator, MemoryDeduplicator, RedisDeduplicator

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def dedupe(request: pytest.FixtureRequest) -> AsyncIterator[Deduplicator]:
    made: Deduplicator
    if request.param == "memory":
        made = MemoryDeduplicator()
    else:
        made = RedisDeduplicator(REDIS_URL, ttl_seconds=60,
                                 prefix=f"almia:test:{uuid.uuid4().hex}:")
    yield made
    await made.close()


async def test_a_key_is_claimed_once(dedupe: Deduplicator) -> None:
    assert await dedupe.claim("Ev1")
    assert not await dedupe.claim("Ev1")
    assert await dedupe.claim("Ev2")


async def test_a_claim_of_several_keys_takes_all_or_none(dedupe: Deduplicator) -> None:
    assert await dedupe.claim("Ev1", "msg:T1:C1:1.0")
    # a repeat of either key is a duplicate, and its other key is not taken
    assert not await dedupe.claim("Ev2", "msg:T1:C1:1.0")
    assert not await dedupe.claim("Ev1", "msg:T1:C2:2.0")
    assert await dedupe.claim("Ev2")
    assert await dedupe.claim("msg:T1:C2:2.0")


async def test_no_key_is_a_first_time(dedupe: Deduplicator) -> None:
    assert await dedupe.claim()


async def test_deliveries_claimed_side_by_side_have_exactly_one_winner(
        dedupe: Deduplicator) -> None:
    """The multi-replica bug: retries of one message claimed concurrently, keys in either
    order, must leave one delivery to answer (never none, never two)."""
    for message in range(20):
        keys = (f"Ev{message}", f"msg:T1:C1:{message}.0")
        claims = [dedupe.claim(*(keys if turn % 2 else keys[::-1])) for turn in range(6)]
        results = await asyncio.gather(*claims)
        assert results.count(True) == 1, (message, results)


async def test_unreachable_redis_falls_back_to_memory() -> None:
    dedupe = RedisDeduplicator("redis://127.0.0.1:1/0", ttl_seconds=60)
    try:
        assert await dedupe.claim("Ev1", "msg:T1:C1:1.0")
        assert not await dedupe.claim("msg:T1:C1:1.0")
    finally:
        await dedupe.close()


async def test_memory_claims_are_bounded_and_expire() -> None:
    now = [0.0]
    dedupe = MemoryDeduplicator(ttl_seconds=10, max_entries=2, clock=lambda: now[0])
    assert await dedupe.claim("a") and not await dedupe.claim("a")
    assert await dedupe.claim("b") and await dedupe.claim("c")  # "a" evicted (size)
    assert await dedupe.claim("a")
    now[0] = 11.0
    assert await dedupe.claim("c")  # expired

"""Counter stores: a message's checks and counts applied at once, in order, stopping at the
first refusal (in this process and in Redis, where it is one script: one round trip)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from bot.governance.quotas import Charge, CounterStore, MemoryCounters, RedisCounters

_DAY = 86_400


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    redis = RedisCounters("redis://127.0.0.1:6379/0")
    try:
        yield redis
    finally:
        await redis.close()


async def test_charges_stop_at_the_first_refusal(counters: CounterStore) -> None:
    prefix = f"test-charge-{uuid.uuid4().hex[:8]}"
    tokens, user, space = f"{prefix}:tokens", f"{prefix}:user", f"{prefix}:space"
    admit = [Charge(tokens, 10), Charge(user, 2, 1), Charge(space, 3, 1)]
    assert await counters.charge(admit, _DAY) is None
    assert await counters.charge(admit, _DAY) is None
    assert await counters.charge(admit, _DAY) == 1  # the user's third request
    assert (await counters.get(user), await counters.get(space)) == (3, 2)  # space left alone
    assert await counters.charge([Charge(tokens, None, 10)], _DAY) is None  # never refused
    assert await counters.charge(admit, _DAY) == 0  # tokens spent: nothing counted
    assert (await counters.get(tokens), await counters.get(user)) == (10, 3)


async def test_an_added_counter_is_given_its_time_to_live_once(counters: CounterStore) -> None:
    key = f"test-expiry-{uuid.uuid4().hex[:8]}"
    assert await counters.charge([Charge(key, None, 5)], 3600) is None
    assert await counters.charge([Charge(key, None, 5)], 7200) is None  # NX: not pushed back
    assert await counters.get(key) == 10
    if isinstance(counters, RedisCounters):
        ttl = await counters._redis.ttl(key)
        assert 0 < ttl <= 3600

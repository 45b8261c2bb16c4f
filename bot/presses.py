"""A card button pressed again while its first press is still being handled runs once.

Slack and Teams send every click, and Almia acknowledges at once, so a second click on
« Créer » while the first one drafts (a double click, an impatient second press) would
create a second campaign. A press is claimed, under a digest of who pressed, where, which
action and with which values, until its answer is given: the same press meanwhile gets a
short notice instead of a second run. Once answered, the button may be pressed again (the
skill then says what changed: « already approved », « too late, version 3 »…), and a press
with other values (another text typed into the card) is a new press. With Redis configured
the claim is shared by every replica (``SET NX EX``, bounded by ``hold_seconds`` should its
replica die); otherwise, and when Redis cannot be reached (logged), this process's memory
holds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from bot.messages import Message

log = logging.getLogger(__name__)

PRESS_HOLD_SECONDS = 600  # at most: a replica that dies mid-answer releases nothing


class PressGuard(Protocol):
    """Says whether a press is the only one of its kind under way."""

    async def first(self, message: Message) -> bool:
        """True (and the press claimed) for a new press; False while the same press is
        still being handled."""
        ...

    async def release(self, message: Message) -> None:
        """The press was answered: it may be pressed again."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def press_key(message: Message) -> str:
    """The press's claim key: a digest naming no one and carrying no value."""
    action = message.action
    assert action is not None
    material = json.dumps([message.user.id, message.space.id, action.name,
                           sorted(action.values.items())], ensure_ascii=False)
    return "almia:press:" + hashlib.sha256(material.encode("utf-8")).hexdigest()


class MemoryPresses:
    """Claims in this process's memory (bounded in size and time)."""

    def __init__(self, hold_seconds: float = PRESS_HOLD_SECONDS,
                 max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._hold = hold_seconds
        self._max = max_entries
        self._clock = clock
        self._claims: OrderedDict[str, float] = OrderedDict()

    async def first(self, message: Message) -> bool:
        """See :meth:`PressGuard.first`."""
        if message.action is None:
            return True
        now = self._clock()
        while self._claims:
            oldest, until = next(iter(self._claims.items()))
            if until > now and len(self._claims) <= self._max:
                break
            del self._claims[oldest]
        key = press_key(message)
        if key in self._claims:
            return False
        self._claims[key] = now + self._hold
        return True

    async def release(self, message: Message) -> None:
        """See :meth:`PressGuard.release`."""
        if message.action is not None:
            self._claims.pop(press_key(message), None)

    async def close(self) -> None:
        """Nothing to release."""


class RedisPresses:
    """Claims shared by every replica through Redis; memory when Redis is away."""

    def __init__(self, url: str, hold_seconds: int = PRESS_HOLD_SECONDS) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._hold = hold_seconds
        self._fallback = MemoryPresses(hold_seconds)

    async def first(self, message: Message) -> bool:
        """See :meth:`PressGuard.first`."""
        from redis.exceptions import RedisError

        if message.action is None:
            return True
        try:
            return bool(await self._redis.set(press_key(message), b"1", nx=True,
                                              ex=self._hold))
        except (RedisError, OSError) as error:
            log.warning("button presses claimed in memory only (Redis: %s)",
                        type(error).__name__)
            return await self._fallback.first(message)

    async def release(self, message: Message) -> None:
        """See :meth:`PressGuard.release`."""
        from redis.exceptions import RedisError

        if message.action is None:
            return
        await self._fallback.release(message)
        try:
            await self._redis.delete(press_key(message))
        except (RedisError, OSError) as error:
            log.warning("a button press not released in Redis (%s); it expires by itself",
                        type(error).__name__)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


__all__ = ["PRESS_HOLD_SECONDS", "MemoryPresses", "PressGuard", "RedisPresses", "press_key"]

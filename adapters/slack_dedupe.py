"""De-duplication of Slack deliveries (retries carry the same ``event_id``).

With Redis (``settings.redis_url``) the claim is shared by every replica
(``SET key 1 NX EX ttl``); without it, each adapter keeps a bounded in-memory TTL map.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Deduplicator(Protocol):
    """Answers "is this the first time we see ``key``?" exactly once per key and TTL."""

    async def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed, False for every repeat within the TTL."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryDeduplicator:
    """A per-process claim map, bounded in size and time."""

    def __init__(self, ttl_seconds: float = 3600.0, max_entries: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def claim(self, key: str) -> bool:
        """Atomic within the event loop: no await between the check and the set."""
        now = self._clock()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now + self._ttl
        return True

    async def close(self) -> None:
        """Nothing to release."""
        self._seen.clear()


class RedisDeduplicator:
    """Claims shared by every replica through Redis ``SET NX EX``.

    If Redis is unreachable the claim falls back to memory (logged): a possible
    duplicate across replicas is better than a lost message.
    """

    def __init__(self, url: str, ttl_seconds: int = 3600,
                 prefix: str = "almia:slack:seen:") -> None:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)

        self._redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._fallback = MemoryDeduplicator(float(ttl_seconds))

    async def claim(self, key: str) -> bool:
        """SET NX EX on the shared store."""
        try:
            return bool(await self._redis.set(self._prefix + key, b"1", nx=True, ex=self._ttl))
        except self._errors as error:
            log.warning("Redis de-duplication unavailable (%s); using memory", error)
            return await self._fallback.claim(key)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def build_deduplicator(redis_url: str | None) -> Deduplicator:
    """Redis when configured, memory otherwise."""
    if redis_url:
        return RedisDeduplicator(redis_url)
    return MemoryDeduplicator()

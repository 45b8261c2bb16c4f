"""De-duplication of Slack deliveries (retries carry the same ``event_id``).

A delivery is claimed under several keys at once (its ``event_id`` and the message it
carries), all or nothing: claiming them one by one let two deliveries of one message,
handled side by side on two replicas, each win one key and both give up.

With Redis (``settings.redis_url``) the claim is shared by every replica (one Lua script:
``SET key 1 EX ttl`` for every key when none exists); without it, each adapter keeps a
bounded in-memory TTL map.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Deduplicator(Protocol):
    """Answers "is this the first time we see any of ``keys``?" once per key and TTL."""

    async def claim(self, *keys: str) -> bool:
        """True, and every key taken, when none of ``keys`` was claimed within the TTL;
        False, and nothing taken, otherwise (one atomic step)."""
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

    async def claim(self, *keys: str) -> bool:
        """Atomic within the event loop: no await between the check and the set."""
        now = self._clock()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) + len(keys) <= self._max:
                break
            del self._seen[oldest]
        if any(key in self._seen for key in keys):
            return False
        for key in keys:
            self._seen[key] = now + self._ttl
        return True

    async def close(self) -> None:
        """Nothing to release."""
        self._seen.clear()


_CLAIM_ALL = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, '1', 'EX', ARGV[1])
end
return 1
"""


class RedisDeduplicator:
    """Claims shared by every replica through one Redis script (all keys or none).

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
        self._claim_all = self._redis.register_script(_CLAIM_ALL)

    async def claim(self, *keys: str) -> bool:
        """The script on the shared store (Redis runs a script as one step)."""
        if not keys:
            return True
        try:
            taken = await self._claim_all(keys=[self._prefix + key for key in keys],
                                          args=[self._ttl])
        except self._errors as error:
            log.warning("Redis de-duplication unavailable (%s); using memory", error)
            return await self._fallback.claim(*keys)
        return bool(taken)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def build_deduplicator(redis_url: str | None) -> Deduplicator:
    """Redis when configured, memory otherwise."""
    if redis_url:
        return RedisDeduplicator(redis_url)
    return MemoryDeduplicator()

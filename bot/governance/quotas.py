"""Daily request and token budgets per user and per space.

Counters live in Redis when ``ALMIA_REDIS_URL`` is set (shared by every replica), else
in this process. When the counter store cannot answer, requests are refused and the
user is told why (fail safe): a budget that cannot be checked is not enforced blindly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.messages import Message

_DAY_SECONDS = 86_400


class Budget(BaseModel):
    """Limits for one day; None means unlimited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_day: int | None = Field(default=None, ge=1)
    tokens_per_day: int | None = Field(default=None, ge=1)


class QuotaPolicy(BaseModel):
    """The ``quotas`` section of the policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: Budget = Budget()
    space: Budget = Budget()

    @property
    def unlimited(self) -> bool:
        """True when no budget is set at all."""
        return not any((self.user.requests_per_day, self.user.tokens_per_day,
                        self.space.requests_per_day, self.space.tokens_per_day))


@dataclass(frozen=True, slots=True)
class Charge:
    """One counter of a :meth:`CounterStore.charge`: ``amount`` 0 only compares (refused once
    the total has reached ``limit``); else ``amount`` is added, refused when the new total
    is over ``limit``. ``limit`` None never refuses."""

    key: str
    limit: int | None
    amount: int = 0


class CounterStore(Protocol):
    """Where counters are kept."""

    async def charge(self, charges: Sequence[Charge], ttl_seconds: int) -> int | None:
        """Apply ``charges`` in order, atomically, and stop at the first refused one: its
        index (the counters after it are left alone), or None when none was refused.
        Added counters expire ``ttl_seconds`` after they were first set."""
        ...

    async def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        """Add ``amount`` and return the new total (the key expires after ``ttl_seconds``)."""
        ...

    async def get(self, key: str) -> int:
        """The current total (0 when absent)."""
        ...


class CounterUnavailable(Exception):
    """The counter store did not answer."""


class MemoryCounters:
    """Counters in this process (the embedded, single-process default)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, float]] = {}

    async def charge(self, charges: Sequence[Charge], ttl_seconds: int) -> int | None:
        """See :meth:`CounterStore.charge` (atomic: nothing awaits in between)."""
        for index, charge in enumerate(charges):
            if charge.amount == 0:
                total = await self.get(charge.key)
                if charge.limit is not None and total >= charge.limit:
                    return index
                continue
            total = await self.add(charge.key, charge.amount, ttl_seconds)
            if charge.limit is not None and total > charge.limit:
                return index
        return None

    async def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        """Add and return the total."""
        now = time.monotonic()
        self._values = {k: v for k, v in self._values.items() if v[1] > now}
        total = self._values.get(key, (0, 0.0))[0] + amount
        self._values[key] = (total, now + ttl_seconds)
        return total

    async def get(self, key: str) -> int:
        """The total, 0 once expired."""
        value, expires = self._values.get(key, (0, 0.0))
        return value if expires > time.monotonic() else 0


# KEYS: the counters; ARGV: the time to live, then per counter its limit (-1: none) and
# amount (0: compared only). Returns the 1-based index of the refused counter, else 0.
_CHARGE_SCRIPT = """
local ttl = ARGV[1]
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local amount = tonumber(ARGV[2 * i + 1])
  if amount == 0 then
    if limit >= 0 and tonumber(redis.call('GET', key) or '0') >= limit then return i end
  else
    local total = redis.call('INCRBY', key, amount)
    redis.call('EXPIRE', key, ttl, 'NX')
    if limit >= 0 and total > limit then return i end
  end
end
return 0
"""


class RedisCounters:
    """Counters shared by every replica through Redis (INCRBY + EXPIRE, atomic).

    A message's checks and counts are one server-side script: one round trip to admit it,
    one to charge its tokens.
    """

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._charge = self._redis.register_script(_CHARGE_SCRIPT)

    async def charge(self, charges: Sequence[Charge], ttl_seconds: int) -> int | None:
        """See :meth:`CounterStore.charge` (a Lua script: atomic in Redis)."""
        from redis.exceptions import RedisError

        arguments: list[int] = [ttl_seconds]
        for charge in charges:
            arguments += [-1 if charge.limit is None else charge.limit, charge.amount]
        try:
            refused = await self._charge(keys=[charge.key for charge in charges],
                                         args=arguments)
        except (RedisError, OSError) as error:
            raise CounterUnavailable(type(error).__name__) from None
        return int(refused) - 1 if refused else None

    async def add(self, key: str, amount: int, ttl_seconds: int) -> int:
        """Add and return the total."""
        from redis.exceptions import RedisError

        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, amount)
                pipe.expire(key, ttl_seconds, nx=True)
                total, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            raise CounterUnavailable(type(error).__name__) from None
        return int(total)

    async def get(self, key: str) -> int:
        """The total."""
        from redis.exceptions import RedisError

        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as error:
            raise CounterUnavailable(type(error).__name__) from None
        return int(value or 0)

    async def close(self) -> None:
        """Release the connection pool."""
        await self._redis.aclose()


@dataclass(frozen=True, slots=True)
class QuotaExceeded(Exception):
    """A budget is spent for today."""

    scope: str  # "user" | "space"
    measure: str  # "requests" | "tokens"
    limit: int


class Quotas:
    """Checks and counts the budgets of each message."""

    def __init__(self, policy: QuotaPolicy, counters: CounterStore) -> None:
        self._policy = policy
        self._counters = counters

    def _keys(self, message: Message, measure: str) -> Sequence[tuple[str, str, int | None]]:
        day = datetime.now(UTC).strftime("%Y%m%d")
        return (
            ("user", f"almia:quota:{day}:user:{message.user.id}:{measure}",
             getattr(self._policy.user, f"{measure}_per_day")),
            ("space", f"almia:quota:{day}:space:{message.space.id}:{measure}",
             getattr(self._policy.space, f"{measure}_per_day")),
        )

    async def admit(self, message: Message) -> None:
        """Count one request; raise :class:`QuotaExceeded` if a budget is spent.

        Raises :class:`CounterUnavailable` when the counters cannot be read.
        """
        if self._policy.unlimited:
            return
        checks = [(scope, "tokens", Charge(key, limit))
                  for scope, key, limit in self._keys(message, "tokens") if limit is not None]
        checks += [(scope, "requests", Charge(key, limit, 1))
                   for scope, key, limit in self._keys(message, "requests") if limit is not None]
        refused = await self._counters.charge([charge for _, _, charge in checks],
                                              2 * _DAY_SECONDS)
        if refused is not None:
            scope, measure, charge = checks[refused]
            assert charge.limit is not None  # only limited counters are charged
            raise QuotaExceeded(scope, measure, charge.limit)

    async def spend_tokens(self, message: Message, tokens: int) -> None:
        """Count the tokens a message's model calls used."""
        if self._policy.unlimited or tokens <= 0:
            return
        charges = [Charge(key, None, tokens)
                   for _scope, key, limit in self._keys(message, "tokens") if limit is not None]
        if charges:
            await self._counters.charge(charges, 2 * _DAY_SECONDS)

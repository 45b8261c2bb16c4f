"""``/healthz`` (the process is alive) and ``/readyz`` (it can serve: started, not draining,
database, Redis, Chroma and at least one model reachable).

A load balancer or Kubernetes sends traffic only to ready replicas; liveness stays true
while a replica drains, so that it is not killed before its answers are finished. Checks run
concurrently, each bounded by ``ops.readiness_timeout_seconds``, and their result is reused
for one second (probes from many balancers do not multiply the load).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.governance.policy import ModelEntry

Check = Callable[[], Awaitable[str]]  # returns a short detail; raises when unhealthy
_REUSE_SECONDS = 1.0


class CheckFailed(Exception):
    """A dependency answered wrongly; the message is ours (statuses, aliases), shown as is."""


@dataclass
class Lifecycle:
    """Where the replica is in its life: starting → ready → draining."""

    started: bool = False
    draining: bool = False
    in_flight: int = 0
    drain_started: float | None = None

    @property
    def ready(self) -> bool:
        """True when new requests are welcome."""
        return self.started and not self.draining

    def drain(self) -> None:
        """Readiness goes false (first step of a graceful shutdown)."""
        if not self.draining:
            self.draining = True
            self.drain_started = time.monotonic()


@dataclass
class ReadinessReport:
    """What ``/readyz`` answers."""

    ready: bool
    checks: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"status": "ready" if self.ready else "not_ready", "checks": self.checks}


class Readiness:
    """Runs the dependency checks; ``required`` ones failing make the replica not ready."""

    def __init__(self, lifecycle: Lifecycle, checks: Mapping[str, Check],
                 *, optional: Sequence[str] = (), timeout: float = 2.0) -> None:
        self._lifecycle = lifecycle
        self._checks = dict(checks)
        self._optional = frozenset(optional)
        self._timeout = timeout
        self._last: tuple[float, ReadinessReport] | None = None
        self._lock = asyncio.Lock()

    async def report(self) -> ReadinessReport:
        """Current readiness (dependency checks reused for a second)."""
        if not self._lifecycle.started:
            return ReadinessReport(False, {"lifecycle": {"status": "fail",
                                                         "detail": "starting"}})
        if self._lifecycle.draining:
            return ReadinessReport(False, {"lifecycle": {"status": "fail",
                                                         "detail": "draining"}})
        async with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < _REUSE_SECONDS:
                return self._last[1]
            names = list(self._checks)
            outcomes = await asyncio.gather(*(self._run(self._checks[name]) for name in names))
            checks = dict(zip(names, outcomes, strict=True))
            ready = all(result["status"] == "ok" for name, result in checks.items()
                        if name not in self._optional)
            report = ReadinessReport(ready, checks)
            self._last = (now, report)
            return report

    async def _run(self, check: Check) -> dict[str, str]:
        try:
            async with asyncio.timeout(self._timeout):
                return {"status": "ok", "detail": await check()}
        except TimeoutError:
            return {"status": "fail", "detail": "timeout"}
        except CheckFailed as error:
            return {"status": "fail", "detail": str(error)}
        except Exception as error:  # noqa: BLE001 (a dependency down: reported by type, never its content)
            return {"status": "fail", "detail": type(error).__name__}


def database_check(engine: AsyncEngine) -> Check:
    """``SELECT 1`` through the store's pool."""

    async def check() -> str:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return engine.dialect.name

    return check


class RedisCheck:
    """``PING`` on the shared Redis (its own small client, closed with the app)."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def __call__(self) -> str:
        """Raise when Redis does not answer."""
        if not await self._redis.ping():
            raise CheckFailed("no PONG")
        return "pong"

    async def close(self) -> None:
        """Release the connection."""
        await self._redis.aclose()


def http_check(session: Callable[[], aiohttp.ClientSession], urls: Sequence[str],
               *, accept_any_status: bool = False) -> Check:
    """The first of ``urls`` that answers (2xx, or any status with ``accept_any_status``)."""

    async def check() -> str:
        failures = []
        for url in urls:
            try:
                async with session().get(url, allow_redirects=False) as response:
                    if accept_any_status or response.status < 300:
                        return f"HTTP {response.status}"
                    failures.append(f"HTTP {response.status}")
            except aiohttp.ClientError as error:
                failures.append(type(error).__name__)
        raise CheckFailed(", ".join(failures) or "no URL")

    return check


def chroma_urls(chroma_url: str) -> list[str]:
    """The heartbeat endpoints of a Chroma server (API v2, then v1)."""
    base = chroma_url.rstrip("/")
    return [f"{base}/api/v2/heartbeat", f"{base}/api/v1/heartbeat"]


def models_check(session: Callable[[], aiohttp.ClientSession],
                 models: Sequence[ModelEntry]) -> Check:
    """At least one of ``models`` (those the policy approves for a skill) can be reached.

    An in-process model (extractive) always can; a model with an ``api_base`` is probed
    (``GET <api_base>/models``: any HTTP answer proves the server is up); a hosted model
    without one (a public API) is not probed and counts as reachable.
    """
    local = [entry.alias for entry in models if entry.provider == "extractive"]
    remote = [entry for entry in models if entry.api_base and entry.provider != "extractive"]
    hosted = [entry.alias for entry in models
              if entry.provider != "extractive" and not entry.api_base]

    async def probe(entry: ModelEntry) -> bool:
        assert entry.api_base is not None
        try:
            await http_check(session, [entry.api_base.rstrip("/") + "/models"],
                             accept_any_status=True)()
        except CheckFailed:
            return False
        return True

    async def check() -> str:
        reached = await asyncio.gather(*(probe(entry) for entry in remote))
        up = [entry.alias for entry, ok in zip(remote, reached, strict=True) if ok]
        down = [entry.alias for entry, ok in zip(remote, reached, strict=True) if not ok]
        if not (up or local or hosted):
            raise CheckFailed("no model reachable: " + ", ".join(down))
        detail = f"up: {', '.join([*up, *local, *hosted]) or '-'}"
        return detail + (f"; down: {', '.join(down)}" if down else "")

    return check

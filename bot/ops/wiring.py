"""Puts the operations endpoints on the app: ``/healthz``, ``/readyz``, ``/metrics``, the
metrics middleware, the store observer, and the last flush before connections close."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware
from sqlalchemy import func, select

from bot.http_edge import problem
from bot.ops.health import (
    Check,
    Lifecycle,
    Readiness,
    RedisCheck,
    chroma_urls,
    database_check,
    http_check,
    models_check,
)
from bot.ops.logs import route_of
from bot.ops.metrics import CONTENT_TYPE, Metrics
from bot.store.file_tables import JobRecord

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Cleanup = Callable[[web.Application], Awaitable[None]]
_UNCOUNTED = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class Ops:
    """The replica's operations state, shared by its endpoints and its server loop."""

    lifecycle: Lifecycle
    metrics: Metrics | None
    readiness: Readiness


OPS = web.AppKey("ops", Ops)


def install(app: web.Application, runtime: Runtime, channels: list[str],
            *, before_cleanup: Cleanup) -> Ops:
    """Add the endpoints, middleware and hooks; ``before_cleanup`` is the app's clean-up that
    closes the store (the flush of answers being saved runs just before it)."""
    settings = runtime.settings
    lifecycle = Lifecycle()
    sessions: list[aiohttp.ClientSession] = []

    def session() -> aiohttp.ClientSession:
        if not sessions:
            sessions.append(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
                total=settings.ops.readiness_timeout_seconds)))
        return sessions[0]

    checks: dict[str, Check] = {"database": database_check(runtime.store.engine)}
    redis = RedisCheck(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        checks["redis"] = redis
    if settings.chroma_url:
        checks["chroma"] = http_check(session, chroma_urls(settings.chroma_url))
    approved = {alias for skill in runtime.policy.skills.values()
                for aliases in skill.roles.values() for alias in aliases}
    checks["models"] = models_check(session, [entry for entry in runtime.policy.models
                                              if entry.alias in approved])
    readiness = Readiness(lifecycle, checks, timeout=settings.ops.readiness_timeout_seconds)
    metrics = Metrics(settings.ops.metrics_dir) if settings.ops.metrics_enabled else None
    ops = Ops(lifecycle, metrics, readiness)
    app[OPS] = ops

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": channels,
                                  "draining": lifecycle.draining, "pid": os.getpid()})

    async def readyz(_request: web.Request) -> web.Response:
        report = await readiness.report()
        return web.json_response(report.as_json(), status=200 if report.ready else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics is not None:
        runtime.store.observers.append(metrics.observe)
        app.middlewares.append(_measure(metrics, lifecycle))
        token = settings.ops.metrics_token or settings.web.api_token
        expected = f"Bearer {token.get_secret_value()}".encode() if token else None

        async def scrape(request: web.Request) -> web.Response:
            if not _may_scrape(request, expected):
                return problem(401, "Jeton d'accès manquant ou invalide.",
                               "Missing or invalid access token.")
            try:
                metrics.set_jobs(await _job_counts(runtime))
            except Exception:
                log.exception("counting jobs for the metrics failed")
            try:
                metrics.set_inbox(await runtime.inbox.counts())
            except Exception:
                log.exception("counting kept chat messages for the metrics failed")
            body = await asyncio.to_thread(metrics.exposition)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

        app.router.add_get("/metrics", scrape)

    if settings.ops.tracing:
        from bot.ops.tracing import install as install_tracing

        install_tracing(app, runtime)

    async def started(_app: web.Application) -> None:
        lifecycle.started = True

    async def flush(_app: web.Application) -> None:
        lifecycle.drain()
        await runtime.assistant.settle_pending(settings.ops.shutdown_timeout_seconds)

    async def close(_app: web.Application) -> None:
        if redis is not None:
            await redis.close()
        for opened in sessions:
            await opened.close()

    app.on_startup.append(started)
    app.on_cleanup.insert(app.on_cleanup.index(before_cleanup), flush)
    app.on_cleanup.append(close)
    return ops


def _measure(metrics: Metrics, lifecycle: Lifecycle) -> Middleware:
    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = route_of(request)
        if route in _UNCOUNTED:
            return await handler(request)
        started = time.perf_counter()
        status = 500
        lifecycle.in_flight += 1
        metrics.in_flight.inc()
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            lifecycle.in_flight -= 1
            metrics.in_flight.dec()
            metrics.http_requests.labels(route, request.method, f"{status // 100}xx").inc()
            metrics.http_latency.labels(route).observe(time.perf_counter() - started)

    return measure


def _may_scrape(request: web.Request, expected: bytes | None) -> bool:
    """The bearer token when one is configured; else loopback clients only."""
    if expected is not None:
        given = request.headers.get("Authorization", "").encode("utf-8", "replace")
        return hmac.compare_digest(given, expected)
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def _job_counts(runtime: Runtime) -> dict[str, int]:
    jobs = JobRecord.__table__
    async with runtime.store.engine.connect() as connection:
        rows = (await connection.execute(
            select(jobs.c.state, func.count()).group_by(jobs.c.state))).all()
    counts = {"queued": 0, "running": 0}
    counts.update({str(state): int(count) for state, count in rows})
    return counts

"""Serving one process with a graceful shutdown.

SIGTERM (what Kubernetes, systemd and ``docker stop`` send): readiness goes false at once,
the listener stays open ``ops.drain_seconds`` so that balancers notice and stop sending
new requests, then it closes; requests and answer streams in flight get
``ops.shutdown_timeout_seconds`` to finish; answers still being stored are flushed
(usage and audit rows written); then jobs are handed back and pools closed.
SIGINT (Ctrl-C) skips the drain delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable

from aiohttp import web

from bot.ops.logs import RouteAccessLogger
from bot.ops.settings import OpsSettings
from bot.ops.wiring import OPS

log = logging.getLogger(__name__)
_YOUNG_GENERATION_THRESHOLD = 10_000  # allocations between two young collections


def run(app: web.Application, host: str, port: int, ops: OpsSettings, *,
        reuse_port: bool = False) -> None:
    """:func:`serve` on uvloop's event loop when it is installed (libuv: less CPU per request
    than asyncio's own loop), else on asyncio's."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(app, host, port, ops, reuse_port=reuse_port))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def serve(app: web.Application, host: str, port: int, ops: OpsSettings, *,
                reuse_port: bool = False,
                on_listening: Callable[[], None] | None = None) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then shut down gracefully."""
    lifecycle = app[OPS].lifecycle
    runner = web.AppRunner(app, handle_signals=False,
                           shutdown_timeout=ops.shutdown_timeout_seconds,
                           access_log_class=RouteAccessLogger)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def terminate() -> None:
        if lifecycle.draining:
            return
        log.info("SIGTERM: not ready any more; closing the listener in %.1f s",
                 ops.drain_seconds)
        lifecycle.drain()
        loop.call_later(ops.drain_seconds, stop.set)

    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        loop.add_signal_handler(signal.SIGTERM, terminate)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        _settle_garbage_collector()
        if on_listening is not None:
            on_listening()
        await stop.wait()
    finally:
        lifecycle.drain()
        started = loop.time()
        log.info("shutting down: %d request(s) in flight", lifecycle.in_flight)
        await runner.cleanup()  # stop accepting, finish in-flight, flush, close pools
        for number in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(number)
        log.info("stopped after %.1f s", loop.time() - started)


def _settle_garbage_collector() -> None:
    """Once started: what start-up allocated (modules, models, settings) moves out of the
    collector's sight, and the youngest generation is collected less often. A request
    allocates thousands of short-lived objects; with the default threshold (700) the
    collector ran many times per message, walking the long-lived start-up objects too."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_GENERATION_THRESHOLD, middle, oldest)

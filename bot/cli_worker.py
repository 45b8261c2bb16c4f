"""``almia worker``: runs jobs from the procrastinate queue until stopped (SIGTERM, Ctrl-C)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.settings import Settings

log = logging.getLogger(__name__)


class WorkerNotConfigured(Exception):
    """The settings do not name a queue to take jobs from."""


async def run_worker(settings: Settings, *, name: str | None = None) -> None:
    """Take jobs from the queue; on SIGTERM/SIGINT hand running ones back and stop."""
    from bot.app import build_runtime
    from bot.jobs.queue import ProcrastinateEngine

    if settings.jobs.engine != "procrastinate":
        raise WorkerNotConfigured(
            "almia worker needs ALMIA_JOBS__ENGINE=procrastinate and a PostgreSQL "
            "ALMIA_DATABASE_URL (with the embedded default, jobs run inside almia serve)")
    runtime = build_runtime(settings)
    engine = runtime.engine
    if not isinstance(engine, ProcrastinateEngine):
        raise WorkerNotConfigured("files are disabled: no job can run")
    await runtime.start(jobs=False)
    expiring = asyncio.create_task(runtime.expire_files())
    working = asyncio.create_task(engine.work(name=name))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, working.cancel)
    log.info("worker %s started", name or "")
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await working
    finally:
        expiring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await expiring
        await runtime.close()

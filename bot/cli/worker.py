"""``almia worker``: runs jobs from the procrastinate queue until stopped (SIGTERM, Ctrl-C)."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import signal

from bot.jobs.model import JobSpec, JobView
from bot.messages import Channel, Message, Space, User
from bot.settings import Settings

log = logging.getLogger(__name__)


class WorkerNotConfigured(Exception):
    """The settings do not name a queue to take jobs from."""


async def run_worker(settings: Settings, *, name: str | None = None) -> None:
    """Take jobs from the queue; on SIGTERM/SIGINT hand running ones back and stop."""
    from bot.app import build_runtime, enabled_adapters
    from bot.jobs.queue import ProcrastinateEngine

    if settings.jobs.engine != "procrastinate":
        raise WorkerNotConfigured(
            "almia worker needs ALMIA_JOBS__ENGINE=procrastinate and a PostgreSQL "
            "ALMIA_DATABASE_URL (with the embedded default, jobs run inside almia serve)")
    runtime = build_runtime(settings)
    engine = runtime.engine
    if not isinstance(engine, ProcrastinateEngine) or runtime.runner is None:
        raise WorkerNotConfigured("files are disabled: no job can run")
    if name:
        runtime.runner.worker_id = name
    for factory in enabled_adapters(settings):
        factory(runtime)  # each channel registers its job reporter (nothing is served)
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


async def run_probe(settings: Settings, *, steps: int, step_seconds: float,
                    wait: bool) -> JobView:
    """Queue a probe job (from the CLI's operator); with ``wait``, run until it ends."""
    from bot.app import build_runtime
    from bot.jobs.engine import InProcessEngine

    runtime = build_runtime(settings)
    if runtime.jobs is None:
        raise WorkerNotConfigured("files and jobs are disabled in the settings")
    inprocess = isinstance(runtime.engine, InProcessEngine)
    await runtime.start(jobs=inprocess and wait)
    try:
        operator = Message(text="", user=User(f"cli:{getpass.getuser()}"), space=Space("cli"),
                           channel=Channel.CLI, thread_id="probe")
        job = await runtime.jobs.start(
            JobSpec("jobs", "probe", {"steps": steps, "step_seconds": step_seconds},
                    title=f"Sonde ({steps} étapes)"), operator, "fr")
        while wait and not job.state.terminal:
            await asyncio.sleep(0.5)
            found = await runtime.jobs.jobs.get(job.id)
            job = found if found is not None else job
        return job
    finally:
        await runtime.close()

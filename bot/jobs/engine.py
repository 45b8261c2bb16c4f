"""Engines carry « run job X » to a runner: in-process (embedded default) or a procrastinate queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from bot.jobs.runner import JobRunner
from bot.jobs.settings import JobSettings
from bot.settings import Settings
from bot.store.jobs import JobStore

log = logging.getLogger(__name__)


class JobEngine(Protocol):
    """Where new jobs are sent to run."""

    async def submit(self, job_id: str) -> None:
        """Have the job run soon (on this process or any worker)."""
        ...

    async def start(self) -> None:
        """Begin running (in-process) or connect (queue)."""
        ...

    async def close(self) -> None:
        """Stop taking jobs; running ones are left to be retaken after their lease."""
        ...


class Sweeper:
    """Finds jobs nobody runs (a dead worker's, a lost submission) and undelivered results."""

    def __init__(self, jobs: JobStore, runner: JobRunner, settings: JobSettings) -> None:
        self._jobs = jobs
        self._runner = runner
        self._settings = settings

    async def sweep(self, submit: Submit) -> int:
        """Submit every runnable job and post every undelivered result; how many were found."""
        runnable, undelivered = await self._jobs.due()
        for job_id in runnable:
            await submit(job_id)
        for job_id in undelivered:
            await self._runner.deliver(job_id)
        return len(runnable) + len(undelivered)

    async def forever(self, submit: Submit) -> None:
        """Sweep every ``sweep_seconds`` until cancelled."""
        while True:
            try:
                await self.sweep(submit)
            except Exception:
                log.exception("job sweep failed; next one in %.0f s", self._settings.sweep_seconds)
            await asyncio.sleep(self._settings.sweep_seconds)


class Submit(Protocol):
    async def __call__(self, job_id: str) -> None: ...


class InProcessEngine:
    """Jobs run as tasks of this process, at most ``concurrency`` at once.

    At start-up and every ``sweep_seconds`` the store is swept: jobs left queued or running
    by a previous process (stopped, killed) are taken up again from their last checkpoint.
    """

    def __init__(self, runner: JobRunner, jobs: JobStore, settings: JobSettings) -> None:
        self._runner = runner
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._sweeper = Sweeper(jobs, runner, settings)
        self._sweeping: asyncio.Task[None] | None = None

    async def submit(self, job_id: str) -> None:
        if job_id in self._running:
            return
        self._running[job_id] = asyncio.create_task(self._run(job_id))

    async def _run(self, job_id: str) -> None:
        try:
            async with self._slots:
                await self._runner.run(job_id)
        except Exception:
            log.exception("job %s could not be run; the sweeper will retry", job_id)
        finally:
            self._running.pop(job_id, None)

    async def start(self) -> None:
        if self._sweeping is None:
            self._sweeping = asyncio.create_task(self._sweeper.forever(self.submit))

    async def idle(self) -> None:
        """Wait until no job runs in this process (tests, graceful shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def close(self) -> None:
        tasks = [task for task in (self._sweeping, *self._running.values()) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._sweeping = None


def build_engine(settings: Settings, runner: JobRunner, jobs: JobStore) -> JobEngine:
    """The engine the settings choose."""
    if settings.jobs.engine == "procrastinate":
        from bot.jobs.queue import ProcrastinateEngine

        return ProcrastinateEngine(settings, runner, jobs)
    return InProcessEngine(runner, jobs, settings.jobs)

"""The production engine: a procrastinate queue on PostgreSQL, run by ``almia worker`` processes.

Why procrastinate (over Celery, Dramatiq, arq, SAQ or taskiq): Almia's core is asyncio and
production already runs PostgreSQL, so a queue that is native asyncio and lives in that
database adds no broker to operate, shares its backups and transactions, and gives locks
(one run of a job at a time), worker heartbeats with stalled-job detection, cancellation
and periodic work out of the box. Redis-based queues (arq, SAQ) would make Redis — today a
cache for quotas — a store of record; Celery and Dramatiq are thread/process based.

Procrastinate carries only « run job X »; the job's truth (lease, checkpoint, result) stays
in Almia's store, so a message delivered twice or a worker killed mid-job is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import procrastinate
from procrastinate import exceptions as queue_errors

from bot.jobs.engine import Sweeper
from bot.jobs.runner import JobRunner
from bot.settings import Settings
from bot.store.jobs import JobStore

log = logging.getLogger(__name__)
_SCHEMA_LOCK = 0x616C6D7173  # one process creates the queue's tables
TASK_NAME = "almia.run_job"


def queue_conninfo(database_url: str) -> str:
    """The libpq URL for SQLAlchemy's ``postgresql+asyncpg://…``."""
    scheme, _, rest = database_url.partition("://")
    if not scheme.startswith("postgresql"):
        raise ValueError("the procrastinate engine needs a PostgreSQL database_url")
    return f"postgresql://{rest}"


class ProcrastinateEngine:
    """Defers jobs to the queue; :meth:`work` runs them (``almia worker``)."""

    def __init__(self, settings: Settings, runner: JobRunner, jobs: JobStore) -> None:
        self._settings = settings.jobs
        self._runner = runner
        self._sweeper = Sweeper(jobs, runner, settings.jobs)
        url = settings.jobs.queue_url or settings.resolved_database_url
        connector = procrastinate.PsycopgConnector(conninfo=queue_conninfo(url))
        self._app = procrastinate.App(connector=connector)
        self._task = self._app.task(name=TASK_NAME, queue=settings.jobs.queue)(self._run)
        self._open = False
        self._opening = asyncio.Lock()

    async def _run(self, job_id: str) -> None:
        await self._runner.run(job_id)

    async def start(self) -> None:
        """Connect and make sure the queue's tables exist (once, whoever asks first)."""
        async with self._opening:
            if self._open:
                return
            await self._app.open_async()
            try:
                await self._ensure_schema()
            except BaseException:
                await self._app.close_async()
                raise
            self._open = True

    async def _ensure_schema(self) -> None:
        connector = self._app.connector
        pool: Any = connector.pool  # type: ignore[attr-defined]
        async with pool.connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            found = await (await connection.execute(
                "SELECT to_regclass('procrastinate_jobs')")).fetchone()
            if found is not None and found[0] is not None:
                return
            await connection.execute(self._app.schema_manager.get_schema())

    async def submit(self, job_id: str) -> None:
        """Defer « run job X » (once: a job already waiting in the queue is not added twice)."""
        await self.start()
        with contextlib.suppress(queue_errors.AlreadyEnqueued):
            await self._task.configure(queueing_lock=job_id).defer_async(job_id=job_id)

    async def work(self, *, name: str | None = None) -> None:
        """Run jobs until cancelled, with a sweeper for stalled and undelivered ones."""
        await self.start()
        sweeping = asyncio.create_task(self._sweep_forever())
        try:
            await self._app.run_worker_async(
                queues=[self._settings.queue], concurrency=self._settings.concurrency,
                name=name or self._runner.worker_id, install_signal_handlers=False,
                update_heartbeat_interval=max(1.0, self._settings.lease_seconds / 3),
                stalled_worker_timeout=self._settings.lease_seconds,
                shutdown_graceful_timeout=self._settings.shutdown_grace_seconds)
        finally:
            sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeping

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self._retry_stalled()
                await self._sweeper.sweep(self.submit)
            except Exception:
                log.exception("queue sweep failed; next one in %.0f s",
                              self._settings.sweep_seconds)
            await asyncio.sleep(self._settings.sweep_seconds)

    async def _retry_stalled(self) -> None:
        """Queue entries of workers that stopped beating are given back to the queue."""
        manager: Any = self._app.job_manager
        for stalled in await manager.get_stalled_jobs():
            await manager.retry_job(stalled)

    async def close(self) -> None:
        if self._open:
            await self._app.close_async()
            self._open = False

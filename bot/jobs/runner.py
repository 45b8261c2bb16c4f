"""Runs one job: lease, heartbeat, timeout, cancellation, retries, then delivery of the result."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.gateway.types import (
    GatewayError,
    NeedsGeneration,
    NoApprovedModel,
    NoClearedModel,
    ProtectionBlocked,
    ProtectionUnavailable,
    UsageRecord,
)
from bot.i18n import Text, t
from bot.jobs.model import (
    Artefact,
    JobCancelled,
    JobFailed,
    JobReporter,
    JobResult,
    JobState,
    JobTask,
    JobView,
)
from bot.jobs.settings import JobSettings
from bot.messages import Locale
from bot.store.files import FileNotFound, FileStore, NewFile
from bot.store.jobs import JobStore

if TYPE_CHECKING:
    from bot.gateway.llm import ModelGateway

log = logging.getLogger(__name__)

AuditJob = Callable[[JobView, str, str, dict[str, Any], Sequence[UsageRecord]],
                   Awaitable[None]]
LinkFor = Callable[[str, str], str]

MESSAGES = {
    "cancelled": Text("Tâche annulée à votre demande.", "Job cancelled as you asked."),
    "timed_out": Text(
        "La tâche a dépassé sa durée maximale ({minutes} min) et a été arrêtée. "
        "Réessayez avec moins de données, ou demandez à un administrateur d'allonger la limite.",
        "The job exceeded its time limit ({minutes} min) and was stopped. Try again with less "
        "data, or ask an administrator to raise the limit.",
    ),
    "crashed": Text(
        "La tâche a échoué après {attempts} tentatives (référence {reference}). "
        "L'équipe Almia peut retrouver l'incident avec cette référence.",
        "The job failed after {attempts} attempts (reference {reference}). "
        "The Almia team can find the incident with this reference.",
    ),
    "unknown_task": Text(
        "Cette tâche n'est plus prise en charge par cette version d'Almia.",
        "This job is no longer supported by this version of Almia.",
    ),
}


class _Context:
    """The :class:`~bot.jobs.model.JobContext` a task runs with."""

    def __init__(self, runner: JobRunner, job: JobView) -> None:
        self._runner = runner
        self._job = job
        self._last_store = 0.0
        self._last_report = 0.0
        self.cancel_requested = False
        self.usage: list[UsageRecord] = []
        gateway = runner.gateway
        self._models = gateway.with_usage_sink(self._record) if gateway is not None else None

    async def _record(self, record: UsageRecord) -> None:
        self.usage.append(record)

    @property
    def models(self) -> ModelGateway | None:
        return self._models

    @property
    def job(self) -> JobView:
        return self._job

    async def progress(self, fraction: float, text: str = "") -> None:
        if self.cancel_requested:
            raise JobCancelled(self._job.id)
        runner = self._runner
        now = time.monotonic()
        if now - self._last_store >= min(1.0, runner.settings.progress_interval_seconds) or (
                fraction >= 1.0):
            self._last_store = now
            await runner.jobs.report(self._job.id, runner.worker_id, fraction, text,
                                     self._job.user_id)
        if now - self._last_report >= runner.settings.progress_interval_seconds:
            self._last_report = now
            await runner.show_progress(self._job.id)

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        await self._runner.jobs.save_checkpoint(self._job.id, self._runner.worker_id, state,
                                                self._job.user_id)

    async def read_file(self, file_id: str) -> bytes:
        return await self._runner.files.read(file_id)

    async def add_artefact(self, name: str, media_type: str, data: bytes) -> str:
        job = self._job
        info = await self._runner.files.save_bytes(
            NewFile(owner_id=job.user_id, space_id=job.reply_to.space_id,
                    channel=job.reply_to.channel, purpose="artefact", name=name,
                    kind=name.rsplit(".", 1)[-1].lower()[:16], media_type=media_type,
                    sha256=_sha256(data), job_id=job.id), data)
        return info.id


class JobRunner:
    """Runs jobs by id; any number of runners (processes, machines) may share one store."""

    def __init__(self, jobs: JobStore, files: FileStore, tasks: Mapping[tuple[str, str], JobTask],
                 reporters: Mapping[str, JobReporter], settings: JobSettings, *,
                 audit: AuditJob, link_for: LinkFor, worker_id: str | None = None,
                 gateway: ModelGateway | None = None) -> None:
        self.jobs = jobs
        self.files = files
        self.gateway = gateway
        self.settings = settings
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self._tasks = dict(tasks)
        self._reporters = reporters  # channels register theirs as they are mounted
        self._audit = audit
        self._link_for = link_for

    @property
    def lease(self) -> timedelta:
        """How long a job stays ours without a heartbeat."""
        return timedelta(seconds=self.settings.lease_seconds)

    async def run(self, job_id: str) -> None:
        """Run the job if it is runnable now; then post its result. Never raises."""
        timeout = timedelta(minutes=self.settings.timeout_minutes)
        job = await self.jobs.claim(job_id, self.worker_id, self.lease, timeout)
        if job is None:
            await self._close_orphan(job_id)
            return
        if job.attempts == 1:
            await self._audit(job, "job_started", "ok", {"task": job.task}, ())
        task = self._tasks.get((job.skill, job.task))
        if task is None:
            await self._close(job, JobState.FAILED, _error(job, "unknown_task"), "unknown_task",
                              ())
            return
        context = _Context(self, job)
        outcome = await self._execute(task, context)
        if outcome is not None:
            await self._close(job, *outcome, context.usage)

    async def _execute(self, task: JobTask, context: _Context
                       ) -> tuple[JobState, JobResult, str | None] | None:
        """Run the task under heartbeat and deadline; None when the job is no longer ours."""
        job = context.job
        work = asyncio.create_task(task.run(context))
        lost = asyncio.Event()
        beat = asyncio.create_task(self._heartbeat(job.id, context, work, lost))
        minutes = self.settings.timeout_minutes
        try:
            async with asyncio.timeout(minutes * 60):
                result = await work
            if result.kind == "error":  # the task ran but could not do what was asked
                return JobState.FAILED, result, "unsuccessful"
            return JobState.SUCCEEDED, result, None
        except (JobCancelled, asyncio.CancelledError):
            if lost.is_set():
                log.warning("job %s: lease lost, another worker has it", job.id)
                return None
            if not context.cancel_requested:  # this process is stopping: hand the job back
                await asyncio.shield(self.jobs.release(job.id, self.worker_id, "interrupted",
                                                       refund=True))
                raise
            return JobState.CANCELLED, _info(job, "cancelled"), "cancelled"
        except TimeoutError:
            return JobState.TIMED_OUT, _error(job, "timed_out", minutes=int(minutes)), "timeout"
        except JobFailed as failure:
            return (JobState.FAILED, JobResult(failure.message_for(job.reply_to.locale),
                                               kind="error"), "refused")
        except GatewayError as refusal:  # no approved or cleared model, DLP block, all down
            return (JobState.FAILED, JobResult(gateway_message(refusal, job.reply_to.locale),
                                               kind="error"), type(refusal).__name__[:64])
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("job %s (%s.%s) failed, reference %s", job.id, job.skill, job.task,
                          reference)
            if job.attempts < job.max_attempts:
                await self.jobs.release(job.id, self.worker_id, f"error:{reference}")
                return None
            return (JobState.FAILED,
                    _error(job, "crashed", attempts=job.attempts, reference=reference),
                    f"error:{reference}")
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            if not work.done():
                work.cancel()
                with contextlib.suppress(BaseException):
                    await work

    async def _heartbeat(self, job_id: str, context: _Context, work: asyncio.Task[JobResult],
                         lost: asyncio.Event) -> None:
        interval = max(0.5, self.settings.lease_seconds / 3)
        while not work.done():
            await asyncio.sleep(interval)
            try:
                ours, cancel = await self.jobs.renew(job_id, self.worker_id, self.lease)
            except Exception:
                log.exception("job %s: lease renewal failed; retrying", job_id)
                continue
            if not ours:
                lost.set()
                work.cancel()
                return
            if cancel:
                context.cancel_requested = True
                work.cancel()
                return

    async def _close(self, job: JobView, state: JobState, result: JobResult,
                     error: str | None, usage: Sequence[UsageRecord]) -> None:
        if not await self.jobs.finish(job.id, self.worker_id, state, job.user_id, result, error):
            return
        await self._audit(job, "job_finished", state.value,
                          {"task": job.task, "attempts": job.attempts,
                           "artefacts": len(result.artefacts), "error": error,
                           "model_calls": len(usage)}, usage)
        await self.deliver(job.id)

    async def _close_orphan(self, job_id: str) -> None:
        """A cancelled job whose worker died is closed here, then reported."""
        if await self.jobs.close_cancelled(job_id):
            await self.deliver(job_id)

    async def show_progress(self, job_id: str) -> None:
        """Ask the job's channel to show its progress (errors are logged, never raised)."""
        job = await self.jobs.get(job_id)
        if job is None:
            return
        reporter = self._reporters.get(job.reply_to.channel)
        if reporter is None:
            return
        try:
            notice = await reporter.progress(job)
        except Exception:
            log.exception("job %s: progress could not be shown", job_id)
            return
        if notice is not None and notice != job.notice:
            await self.jobs.set_notice(job_id, job.user_id, notice)

    async def deliver(self, job_id: str) -> bool:
        """Post a finished job's result once; False if not done now (retried by the sweeper)."""
        job = await self.jobs.claim_delivery(job_id, timedelta(seconds=120))
        if job is None or job.result is None:
            if job is not None:
                await self.jobs.mark_delivered(job_id)
            return False
        reporter = self._reporters.get(job.reply_to.channel)
        try:
            artefacts = []
            for file_id in job.result.artefacts:
                try:
                    info = await self.files.info(file_id)
                except FileNotFound:
                    continue
                artefacts.append(Artefact(info.id, info.name, info.media_type, info.size,
                                          self._link_for(info.id, info.name)))
            if reporter is not None:
                await reporter.deliver(job, artefacts)
        except Exception:
            log.exception("job %s: result could not be posted; will retry", job_id)
            return False
        await self.jobs.mark_delivered(job_id)
        return True


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def gateway_message(refusal: GatewayError, locale: Locale) -> str:
    """What the person reads when the gateway refuses or no model answers."""
    if isinstance(refusal, NoApprovedModel):
        return t("no_model", locale, skill=refusal.skill)
    if isinstance(refusal, NoClearedModel):
        return t("no_clearance", locale, skill=refusal.skill, data_class=refusal.data_class.label)
    if isinstance(refusal, NeedsGeneration):
        return t("needs_generation", locale, skill=refusal.skill)
    if isinstance(refusal, ProtectionBlocked):
        return t("protection_blocked", locale, skill=refusal.skill,
                 kinds=", ".join(sorted(refusal.counts)))
    if isinstance(refusal, ProtectionUnavailable):
        return t("protection_unavailable", locale)
    return t("model_unavailable", locale)


def _error(job: JobView, key: str, **values: object) -> JobResult:
    return JobResult(MESSAGES[key](job.reply_to.locale, **values), kind="error")


def _info(job: JobView, key: str) -> JobResult:
    return JobResult(MESSAGES[key](job.reply_to.locale), kind="info")

"""Large team-document ingestions split into batch sub-jobs that any worker can run.

The ``ingest`` job plans batches (at most ``files`` documents or ``megabytes`` of data each,
a ZIP's entries counted one by one), queues one ``ingest_batch`` job per batch as the
person's job limits allow, then waits, reporting progress as batches finish, and posts one
result for all of them. Batch jobs
report nowhere themselves (their channel has no reporter) and keep their per-file outcomes
in their checkpoint, which the parent reads.

Fan-out needs a Chroma server (every worker writes to it) and a shared queue: with the
embedded Chroma only the process that owns it may write, so the batches then run one after
another inside the ``ingest`` job itself.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.i18n import Text
from bot.jobs.model import JobCancelled, JobContext, JobSpec, JobView, ReplyTo
from bot.jobs.service import JobService
from bot.messages import Locale
from bot.settings import Settings
from bot.store.jobs import JobLimitReached
from knowledge.records import Outcome

BATCH_CHANNEL = "internal"  # no reporter is registered under this name: batches post nothing

_BATCH_TITLE = Text("Lot {index}/{count} de documents", "Document batch {index}/{count}")
_WAITING = Text("{done}/{total} lots terminés ({files} fichiers)",
                "{done}/{total} batches done ({files} files)")
_BATCH_LOST = Text("le lot {index} n'a pas abouti ({state})",
                   "batch {index} did not complete ({state})")


@dataclass(slots=True)
class Batching:
    """How ``ingest`` splits its work; ``service`` is bound once the jobs are wired."""

    fan_out: bool | None = None  # None: decided from the settings (Chroma server + queue)
    files: int = 20
    megabytes: float = 16.0
    poll_seconds: float = 2.0
    service: JobService | None = None

    def bind(self, service: JobService, settings: Settings) -> None:
        """Remember the job service; decide fan-out unless it was forced."""
        self.service = service
        if self.fan_out is None:
            self.fan_out = bool(settings.chroma_url) and (
                settings.jobs.engine == "procrastinate") and settings.jobs.concurrency >= 2

    @property
    def active(self) -> bool:
        """True when large ingestions are split into sub-jobs."""
        return bool(self.fan_out) and self.service is not None


@dataclass(frozen=True, slots=True)
class Unit:
    """One document to ingest: a whole file, or one entry of a ZIP."""

    file_id: str
    name: str
    kind: str
    size: int
    entry: str | None = None


async def plan_units(context: JobContext, files: Sequence[Mapping[str, Any]]) -> list[Unit]:
    """Every document of the request, ZIPs opened to their entries (central directory only)."""
    units: list[Unit] = []
    for item in files:
        file_id, name, kind = str(item["id"]), str(item["name"]), str(item["kind"])
        data = await context.read_file(file_id)
        if kind == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                units.extend(Unit(file_id, name, kind, info.file_size, info.filename)
                             for info in archive.infolist() if not info.is_dir())
        else:
            units.append(Unit(file_id, name, kind, len(data)))
    return units


def split(units: Sequence[Unit], files: int, megabytes: float) -> list[list[Unit]]:
    """Consecutive batches of at most ``files`` units and ``megabytes`` (a bigger unit alone)."""
    limit = int(megabytes * 1024 * 1024)
    batches: list[list[Unit]] = []
    current: list[Unit] = []
    size = 0
    for unit in units:
        if current and (len(current) >= files or size + unit.size > limit):
            batches.append(current)
            current, size = [], 0
        current.append(unit)
        size += unit.size
    if current:
        batches.append(current)
    return batches


def batch_files(batch: Sequence[Unit]) -> list[dict[str, Any]]:
    """A batch as job parameters: one item per input file, with the ZIP entries it takes."""
    items: dict[str, dict[str, Any]] = {}
    for unit in batch:
        item = items.setdefault(unit.file_id, {"id": unit.file_id, "name": unit.name,
                                               "kind": unit.kind})
        if unit.entry is not None:
            item.setdefault("entries", []).append(unit.entry)
    return list(items.values())


RunHere = Callable[[Sequence[Unit]], Awaitable[list[str]]]


async def fan_out(context: JobContext, service: JobService, batches: Sequence[list[Unit]],
                  files: int, poll_seconds: float, run_here: RunHere) -> dict[str, list[str]]:
    """Queue one ``ingest_batch`` job per batch within the person's job limits, wait for all.

    Batches count as the person's jobs: while the per-person (or per-skill) limit is
    reached, the next batch waits for one to end; when none of this job's batches is
    active and the limit still refuses one (the person's other jobs fill it), this job
    ingests that batch itself (``run_here``), so it always progresses. The checkpoint
    holds the queued batches' ids and the outcome lines of those done here. Returns the
    outcome lines by batch index. Cancelling this job cancels the batches still active.
    """
    job = context.job
    locale = job.reply_to.locale
    state = dict(job.checkpoint or {})
    queued = state.get("batches", {})  # batch index -> job id (a list before limits applied)
    children: dict[str, str] = ({str(i): str(c) for i, c in enumerate(queued)}
                                if isinstance(queued, list)
                                else dict(queued))
    own: dict[str, list[str]] = dict(state.get("own", {}))
    views: dict[str, JobView | None] = {}
    try:
        while True:
            views = {index: await service.jobs.get(child) for index, child in children.items()}
            active = sum(1 for view in views.values() if view is not None
                         and not view.state.terminal)
            for index, batch in enumerate(batches):
                key = str(index)
                if key in children or key in own:
                    continue
                try:
                    children[key] = await _queue_batch(service, job, index, batches)
                    active += 1
                except JobLimitReached:
                    if active:
                        break  # the next batch waits for one of ours to end
                    own[key] = await run_here(batch)
                await context.checkpoint({"batches": children, "own": own})
            done = len(own) + sum(1 for index in children
                                  if (view := views.get(index)) is None or view.state.terminal)
            finished = len(own) + len(children) == len(batches) and not active
            await context.progress(done / max(1, len(batches)),
                                   _WAITING(locale, done=done, total=len(batches), files=files))
            if finished:
                return {str(index): own[str(index)] if str(index) in own
                        else batch_outcomes(views.get(str(index)), index + 1, locale)
                        for index in range(len(batches))}
            await asyncio.sleep(poll_seconds)
    except JobCancelled:
        await _cancel(service, list(views.values()))
        raise
    except asyncio.CancelledError:  # cancelled by its owner, or this process is stopping
        parent = await asyncio.shield(service.jobs.get(job.id))
        if parent is not None and parent.cancel_requested:
            await asyncio.shield(_cancel(service, list(views.values())))
        raise


async def _queue_batch(service: JobService, job: JobView, index: int,
                       batches: Sequence[list[Unit]]) -> str:
    """One ``ingest_batch`` job for the same person, reporting nowhere, within the limits
    (:class:`JobLimitReached` when over them)."""
    parent = job.reply_to
    reply_to = ReplyTo(BATCH_CHANNEL, parent.space_id, parent.thread_id, parent.user_id,
                       parent.locale)
    spec = JobSpec(skill=job.skill, task="ingest_batch",
                   title=_BATCH_TITLE(parent.locale, index=index + 1, count=len(batches)),
                   params={"collection": job.params["collection"], "parent": job.id,
                           "files": batch_files(batches[index])})
    per_user, per_skill = service.limits(job.skill)
    child = await service.jobs.create(spec, reply_to, max_attempts=job.max_attempts,
                                      per_user=per_user, per_skill=per_skill)
    await service.engine.submit(child)
    return child


async def _cancel(service: JobService, views: Sequence[JobView | None]) -> None:
    for view in views:
        if view is not None and not view.state.terminal:
            await service.jobs.request_cancel(view.id)


def batch_outcomes(view: JobView | None, index: int, locale: Locale) -> list[str]:
    """A finished batch's outcome lines; each of its documents failed if it left none."""
    checkpoint = (view.checkpoint or {}) if view is not None else {}
    if "lines" in checkpoint:  # the batch finished its documents
        return [str(line) for line in checkpoint["lines"]]
    state = view.state.value if view is not None else "?"
    reason = _BATCH_LOST(locale, index=index, state=state)
    entries = [] if view is None else [
        f"{item['name']} › {entry}" if entry else str(item["name"])
        for item in view.params.get("files", []) for entry in item.get("entries", [""])]
    return [f"{Outcome.FAILED.value}\x1f{name}\x1f{reason}" for name in entries or ["?"]]

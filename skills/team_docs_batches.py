"""Large team-document ingestions split into batch sub-jobs that any worker can run.

The ``ingest`` job plans batches (at most ``files`` documents or ``megabytes`` of data each,
a ZIP's entries counted one by one), queues one ``ingest_batch`` job per batch, then waits,
reporting progress as batches finish, and posts one result for all of them. Batch jobs
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.i18n import Text
from bot.jobs.model import JobCancelled, JobContext, JobSpec, JobView, ReplyTo
from bot.jobs.service import JobService
from bot.messages import Locale
from bot.settings import Settings
from knowledge.records import Outcome

BATCH_CHANNEL = "internal"  # no reporter is registered under this name: batches post nothing
_NO_LIMIT = 1_000_000  # batches belong to one accepted request: the limits applied to it

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


async def queue_batches(service: JobService, job: JobView, batches: Sequence[list[Unit]]
                        ) -> list[str]:
    """One ``ingest_batch`` job per batch, for the same person, reporting nowhere."""
    parent = job.reply_to
    reply_to = ReplyTo(BATCH_CHANNEL, parent.space_id, parent.thread_id, parent.user_id,
                       parent.locale)
    ids = []
    for index, batch in enumerate(batches, start=1):
        spec = JobSpec(skill=job.skill, task="ingest_batch",
                       title=_BATCH_TITLE(parent.locale, index=index, count=len(batches)),
                       params={"collection": job.params["collection"], "parent": job.id,
                               "files": batch_files(batch)})
        child = await service.jobs.create(spec, reply_to, max_attempts=job.max_attempts,
                                          per_user=_NO_LIMIT, per_skill=_NO_LIMIT)
        await service.engine.submit(child)
        ids.append(child)
    return ids


async def wait_for_batches(context: JobContext, service: JobService, children: Sequence[str],
                           files: int, poll_seconds: float) -> dict[str, list[str]]:
    """Wait until every batch ends, reporting progress; their outcome lines by batch id.

    A batch that ended without its outcomes (timed out, cancelled, crashed) counts each of
    its documents as failed. Cancelling the parent cancels the batches still running.
    """
    locale = context.job.reply_to.locale
    views: list[JobView | None] = []
    try:
        while True:
            views = [await service.jobs.get(child) for child in children]
            done = [view for view in views if view is None or view.state.terminal]
            await context.progress(len(done) / len(children),
                                   _WAITING(locale, done=len(done), total=len(children),
                                            files=files))
            if len(done) == len(children):
                return {child: batch_outcomes(view, index, locale) for index, (child, view)
                        in enumerate(zip(children, views, strict=True), start=1)}
            await asyncio.sleep(poll_seconds)
    except JobCancelled:
        await _cancel(service, views)
        raise
    except asyncio.CancelledError:  # cancelled by its owner, or this process is stopping
        parent = await asyncio.shield(service.jobs.get(context.job.id))
        if parent is not None and parent.cancel_requested:
            await asyncio.shield(_cancel(service, views))
        raise


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

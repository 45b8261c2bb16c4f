"""``almia ingest`` as a job: the files go to the file store, the ``team_docs`` job ingests them.

The same job as ``/almia docs add``: with a Chroma server and the procrastinate queue it
runs on a worker and fans out over the others (batches within the operator's job limits);
with the embedded defaults it runs in this process. Either way the command shows the job's
progress and prints each document's outcome. A folder travels as one ZIP whose entries
keep the folder's name, so documents keep the source keys a direct ingestion gives
(``samples/guide.md``); hidden files and unsupported extensions stay out, reported skipped.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.jobs.model import JobSpec, JobView
from bot.jobs.service import JobRefused
from bot.messages import Channel, Message, Space, User
from bot.settings import Settings
from bot.store.files import FileStore, NewFile
from knowledge.base import KnowledgeBase, iter_files
from knowledge.loaders import SUPPORTED_SUFFIXES
from knowledge.records import FileOutcome, IngestReport, KnowledgeError, Outcome
from skills.team_docs import decoded

Progress = Callable[[float, str], None]
_RETENTION = timedelta(days=2)  # the kept copies only serve the job (and its retries)


@dataclass(frozen=True)
class IngestRequest:
    """What ``almia ingest`` was asked: paths, target collection and its options."""

    paths: Sequence[Path]
    collection: str
    data_class: str | None = None
    company_wide: bool | None = None
    title: str | None = None


@dataclass
class _Upload:
    """Files kept for the job, and the outcomes known before it runs (missing, skipped)."""

    items: list[dict[str, Any]]
    file_ids: list[str]
    outcomes: list[FileOutcome]


async def ingest_as_job(settings: Settings, request: IngestRequest, progress: Progress, *,
                        poll_seconds: float = 0.5,
                        knowledge: KnowledgeBase | None = None) -> IngestReport | None:
    """Run the ingestion as a job and wait for it; None when files or jobs are disabled
    (the caller then ingests in its own process). :class:`KnowledgeError` if refused or
    failed. ``knowledge`` replaces the settings' knowledge base (tests)."""
    from bot.app import build_runtime

    started = time.perf_counter()
    runtime = build_runtime(settings, knowledge=knowledge)
    try:
        if runtime.jobs is None or runtime.files is None:
            return None
        # no sweep here: only this job runs in this process (engine.submit), others wait
        # for `almia serve` or the workers
        await runtime.start(jobs=False)
        owner = f"cli:{getpass.getuser()}"
        upload = await _upload(runtime.files, request.paths, owner)
        report = IngestReport(request.collection)
        if upload.items:
            operator = Message(text="", user=User(owner), space=Space("cli"),
                               channel=Channel.CLI, thread_id="ingest")
            spec = JobSpec("team_docs", "ingest", _params(request, upload.items),
                           title=f"Ingestion dans « {request.collection} »")
            try:
                job = await runtime.jobs.start(spec, operator, "fr")
            except JobRefused as refused:
                raise KnowledgeError(refused.message_for("fr")) from None
            job = await _wait(runtime.jobs.jobs.get, job, progress, poll_seconds)
            for file_id in upload.file_ids:
                await runtime.files.delete_one(file_id)
            report.files = [decoded(line) for line in _lines(job)]
        report.files = [*upload.outcomes, *report.files]
        report.seconds = time.perf_counter() - started
        return report
    finally:
        await runtime.close()


def _params(request: IngestRequest, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"collection": request.collection, "space": None, "title": request.collection,
            "collection_title": request.title, "data_class": request.data_class,
            "company_wide": request.company_wide, "files": items}


async def _wait(get: Callable[[str], Any], job: JobView, progress: Progress,
                poll_seconds: float) -> JobView:
    """Poll the job until it ends, showing its progress."""
    while not job.state.terminal:
        await asyncio.sleep(poll_seconds)
        found: JobView | None = await get(job.id)
        if found is None:
            raise KnowledgeError(f"la tâche {job.id[:8]} a disparu")
        job = found
        progress(job.progress, job.progress_text)
    return job


def _lines(job: JobView) -> list[str]:
    """Outcome lines of a finished ingestion job; KnowledgeError when it did not finish."""
    lines = (job.checkpoint or {}).get("lines")
    if job.state.value == "succeeded" and isinstance(lines, list):
        return [str(line) for line in lines]
    reason = job.result.text if job.result is not None else job.error or job.state.value
    raise KnowledgeError(f"la tâche d'ingestion {job.id[:8]} n'a pas abouti : {reason}")


async def _upload(files: FileStore, paths: Sequence[Path], owner: str) -> _Upload:
    """Each file as it is, each folder as one ZIP, kept for ``owner``."""
    upload = _Upload([], [], [])
    with tempfile.TemporaryDirectory(prefix="almia-ingest-") as folder:
        for path in paths:
            if path.is_dir():
                packed = Path(folder) / f"{path.resolve().name}.zip"
                upload.outcomes.extend(await asyncio.to_thread(_pack, path, packed))
                name, kind, source = packed.name, "zip", packed
            elif path.is_file():
                name, kind, source = path.name, path.suffix.lower().lstrip(".") or "txt", path
            else:
                upload.outcomes.append(FileOutcome(str(path), Outcome.FAILED,
                                                   message="fichier introuvable"))
                continue
            digest = await asyncio.to_thread(_sha256, source)
            with source.open("rb") as stream:
                info = await files.save(NewFile(
                    owner_id=owner, space_id="cli", channel=Channel.CLI.value, purpose="upload",
                    name=name, kind=kind[:16], media_type="application/octet-stream",
                    sha256=digest), stream, retention=_RETENTION)
            upload.items.append({"id": info.id, "name": name, "kind": kind})
            upload.file_ids.append(info.id)
    return upload


def _pack(folder: Path, target: Path) -> list[FileOutcome]:
    """The folder's ingestible files into ``target`` (entries named ``folder/relative``);
    the outcomes of the files left out."""
    left_out = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for found, source, _ in iter_files([folder]):
            if found.suffix.lower() not in SUPPORTED_SUFFIXES:
                message = f"extension {found.suffix or '(aucune)'} ignorée"
                left_out.append(FileOutcome(str(found), Outcome.SKIPPED, message=message))
                continue
            archive.write(found, source)
    return left_out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()

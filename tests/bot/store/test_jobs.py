"""Job records and stored files on SQLite and PostgreSQL: leases, limits, delivery, erasure."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.jobs.model import JobResult, JobSpec, JobState, ReplyTo
from bot.store import Store
from bot.store.file_tables import FileChunk
from bot.store.files import FileNotFound, FileStore, NewFile
from bot.store.jobs import JobLimitReached, JobStore
from bot.store.sealing import PlainSealer


class Clock:
    """A clock the test moves by hand (no sleeps, no dependence on machine speed)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


REPLY = ReplyTo("slack", "slack:T1:C1", "1700000000.000100", "slack:U1", "fr",
                {"channel": "C1"})
SPEC = JobSpec("team_docs", "ingest", {"files": ["a"]}, title="Ajout de 1 document")
LEASE, LIMIT = timedelta(seconds=30), timedelta(minutes=60)


async def _create(jobs: JobStore, user: str = "slack:U1", per_user: int = 3) -> str:
    reply = ReplyTo(REPLY.channel, REPLY.space_id, REPLY.thread_id, user, "fr", REPLY.reference)
    return await jobs.create(SPEC, reply, max_attempts=2, per_user=per_user, per_skill=10)


async def test_a_job_is_leased_to_one_worker_and_retaken_after_its_lease(store: Store) -> None:
    clock = Clock()
    jobs = JobStore(store.engine, PlainSealer(), clock=clock)
    job_id = await _create(jobs)
    first = await jobs.claim(job_id, "worker-a", LEASE, LIMIT)
    assert first is not None and first.state is JobState.RUNNING and first.attempts == 1
    assert first.params == {"files": ["a"]} and first.reply_to.reference == {"channel": "C1"}
    assert await jobs.claim(job_id, "worker-b", LEASE, LIMIT) is None  # never twice at once
    assert await jobs.save_checkpoint(job_id, "worker-a", {"done": 3}, "slack:U1")
    clock.now += timedelta(seconds=31)  # worker-a went silent (killed)
    runnable, _ = await jobs.due()
    assert runnable == [job_id]
    second = await jobs.claim(job_id, "worker-b", LEASE, LIMIT)
    assert second is not None and second.attempts == 2 and second.checkpoint == {"done": 3}
    assert await jobs.report(job_id, "worker-b", 0.5, "lecture du code", "slack:U1")
    assert not await jobs.finish(job_id, "worker-a", JobState.SUCCEEDED, "slack:U1",
                                 JobResult("trop tard"))  # the old worker lost it
    assert await jobs.finish(job_id, "worker-b", JobState.SUCCEEDED, "slack:U1",
                             JobResult("fini", ("f1",)))
    clock.now += timedelta(seconds=31)
    assert await jobs.claim(job_id, "worker-c", LEASE, LIMIT) is None
    done = await jobs.get(job_id)
    assert done is not None and done.result == JobResult("fini", ("f1",)) and done.progress == 1
    assert not done.progress_text  # done: no step said any more


async def test_attempts_are_bounded(store: Store) -> None:
    clock = Clock()
    jobs = JobStore(store.engine, PlainSealer(), clock=clock)
    job_id = await _create(jobs)
    for worker in ("a", "b"):
        assert await jobs.claim(job_id, worker, LEASE, LIMIT) is not None
        clock.now += timedelta(seconds=31)
    assert await jobs.claim(job_id, "c", LEASE, LIMIT) is None
    job = await jobs.get(job_id)
    assert job is not None and job.state is JobState.FAILED
    assert job.error == "attempts_exhausted"


async def test_limits_cancellation_and_delivery_once(store: Store) -> None:
    clock = Clock()
    jobs = JobStore(store.engine, PlainSealer(), clock=clock)
    first = await _create(jobs, per_user=2)
    await _create(jobs, per_user=2)
    with pytest.raises(JobLimitReached):
        await _create(jobs, per_user=2)
    await _create(jobs, user="slack:U2", per_user=2)  # others are not held back
    cancelled = await jobs.request_cancel(first)
    assert cancelled is not None and cancelled.state is JobState.CANCELLED
    assert await jobs.claim(first, "w", LEASE, LIMIT) is None
    _, undelivered = await jobs.due()
    assert undelivered == [first]
    assert await jobs.claim_delivery(first, timedelta(seconds=60)) is not None
    assert await jobs.claim_delivery(first, timedelta(seconds=60)) is None
    await jobs.mark_delivered(first)
    assert (await jobs.due())[1] == []
    assert await jobs.delete_for_user("slack:U1") == 2


async def test_files_are_kept_in_chunks_and_erased(store: Store) -> None:
    clock = Clock()
    files = FileStore(store.engine, PlainSealer(), retention=timedelta(days=1), clock=clock)
    data = bytes(range(256)) * 9000  # a little over 2 MiB: three chunks
    new = NewFile("web:alice", "web:default", "web", "upload", "relevé.pdf", "pdf",
                  "application/pdf", "0" * 64, "confidential", {"IBAN": 2})
    info = await files.save(new, io.BytesIO(data))
    assert info.size == len(data)
    again = await files.info(info.id)
    assert again.name == "relevé.pdf" and again.findings == {"IBAN": 2}
    assert await files.read(info.id) == data
    clock.now += timedelta(days=2)
    with pytest.raises(FileNotFound):
        await files.info(info.id)
    assert await files.delete(expired=True) == 1
    other = await files.save(new, io.BytesIO(b"x"))
    assert await files.delete(owner_id="web:alice") == 1
    with pytest.raises(FileNotFound):
        await files.read(other.id)


async def test_purge_erases_a_person_files_and_jobs_sealed_with_their_key(
        encrypted_store: Store) -> None:
    store = encrypted_store
    files = FileStore(store.engine, store)
    secret = "Relevé de Mme Durand IBAN FR76".encode() * 100
    info = await files.save(NewFile("alice", "web:default", "web", "upload", "durand.txt", "txt",
                                    "text/plain", "0" * 64), io.BytesIO(secret))
    jobs = JobStore(store.engine, store)
    reply = ReplyTo("web", "web:default", "t1", "alice", "fr", {})
    await jobs.create(SPEC, reply, max_attempts=1, per_user=3, per_skill=3)
    async with store.engine.connect() as connection:
        raw = (await connection.execute(select(FileChunk.data))).scalars().all()
    assert raw and all(b"Durand" not in chunk for chunk in raw)  # sealed at rest
    assert await files.read(info.id) == secret
    removed = await store.purge(user_id="alice")
    assert removed["files"] == 1 and removed["jobs"] == 1
    with pytest.raises(FileNotFound):
        await files.info(info.id)

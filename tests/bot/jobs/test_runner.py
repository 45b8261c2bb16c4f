"""The job runner in one process: timeouts, cancellation, retries, refusals, delivery once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.gateway.llm import ModelGateway, default_providers
from bot.gateway.types import ChatTurn, CompletionRequest, UsageRecord
from bot.governance.policy import load_policy
from bot.jobs.engine import InProcessEngine
from bot.jobs.model import (
    Artefact,
    JobContext,
    JobResult,
    JobSpec,
    JobState,
    JobTask,
    JobView,
    ReplyTo,
)
from bot.jobs.runner import JobRunner
from bot.jobs.settings import JobSettings
from bot.store import Store
from bot.store.files import FileStore
from bot.store.jobs import JobStore
from bot.store.sealing import PlainSealer
from tests.fakes.model_server import FakeModelServer


class Recorder:
    """A channel that remembers what it was asked to show."""

    channel = "web"

    def __init__(self) -> None:
        self.progress_seen: list[float] = []
        self.delivered: list[tuple[str, list[str]]] = []

    async def progress(self, job: JobView) -> Mapping[str, Any] | None:
        self.progress_seen.append(job.progress)
        return {"n": len(self.progress_seen)}

    async def deliver(self, job: JobView, artefacts: Sequence[Artefact]) -> None:
        assert job.result is not None
        self.delivered.append((job.result.text, [a.name for a in artefacts]))


class Forever:
    async def run(self, context: JobContext) -> JobResult:
        while True:
            await context.progress(0.5, "toujours")
            await asyncio.sleep(0.05)


class Flaky:
    """Fails on its first attempt, succeeds on the next one from its checkpoint."""

    async def run(self, context: JobContext) -> JobResult:
        if context.job.attempts == 1:
            await context.checkpoint({"half": True})
            raise RuntimeError("disque plein")
        assert context.job.checkpoint == {"half": True}
        artefact = await context.add_artefact("sortie.csv", "text/csv", b"a;b\n")
        return JobResult("fini", (artefact,))


class Refusing:
    async def run(self, context: JobContext) -> JobResult:
        return JobResult("rien à faire", kind="error")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    created = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}")
    await created.migrate()
    yield created
    await created.close()


def _runner(store: Store, recorder: Recorder, tasks: dict[str, JobTask],
            gateway: ModelGateway | None = None,
            **settings: Any) -> tuple[JobRunner, JobStore, InProcessEngine]:
    jobs = JobStore(store.engine, PlainSealer())
    files = FileStore(store.engine, PlainSealer())
    config = JobSettings(lease_seconds=2, sweep_seconds=0.2, progress_interval_seconds=0,
                         **settings)
    audit_log: list[str] = []

    async def audit(job: JobView, action: str, outcome: str, details: dict[str, Any],
                    usage: Sequence[UsageRecord]) -> None:
        audit_log.append(f"{action}:{outcome}:{len(usage)}")

    runner = JobRunner(jobs, files, {("test", name): task for name, task in tasks.items()},
                       {"web": recorder}, config, audit=audit,
                       link_for=lambda file_id, name: f"/files/{file_id}/{name}",
                       gateway=gateway)
    runner.audit_log = audit_log  # type: ignore[attr-defined]
    return runner, jobs, InProcessEngine(runner, jobs, config)


async def _start(jobs: JobStore, engine: InProcessEngine, task: str) -> str:
    job_id = await jobs.create(JobSpec("test", task), ReplyTo("web", "web:default", "t", "web:a",
                                                             "fr"),
                               max_attempts=2, per_user=5, per_skill=5)
    await engine.start()  # its sweep takes up jobs given back after a failed attempt
    await engine.submit(job_id)
    return job_id


async def _until(jobs: JobStore, job_id: str, check: Any) -> JobView:
    for _ in range(3000):  # a generous bound: 60 s
        job = await jobs.get(job_id)
        if job is not None and check(job):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(await jobs.get(job_id))


async def test_a_job_longer_than_its_limit_is_stopped(store: Store) -> None:
    recorder = Recorder()
    _, jobs, engine = _runner(store, recorder, {"forever": Forever()}, timeout_minutes=0.01)
    job_id = await _start(jobs, engine, "forever")
    job = await _until(jobs, job_id, lambda j: j.delivered)
    await engine.close()
    assert job.state is JobState.TIMED_OUT and job.error == "timeout"
    assert "durée maximale" in recorder.delivered[0][0]
    assert recorder.progress_seen  # progress was shown while it ran


async def test_a_cancelled_job_stops_at_its_next_step(store: Store) -> None:
    recorder = Recorder()
    _, jobs, engine = _runner(store, recorder, {"forever": Forever()})
    job_id = await _start(jobs, engine, "forever")
    await _until(jobs, job_id, lambda j: j.state is JobState.RUNNING)
    await jobs.request_cancel(job_id)
    job = await _until(jobs, job_id, lambda j: j.delivered)
    await engine.close()
    assert job.state is JobState.CANCELLED
    assert recorder.delivered == [("Tâche annulée à votre demande.", [])]


async def test_a_failed_attempt_is_retried_from_its_checkpoint(store: Store) -> None:
    recorder = Recorder()
    _, jobs, engine = _runner(store, recorder, {"flaky": Flaky()})
    job_id = await _start(jobs, engine, "flaky")
    job = await _until(jobs, job_id, lambda j: j.delivered)
    await engine.close()
    assert job.state is JobState.SUCCEEDED and job.attempts == 2
    assert recorder.delivered == [("fini", ["sortie.csv"])]


async def test_a_task_that_could_do_nothing_ends_failed(store: Store) -> None:
    recorder = Recorder()
    _, jobs, engine = _runner(store, recorder, {"refusing": Refusing()})
    job_id = await _start(jobs, engine, "refusing")
    job = await _until(jobs, job_id, lambda j: j.delivered)
    await engine.close()
    assert job.state is JobState.FAILED and recorder.delivered == [("rien à faire", [])]


async def test_a_task_no_longer_known_fails_politely(store: Store) -> None:
    recorder = Recorder()
    _, jobs, engine = _runner(store, recorder, {})
    job_id = await _start(jobs, engine, "disparue")
    job = await _until(jobs, job_id, lambda j: j.delivered)
    await engine.close()
    assert job.state is JobState.FAILED and "plus prise en charge" in recorder.delivered[0][0]


def _gateway(tmp_path: Path, model: dict[str, str]) -> ModelGateway:
    """A gateway whose skill ``test`` writes (role ``write``) with this one model."""
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"models": [model], "skills": {
        "test": {"roles": {"write": [model["alias"]]}}}}), encoding="utf-8")
    policy = load_policy(policy_file, {})
    return ModelGateway(policy, default_providers(policy))


class Writing:
    """Asks the approved model of its skill role, as a long task would, batch after batch."""

    async def run(self, context: JobContext) -> JobResult:
        assert context.models is not None
        answer = await context.models.complete(CompletionRequest(
            skill="test", role="write", question="Résume",
            messages=(ChatTurn("user", "Résume les axes d'amélioration."),),
            requires_generation=True))
        return JobResult(answer.text)


async def test_a_job_calls_models_through_the_gateway_and_its_usage_is_recorded(
        store: Store, tmp_path: Path) -> None:
    async with FakeModelServer() as model:
        gateway = _gateway(tmp_path, {"alias": "fake", "provider": "openai-compatible",
                                      "model": "fake-model", "api_base": model.url,
                                      "api_key": "sk-test", "hosting": "internal",
                                      "clearance": "confidential"})
        recorder = Recorder()
        runner, jobs, engine = _runner(store, recorder, {"writing": Writing()}, gateway)
        job_id = await _start(jobs, engine, "writing")
        job = await _until(jobs, job_id, lambda j: j.delivered)
        await engine.close()
        await gateway.close()
    assert job.state is JobState.SUCCEEDED and recorder.delivered[0][0]
    assert "job_finished:succeeded:1" in runner.audit_log  # type: ignore[attr-defined]


async def test_a_job_whose_model_is_not_approved_fails_politely(store: Store,
                                                                 tmp_path: Path) -> None:
    gateway = _gateway(tmp_path, {"alias": "extractive", "provider": "extractive",
                                  "hosting": "internal", "clearance": "secret"})
    recorder = Recorder()
    _, jobs, engine = _runner(store, recorder, {"writing": Writing()}, gateway)
    job_id = await _start(jobs, engine, "writing")
    job = await _until(jobs, job_id, lambda j: j.delivered)
    await engine.close()
    await gateway.close()
    assert job.state is JobState.FAILED and job.attempts == 1  # not retried: it would not help
    assert "a besoin d'un modèle génératif" in recorder.delivered[0][0]

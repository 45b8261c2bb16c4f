"""Jobs survive what production throws at them, with real processes on real PostgreSQL:
two ``almia worker`` processes, one killed with ``kill -9`` mid-job; a server restart mid-job.
The job finishes exactly once and its result reaches the Slack thread exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_runtime
from bot.jobs.model import JobSpec, JobState, JobView
from bot.messages import Channel, Message, Space, User
from bot.settings import Settings, load_settings
from tests.conftest import POSTGRES_URL
from tests.fakes.loopback import poll
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi

ALMIA = str(Path(sys.executable).with_name("almia"))
ROOT = Path(__file__).resolve().parents[3]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
USER = f"slack:{TEAM_ID}:U0EMPLOYE1"


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A PostgreSQL database of the test's own (the queue's tables included)."""
    name = f"almia_jobs_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


def _environment(tmp_path: Path, slack: FakeSlackApi, **extra: str) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("ALMIA_")},
        "ALMIA_DATA_DIR": str(tmp_path / "data"),
        "ALMIA_CHARTER__ENABLED": "false",
        "ALMIA_WEB__ENABLED": "false",
        "ALMIA_SLACK__BOT_TOKEN": "xoxb-test",
        "ALMIA_SLACK__SIGNING_SECRET": SECRET,
        "ALMIA_SLACK__API_URL": slack.api_url,
        "ALMIA_JOBS__LEASE_SECONDS": "3",
        "ALMIA_JOBS__SWEEP_SECONDS": "1",
        "ALMIA_JOBS__PROGRESS_INTERVAL_SECONDS": "0",
        "ALMIA_LOG_LEVEL": "WARNING",
        **extra,
    }


def _settings(environment: Mapping[str, str]) -> Settings:
    nested: dict[str, dict[str, str]] = {}
    flat: dict[str, object] = {}
    for key, value in environment.items():
        if not key.startswith("ALMIA_"):
            continue
        parts = key.removeprefix("ALMIA_").lower().split("__")
        if len(parts) == 2:
            nested.setdefault(parts[0], {})[parts[1]] = value
        else:
            flat[parts[0]] = value
    return load_settings(**flat, **nested, _env_file=None)


async def _spawn(*arguments: str, environment: Mapping[str, str]
                 ) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        ALMIA, *arguments, cwd=ROOT, env=dict(environment),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def _queue_probe(settings: Settings, *, steps: int) -> JobView:
    """A probe job queued from this process (taken up by a worker or a server)."""
    runtime = build_runtime(settings)
    await runtime.start(jobs=False)
    try:
        assert runtime.jobs is not None
        return await runtime.jobs.start(
            JobSpec("jobs", "probe", {"steps": steps, "step_seconds": 0.4}, title="Sonde"),
            _probe_message(), "fr")
    finally:
        await runtime.close()


def _probe_message() -> Message:
    return Message(text="", user=User(USER), space=Space(f"slack:{TEAM_ID}:C0EQUIPE1"),
                   channel=Channel.SLACK, thread_id="1715000300.000400",
                   reference={"channel": "C0EQUIPE1", "thread_ts": "1715000300.000400"})


async def _job(settings: Settings, job_id: str) -> JobView:
    runtime = build_runtime(settings)
    try:
        assert runtime.jobs is not None
        found = await runtime.jobs.jobs.get(job_id)
        assert found is not None
        return found
    finally:
        await runtime.close()


async def _wait_for(settings: Settings, job_id: str, predicate: object,
                    within: float = 120.0) -> JobView:
    """Poll the job's record (generous bound: a busy machine is slow, never wrong); one
    runtime for the whole wait, so that polling leaves the CPU to the processes under test."""
    runtime = build_runtime(settings)
    try:
        assert runtime.jobs is not None
        deadline = asyncio.get_running_loop().time() + within
        while True:
            latest = await runtime.jobs.jobs.get(job_id)
            assert latest is not None
            if predicate(latest):  # type: ignore[operator]
                return latest
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"job never reached the state: {latest}")
            await asyncio.sleep(0.3)
    finally:
        await runtime.close()


def _results(slack: FakeSlackApi) -> list[str]:
    return [call.message_text() for call in slack.of("chat.postMessage")
            if "Sonde terminée" in call.message_text()]


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), 60)
    except TimeoutError:
        process.kill()
        return await process.wait()


@pytest.mark.postgres
async def test_a_worker_killed_mid_job_leaves_it_to_the_other_exactly_once(
        tmp_path: Path, database: str, slack: FakeSlackApi) -> None:
    environment = _environment(tmp_path, slack, ALMIA_DATABASE_URL=database,
                               ALMIA_JOBS__ENGINE="procrastinate")
    settings = _settings(environment)
    job = await _queue_probe(settings, steps=14)  # 11 steps left when killed at the 3rd
    workers = {name: await _spawn("worker", "--name", name, environment=environment)
               for name in ("worker-a", "worker-b")}
    try:
        running = await _wait_for(settings, job.id, lambda j: (j.checkpoint or {}).get(
            "done", 0) >= 3)
        owner = await _lease_owner(settings, job.id)
        assert owner in workers and running.state is JobState.RUNNING
        workers[owner].send_signal(signal.SIGKILL)  # kill -9 mid-job
        await workers[owner].wait()
        done = await _wait_for(settings, job.id, lambda j: j.delivered)
        assert done.state is JobState.SUCCEEDED
        assert done.attempts == 2  # retaken once, by the other worker
        assert done.result is not None and "reprise à l'étape 0" not in done.result.text
        await poll(lambda: len(_results(slack)) >= 1, 30, lambda: str(slack.calls[-5:]))
        await asyncio.sleep(2)  # a second delivery would have happened by now
        assert len(_results(slack)) == 1
    finally:
        codes = {name: await _stop(process) for name, process in workers.items()}
    survivor = next(name for name in workers if name != owner)
    assert codes[survivor] == 0  # SIGTERM: a clean stop


async def _lease_owner(settings: Settings, job_id: str) -> str:
    engine = create_async_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            owner = await connection.scalar(
                text("SELECT lease_owner FROM jobs WHERE id = :id"), {"id": job_id})
    finally:
        await engine.dispose()
    return str(owner)


async def test_a_server_restarted_mid_job_resumes_it_and_reports_once(
        tmp_path: Path, slack: FakeSlackApi) -> None:
    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    environment = _environment(tmp_path, slack, ALMIA_WEB__PORT=port,
                               ALMIA_OPS__DRAIN_SECONDS="0")  # no balancer to tell here
    settings = _settings(environment)
    job = await _queue_probe(settings, steps=14)  # the server's sweep takes it up
    server = await _spawn("serve", environment=environment)
    try:
        await _wait_for(settings, job.id, lambda j: (j.checkpoint or {}).get("done", 0) >= 3)
        server.send_signal(signal.SIGKILL)
        await server.wait()
        server = await _spawn("serve", environment=environment)
        done = await _wait_for(settings, job.id, lambda j: j.delivered)
    finally:
        with contextlib.suppress(ProcessLookupError):
            await _stop(server)
    assert done.state is JobState.SUCCEEDED and done.attempts == 2
    assert done.result is not None and "reprise à l'étape 0" not in done.result.text
    assert len(_results(slack)) == 1


@pytest.mark.postgres
async def test_a_worker_stopped_with_sigterm_hands_its_job_back_at_once(
        tmp_path: Path, database: str, slack: FakeSlackApi) -> None:
    environment = _environment(tmp_path, slack, ALMIA_DATABASE_URL=database,
                               ALMIA_JOBS__ENGINE="procrastinate",
                               ALMIA_JOBS__LEASE_SECONDS="600",  # only a hand-back frees it
                               ALMIA_JOBS__SHUTDOWN_GRACE_SECONDS="0.5")
    settings = _settings(environment)
    job = await _queue_probe(settings, steps=16)  # 14 steps left when stopped at the 2nd
    first = await _spawn("worker", "--name", "worker-a", environment=environment)
    second: asyncio.subprocess.Process | None = None
    try:
        await _wait_for(settings, job.id, lambda j: (j.checkpoint or {}).get("done", 0) >= 2)
        assert await _stop(first) == 0
        handed_back = await _job(settings, job.id)
        assert handed_back.state is JobState.QUEUED and handed_back.attempts == 0
        second = await _spawn("worker", "--name", "worker-b", environment=environment)
        done = await _wait_for(settings, job.id, lambda j: j.delivered)
    finally:
        if second is not None:
            await _stop(second)
    assert done.state is JobState.SUCCEEDED and done.attempts == 1  # the stop did not count
    assert done.result is not None and "reprise à l'étape 0" not in done.result.text
    assert len(_results(slack)) == 1

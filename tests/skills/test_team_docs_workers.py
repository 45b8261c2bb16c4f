"""A large team-documents request fanned out over real ``almia worker`` processes that write
to a real Chroma server, on the real PostgreSQL queue; one result reaches the Slack thread."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import socket
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_runtime
from bot.jobs.model import JobSpec, JobState
from bot.settings import Settings
from bot.store.files import NewFile
from knowledge import KnowledgeBase
from skills.team_docs import space_collection
from tests.bot.jobs.test_workers import (
    _environment,
    _probe_message,
    _settings,
    _spawn,
    _stop,
    _wait_for,
    database,
    slack,
)
from tests.fakes.loopback import poll
from tests.fakes.slack_api import FakeSlackApi

__all__ = ["database", "slack"]  # fixtures shared with the jobs' worker tests
# chromadb's HttpClient leaves its keep-alive sockets to the garbage collector (close()
# releases the client, not its connection pool): not this test's subject.
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

CHROMA = str(Path(sys.executable).with_name("chroma"))
ENTRIES = 23  # default batches of 20 documents: two batch jobs


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def chroma(tmp_path: Path) -> AsyncIterator[str]:
    """A Chroma server of the test's own on a free loopback port; its URL."""
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        CHROMA, "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
        "--port", str(port), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(240):
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.25)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        await server.wait()


def _archive() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(ENTRIES):
            zipped.writestr(f"procedures/fiche-{number:02d}.md",
                            f"# Fiche {number}\n\nLa démarche numéro {number} se fait sous "
                            f"{number + 2} jours ouvrés auprès de l'agence.\n")
        zipped.writestr("procedures/vide.txt", "")
    return archive.getvalue()


async def _queue(settings: Settings) -> str:
    runtime = build_runtime(settings)
    await runtime.start(jobs=False)
    try:
        assert runtime.jobs is not None and runtime.files is not None
        message = _probe_message()
        data = _archive()
        info = await runtime.files.save_bytes(NewFile(
            owner_id=message.user.id, space_id=message.space.id, channel="slack",
            purpose="upload", name="procedures.zip", kind="zip",
            media_type="application/zip", sha256="0" * 64), data)
        job = await runtime.jobs.start(JobSpec(
            skill="team_docs", task="ingest", title="Ajout de 1 document",
            params={"collection": space_collection(message.space.id), "space": message.space.id,
                    "title": "Équipe", "files": [{"id": info.id, "name": "procedures.zip",
                                                  "kind": "zip"}]}), message, "fr")
        return job.id
    finally:
        await runtime.close()


async def _tasks(settings: Settings) -> list[tuple[str, JobState]]:
    runtime = build_runtime(settings)
    try:
        assert runtime.jobs is not None
        views = await runtime.jobs.mine(_probe_message().user.id, limit=50)
        return sorted((view.task, view.state) for view in views)
    finally:
        await runtime.close()


@pytest.mark.postgres
async def test_batches_run_on_the_workers_and_one_result_is_posted(
        tmp_path: Path, database: str, slack: FakeSlackApi, chroma: str) -> None:
    environment = _environment(tmp_path, slack, ALMIA_DATABASE_URL=database,
                               ALMIA_JOBS__ENGINE="procrastinate", ALMIA_CHROMA_URL=chroma)
    settings = _settings(environment)
    job_id = await _queue(settings)
    workers = [await _spawn("worker", "--name", name, environment=environment)
               for name in ("worker-a", "worker-b")]
    try:
        done = await _wait_for(settings, job_id, lambda j: j.delivered, within=300)
    finally:
        await asyncio.gather(*(_stop(process) for process in workers))  # both at once
    assert done.state is JobState.SUCCEEDED, done
    assert done.result is not None
    assert f"{ENTRIES} ajoutés" in done.result.text and "vide.txt" in done.result.text
    assert await _tasks(settings) == [("ingest", JobState.SUCCEEDED),
                                      *[("ingest_batch", JobState.SUCCEEDED)] * 2]
    posted = [call.message_text() for call in slack.of("chat.postMessage")
              if "ajoutés" in call.message_text()]
    await poll(lambda: bool(posted), 5, lambda: str(slack.calls[-5:]))
    assert len(posted) == 1  # the batches report nowhere; the parent once
    knowledge = KnowledgeBase.open(tmp_path / "reader", settings.knowledge, chroma_url=chroma)
    try:
        documents = await knowledge.documents(space_collection(_probe_message().space.id))
    finally:
        knowledge.close()
        gc.collect()  # chromadb's keep-alive sockets are closed here, under this module's filter
    assert len(documents) == ENTRIES

"""Team documents: large ingestions split into batch sub-jobs, or run one after another."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, build_app
from bot.jobs.model import JobState, JobView, ReplyTo
from bot.settings import Settings, load_settings
from bot.skills import Skill
from knowledge import KnowledgeBase
from skills import SkillServices, build_skills
from skills.team_docs import TeamDocsSkill
from skills.team_docs_batches import Batching, Unit, batch_outcomes, split
from tests.knowledge.helpers import HashingEmbedder
from tests.web_api import chat, finished, upload

Client = TestClient[web.Request, web.Application]


def _note(topic: str) -> bytes:
    return (f"# Procédure {topic}\n\nLa procédure {topic} se déclare sous cinq jours ouvrés "
            f"auprès de l'agence, justificatif à l'appui.\n").encode()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    policy["user_roles"] = {"manager": ["web:alice"]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return load_settings(data_dir=tmp_path / "data", policy_file=path, _env_file=None)


def _skills(batching: Batching | None) -> Callable[[SkillServices], list[Skill]]:
    def build(services: SkillServices) -> list[Skill]:
        return [TeamDocsSkill(services.library, services.roles, batching=batching)
                if skill.name == "team_docs" else skill for skill in build_skills(services)]
    return build


async def _client(settings: Settings, batching: Batching | None) -> Client:
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    app = build_app(settings, knowledge=knowledge, skill_factory=_skills(batching))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def fanned(settings: Settings) -> AsyncIterator[Client]:
    client = await _client(settings, Batching(fan_out=True, files=2, poll_seconds=0.02))
    yield client
    await client.close()


@pytest.fixture
async def embedded(settings: Settings) -> AsyncIterator[Client]:
    client = await _client(settings, None)  # decided from the settings: embedded Chroma
    yield client
    await client.close()


@pytest.fixture
async def in_turn(settings: Settings) -> AsyncIterator[Client]:
    client = await _client(settings, Batching(fan_out=False, files=2))
    yield client
    await client.close()


def _archive() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("dossier/auto.txt", _note("constat amiable"))
        zipped.writestr("dossier/habitation.md", _note("dégât des eaux"))
        zipped.writestr("dossier/sante.md", _note("tiers payant"))
        zipped.writestr("dossier/vide.txt", "")
    return archive.getvalue()


async def _add_all(client: Client) -> tuple[dict[str, Any], list[str]]:
    uploaded = await upload(client, {"bris.md": _note("bris de glace"),
                                     "vol.md": _note("vol"), "dossier.zip": _archive()})
    assert uploaded.status == 200, await uploaded.text()
    ids = [f["id"] for f in (await uploaded.json())["files"]]
    reply = await chat(client, "/almia docs add", ids)
    assert reply["kind"] == "info" and reply["job_id"], reply
    job = await finished(client, str(reply["job_id"]))
    runtime = client.app[RUNTIME]
    assert runtime.jobs is not None
    parent = await runtime.jobs.jobs.get(str(reply["job_id"]))
    assert parent is not None
    tasks = [view.task for view in await runtime.jobs.mine(parent.user_id, limit=50)]
    return job, tasks


async def test_a_large_request_is_split_into_batches_and_reported_once(
        fanned: Client) -> None:
    job, tasks = await _add_all(fanned)
    assert sorted(tasks) == ["ingest", *["ingest_batch"] * 3]  # 6 documents, 2 per batch
    assert job["state"] == "succeeded", job
    text = str(job["result"]["text"])
    assert "5 ajoutés" in text and "1 en échec" in text and "dossier/vide.txt" in text, text
    [report] = job["artefacts"]
    rows = (await (await fanned.get(report["url"])).read()).decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 6
    listing = await chat(fanned, "/almia docs list", [])
    for name in ("bris.md", "vol.md", "dossier/auto.txt", "dossier/habitation.md",
                 "dossier/sante.md"):
        assert name in listing["text"], listing
    again, _ = await _add_all(fanned)  # the same documents: each batch finds them unchanged
    assert "5 inchangés" in str(again["result"]["text"]), again


async def test_with_the_embedded_chroma_one_job_ingests_everything(embedded: Client) -> None:
    job, tasks = await _add_all(embedded)
    assert tasks == ["ingest"]
    assert job["state"] == "succeeded", job
    assert "5 ajoutés" in str(job["result"]["text"]), job


async def test_without_fan_out_the_batches_run_in_turn_inside_the_job(in_turn: Client) -> None:
    job, tasks = await _add_all(in_turn)
    assert tasks == ["ingest"]
    assert "5 ajoutés" in str(job["result"]["text"]) and "1 en échec" in str(
        job["result"]["text"]), job
    runtime = in_turn.app[RUNTIME]
    assert runtime.jobs is not None
    view = await runtime.jobs.jobs.get(str(job["id"]))
    assert view is not None and view.checkpoint is not None
    assert sorted(view.checkpoint["done"]) == ["0", "1", "2"]  # a checkpoint per batch


def test_batches_hold_at_most_n_documents_or_m_megabytes() -> None:
    megabyte = 1024 * 1024
    units = [Unit("a", "a.md", "md", megabyte // 2), Unit("b", "b.md", "md", megabyte // 2),
             Unit("z", "z.zip", "zip", 3 * megabyte, "big.pdf"),
             Unit("z", "z.zip", "zip", 10, "c.txt"), Unit("z", "z.zip", "zip", 10, "d.txt"),
             Unit("z", "z.zip", "zip", 10, "e.txt")]
    batches = split(units, files=2, megabytes=1.0)
    assert [[u.entry or u.name for u in batch] for batch in batches] == [
        ["a.md", "b.md"], ["big.pdf"], ["c.txt", "d.txt"], ["e.txt"]]
    assert split([], files=2, megabytes=1.0) == []


def _batch(state: JobState, checkpoint: dict[str, Any] | None) -> JobView:
    moment = datetime(2026, 1, 5, tzinfo=UTC)
    return JobView(
        id="b1", skill="team_docs", task="ingest_batch", title="", user_id="web:alice",
        reply_to=ReplyTo("internal", "s", "t", "web:alice", "fr"), state=state, progress=1.0,
        progress_text="", params={"collection": "c", "files": [
            {"id": "f1", "name": "dossier.zip", "kind": "zip", "entries": ["a.md", "b/c.txt"]},
            {"id": "f2", "name": "note.md", "kind": "md"}]},
        checkpoint=checkpoint, result=None, error=None, attempts=3, max_attempts=3,
        cancel_requested=False, notice=None, created_at=moment, started_at=moment,
        finished_at=moment, delivered=True)


def test_a_batch_that_ended_without_outcomes_fails_each_of_its_documents() -> None:
    lines = batch_outcomes(_batch(JobState.TIMED_OUT, None), 2, "fr")
    assert [line.split("\x1f")[:2] for line in lines] == [
        ["failed", "dossier.zip › a.md"], ["failed", "dossier.zip › b/c.txt"], ["failed", "note.md"]]
    assert all("lot 2" in line and "timed_out" in line for line in lines)
    kept = ["added\x1fnote.md\x1f"]
    assert batch_outcomes(_batch(JobState.SUCCEEDED, {"lines": kept}), 1, "fr") == kept


async def test_cancelling_a_split_ingestion_cancels_its_batches(tmp_path: Path) -> None:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    policy["user_roles"] = {"manager": ["web:alice"]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    one_slot = load_settings(data_dir=tmp_path / "data", policy_file=path, _env_file=None,
                             jobs={"concurrency": 1, "lease_seconds": 2})
    client = await _client(one_slot, Batching(fan_out=True, files=2, poll_seconds=0.02))
    try:  # one job slot: the batches cannot start while the parent waits for them
        uploaded = await upload(client, {"bris.md": _note("bris"), "vol.md": _note("vol"),
                                         "dossier.zip": _archive()})
        ids = [f["id"] for f in (await uploaded.json())["files"]]
        reply = await chat(client, "/almia docs add", ids)
        runtime = client.app[RUNTIME]
        assert runtime.jobs is not None
        parent_id = str(reply["job_id"])
        for _ in range(600):  # generous bound: a busy machine is slow, never wrong
            parent = await runtime.jobs.jobs.get(parent_id)
            if parent is not None and len((parent.checkpoint or {}).get("batches", {})) == 2:
                break
            await asyncio.sleep(0.1)
        # three active jobs per person: the parent and two batches; the third batch waits
        assert parent is not None and len((parent.checkpoint or {})["batches"]) == 2
        cancelled = await chat(client, f"/almia jobs cancel {parent_id[:8]}", [])
        assert "Annulation demandée" in cancelled["text"], cancelled
        job = await finished(client, parent_id)
        assert job["state"] == "cancelled", job
        views = await runtime.jobs.mine(parent.user_id, limit=50)
        assert sorted((view.task, view.state.value) for view in views) == [
            ("ingest", "cancelled"), *[("ingest_batch", "cancelled")] * 2]
    finally:
        await client.close()


async def test_batches_count_as_the_persons_jobs(tmp_path: Path) -> None:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    policy["user_roles"] = {"manager": ["web:alice"]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    one_job = load_settings(data_dir=tmp_path / "data", policy_file=path, _env_file=None,
                            jobs={"max_active_per_user": 1})
    client = await _client(one_job, Batching(fan_out=True, files=2, poll_seconds=0.02))
    try:  # one active job per person: no batch may be queued, the job ingests them itself
        job, tasks = await _add_all(client)
        assert tasks == ["ingest"]
        assert job["state"] == "succeeded", job
        assert "5 ajoutés" in str(job["result"]["text"]), job
        runtime = client.app[RUNTIME]
        assert runtime.jobs is not None
        view = await runtime.jobs.jobs.get(str(job["id"]))
        assert view is not None and view.checkpoint is not None
        assert sorted(view.checkpoint["done"]) == ["0", "1", "2"]
        assert len(view.checkpoint["lines"]) == 6
        assert [row.task for row in await runtime.jobs.mine("web:alice", limit=50)] == ["ingest"]
    finally:
        await client.close()


async def test_a_workbook_is_added_and_answered_from(embedded: Client) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Processus", "Délai cible"])
    sheet.append(["Remboursement des lunettes", "10 jours"])
    buffer = io.BytesIO()
    book.save(buffer)
    uploaded = await upload(embedded, {"delais.xlsx": buffer.getvalue()})
    assert uploaded.status == 200, await uploaded.text()
    ids = [f["id"] for f in (await uploaded.json())["files"]]
    reply = await chat(embedded, "/almia docs add", ids)
    job = await finished(embedded, str(reply["job_id"]))
    assert job["state"] == "succeeded" and "1 ajouté," in str(job["result"]["text"]), job
    answer = await chat(embedded, "Quel délai pour le remboursement des lunettes ?", [])
    assert "Délai cible : 10 jours" in answer["text"], answer


async def test_the_list_names_the_shared_collections_questions_here_also_search(
        embedded: Client, tmp_path: Path) -> None:
    knowledge = embedded.app[RUNTIME].knowledge
    for name, topic in (("rh", "congés"), ("sinistres", "vol"), ("autre-espace", "paie")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.md").write_bytes(_note(topic))
        await knowledge.ingest([folder], name, company_wide=name == "rh")
    await knowledge.attach("sinistres", "web:default")
    await knowledge.attach("autre-espace", "web:ailleurs")
    listing = (await chat(embedded, "/almia docs list", []))["text"]
    assert listing.splitlines() == [
        "Aucun document n'a encore été ajouté à cet espace.", "",
        "Les questions posées ici portent aussi sur 2 collections partagées :",
        "- rh (1 document, toute l'entreprise)",
        "- sinistres (1 document, rattachée à cet espace)"]
    english = (await chat(embedded, "/almia docs list", [], locale="en"))["text"]
    assert "- rh (1 document, company-wide)" in english, english

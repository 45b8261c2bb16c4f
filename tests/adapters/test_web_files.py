"""Files and jobs through the web API: upload, refusal, a team-documents job, progress, download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, build_app
from bot.settings import Settings, load_settings
from bot.store.files import FileStore
from knowledge import KnowledgeBase
from tests.knowledge.helpers import HashingEmbedder
from tests.web_api import chat, finished, upload

NOTE = ("# Procédure bris de glace\n\nUn bris de glace se déclare sous cinq jours ouvrés "
        "auprès de l'agence, photo du pare-brise à l'appui.\n").encode()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    policy["user_roles"] = {"manager": ["web:alice"]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return load_settings(data_dir=tmp_path / "data", policy_file=path, _env_file=None)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    app = build_app(settings, knowledge=knowledge)
    created = TestClient(TestServer(app, host="127.0.0.1"))
    await created.start_server()
    yield created
    await created.close()


async def test_documents_added_from_the_chat_are_searchable(
        client: TestClient) -> None:  # type: ignore[type-arg]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("dossier/auto.txt", "Le constat amiable s'envoie sous cinq jours.")
    uploaded = await upload(client, {"bris-de-glace.md": NOTE, "dossier.zip": archive.getvalue()})
    assert uploaded.status == 200, await uploaded.text()
    files = (await uploaded.json())["files"]
    assert [f["kind"] for f in files] == ["md", "zip"]
    reply = await chat(client, "/almia docs add", [f["id"] for f in files])
    assert reply["kind"] == "info" and reply["job_id"], reply
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded" and "2 ajoutés" in job["result"]["text"], job
    [report] = job["artefacts"]
    assert report["name"] == "rapport-documents.csv"
    downloaded = await client.get(report["url"])
    assert downloaded.status == 200
    rows = (await downloaded.read()).decode("utf-8-sig").splitlines()
    assert rows[0] == "document;résultat;message"
    assert sorted(rows[1:]) == ["bris-de-glace.md;ajouté;", "dossier/auto.txt;ajouté;"]
    listing = await chat(client, "/almia docs list", [])
    assert "bris-de-glace.md" in listing["text"] and "dossier/auto.txt" in listing["text"]
    jobs = await (await client.get("/api/jobs?user=alice")).json()
    assert jobs["jobs"][0]["state"] == "succeeded"
    mine = await chat(client, "/almia jobs", [])
    assert "terminée" in mine["text"]
    removed = await chat(client, "/almia docs remove bris-de-glace.md", [])
    assert "retiré" in removed["text"]


async def test_only_managers_change_a_space_documents(
        client: TestClient) -> None:  # type: ignore[type-arg]
    uploaded = await upload(client, {"note.md": NOTE}, user="bob")
    file_id = (await uploaded.json())["files"][0]["id"]
    reply = await chat(client, "/almia docs add", [file_id], user="bob")
    assert reply["kind"] == "error" and "managers" in reply["text"]
    other = await client.post("/api/chat", json={"text": "/almia docs add", "user": "alice",
                                                 "attachments": [file_id]})
    assert other.status == 400  # someone else's upload is not an attachment of alice's


async def test_a_bad_file_is_refused_and_nothing_is_kept(
        client: TestClient) -> None:  # type: ignore[type-arg]
    files: FileStore = client.app[RUNTIME].files
    response = await upload(client, {"ok.txt": b"bonjour", "faux.pdf": b"pas un pdf"})
    assert response.status == 422
    error = (await response.json())["error"]
    assert "faux.pdf" in error["message"] and "extension" in error["message_en"]
    assert await files.count() == 0
    audit = await client.app[RUNTIME].store.audit_events()
    assert any(event.action == "file_refused" and event.outcome == "mismatch"
               for event in audit)


async def test_artefacts_download_only_with_a_valid_signed_link(
        client: TestClient) -> None:  # type: ignore[type-arg]
    runtime = client.app[RUNTIME]
    uploaded = await upload(client, {"note.md": NOTE})
    file_id = (await uploaded.json())["files"][0]["id"]
    link = runtime.intake.links.url(file_id, "note.md")
    response = await client.get(link)
    assert response.status == 200 and await response.read() == NOTE
    assert "attachment" in response.headers["Content-Disposition"]
    forged = link.replace("signature=", "signature=0")
    assert (await client.get(forged)).status == 403
    assert (await client.get(f"/files/{file_id}/note.md")).status == 403
    actions = [event.action for event in await runtime.store.audit_events()]
    assert "file_download" in actions and "file_received" in actions


async def test_a_file_sent_without_words_gets_a_question_back(
        client: TestClient) -> None:  # type: ignore[type-arg]
    uploaded = await upload(client, {"note.md": NOTE})
    file_id = (await uploaded.json())["files"][0]["id"]
    reply = await chat(client, "", [file_id])
    assert reply["kind"] == "info" and "« note.md »" in reply["text"]
    assert "/almia docs add" in reply["text"]

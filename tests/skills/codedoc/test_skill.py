"""``/almia doc`` through the web API: a ZIP or pasted code in, a job, the outputs to download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import Settings, load_settings
from knowledge import KnowledgeBase
from tests.fakes.model_server import FakeModelServer
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.codedoc.helpers import fixtures_zip, zipped
from tests.web_api import chat, finished, upload, upload_one


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return load_settings(data_dir=tmp_path / "data", policy_file=path, _env_file=None)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    created = TestClient(TestServer(build_app(settings, knowledge=knowledge), host="127.0.0.1"))
    await created.start_server()
    yield created
    await created.close()


async def test_a_zip_of_code_is_documented_as_a_job(
        client: TestClient) -> None:  # type: ignore[type-arg]
    file_id = await upload_one(client, "paie.zip", fixtures_zip())
    reply = await chat(client, "/almia doc", [file_id])
    assert reply["kind"] == "info" and reply["job_id"], reply
    assert "je documente « paie.zip »" in reply["text"]
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded", job
    summary = job["result"]["text"]
    assert "**Documentation de 14 fichiers**" in summary and "100 % en ont une après le correctif" in summary
    assert "un modèle approuvé pour le rôle `code`" in summary
    assert "2 secrets repérés" in summary
    names = [artefact["name"] for artefact in job["artefacts"]]
    assert names == ["documentation-code.zip", "documentation-code.html", "documentation.patch",
                     "inventory.json"]
    docs = await (await client.get(job["artefacts"][0]["url"])).read()
    with zipfile.ZipFile(io.BytesIO(docs)) as archive:
        assert "docs/modules/cobol_PAYROLL.cbl.md" in archive.namelist()
    patch = await (await client.get(job["artefacts"][2]["url"])).read()
    # the fixtures' comments are English, so what goes into them is too
    assert b"+      * PROCESS-PARA: Performs `WRITE-SLIP`" in patch
    assert "écrits en anglais, la langue des commentaires existants" in summary


async def test_pasted_code_is_documented(client: TestClient) -> None:  # type: ignore[type-arg]
    reply = await chat(client, "/almia doc ```python\ndef total(items):\n    return sum(items)\n"
                               "```", [])
    assert reply["kind"] == "info", reply
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded" and "**Documentation de 1 fichier**" in job["result"][
        "text"]
    patch = await (await client.get(job["artefacts"][2]["url"])).read()
    assert b'+    """Prend `items` ; renvoie `sum(items)` ; appelle `sum`."""' in patch


async def test_the_documentation_language_can_be_asked(
        client: TestClient) -> None:  # type: ignore[type-arg]
    file_id = await upload_one(client, "paie.zip", fixtures_zip())
    reply = await chat(client, "/almia doc langue=anglais", [file_id])
    assert "je documente « paie.zip »" in reply["text"]  # the person's language in the chat
    job = await finished(client, reply["job_id"])
    assert "**Documentation of 14 files**" in job["result"]["text"]
    asked = await chat(client, "/almia doc lang=fr", [file_id])
    job = await finished(client, asked["job_id"])
    patch = await (await client.get(job["artefacts"][2]["url"])).read()
    assert b"+      * PROCESS-PARA: Ex\xc3\xa9cute `WRITE-SLIP`" in patch  # as asked
    assert "la langue des commentaires existants" not in job["result"]["text"]
    pasted = await chat(client, "/almia doc langue=français\ndef total(items):\n"
                                "    return sum(items)", [])
    job = await finished(client, pasted["job_id"])
    assert job["state"] == "succeeded" and "**Documentation de 1 fichier**" in job["result"][
        "text"]


async def test_a_zip_and_plain_words_start_the_documentation(
        client: TestClient) -> None:  # type: ignore[type-arg]
    file_id = await upload_one(client, "paie.zip", fixtures_zip())
    reply = await chat(client, "Peux-tu rétro-documenter ce patrimoine COBOL ?", [file_id])
    assert reply["kind"] == "info" and reply["job_id"], reply
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded"


async def test_a_text_file_of_cobol_is_documented(
        client: TestClient) -> None:  # type: ignore[type-arg]
    program = ("       IDENTIFICATION DIVISION.\n       PROGRAM-ID. RELANCE.\n"
               "       PROCEDURE DIVISION.\n       MAIN-PARA.\n"
               "           DISPLAY 'Échéance dépassée'\n           GOBACK.\n")
    file_id = await upload_one(client, "relance.txt", program.encode("cp1252"))
    reply = await chat(client, "/almia doc", [file_id])
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded" and "(6 lignes, cobol 1)" in job["result"]["text"]
    patch = await (await client.get(job["artefacts"][2]["url"])).read()
    assert "      * MAIN-PARA: Aucun appel repéré.".encode("cp1252") in patch
    assert "Échéance".encode("cp1252") in patch  # the file's own encoding, byte for byte


async def test_one_source_file_is_documented_by_its_extension(
        client: TestClient) -> None:  # type: ignore[type-arg]
    source = b"RATE = 0.2\nLIMIT = 10\n"  # no sign of Python but the file's extension
    file_id = await upload_one(client, "calcul.py", source)
    reply = await chat(client, "/almia doc", [file_id])
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded" and "python 1" in job["result"]["text"]
    assert "documentation-code.zip" in [artefact["name"] for artefact in job["artefacts"]]


async def test_one_shell_script_is_documented_and_its_patch_comments_it(
        client: TestClient) -> None:  # type: ignore[type-arg]
    source = b"#!/bin/bash\nexport STAGE=prod\nrun() {\n  ./load.sh > out.log\n}\nrun\n"
    file_id = await upload_one(client, "deploy.sh", source)
    reply = await chat(client, "/almia doc lang=en", [file_id])
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded" and "shell 1" in job["result"]["text"]
    patch = await (await client.get(job["artefacts"][2]["url"])).read()
    assert b"+# run: Calls `load.sh`; writes file `out.log`; called by `deploy.sh`.\n" in patch
    assert b"+# deploy.sh: Calls `run`; exports `STAGE`.\n" in patch


async def test_refusals_the_developer_can_act_on(
        client: TestClient) -> None:  # type: ignore[type-arg]
    usage = await chat(client, "/almia doc", [])  # the bare command: how to use it
    assert usage["kind"] == "info" and "Joignez un ZIP du code" in usage["text"]
    language_only = await chat(client, "/almia doc lang=en", [])
    assert language_only["kind"] == "error" and "Joignez un ZIP du code" in language_only["text"]
    prose = await chat(client, "/almia doc notre appli de paie", [])
    assert prose["kind"] == "error" and "Je ne reconnais pas de code" in prose["text"]
    table = await upload_one(client, "notes.csv", b"a;b\n1;2\n")
    wrong = await chat(client, "/almia doc", [table])
    assert wrong["kind"] == "error" and "n'est pas du code" in wrong["text"]
    unsafe = await upload(client, {"evil.zip": zipped({"../x.py": b"x = 1\n"})})
    assert unsafe.status != 200  # the upload checks refuse it before any skill sees it
    empty = await upload_one(client, "docs.zip", zipped({"README.md": b"# notes\n"}))
    reply = await chat(client, "/almia code", [empty])
    job = await finished(client, reply["job_id"])
    assert job["state"] == "failed" and "Aucun fichier source reconnu" in job["result"]["text"]


async def test_with_an_approved_model_the_job_writes_purposes_without_secrets(
        tmp_path: Path) -> None:
    def answer(body: dict[str, Any]) -> str:
        unit = body["messages"][-1]["content"].split("`", 2)[1]
        return f"Purpose of {unit}, from its code."

    async with FakeModelServer(responder=answer) as model:
        policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
        policy["models"].insert(0, {"alias": "fake", "provider": "openai-compatible",
                                    "model": "fake", "api_base": model.url, "api_key": "sk-x",
                                    "hosting": "internal", "clearance": "confidential"})
        policy["skills"]["codedoc"]["roles"]["code"] = ["fake", "extractive"]
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
        settings = load_settings(data_dir=tmp_path / "data", policy_file=path, _env_file=None)
        knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                       embedder=HashingEmbedder())
        async with TestClient(TestServer(build_app(settings, knowledge=knowledge),
                                         host="127.0.0.1")) as client:
            file_id = await upload_one(client, "paie.zip", fixtures_zip())
            reply = await chat(client, "/almia doc", [file_id])
            job = await finished(client, reply["job_id"])
            assert job["state"] == "succeeded", job
            patch = await (await client.get(job["artefacts"][2]["url"])).read()
    assert "Objet des unités rédigé par le modèle pour 44 unités" in job["result"]["text"]
    assert len(model.requests) == 44  # one call per public unit
    prompts = "\n".join(body["messages"][-1]["content"] for body in model.requests)
    assert "Sup3rS3cret" not in prompts and "Tiger2024" not in prompts
    assert "[SECRET_1]" in prompts
    assert "+      * PROCESS-PARA: Purpose of PAYROLL.PROCESS-PARA, from its code." in (
        patch.decode())

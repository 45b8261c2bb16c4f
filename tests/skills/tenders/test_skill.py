"""``/almia ao`` through the web API: files in, a job, the verdict and the artefacts out."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from bot.app import build_app
from bot.settings import Settings, load_settings
from knowledge import KnowledgeBase
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.tenders.dossiers import CRITERIA, hospital_dossier, zipped
from tests.web_api import chat, finished, upload_one


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
    app = build_app(settings, knowledge=knowledge)
    created = TestClient(TestServer(app, host="127.0.0.1"))
    await created.start_server()
    yield created
    await created.close()


async def test_a_dossier_is_screened_as_a_job_with_the_companys_criteria(
        client: TestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    folder = settings.data_dir / "tenders"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "criteria.yaml").write_text(CRITERIA, encoding="utf-8")
    file_id = await upload_one(client, "DCE.zip", zipped(hospital_dossier()))
    reply = await chat(client, "/almia ao date=2027-01-15", [file_id])
    assert reply["kind"] == "info" and reply["job_id"], reply
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded", job
    text = job["result"]["text"]
    assert "J-7" in text and "⛔ NO-GO" in text and "hors périmètre" in text
    assert "Contradictions (non tranchées)" in text and "Analyse hors ligne" in text
    assert "exemple livré" not in text  # the company's own criteria were used
    [card] = job["result"]["cards"]  # the verdict card, shown by the web job panel
    assert card["title"] == "Assurances du centre hospitalier de Kernevel" and not card["buttons"]
    facts = dict(card["facts"])
    assert facts["Remise des offres"] == "J-7 · 22/01/2027 à 12:00 (heure de Paris, UTC+01:00)"
    assert facts["Acheteur"].startswith("Centre hospitalier de Kernevel")
    lot = facts["Lot 1 – Flotte automobile et auto-collaborateurs"]
    assert lot.startswith("⛔ NO-GO — Branches") and "hors périmètre" in lot
    assert "2 no-go" in card["text"]
    names = [artefact["name"] for artefact in job["artefacts"]]
    assert names == ["analyse-appel-offres.xlsx", "plan-memoire-technique.docx",
                     "analyse-appel-offres.json"]
    grid = await (await client.get(job["artefacts"][0]["url"])).read()
    book = load_workbook(io.BytesIO(grid), read_only=True)
    assert "Faits" in book.sheetnames
    book.close()
    again = await chat(client, "/almia appel-offres date=2027-01-15", [file_id])
    assert again["job_id"], again
    second = await finished(client, again["job_id"])
    assert "Faits repris de l'analyse précédente" in second["result"]["text"]


async def test_usage_and_refusals(client: TestClient) -> None:  # type: ignore[type-arg]
    usage = await chat(client, "/almia ao", [])  # the bare command: how to use it
    assert usage["kind"] == "info" and "RC, CCAP, CCTP" in usage["text"]
    unclear = await chat(client, "/almia ao le dossier de lundi", [])
    assert unclear["kind"] == "error" and "RC, CCAP, CCTP" in unclear["text"]
    table = await upload_one(client, "liste.csv", b"a;b\n1;2\n")
    refused = await chat(client, "/almia ao", [table])
    assert refused["kind"] == "error" and "PDF, DOCX, XLSX ou ZIP" in refused["text"]


def test_plain_words_route_only_when_they_speak_of_a_tender() -> None:
    from bot.messages import Attachment, Channel, Message, Space, User
    from skills.tenders.skill import mentions_tender

    def message(text: str, kind: str = "pdf") -> Message:
        return Message(text, User("u1"), Space("web:default"), Channel.WEB, "t1", attachments=(
            Attachment("f." + kind, "application/octet-stream", file_id="1", kind=kind),))

    assert mentions_tender(message("Peux-tu analyser cet appel d'offres ?"))
    assert mentions_tender(message("voici le DCE", "zip"))
    assert not mentions_tender(message("résume ce compte rendu de consultation"))
    assert not mentions_tender(message("analyse cet appel d'offres", "csv"))
    # a question about the dossier is answered from its files, unless it asks for the screening
    assert not mentions_tender(message("Quels documents composent le dossier de consultation ?"))
    assert not mentions_tender(message("What is the deadline of this tender?"))
    assert mentions_tender(message("Faut-il répondre à cet appel d'offres ?"))
    assert mentions_tender(message("Can you screen this tender?"))
    assert mentions_tender(message("Go / no go sur ce marché public ?"))


async def test_a_date_that_does_not_exist_and_an_empty_archive_are_said_plainly(
        client: TestClient) -> None:  # type: ignore[type-arg]
    file_id = await upload_one(client, "DCE.zip", zipped(hospital_dossier()))
    bad_day = await chat(client, "/almia ao date=2027-13-45", [file_id])
    assert bad_day["kind"] == "error" and not bad_day.get("job_id"), bad_day
    assert "La date « 2027-13-45 » n'existe pas" in bad_day["text"]
    empty = await upload_one(client, "vide.zip", zipped({}))
    reply = await chat(client, "/almia ao date=2027-01-15", [empty])
    job = await finished(client, reply["job_id"])
    assert job["state"] == "failed" and "aucun document (archive vide" in job["result"]["text"]


async def test_a_dossier_without_its_rc_is_screened_with_a_warning(
        client: TestClient) -> None:  # type: ignore[type-arg]
    files = {name: data for name, data in hospital_dossier().items()
             if not name.upper().startswith("RC")}
    file_id = await upload_one(client, "DCE.zip", zipped(files))
    reply = await chat(client, "/almia ao date=2027-01-15", [file_id])
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded", job
    assert "Pas de règlement de la consultation (RC) dans le dossier" in job["result"]["text"]

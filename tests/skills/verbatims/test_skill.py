"""``/almia verbatims`` through the web API: upload, columns shown, job run, artefacts listed."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook

from bot.app import build_app
from bot.settings import Settings, load_settings
from bot.skills import Skill, SkillError
from knowledge import KnowledgeBase
from skills import SkillServices, build_skills
from skills.verbatims.codebook import Codebook
from skills.verbatims.model import Analysis, Verbatim
from skills.verbatims.skill import Analyser, VerbatimsSkill, parse_overrides
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.verbatims.standin import standin_analyse
from tests.web_api import chat, finished, upload_one

SURVEY = "\n".join([
    "Enquête de satisfaction",
    "",
    "Identifiant;Date;Produit;Note NPS;Commentaire client",
    "R1;2024-01-05;auto;2;\"Attente au téléphone interminable ; personne ne rappelle\"",
    "R2;2024-01-09;santé;10;Remboursement rapide, merci à la conseillère",
    "R3;2024-02-01;auto;3;RAS",
    "R4;2024-02-11;habitation;1;L'appli plante depuis la mise à jour, c'est nul",
    "R5;2024-03-02;santé;4;Les cotisations augmentent sans explication",
]).encode("cp1252")


def _skills(services: SkillServices) -> list[Skill]:
    def analyser() -> Analyser:
        return standin_analyse

    return [skill if skill.name != "verbatims" else
            VerbatimsSkill(analyser, HashingEmbedder) for skill in build_skills(services)]


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
    app = build_app(settings, knowledge=knowledge, skill_factory=_skills)
    created = TestClient(TestServer(app, host="127.0.0.1"))
    await created.start_server()
    yield created
    await created.close()


async def test_a_survey_is_analysed_as_a_job(client: TestClient) -> None:  # type: ignore[type-arg]
    file_id = await upload_one(client, "enquete.csv", SURVEY)
    reply = await chat(client, '/almia verbatims date="aucune"', [file_id])
    assert reply["kind"] == "info" and reply["job_id"], reply
    text = reply["text"]
    assert "« Commentaire client »" in text and "« Note NPS » (NPS 0-10)" in text
    assert "en-tête ligne 3" in text and "date : (aucune)" in text
    assert 'texte="Commentaire"' in text  # how to override
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded", job
    summary = job["result"]["text"]
    assert "**Analyse de 5 verbatims** : 4 analysés" in summary
    assert "1 sans contenu" in summary and "Thèmes principaux" in summary
    # a theme's mean says which column and scale it is of: a 0-10 answer is no rating out of 5
    assert "moyenne de « Note NPS » " in summary and "/10" in summary, summary
    names = [artefact["name"] for artefact in job["artefacts"]]
    assert names == ["analyse-verbatims.xlsx", "rapport-verbatims.html", "rows.csv",
                     "themes.png", "analysis.json"]  # the stored analysis: not posted in chat
    workbook = await (await client.get(job["artefacts"][0]["url"])).read()
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    rows = list(book["Verbatims"].iter_rows(values_only=True))
    assert rows[0][:3] == ("ligne", "id", "note") and len(rows) == 6  # date column ignored
    book.close()
    rows_csv = (await (await client.get(job["artefacts"][2]["url"])).read()).decode()
    assert rows_csv.splitlines()[0] == "row;id;themes;sentiment;status"


async def test_a_file_and_plain_words_start_the_analysis(
        client: TestClient) -> None:  # type: ignore[type-arg]
    file_id = await upload_one(client, "enquete.csv", SURVEY)
    reply = await chat(client, "Peux-tu analyser ces verbatims ?", [file_id])
    assert reply["kind"] == "info" and reply["job_id"], reply
    job = await finished(client, reply["job_id"])
    assert job["state"] == "succeeded"


async def test_refusals_the_person_can_act_on(
        client: TestClient) -> None:  # type: ignore[type-arg]
    usage = await chat(client, "/almia verbatims", [])  # the bare command: how to use it
    assert usage["kind"] == "info" and "CSV ou XLSX" in usage["text"]
    unclear = await chat(client, "/almia verbatims le fichier d'hier", [])
    assert unclear["kind"] == "error" and "CSV ou XLSX" in unclear["text"]
    file_id = await upload_one(client, "enquete.csv", SURVEY)
    unknown = await chat(client, '/almia verbatims texte="Avis"', [file_id])
    assert unknown["kind"] == "error" and "Commentaire client" in unknown["text"]
    bad_key = await chat(client, "/almia verbatims couleur=bleu", [file_id])
    assert bad_key["kind"] == "error" and "couleur" in bad_key["text"]
    numbers = await upload_one(client, "chiffres.csv", b"a;b\n1;2\n3;4\n")
    no_text = await chat(client, "/almia verbatims", [numbers])
    assert no_text["kind"] == "error" and "texte libre" in no_text["text"]
    english = await upload_one(client, "survey.csv", "\n".join(["id;comment;score"] + [
        f"{n};The app keeps crashing and nobody answers the phone, again {n};2"
        for n in range(20)]).encode())
    not_french = await chat(client, "/almia verbatims", [english])
    assert not_french["kind"] == "error" and not not_french.get("job_id"), not_french
    assert "20 des 20 premières réponses" in not_french["text"]


def test_overrides_are_parsed_in_either_language() -> None:
    assert parse_overrides('texte="Commentaire client" note=NPS canal=« Point de contact »'
                           " type_note=nps") == {
        "text": "Commentaire client", "score": "NPS", "channel": "Point de contact",
        "score_kind": "nps"}
    assert parse_overrides("analyse ces verbatims") == {}


async def test_follow_ups_change_columns_and_themes_without_the_file(
        client: TestClient) -> None:  # type: ignore[type-arg]
    nothing = await chat(client, "/almia verbatims renommer 2=Attente", [])
    assert nothing["kind"] == "error" and "joignez le fichier" in nothing["text"]
    file_id = await upload_one(client, "enquete.csv", SURVEY)
    first = await finished(client, (await chat(client, "/almia verbatims", [file_id]))["job_id"])
    summary = first["result"]["text"]
    assert "2. Attente au téléphone" in summary and "fusionner 2 5" in summary

    renamed = await chat(client, '/almia verbatims renommer 2="Joignabilité du service"', [])
    assert renamed["kind"] == "info" and renamed["job_id"], renamed
    job = await finished(client, renamed["job_id"])
    assert job["state"] == "succeeded", job
    assert "2. Joignabilité du service" in job["result"]["text"]
    assert "Attente au téléphone" not in job["result"]["text"]

    merged = await finished(client, (await chat(client, "/almia verbatims fusionner 5 6",
                                                []))["job_id"])
    text = merged["result"]["text"]
    assert "5. Remboursements — 25 % (1)" in text and "6. Conseiller" not in text
    assert "2. Joignabilité du service" in text  # the last analysis, renamed, is the base
    rows_csv = (await (await client.get(merged["artefacts"][2]["url"])).read()).decode()
    assert "R2;Remboursements;" in rows_csv

    columns = await chat(client, '/almia verbatims colonnes note="aucune"', [])
    assert columns["kind"] == "info" and "note : (aucune)" in columns["text"], columns
    again = await finished(client, columns["job_id"])
    assert again["state"] == "succeeded" and "Moteurs" not in again["result"]["text"]

    unknown = await finished(client, (await chat(client, "/almia verbatims fusionner 2 40",
                                                 []))["job_id"])
    assert unknown["state"] == "failed" and "Thème inconnu" in str(unknown), unknown
    bad = await chat(client, "/almia verbatims fusionner 2", [])
    assert bad["kind"] == "error" and "au moins deux" in bad["text"]
    other = await chat(client, "/almia verbatims renommer 2=X", [], user="bob")
    assert other["kind"] == "error"  # another person's analysis is not theirs to change


def test_the_codebook_is_chosen_by_name_never_by_path() -> None:
    assert parse_overrides("plan=aucun") == {"codebook": "aucun"}
    assert parse_overrides("codes=assurance texte=Avis") == {"codebook": "assurance",
                                                             "text": "Avis"}
    for bad in ("plan=/etc/passwd", "plan=../codebooks/assurance.yaml", "plan=inconnu"):
        with pytest.raises(SkillError) as raised:
            parse_overrides(bad)
        french, english = raised.value.message_for("fr"), raised.value.message_for("en")
        assert "inconnu" in french and "assurance" in french and "aucun" in french
        assert "Unknown codebook" in english and "none" in english


async def test_the_job_analyses_with_the_codebook_chosen(settings: Settings) -> None:
    chosen: list[object] = []

    async def recording(verbatims: Sequence[Verbatim], **options: Any) -> Analysis:
        chosen.append(options.pop("codebook", "missing"))
        return await standin_analyse(verbatims, **options)

    def skills(services: SkillServices) -> list[Skill]:
        return [skill if skill.name != "verbatims" else
                VerbatimsSkill(lambda: recording, HashingEmbedder)
                for skill in build_skills(services)]

    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    client = TestClient(TestServer(build_app(settings, knowledge=knowledge,
                                             skill_factory=skills), host="127.0.0.1"))
    await client.start_server()
    try:
        file_id = await upload_one(client, "enquete.csv", SURVEY)
        for text in ("/almia verbatims", "/almia verbatims plan=aucun"):
            reply = await chat(client, text, [file_id])
            assert (await finished(client, reply["job_id"]))["state"] == "succeeded"
        columns = await chat(client, '/almia verbatims colonnes texte="Commentaire client"', [])
        assert (await finished(client, columns["job_id"]))["state"] == "succeeded"
        english = await chat(client, "/almia verbatims", [file_id], locale="en")
        assert (await finished(client, english["job_id"]))["state"] == "succeeded"
    finally:
        await client.close()
    default, none, kept, in_english = chosen
    assert isinstance(default, Codebook) and default.name.startswith("Assurance")
    assert none is None and kept is None  # a column change keeps « aucun »
    # an English reader's themes carry the codebook's English labels
    assert isinstance(in_english, Codebook) and in_english.name.startswith("Insurance")
    assert "Claims handling" in {code.label for code in in_english.codes}

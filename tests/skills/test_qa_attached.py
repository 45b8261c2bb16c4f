"""A question asked with a file attached is answered from that file (web API, real store)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, build_app
from bot.settings import Settings, load_settings
from knowledge import KnowledgeBase
from skills.qa_files import names_only_columns
from tests.conftest import passage
from tests.fakes.model_server import FakeModelServer
from tests.knowledge.helpers import HashingEmbedder, make_pdf
from tests.web_api import chat, upload_one

Client = TestClient[web.Request, web.Application]

_RULES = ("# Règlement de la consultation\n\n## Remise des offres\n\nLa date limite de remise "
          "des offres est le vendredi 26 février 2027 à 12h00.\n\n"
          "## Variantes\n\nLes variantes ne sont pas autorisées.\n")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = load_settings(data_dir=tmp_path / "data", _env_file=None)
    # short chunks: the test embedder (a bag of words) is diluted by long ones
    settings.knowledge.chunk_size = 200
    return settings


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[Client]:
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    sample = tmp_path / "samples"
    sample.mkdir()
    (sample / "teletravail.md").write_text(
        "# Télétravail\n\nLe télétravail est possible trois jours par semaine.\n",
        encoding="utf-8")
    await knowledge.ingest([sample], "documents", company_wide=True)
    app = build_app(settings, knowledge=knowledge)
    test_client = TestClient(TestServer(app, host="127.0.0.1"))
    await test_client.start_server()
    yield test_client
    await test_client.close()


async def test_a_question_with_a_file_is_answered_from_that_file(client: Client) -> None:
    file_id = await upload_one(client, "reglement.md", _RULES.encode())
    reply = await chat(client, "Quelle est la date limite de remise des offres ?", [file_id])
    assert reply["kind"] == "answer", reply
    assert "26 février 2027" in reply["text"]
    [citation] = reply["citations"]
    assert citation["document"] == "reglement.md"
    assert citation["title"] == "Règlement de la consultation"
    # the answer's audit record counts the file as a source without naming it again (its
    # arrival, file_received, is the record that names it)
    [answered] = [record for record in await client.app[RUNTIME].store.audit_records()
                  if record["action"] == "message"]
    assert "reglement" not in str(answered) and '"attached_sources": 1' in str(answered)
    # without the file, the same question searches the space's documents, which say nothing
    alone = await chat(client, "Quelle est la date limite de remise des offres ?", [])
    assert alone["text"].startswith("Je ne sais pas"), alone


async def test_the_files_answer_rather_than_the_space_documents(client: Client) -> None:
    file_id = await upload_one(client, "reglement.md", _RULES.encode())
    reply = await chat(client, "Combien de jours de télétravail par semaine ?", [file_id])
    assert reply["text"].startswith(
        "Je ne sais pas : je ne trouve pas de réponse sûre dans « reglement.md »"), reply
    assert not reply["citations"]


async def test_a_pdf_attached_is_cited_by_page(client: Client) -> None:
    filler = "\n".join(["Les stipulations du présent cahier s'appliquent à chaque lot."] * 18)
    pdf = make_pdf([f"ARTICLE 1 – OBJET\nLe marché porte sur la prévoyance des agents.\n{filler}",
                    "ARTICLE 2 – DURÉE\nLa durée du marché est de quatre ans."], "CCAP")
    file_id = await upload_one(client, "CCAP.pdf", pdf)
    reply = await chat(client, "Quelle est la durée du marché ?", [file_id])
    assert reply["kind"] == "answer", reply
    assert "quatre ans" in reply["text"]
    assert [(c["document"], c["page"]) for c in reply["citations"]] == [("CCAP.pdf", 2)]


async def test_an_archive_is_not_a_document_to_answer_from(client: Client) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("reglement.md", _RULES)
    file_id = await upload_one(client, "dossier.zip", archive.getvalue())
    reply = await chat(client, "Quelle est la date limite ?", [file_id])
    assert reply["text"].startswith("Je ne peux répondre qu'à partir de documents"), reply
    assert "« dossier.zip »" in reply["text"]


async def test_later_questions_of_the_thread_are_answered_from_its_file(client: Client) -> None:
    file_id = await upload_one(client, "reglement.md", _RULES.encode())
    first = await chat_in(client, "Quelle est la date limite de remise des offres ?", [file_id])
    assert "26 février 2027" in first["text"], first
    later = await chat_in(client, "Les variantes sont-elles autorisées ?", [])
    assert "ne sont pas autorisées" in later["text"], later
    assert later["citations"][0]["document"] == "reglement.md"
    # the space's documents still answer what the file does not say
    other = await chat_in(client, "Combien de jours de télétravail par semaine ?", [])
    assert other["citations"][0]["document"] == "teletravail.md", other
    # another thread, or another person in this one, does not get the file
    elsewhere = await chat(client, "Les variantes sont-elles autorisées ?", [])
    assert elsewhere["text"].startswith("Je ne sais pas"), elsewhere
    stranger = await chat_in(client, "Les variantes sont-elles autorisées ?", [], user="bob")
    assert stranger["text"].startswith("Je ne sais pas"), stranger


async def test_a_file_is_remembered_past_the_thread_s_memory_and_whatever_it_came_with(
        settings: Settings, client: Client) -> None:
    assert settings.memory_turns == 10  # the memory keeps five questions and their answers
    # a file sent with another request than a question (a screening, a survey analysis)
    file_id = await upload_one(client, "reglement.md", _RULES.encode())
    await chat_in(client, "/almia help", [file_id])
    for _ in range(6):  # more exchanges than the memory keeps
        await chat_in(client, "Combien de jours de télétravail par semaine ?", [])
    later = await chat_in(client, "Les variantes sont-elles autorisées ?", [])
    assert "ne sont pas autorisées" in later["text"], later
    assert later["citations"][0]["document"] == "reglement.md"
    stranger = await chat_in(client, "Les variantes sont-elles autorisées ?", [], user="bob")
    assert stranger["text"].startswith("Je ne sais pas"), stranger


async def chat_in(client: Client, text: str, attachments: list[str],
                  user: str = "alice") -> dict[str, Any]:
    """A message of the thread ``t1``; the reply."""
    response = await client.post("/api/chat", json={
        "text": text, "user": user, "attachments": attachments, "thread": "t1"})
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = (await response.json())["reply"]
    return reply


async def test_an_english_document_answers_an_english_question_as_it_is(client: Client) -> None:
    policy = ("# Travel expenses policy\n\n## Hotels\n\nHotel nights are reimbursed up to "
              "120 euros in Paris.\n\n## Meals\n\nMeals are reimbursed up to 25 euros.\n")
    file_id = await upload_one(client, "travel.md", policy.encode())
    reply = await chat(client, "How much are hotel nights reimbursed in Paris?", [file_id],
                       locale="en")
    assert reply["text"].startswith("According to “Travel expenses policy”:\n- Hotel nights"), \
        reply["text"]
    assert "French" not in reply["text"]  # quoted as written, not as a translation
    missing = await chat(client, "What is the capital of Australia?", [file_id], locale="en")
    assert missing["text"].startswith("I don't know: I find no sure answer in “travel.md”")


async def test_a_document_is_summed_up_by_its_parts_offline(client: Client) -> None:
    file_id = await upload_one(client, "reglement.md", _RULES.encode())
    reply = await chat_in(client, "Résume ce document", [file_id])
    assert reply["text"].startswith("Voici le plan de « Règlement de la consultation », avec "
                                     "le début de chaque partie :"), reply["text"]
    assert ("- **Remise des offres** : La date limite de remise des offres est le vendredi 26 "
            "février 2027 à 12h00. [1]") in reply["text"]
    assert "- **Variantes** : Les variantes ne sont pas autorisées. [2]" in reply["text"]
    assert "un modèle génératif approuvé en rédigerait une synthèse" in reply["text"]
    assert [c["section"] for c in reply["citations"]] == [
        "Règlement de la consultation > Remise des offres",
        "Règlement de la consultation > Variantes"]
    # later in the thread: the file asked about above, and what neither it nor the space says
    again = await chat_in(client, "De quoi parle ce document ?", [])
    assert again["text"].startswith("Voici le plan de « Règlement de la consultation »")
    neither = await chat_in(client, "Quelle est la recette de la tarte tatin ?", [])
    assert neither["text"].startswith(
        "Je ne sais pas : je ne trouve de réponse sûre ni dans « reglement.md », joint plus "
        "haut, ni dans les documents accessibles depuis cet espace."), neither["text"]


async def test_with_a_generative_model_the_parts_are_given_to_it_to_sum_up(
        model_settings: Settings, fake_model: FakeModelServer) -> None:
    knowledge = KnowledgeBase.open(model_settings.data_dir / "knowledge",
                                   model_settings.knowledge, embedder=HashingEmbedder())
    app = build_app(model_settings, knowledge=knowledge)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        file_id = await upload_one(test_client, "reglement.md", _RULES.encode())
        reply = await chat(test_client, "Résume ce document", [file_id])
    assert reply["model"] == "fake" and "Voici le plan" not in reply["text"]
    prompt = fake_model.requests[-1]["messages"][-1]["content"]
    assert '<document number="1" title="Règlement de la consultation"' in prompt
    assert "Les variantes ne sont pas autorisées." in prompt
    assert prompt.endswith("Question : Résume ce document")


async def test_a_question_the_file_does_not_answer_points_to_its_closest_part(
        client: Client) -> None:
    file_id = await upload_one(client, "reglement.md", _RULES.encode())
    near = await chat(client, "Quelle est la date limite pour poser des questions ?", [file_id])
    assert near["text"].startswith("Je ne sais pas : je ne trouve pas de réponse sûre dans "
                                   "« reglement.md »"), near["text"]
    assert near["text"].endswith("La partie qui s'en approche le plus est « Règlement de la "
                                 "consultation > Remise des offres » : consultez-la."), near
    far = await chat(client, "Quelle est la recette de la tarte tatin ?", [file_id])
    assert "La partie qui s'en approche" not in far["text"]


async def test_a_table_is_described_from_its_cells(client: Client) -> None:
    rows = ["id;date;produit;note;verbatim"] + [
        f"V{n:03d};2024-0{1 + n % 9}-1{n % 10};{'auto' if n % 4 else 'santé'};{1 + n % 5};"
        f"L'attente au téléphone a duré {n} minutes avant qu'un conseiller réponde"
        for n in range(30)]
    file_id = await upload_one(client, "enquete.csv", "\n".join(rows).encode())
    reply = await chat_in(client, "De quoi parle ce fichier ?", [file_id])
    text = reply["text"]
    assert text.startswith("« enquete.csv » : tableau de 30 lignes et 5 colonnes."), text
    assert "- **id** : identifiant (une valeur par ligne)" in text
    assert "- **date** : dates du 10/01/2024 au 18/09/2024" in text
    assert "- **produit** : 2 valeurs, surtout « auto » (73 %), « santé » (27 %)" in text
    assert "- **note** : nombres de 1 à 5, moyenne 3" in text
    assert "- **verbatim** : texte libre" in text and "`/almia verbatims`" in text
    english = await chat_in(client, "What is this file about?", [file_id])
    assert english["text"].startswith("“enquete.csv”: a table of 30 rows and 5 columns.")


# 20 survey rows: half auto, half santé, notes 1 to 5
_NOTES = "\n".join(["id;produit;note"] + [f"V{n};{'auto' if n % 2 else 'santé'};{1 + n % 5}"
                                         for n in range(20)]).encode()


async def test_a_table_question_is_computed_and_the_space_answers_what_the_table_does_not(
        client: Client) -> None:
    file_id = await upload_one(client, "notes.csv", _NOTES)
    mean = await chat_in(client, "Quelle est la note moyenne par produit ?", [file_id])
    assert mean["text"].startswith("**Moyenne de « note » par « produit »** :"), mean["text"]
    assert "- santé : 3 (10 lignes)" in mean["text"] and mean["citations"] == []
    later = await chat_in(client, "Combien de jours de télétravail par semaine ?", [])
    assert "trois jours par semaine" in later["text"], later["text"]  # the space's document


async def test_a_follow_up_of_a_computed_question_is_computed_too(client: Client) -> None:
    file_id = await upload_one(client, "notes.csv", _NOTES)
    first = await chat_in(client, "Quelle est la note moyenne pour l'auto ?", [file_id])
    assert first["text"].startswith("**Moyenne de « note »** où « produit » vaut « auto » : 3")
    then = await chat_in(client, "Et pour la santé ?", [])
    assert then["text"].startswith("**Moyenne de « note »** où « produit » vaut « santé » : 3")
    assert then["text"].endswith(
        "(Question lue comme la suite de « Quelle est la note moyenne pour l'auto ? ».)")


async def test_a_table_that_does_not_answer_says_what_can_be_asked_of_it(
        client: Client) -> None:
    file_id = await upload_one(client, "notes.csv", _NOTES)
    far = await chat_in(client, "Quelle est la recette de la tarte tatin ?", [file_id])
    assert far["text"].startswith("Je ne sais pas : je ne trouve pas de réponse sûre dans "
                                  "« notes.csv »"), far["text"]
    assert far["text"].endswith("« De quoi parle ce fichier ? » décrit ses colonnes.")


_COMMENTS = "\n".join(["id;produit;nps;verbatim"] + [
    f"V{n};auto;{n % 11};" + ("La grêle a abîmé ma voiture, le dossier traîne."
                              if n % 3 == 0 else "Ça ne veut rien dire, ces garanties.")
    for n in range(12)]).encode()


async def test_a_question_naming_only_a_column_is_not_answered_from_the_rows(
        client: Client) -> None:
    file_id = await upload_one(client, "enquete.csv", _COMMENTS)
    # « nps » is a column's name: rows matched on it and on « veut dire » of a comment
    meaning = await chat_in(client, "Que veut dire NPS ?", [file_id])
    assert meaning["text"].startswith("Je ne sais pas : je ne trouve pas de réponse sûre dans "
                                      "« enquete.csv »"), meaning["text"]
    assert "La partie qui s'en approche" not in meaning["text"]  # rows are no part to read


def test_rows_answer_a_question_naming_what_their_cells_say() -> None:
    rows = [passage(1, "id : V1 ; nps : 2 ; verbatim : La grêle a abîmé ma voiture."),
            passage(2, "id : V2 ; nps : 9 ; verbatim : Ça ne veut rien dire.")]
    rows = [replace(row, document="enquete.csv") for row in rows]
    assert names_only_columns(("NPS",), rows)
    assert not names_only_columns(("clients", "grêle"), rows)
    assert not names_only_columns((), rows)  # nothing named: not this rule's to decide
    # words that ask (« moyenne », « clients ») name nothing: « âge » is in no cell
    assert names_only_columns(("moyenne", "âge", "clients"), [
        replace(rows[0], text="id : V1 ; verbatim : Vous avez perdu un client.")])
    assert not names_only_columns(("clients",), rows)  # only asking words: not to decide
    # a document's passage is no table row
    assert not names_only_columns(("NPS",), [replace(rows[0], document="guide.pdf")])


async def test_a_follow_up_naming_another_aggregate_keeps_the_grouping(client: Client) -> None:
    rows = "\n".join(f"{'agence' if i % 2 else 'téléphone'};{1 + i % 5};{i % 11}"
                     for i in range(40))
    file_id = await upload_one(client, "avis.csv", f"canal;note;nps\n{rows}\n".encode())
    first = await chat_in(client, "Quelle est la note moyenne par canal ?", [file_id])
    assert first["text"].startswith("**Moyenne de « note » par « canal »**"), first["text"]
    nps = await chat_in(client, "Et le NPS ?", [])
    assert nps["text"].startswith("**NPS de « nps » par « canal »**"), nps["text"]
    median = await chat_in(client, "Et la médiane ?", [])
    assert median["text"].startswith("**Médiane de « nps » par « canal »**"), median["text"]
    assert "(Question lue comme la suite de « Quelle est la note moyenne par canal ? »" in \
        median["text"]


async def test_a_computation_no_column_answers_quotes_no_customer_comment(client: Client) -> None:
    rows = "\n".join(f"V{i};{1 + i % 5};En plus, vous avez perdu un client." for i in range(30))
    file_id = await upload_one(client, "avis.csv", f"id;note;verbatim\n{rows}\n".encode())
    for question, attached in (("Quelle est la moyenne de l'âge des clients ?", [file_id]),
                               ("Quelle est la note moyenne des clients de plus de 60 ans ?", [])):
        reply = await chat_in(client, question, attached)
        assert "perdu un client" not in reply["text"], reply["text"]
        assert "Sur un tableau, je calcule ce que la question nomme" in reply["text"]



async def test_a_question_written_in_french_is_answered_in_french(client: Client) -> None:
    # by a person whose interface is in English: the words say the language
    reply = await chat(client, "Combien de jours de télétravail par semaine ?", [], locale="en")
    assert reply["text"].startswith("Selon « Télétravail »"), reply["text"]
    english = await chat(client, "How many days of remote work per week?", [], locale="en")
    assert not english["text"].startswith("Selon"), english["text"]

"""Call summaries and visit reports, offline (extractive) and with a generative model."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime
from bot.messages import Attachment, Channel, Message, Space, User
from bot.settings import Settings
from tests.conftest import FakeSearch
from tests.fakes.model_server import FakeModelServer

TRANSCRIPT = (
    "Conseiller : Mutuelle Horizon bonjour. Client : Bonjour, j'appelle au sujet du dégât des eaux "
    "dans ma cuisine. Le sinistre s'est produit le 3 mars, le plafond est abîmé. "
    "Conseiller : je vais ouvrir le dossier aujourd'hui et je vous envoie le formulaire par mail. "
    "Client : je dois envoyer les photos avant vendredi. Attention, c'est la deuxième fois et je "
    "suis mécontent du délai de la dernière fois."
)


def _message(text: str, attachments: tuple[Attachment, ...] = ()) -> Message:
    return Message(text=text, user=User("u1"), space=Space("web:default"), channel=Channel.WEB,
                   thread_id="t", attachments=attachments)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    yield built
    await built.close()


CLAIM_CALL = (Path(__file__).parents[2] / "bench" / "calls" / "dev"
              / "d01_degat_eaux.txt").read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    return text.split(f"**{title}**")[1].split("**")[0]


async def test_offline_summary_has_the_sections(runtime: Runtime) -> None:
    reply = await runtime.assistant.answer(_message(f"/almia summary {TRANSCRIPT}"))
    sections = ["Motif de l'appel", "Faits", "Montants", "Dates et délais", "Engagements pris",
                "Prochaines actions", "Points d'attention"]
    positions = [reply.text.index(f"**{title}**") for title in sections]
    assert positions == sorted(positions)
    motive = reply.text.split("**Faits**")[0]
    assert "dégât des eaux" in motive
    attention = reply.text.split("**Points d'attention**")[1]
    assert "mécontent" in attention
    assert "Brouillon" in reply.text and reply.skill == "call_summary"


async def test_notes_with_nothing_to_summarise_are_said_so(runtime: Runtime) -> None:
    for notes in ("bonjour", "12345"):
        reply = await runtime.assistant.answer(_message(f"/almia summary {notes}"))
        assert reply.text.startswith("Je n'ai rien relevé dans ces notes"), reply.text
        assert "**Motif de l'appel**" not in reply.text and reply.kind == "info"


async def test_a_recipe_is_no_call_and_a_customer_s_promise_is_a_commitment(
        runtime: Runtime) -> None:
    recipe = ("Préchauffez le four à 180 degrés. Mélangez la farine, le sucre et trois œufs. "
              "Versez dans un moule beurré et faites cuire quarante minutes.")
    refused = await runtime.assistant.answer(_message(f"/almia summary {recipe}"))
    assert refused.text.startswith("Ce texte ne ressemble pas à des notes d'appel"), refused.text
    call = ("Conseiller : Bonjour, service sinistres. Client : J'appelle pour un dégât des eaux "
            "sur mon contrat habitation. Conseiller : Je vais ouvrir le dossier. Client : Je "
            "vous transmets la facture du plombier ce soir. Mon IBAN est FR76 3000 6000 0112 "
            "3456 7890 189, pour le remboursement de 480 euros.")
    reply = await runtime.assistant.answer(_message(f"/almia summary {call}"))
    commitments = _section(reply.text, "Engagements pris")
    assert "Client : je vous transmets la facture du plombier ce soir." in commitments
    assert "3000 6000" not in reply.text
    assert "un modèle approuvé pour le rôle `summarise`" in reply.text.lower()


async def test_offline_claim_call_gives_facts_amounts_dates_and_commitments(
        runtime: Runtime) -> None:
    reply = await runtime.assistant.answer(_message(f"/almia summary {CLAIM_CALL}"))
    text = reply.text
    assert reply.model == "extractive" and reply.skill == "call_summary"
    assert "dégât des eaux" in _section(text, "Motif de l'appel")
    facts = _section(text, "Faits")
    assert "flexible de la machine à laver" in facts
    assert "Merci" not in facts and "?" not in text and "Conseiller :" not in text
    amounts = _section(text, "Montants")
    assert "Facture : 650 € (plombier)" in amounts
    assert "Montant des dégâts estimé : environ 1 800 €" in amounts
    dates = _section(text, "Dates et délais")
    assert "8 mars" in dates and "Sous dix jours" in dates and "Jeudi" in dates
    commitments = _section(text, "Engagements pris")
    assert "sous 24 heures" in commitments and "je vous rappelle jeudi" in commitments
    actions = _section(text, "Prochaines actions")
    assert "expert" in actions
    assert "Client : envoyer les photos des dégâts et la facture du plombier" in actions
    assert "(ce soir)" in actions


async def test_offline_summary_in_english_has_english_sections(runtime: Runtime) -> None:
    message = dataclasses.replace(_message(
        "/almia summary Agent: I will open a claim today, you will receive the number within "
        "24 hours. Customer: I need to send the photos."), locale="en")
    reply = await runtime.assistant.answer(message)
    assert "**Commitments made**" in reply.text and "within 24 hours" in reply.text
    assert "I need to send the photos" in _section(reply.text, "Next actions")


async def test_visit_report_variant(runtime: Runtime) -> None:
    reply = await runtime.assistant.answer(_message(
        "/almia summary visite Rendez-vous chez la société Durand. Le gérant souhaite couvrir "
        "ses 12 salariés. Nous avons proposé la garantie prévoyance collective. Il trouve "
        "l'offre trop chère. Relance prévue avant le 15 avril."))
    assert "**Contexte de la visite**" in reply.text and "**Prochaines étapes**" in reply.text
    assert "trop chère" in reply.text.split("**Objections et points de vigilance**")[1]


async def test_an_english_visit_report_sorts_people_risks_and_needs(runtime: Runtime) -> None:
    message = dataclasses.replace(_message(
        "/almia summary visit Met Mr Garnier, CFO of Transports Garnier (120 employees), on 12 "
        "March. They want to renegotiate their fleet insurance. Risk: they are also talking "
        "to Allianz."), locale="en")
    reply = await runtime.assistant.answer(message)
    assert "Met Mr Garnier" in _section(reply.text, "Visit context")
    assert "renegotiate" in _section(reply.text, "Needs expressed")
    assert "talking to Allianz" in _section(reply.text, "Objections and points of attention")


async def test_attached_text_file_is_summarised(runtime: Runtime) -> None:
    attachment = Attachment("appel.txt", "text/plain", TRANSCRIPT.encode("cp1252"))
    reply = await runtime.assistant.answer(_message("summary", (attachment,)))
    assert "dégât des eaux" in reply.text


async def test_unreadable_attachment_and_empty_input_are_refused(runtime: Runtime) -> None:
    pdf = Attachment("appel.pdf", "application/pdf", b"%PDF-1.7")
    refused = await runtime.assistant.answer(_message("summary", (pdf,)))
    assert refused.kind == "error" and "appel.pdf" in refused.text
    empty = await runtime.assistant.answer(_message("/almia summary"))
    assert empty.kind == "error" and "Collez la transcription" in empty.text


async def test_generative_model_gets_sections_and_notes_as_data(
        model_settings: Settings, fake_model: FakeModelServer) -> None:
    built = build_runtime(model_settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    try:
        reply = await built.assistant.answer(_message(f"summary {TRANSCRIPT}"))
    finally:
        await built.close()
    system, user = fake_model.requests[0]["messages"]
    assert "Motif de l'appel, Faits, Engagements pris" in system["content"]
    assert user["content"].startswith("<notes>") and "dégât des eaux" in user["content"]
    assert reply.model == "fake"

"""Campaigns in Slack with the loopback fake API: model drafts, Block Kit cards, buttons."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.jobs.engine import InProcessEngine
from tests.adapters.test_slack import Harness, blocks_text, fixture, running, slash_form
from tests.fakes.model_server import FakeModelServer
from tests.fakes.slack_api import FakeSlackApi
from tests.skills.campaigns.conftest import brief

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_computed_fields'")

TEAM = "T0ALMIA01"
AUTHOR, CLAIRE, CORA = "U0EMPLOYE1", "U0CLAIRE", "U0CORA"
MODEL_DRAFT = """### email 1
Objet : {{prenom}}, votre habitation protégée
Bonjour {{prenom}}, profitez de -20 % sur la première année* avec Almia Habitation.
*Offre réservée aux nouveaux clients.

### sms 1
{{prenom}}, -30 % sur Almia Habitation : {{lien}}
"""


@pytest.fixture
async def almia(tmp_path: Path) -> AsyncIterator[Harness]:
    async with FakeSlackApi() as slack, FakeModelServer() as model, \
            running(tmp_path, slack, model) as harness:
        model.responder = lambda _body: MODEL_DRAFT
        yield harness


async def mention(almia: Harness, text: str, ts: str) -> None:
    payload = fixture("event_app_mention.json")
    payload["event_id"] = f"Ev{ts.replace('.', '')}"
    payload["event"].update(text=f"<@UALMIABOT> {text}", ts=ts, channel="C0SINISTRE")
    payload["event"].pop("blocks", None)
    assert (await almia.event(payload)).status == 200


def cards(almia: Harness) -> list[list[dict[str, Any]]]:
    """The block lists of posted messages that carry card buttons, oldest first."""
    return [call.data["blocks"] for call in almia.answers()
            if any(b.get("block_id") == "almia_card" for b in call.data["blocks"])]


def card_button(blocks: list[dict[str, Any]], action: str,
                decision: str | None = None) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            data = json.loads(element["value"])
            if data["a"] == action and data["v"].get("decision") == decision:
                return dict(element)
    raise AssertionError(f"no {action} button")


async def press(almia: Harness, element: dict[str, Any], user: str, *,
                stamp: str, **typed: str) -> None:
    """A block_actions payload as Slack sends it, with the card's typed inputs in state."""
    payload = fixture("block_actions.json")
    payload["user"] = {"id": user, "username": user.lower(), "team_id": TEAM}
    payload["actions"] = [{**element, "block_id": "almia_card", "action_ts": stamp}]
    payload["state"] = {"values": {f"almia_input:{key}": {"value": {
        "type": "plain_text_input", "value": value}} for key, value in typed.items()}}
    assert (await almia.action(payload)).status == 200


async def replies_after(almia: Harness, count: int) -> list[str]:
    await almia.slack.wait_for(lambda: len(almia.answers()) >= count)
    await almia.settled()
    return [blocks_text(call) for call in almia.answers()]


async def test_campaign_reviewed_in_slack_threads(almia: Harness) -> None:
    reviewers = f"slack:{TEAM}:{CLAIRE}, slack:{TEAM}:{CORA}"
    await mention(almia, "campagne nouvelle\n" + brief(reviewers, "un"), "1715000000.000100")
    [created] = await replies_after(almia, 1)
    # the approved model wrote the drafts; mentions were added, fields kept, figures checked
    assert "rédigés par le modèle approuvé fake" in created
    assert "STOP au {{numero_stop}}" in created and "ORIAS" in created
    assert "« -30 % » ne figure pas dans l'offre" in created
    prompt = json.dumps(almia.model.requests[0], ensure_ascii=False)
    assert "Almia Habitation" in prompt and "### canal numéro" in prompt
    [card] = cards(almia)
    [field] = [b for b in card if b.get("block_id") == "almia_input:text"]
    shown = field["element"]["initial_value"]
    assert "-30 %" in shown and "Désinscrivez-vous" in shown  # the whole version, mentions too
    fixed = shown.replace("-30 % sur Almia Habitation", "-20 % la 1re année*, voir conditions")
    await press(almia, card_button(card, "campaigns:edit"), AUTHOR, stamp="1.1", text=fixed)
    texts = await replies_after(almia, 2)
    assert "Version 2 enregistrée" in texts[-1]
    await press(almia, card_button(cards(almia)[-1], "campaigns:submit"), AUTHOR, stamp="1.2")
    texts = await replies_after(almia, 3)
    assert "Version 2 envoyée en relecture" in texts[-1]
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()  # each Slack reviewer is asked in a direct message
    await almia.slack.wait_for(lambda: {CLAIRE, CORA} <= {
        c.data.get("channel") for c in almia.slack.of("chat.postMessage")
        if "attend votre relecture" in str(c.data.get("text"))})
    review = cards(almia)[-1]

    await press(almia, card_button(review, "campaigns:decide", "approve"), AUTHOR, stamp="1.3")
    texts = await replies_after(almia, 4)
    assert "quatre yeux" in texts[-1]

    await asyncio.gather(
        press(almia, card_button(review, "campaigns:decide", "approve"), CLAIRE, stamp="1.4"),
        press(almia, card_button(review, "campaigns:decide", "reject"), CORA, stamp="1.5",
              comment="Trop promotionnel"))
    texts = await replies_after(almia, 6)
    outcomes = texts[-2:]
    assert sum("n'a pas été enregistrée" in text for text in outcomes) == 1
    assert sum("Décision enregistrée sur la version 2" in text for text in outcomes) == 1
    assert all(call.data.get("thread_ts") == "1715000000.000100"
               for call in almia.slack.of("chat.postMessage") if call.data.get("blocks"))


async def test_export_posts_the_approved_files_in_the_thread(almia: Harness) -> None:
    reviewers = f"slack:{TEAM}:{CLAIRE}"
    await mention(almia, "campagne nouvelle\n" + brief(reviewers, "un").replace(
        "canaux: [email, sms]", "canaux: [email]"), "1715000000.000200")
    await replies_after(almia, 1)
    await press(almia, card_button(cards(almia)[-1], "campaigns:submit"), AUTHOR, stamp="2.1")
    await replies_after(almia, 2)
    await press(almia, card_button(cards(almia)[-1], "campaigns:decide", "approve"), CLAIRE,
                stamp="2.2")
    texts = await replies_after(almia, 3)
    assert "approuvée" in texts[-1]
    await press(almia, card_button(cards(almia)[-1], "campaigns:export"), CLAIRE, stamp="2.3")
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await almia.slack.wait_for(lambda: bool(almia.slack.of("chat.postMessage")))
    await almia.settled()
    await engine.idle()
    await almia.slack.wait_for(lambda: bool(almia.slack.of("files.completeUploadExternal")))
    uploaded = json.dumps([c.data for c in almia.slack.calls], ensure_ascii=False)
    assert "-v1.docx" in uploaded and "-v1-email-1.html" in uploaded


async def test_a_decision_taken_elsewhere_is_told_in_the_authors_thread(almia: Harness) -> None:
    await mention(almia, "campagne nouvelle\n" + brief(f"slack:{TEAM}:{CLAIRE}", "un").replace(
        "canaux: [email, sms]", "canaux: [email]"), "1715000000.000300")
    await replies_after(almia, 1)
    created = cards(almia)[-1]
    reference = json.loads(card_button(created, "campaigns:submit")["value"])["v"]["campaign"]
    await press(almia, card_button(created, "campaigns:submit"), AUTHOR, stamp="3.1")
    await replies_after(almia, 2)
    payload = fixture("event_app_mention.json")  # Claire, in another thread
    payload["event_id"] = "Ev3"
    payload["event"].update(text=f"<@UALMIABOT> campagne voir {reference[:8]}", user=CLAIRE,
                            ts="1715000099.000100", channel="C0SINISTRE")
    payload["event"].pop("blocks", None)
    assert (await almia.event(payload)).status == 200
    await replies_after(almia, 3)
    review = cards(almia)[-1]
    await press(almia, card_button(review, "campaigns:decide", "approve"), CLAIRE, stamp="3.2")
    texts = await replies_after(almia, 4)
    assert "Décision enregistrée" in texts[-1]
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()
    await almia.slack.wait_for(lambda: any(
        "a approuvé" in str(c.data.get("text")) for c in almia.slack.of("chat.postMessage")))
    [notice] = [c for c in almia.slack.of("chat.postMessage") if "a approuvé" in str(
        c.data.get("text"))]
    assert notice.data["thread_ts"] == "1715000000.000300"


async def test_slash_command_form_creates_a_campaign_in_place(almia: Harness) -> None:
    form = dict(parse_qsl(slash_form(text="campagne")))
    form["response_url"] = almia.slack.response_url("campagne")
    assert (await almia.command(urlencode(form))).status == 200
    await almia.slack.wait_for(lambda: bool(almia.slack.of("response_url")))
    [shown] = almia.slack.of("response_url")
    blocks = shown.data["blocks"]
    inputs = [b["block_id"] for b in blocks if b["type"] == "input"]
    assert "almia_input:title" in inputs and "almia_input:reviewers" in inputs
    create = card_button(blocks, "campaigns:create")
    payload = fixture("block_actions.json")
    payload["container"] = {"type": "message", "message_ts": "1715000200.000100",
                            "channel_id": "C0SINISTRE", "is_ephemeral": True}
    payload.pop("message")
    payload["response_url"] = almia.slack.response_url("carte")
    payload["actions"] = [{**create, "block_id": "almia_card", "action_ts": "4.1"}]
    typed = {"title": "Auto jeunes", "product": "Almia Auto", "segment": "Jeunes conducteurs",
             "channels": "sms", "call_to_action": "Devis en ligne",
             "reviewers": f"slack:{TEAM}:{CLAIRE}", "approval": "any"}
    payload["state"] = {"values": {f"almia_input:{key}": {"value": {
        "type": "plain_text_input", "value": value}} for key, value in typed.items()}}
    assert (await almia.action(payload)).status == 200
    await almia.slack.wait_for(lambda: len(almia.slack.of("response_url")) >= 2)
    await almia.settled()
    created = almia.slack.of("response_url")[-1]
    assert "Campagne « Auto jeunes » créée" in blocks_text(created)
    assert created.data.get("replace_original") is True  # the form gives way to the campaign


async def test_reminders_are_posted_in_the_thread_and_to_slack_reviewers(
        almia: Harness) -> None:
    await mention(almia, "campagne nouvelle\n" + brief(f"slack:{TEAM}:{CLAIRE}", "un").replace(
        "canaux: [email, sms]", "canaux: [email]"), "1715000000.000500")
    await replies_after(almia, 1)
    await press(almia, card_button(cards(almia)[-1], "campaigns:submit"), AUTHOR, stamp="5.1")
    await replies_after(almia, 2)
    skill = almia.runtime.assistant.router.skill("campaigns")
    assert len(await skill.reminders.once(almia.runtime.jobs, date(2027, 2, 14))) == 1
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()

    def reminders() -> list[Any]:
        return [c for c in almia.slack.of("chat.postMessage") if "Rappel" in str(
            c.data.get("text"))]
    await almia.slack.wait_for(lambda: len(reminders()) >= 2)
    where = {(c.data["channel"], c.data.get("thread_ts") or "") for c in reminders()}
    assert ("C0SINISTRE", "1715000000.000500") in where and (CLAIRE, "") in where

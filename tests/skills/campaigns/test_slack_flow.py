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


def answers(almia: Harness, channel: str = "C0SINISTRE") -> list[Any]:
    """Messages with blocks posted or updated in ``channel`` (the campaign's by default)."""
    return [call for call in almia.answers() if call.data.get("channel") == channel]


def cards(almia: Harness, channel: str = "C0SINISTRE") -> list[list[dict[str, Any]]]:
    """The block lists of messages posted in ``channel`` that carry card buttons, oldest
    first."""
    return [call.data["blocks"] for call in answers(almia, channel)
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


async def replies_after(almia: Harness, count: int, channel: str = "C0SINISTRE") -> list[str]:
    await almia.slack.wait_for(lambda: len(answers(almia, channel)) >= count)
    await almia.settled()
    return [blocks_text(call) for call in answers(almia, channel)]


async def test_campaign_reviewed_in_slack_threads(almia: Harness) -> None:
    reviewers = f"slack:{TEAM}:{CLAIRE}, slack:{TEAM}:{CORA}"
    await mention(almia, "campagne nouvelle\n" + brief(reviewers, "un"), "1715000000.000100")
    [created] = await replies_after(almia, 1)
    # the approved model wrote the drafts; mentions were added, fields kept, figures checked
    assert "rédigés par le modèle approuvé fake" in created
    assert "STOP au {{numero_stop}}" in created and "ORIAS" in created
    assert "«\u00a0-30\u00a0%\u00a0» ne figure pas dans l'offre" in created
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
               for call in answers(almia) if call.method == "chat.postMessage")


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
    assert "Campagne «\u00a0Auto jeunes\u00a0» créée" in blocks_text(created)
    assert created.data.get("replace_original") is True  # the form gives way to the campaign


async def test_reminders_are_posted_in_the_thread_and_to_slack_reviewers(
        almia: Harness) -> None:
    await mention(almia, "campagne nouvelle\n" + brief(f"slack:{TEAM}:{CLAIRE}", "un").replace(
        "canaux: [email, sms]", "canaux: [email]"), "1715000000.000500")
    await replies_after(almia, 1)
    await press(almia, card_button(cards(almia)[-1], "campaigns:submit"), AUTHOR, stamp="5.1")
    await replies_after(almia, 2)
    skill = almia.runtime.assistant.router.skill("campaigns")
    assert len(await skill.reminders.once(almia.runtime.jobs, date(2099, 2, 14))) == 1
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()

    def reminders() -> list[Any]:
        return [c for c in almia.slack.of("chat.postMessage") if "Rappel" in str(
            c.data.get("text"))]
    await almia.slack.wait_for(lambda: len(reminders()) >= 2)
    where = {(c.data["channel"], c.data.get("thread_ts") or "") for c in reminders()}
    assert ("C0SINISTRE", "1715000000.000500") in where and (CLAIRE, "") in where


async def press_in_dm(almia: Harness, element: dict[str, Any], user: str, channel: str,
                      message_ts: str, *, stamp: str, **typed: str) -> None:
    """A button of a card Almia posted in a direct message (``D…`` channel, no thread)."""
    payload = fixture("block_actions.json")
    payload["user"] = {"id": user, "username": user.lower(), "team_id": TEAM}
    payload["channel"] = {"id": channel, "name": "directmessage"}
    payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                            "is_ephemeral": False}
    payload["message"] = {"type": "message", "subtype": "bot_message", "text": "",
                          "ts": message_ts, "bot_id": "BALMIABOT", "blocks": []}
    payload["actions"] = [{**element, "block_id": "almia_card", "action_ts": stamp}]
    payload["state"] = {"values": {f"almia_input:{key}": {"value": {
        "type": "plain_text_input", "value": value}} for key, value in typed.items()}}
    assert (await almia.action(payload)).status == 200


async def test_reviewers_decide_from_the_card_in_their_direct_message(almia: Harness) -> None:
    reviewers = f"slack:{TEAM}:{CLAIRE}, slack:{TEAM}:{CORA}"
    await mention(almia, "campagne nouvelle\n" + brief(reviewers, "tous").replace(
        "canaux: [email, sms]", "canaux: [email]"), "1715000000.000600")
    await replies_after(almia, 1)
    await press(almia, card_button(cards(almia)[-1], "campaigns:submit"), AUTHOR, stamp="6.1")
    await replies_after(almia, 2)
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()
    await almia.slack.wait_for(lambda: bool(cards(almia, CLAIRE)) and bool(cards(almia, CORA)))
    # the DM holds the request, the draft and the checks, then the review card
    request = "\n".join(c.message_text() for c in almia.slack.of("chat.postMessage")
                        if c.data.get("channel") == CLAIRE)
    assert "attend votre relecture" in request and "Bonjour {{prenom}}" in request
    assert "*Contrôles*" in request
    [dm_card] = cards(almia, CLAIRE)
    buttons = [json.loads(e["value"])["a"] for b in dm_card if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons.count("campaigns:decide") == 3 and "campaigns:edit" in buttons
    assert "campaigns:submit" not in buttons
    [field] = [b for b in dm_card if b.get("block_id") == "almia_input:text"]
    assert "Bonjour {{prenom}}" in field["element"]["initial_value"]

    # whoever presses is checked again: the author cannot approve from a forwarded card
    await press_in_dm(almia, card_button(dm_card, "campaigns:decide", "approve"), AUTHOR,
                      "D0CLAIRE", "1715000600.000100", stamp="6.2")
    assert "quatre yeux" in (await replies_after(almia, 1, "D0CLAIRE"))[-1]
    await press_in_dm(almia, card_button(dm_card, "campaigns:decide", "approve"), CLAIRE,
                      "D0CLAIRE", "1715000600.000100", stamp="6.3")
    decided = (await replies_after(almia, 2, "D0CLAIRE"))[-1]
    assert "Décision enregistrée sur la version 1" in decided and "en relecture" in decided
    [cora_card] = cards(almia, CORA)
    await press_in_dm(almia, card_button(cora_card, "campaigns:decide", "changes"), CORA,
                      "D0CORA", "1715000600.000200", stamp="6.4", comment="Ajoutez l'ORIAS")
    changed = (await replies_after(almia, 1, "D0CORA"))[-1]
    assert "Décision enregistrée sur la version 1" in changed
    assert "modifications demandées" in changed
    # the author hears of both decisions in the campaign's thread
    await engine.idle()
    await almia.slack.wait_for(lambda: any(
        "a demandé des modifications" in str(c.data.get("text"))
        and c.data.get("thread_ts") == "1715000000.000600"
        for c in almia.slack.of("chat.postMessage")))
    # a card pressed again once the version was decided changes nothing
    await press_in_dm(almia, card_button(dm_card, "campaigns:decide", "reject"), CLAIRE,
                      "D0CLAIRE", "1715000600.000100", stamp="6.5", comment="Non")
    late = (await replies_after(almia, 3, "D0CLAIRE"))[-1]
    assert "n'a pas été enregistrée" in late


async def test_a_reminder_carries_the_review_card(almia: Harness) -> None:
    await mention(almia, "campagne nouvelle\n" + brief(f"slack:{TEAM}:{CLAIRE}", "un").replace(
        "canaux: [email, sms]", "canaux: [email]"), "1715000000.000700")
    await replies_after(almia, 1)
    await press(almia, card_button(cards(almia)[-1], "campaigns:submit"), AUTHOR, stamp="7.1")
    await replies_after(almia, 2)
    engine = almia.runtime.engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()
    await almia.slack.wait_for(lambda: len(cards(almia, CLAIRE)) == 1)
    skill = almia.runtime.assistant.router.skill("campaigns")
    assert len(await skill.reminders.once(almia.runtime.jobs, date(2099, 2, 14))) == 1
    await engine.idle()
    await almia.slack.wait_for(lambda: len(cards(almia, CLAIRE)) == 2)
    reminder = cards(almia, CLAIRE)[-1]
    await press_in_dm(almia, card_button(reminder, "campaigns:decide", "approve"), CLAIRE,
                      "D0CLAIRE", "1715000700.000100", stamp="7.2")
    assert "approuvée" in (await replies_after(almia, 1, "D0CLAIRE"))[-1]

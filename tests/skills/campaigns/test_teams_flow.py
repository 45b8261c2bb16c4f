"""Campaigns in a Teams channel with the fake Bot Connector: Adaptive Cards, Action.Execute."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

from tests.adapters.test_teams import Harness, card_of, finals, fixture, harness

__all__ = ["harness"]

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
    pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning"),
]

AUTHOR = "6b1c2f8e-4a7d-4f0e-9b3a-2c5d7e9f1a3b"  # Claire Dubois in the fixtures
VALENTIN = "0a0b0c0d-1111-4222-8333-944445555666"
NADIA = "0f0e0d0c-2222-4333-8444-955556666777"
FORM = {"title": "Prévoyance pros 2099", "product": "Almia Prévoyance Pro",
        "segment": "Artisans et commerçants", "channels": "email, linkedin", "tone": "formel",
        "key_messages": "un revenu maintenu en cas d'arrêt de travail\nune adhésion en ligne",
        "call_to_action": "Prenez rendez-vous",
        "reviewers": f"teams:{VALENTIN}, teams:{NADIA}", "approval": "all"}


def as_user(activity: dict[str, Any], aad: str, name: str) -> dict[str, Any]:
    changed = copy.deepcopy(activity)
    changed["from"] = {"id": f"29:{aad}", "name": name, "aadObjectId": aad}
    return changed


async def cards_sent(harness: Harness, count: int) -> list[dict[str, Any]]:
    """The Adaptive Cards with buttons sent so far, once there are ``count`` of them."""
    def found(calls: list[Any]) -> list[dict[str, Any]]:
        return [card_of(call) for call in finals(calls) if call.body.get("attachments")
                and card_of(call).get("actions")]
    calls = await harness.connector.wait_for(lambda calls: len(found(calls)) >= count,
                                             within=60)
    return found(calls)


async def texts_sent(harness: Harness, count: int) -> list[str]:
    calls = await harness.connector.wait_for(
        lambda calls: len([c for c in finals(calls) if c.body.get("text")]) >= count, within=60)
    return [str(c.body["text"]) for c in finals(calls) if c.body.get("text")]


async def press(harness: Harness, card: dict[str, Any], action: str, user: str, name: str,
                decision: str | None = None, **typed: str) -> dict[str, Any]:
    [button] = [a for a in card["actions"] if a["data"]["action"] == action
                and a["data"]["values"].get("decision") == decision]
    invoke = as_user(fixture("invoke_template_submit", harness.connector.url), user, name)
    channel = fixture("message_channel_mention", harness.connector.url)
    invoke["conversation"], invoke["channelData"] = channel["conversation"], channel[
        "channelData"]
    invoke["value"]["action"] = {"type": "Action.Execute", "verb": button["verb"],
                                 "data": {**button["data"],
                                          **{f"in:{k}": v for k, v in typed.items()}}}
    response = await harness.post(invoke)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_campaign_review_in_a_teams_channel(harness: Harness) -> None:
    message = fixture("message_channel_mention", harness.connector.url)
    message["text"] = "<at>Almia</at> campagne"
    assert (await harness.post(message)).status == 200
    [form] = await cards_sent(harness, 1)
    fields = {item["id"] for item in form["body"] if item["type"] == "Input.Text"}
    assert {"in:title", "in:channels", "in:reviewers", "in:offer"} <= fields
    lists = {item["id"]: item for item in form["body"] if item["type"] == "Input.ChoiceSet"}
    assert [c["value"] for c in lists["in:approval"]["choices"]] == ["all", "any"]
    assert lists["in:approval"]["value"] == "all"  # the brief's default, chosen
    assert [c["title"] for c in lists["in:tone"]["choices"]] == [
        "Chaleureux", "Formel", "Dynamique"]
    await press(harness, form, "campaigns:create", AUTHOR, "Claire", **FORM)
    card = (await cards_sent(harness, 2))[-1]
    texts = await texts_sent(harness, 2)
    assert "### email 1" in texts[-1] and "### linkedin 1" in texts[-1]
    # the fake model's answer is not a draft: the library wrote them, and says why
    assert "n'a pas pu rédiger" in texts[-1]
    assert card["body"][0]["text"].startswith("Campagne «\u00a0Prévoyance pros 2099\u00a0» — version 1")
    assert [a["data"]["action"] for a in card["actions"]] == ["campaigns:submit",
                                                              "campaigns:edit"]
    assert (await press(harness, card, "campaigns:submit", AUTHOR, "Claire"))["statusCode"] \
        == 200
    review = (await cards_sent(harness, 3))[-1]
    assert {a["data"]["values"].get("decision") for a in review["actions"]} >= {
        "approve", "changes", "reject"}

    await press(harness, review, "campaigns:decide", AUTHOR, "Claire", "approve")
    assert "quatre yeux" in (await texts_sent(harness, 4))[-1]
    await press(harness, review, "campaigns:decide", VALENTIN, "Valentin", "approve")
    assert "en relecture" in (await texts_sent(harness, 5))[-1]
    # Nadia edits inline: a new version, in review again, Valentin's approval reset
    text = next(item["value"] for item in review["body"] if item.get("id") == "in:text")
    await press(harness, review, "campaigns:edit", NADIA, "Nadia",
                text=text.replace("Prenez rendez-vous", "Prenez rendez-vous en agence"))
    edited = (await texts_sent(harness, 6))[-1]
    assert "Version 2 enregistrée" in edited and "Les validations repartent de zéro" in edited
    assert "+" in edited and "en agence" in edited
    # the old card's buttons name version 1: too late
    await press(harness, review, "campaigns:decide", VALENTIN, "Valentin", "approve")
    assert "n'a pas été enregistrée" in (await texts_sent(harness, 7))[-1]
    second = (await cards_sent(harness, 5))[-1]
    await press(harness, second, "campaigns:decide", NADIA, "Nadia", "approve")
    assert "quatre yeux" in (await texts_sent(harness, 8))[-1]  # Nadia wrote version 2
    await press(harness, second, "campaigns:decide", VALENTIN, "Valentin", "approve")
    last = (await texts_sent(harness, 9))[-1]
    assert "teams:" + VALENTIN in last
    sent = json.dumps([c.body for c in finals(harness.connector.delivered())],
                      ensure_ascii=False)
    assert "<at>" not in sent.replace("<at>Almia</at>", "")


async def test_concurrent_decisions_in_teams_one_wins_the_other_is_told(
        harness: Harness) -> None:
    message = fixture("message_channel_mention", harness.connector.url)
    message["text"] = "<at>Almia</at> campagne"
    assert (await harness.post(message)).status == 200
    [form] = await cards_sent(harness, 1)
    await press(harness, form, "campaigns:create", AUTHOR, "Claire",
                **{**FORM, "approval": "any"})
    card = (await cards_sent(harness, 2))[-1]
    await press(harness, card, "campaigns:submit", AUTHOR, "Claire")
    review = (await cards_sent(harness, 3))[-1]
    await asyncio.gather(
        press(harness, review, "campaigns:decide", VALENTIN, "Valentin", "approve"),
        press(harness, review, "campaigns:decide", NADIA, "Nadia", "reject",
              comment="Ton trop commercial"))
    texts = (await texts_sent(harness, 5))[-2:]
    assert sum("Décision enregistrée sur la version 1" in text for text in texts) == 1
    assert sum("n'a pas été enregistrée" in text for text in texts) == 1


def in_personal_chat(activity: dict[str, Any], harness: Harness) -> dict[str, Any]:
    """``activity`` moved to the personal chat of the fixtures."""
    personal = fixture("message_personal", harness.connector.url)
    activity["conversation"] = personal["conversation"]
    activity["channelData"] = personal["channelData"]
    return activity


def cards_in(calls: list[Any], conversation: str) -> list[dict[str, Any]]:
    return [card_of(call) for call in finals(calls) if call.conversation_id == conversation
            and call.body.get("attachments") and card_of(call).get("actions")]


async def test_a_teams_reviewer_decides_from_the_card_in_their_personal_chat(
        harness: Harness) -> None:
    personal = fixture("message_personal", harness.connector.url)["conversation"]["id"]
    hello = as_user(fixture("message_personal", harness.connector.url), NADIA, "Nadia")
    hello["text"] = "campagne liste"  # Almia learns where Nadia can be written to
    assert (await harness.post(hello)).status == 200
    await texts_sent(harness, 1)
    message = fixture("message_channel_mention", harness.connector.url)
    message["text"] = "<at>Almia</at> campagne"
    assert (await harness.post(message)).status == 200
    form = (await cards_sent(harness, 1))[-1]
    await press(harness, form, "campaigns:create", AUTHOR, "Claire", **FORM)
    card = (await cards_sent(harness, 2))[-1]
    await press(harness, card, "campaigns:submit", AUTHOR, "Claire")
    calls = await harness.connector.wait_for(lambda calls: bool(cards_in(calls, personal)),
                                             within=60)
    [review] = cards_in(calls, personal)  # Valentin never wrote to Almia: his inbox only
    calls = await harness.connector.wait_for(lambda calls: any(
        "envoyée en relecture" in str(c.body.get("text")) for c in finals(calls)), within=60)
    told = " ".join(str(c.body.get("text")) for c in finals(calls))
    assert f"Almia n'a pas de conversation directe avec teams:{VALENTIN}" in told
    assert "teams.app_catalog_id" in told  # said plainly: no proactive installation here
    sent = " ".join(str(c.body.get("text")) for c in finals(calls)
                    if c.conversation_id == personal)
    assert "attend votre relecture" in sent and "### email 1" in sent
    assert {a["data"]["values"].get("decision") for a in review["actions"]} >= {
        "approve", "changes", "reject"}
    [button] = [a for a in review["actions"] if a["data"]["values"].get("decision") == "approve"]
    invoke = in_personal_chat(as_user(fixture("invoke_template_submit", harness.connector.url),
                                      NADIA, "Nadia"), harness)
    invoke["value"]["action"] = {"type": "Action.Execute", "verb": button["verb"],
                                 "data": button["data"]}
    assert (await harness.post(invoke)).status == 200
    calls = await harness.connector.wait_for(lambda calls: any(
        "Décision enregistrée sur la version 1" in str(c.body.get("text"))
        for c in finals(calls) if c.conversation_id == personal), within=60)
    [decided] = [c for c in finals(calls) if c.conversation_id == personal
                 and "Décision enregistrée" in str(c.body.get("text"))]
    assert "teams:" + NADIA in str(decided.body["text"])

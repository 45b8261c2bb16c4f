"""English-speaking authors and readers: English library drafts, English check reasons,
English export stamps; French stays the default."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import Settings
from skills.campaigns.brief import Medium, parse_brief
from skills.campaigns.checks import CampaignChecker
from skills.campaigns.draft_library import format_date, load_library
from skills.campaigns.pieces import Piece, parse_pieces, serialise
from skills.campaigns.rules import load_rules
from tests.conftest import FakeSearch
from tests.skills.campaigns.conftest import brief
from tests.web_api import finished

ENGLISH_BRIEF = """\
title: Spring home 2099
product: Almia Home
segment: Tenants aged 25 to 35 in cities
channels: [email, sms, letter, banner, linkedin]
tone: warm
key_messages: [24/7 assistance after a claim, an online quote in 3 minutes]
offer: 20% off the first year
conditions: New customers only, subscription before 31 March 2099.
offer_end: 2099-03-31
call_to_action: Get your quote
reviewers: [conformite]
"""
RULES = load_rules()
CHECKER = CampaignChecker(RULES)


def test_the_english_words_people_write_for_a_field_are_read() -> None:
    written = (ENGLISH_BRIEF.replace("segment:", "target:").replace("reviewers:", "reviewer:")
               .replace("offer_end:", "due_date: 2099-03-15\noffer_end:"))
    assert parse_brief(written).segment == parse_brief(ENGLISH_BRIEF).segment
    assert parse_brief(written).deadline == date(2099, 3, 15)


def test_english_library_drafts_pass_every_check_and_keep_fields() -> None:
    english = parse_brief(ENGLISH_BRIEF)
    pieces = load_library(language="en").draft(english, RULES)
    assert {piece.medium for piece in pieces} == set(Medium)
    text = serialise(pieces, "en")
    assert "Subject: Almia Home: 20% off the first year" in text
    assert "Until 31 March 2099, enjoy 20% off the first year*" in text
    assert "Non-contractual document." in text and "STOP to {{numero_stop}}" in text
    assert "Unsubscribe: {{lien_desinscription}}" in text and "{{prenom}}" in text
    assert "Document non contractuel" not in text and "[[" not in text
    assert parse_pieces(text) == pieces
    failed = [c for c in CHECKER.check(pieces, english) if c.status != "ok"]
    assert failed == [], [(c.piece, c.text("en")) for c in failed]


def test_check_reasons_follow_the_readers_language() -> None:
    english = parse_brief(ENGLISH_BRIEF)
    piece = Piece(Medium.EMAIL, 1, "The best cover, free, until 30 April 2099.", "Hi")
    results = {c.code: c for c in CHECKER.check_piece(piece, english)}
    claims, offer, mentions = results["claims"], results["offer"], results["mentions"]
    assert "“free” is forbidden for an offer subject to conditions" in claims.text("en")
    assert "superlative without proof" in claims.text("en")
    assert "« free » (gratuit) est interdit" in claims.text("fr")
    assert "Date 30 April 2099 is after the end of the brief's offer (31 March 2099)" \
        in offer.text("en")
    assert "Date du 30 avril 2099 postérieure" in offer.text("fr")
    assert "Non-contractual document." in mentions.text("en")
    assert "must state that it is not contractual" in mentions.text("en")
    assert "Document non contractuel." in mentions.text("fr")
    # French claims are still caught in English readers' checks, with English reasons
    french = CHECKER.check_piece(Piece(Medium.SMS, 1, "Devis gratuit STOP"), english)
    assert "“free” is forbidden" in next(c for c in french if c.code == "claims").text("en")


def test_a_brief_can_ask_for_a_language_and_dates_are_written_in_it() -> None:
    assert parse_brief(brief() + "langue: anglais\n").language == "en"
    assert parse_brief(brief()).language is None
    assert format_date(date(2099, 3, 1), "en") == "1 March 2099"
    assert format_date(date(2099, 3, 1)) == "1 mars 2099"


@pytest.fixture
async def client(campaign_settings: Settings) -> AsyncIterator[Any]:
    app = build_app(campaign_settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    created = TestClient(TestServer(app, host="127.0.0.1"))
    await created.start_server()
    yield created
    await created.close()


async def _say(client: Any, text: str, user: str, locale: str) -> dict[str, Any]:
    response = await client.post("/api/chat", json={"text": text, "user": user,
                                                    "thread": f"t-{user}", "locale": locale})
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = (await response.json())["reply"]
    return reply


async def _press(client: Any, button: dict[str, Any], user: str, locale: str,
                 **typed: str) -> dict[str, Any]:
    response = await client.post("/api/action", json={
        "action": button["action"], "values": {**typed, **button["values"]}, "user": user,
        "thread": f"t-{user}", "locale": locale})
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = (await response.json())["reply"]
    return reply


def _button(reply: dict[str, Any], action: str, decision: str | None = None) -> dict[str, Any]:
    for candidate in reply["cards"][0]["buttons"]:
        if candidate["action"] == action and candidate["values"].get("decision") == decision:
            return dict(candidate)
    raise AssertionError(f"no {action} {decision} in {reply['cards']}")


async def test_an_english_author_gets_english_drafts_checks_and_export(client: Any) -> None:
    created = await _say(client, "/almia campaign new\n" + ENGLISH_BRIEF, "ann", "en")
    assert created["skill"] == "campaigns", created["text"]
    text = created["text"]
    assert "### email 1\nSubject: Almia Home" in text and "Non-contractual document." in text
    assert "Drafts from the template library" in text and "every check passes" in \
        str(created["cards"][0]["facts"])
    submitted = await _press(client, _button(created, "campaigns:submit"), "ann", "en")
    assert "sent for review" in submitted["text"], submitted["text"]
    approved = await _press(client, _button(submitted, "campaigns:decide", "approve"), "cora",
                            "en")
    assert "approved" in approved["text"]
    exported = await _press(client, _button(approved, "campaigns:export"), "ann", "en")
    job = await finished(client, exported["job_id"], "ann")
    files = {a["name"]: await (await client.get(a["url"])).read() for a in job["artefacts"]}
    html = next(data for name, data in files.items() if name.endswith("email-1.html")).decode()
    assert '<html lang="en">' in html and "Approved by web:cora (reviewer conformite)" in html
    docx = next(data for name, data in files.items() if name.endswith(".docx"))
    with zipfile.ZipFile(BytesIO(docx)) as document:
        body = document.read("word/document.xml").decode()
    assert "E-mail — variant 1" in body and "Subject: Almia Home" in body
    # a French reader of the same campaign reads French reasons and labels
    french = await _say(client, "/almia campagne voir " + _button(
        approved, "campaigns:export")["values"]["campaign"][:8], "cora", "fr")
    assert "approuvée" in french["text"]

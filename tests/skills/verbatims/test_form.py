"""The column card: detected columns as drop-downs; its button analyses the file again with
the columns chosen (web API here; Slack and Teams in test_form_channels)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.skills import SkillError
from bot.store.jobs import card_from_json
from skills.verbatims.form import columns_card, form_overrides
from skills.verbatims.model import Columns
from tests.skills.verbatims.test_skill import SURVEY, client, settings
from tests.web_api import chat, finished, upload_one

__all__ = ["client", "settings"]


async def press(client: TestClient, button: dict[str, Any],  # type: ignore[type-arg]
                user: str = "alice", **typed: str) -> dict[str, Any]:
    """What the web page sends on a card button: its action, its values and the fields."""
    response = await client.post("/api/action", json={
        "action": button["action"], "values": {**typed, **button["values"]}, "user": user})
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = (await response.json())["reply"]
    return reply


def fields(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["id"]: field for field in card["inputs"]}


async def test_the_card_shows_the_columns_and_runs_again_with_others(
        client: TestClient) -> None:  # type: ignore[type-arg]
    reply = await chat(client, "/almia verbatims", [(file_id := await upload_one(
        client, "enquete.csv", SURVEY))])
    assert file_id and reply["job_id"]
    [card] = reply["cards"]
    assert card["title"] == "Colonnes de « enquete.csv »" and "ligne 3" in card["text"]
    shown = fields(card)
    assert list(shown) == ["text", "score", "score_kind", "date", "product", "channel",
                           "region", "id"]
    assert shown["text"]["value"] == "Commentaire client"
    assert [value for value, _ in shown["text"]["choices"]] == [
        "Identifiant", "Date", "Produit", "Note NPS", "Commentaire client"]  # no « aucune »
    assert shown["score"]["choices"][0] == ["aucune", "(aucune)"]
    assert shown["score"]["value"] == "Note NPS" and shown["score_kind"]["value"] == "nps"
    assert shown["channel"]["value"] == "aucune"  # none detected
    [button] = card["buttons"]
    assert button["action"] == "verbatims:columns" and button["values"] == {
        "job": reply["job_id"], "shown_kind": "nps"}
    first = await finished(client, reply["job_id"])
    assert "Moteurs" in first["result"]["text"]

    chosen = {field: spec["value"] for field, spec in shown.items()}
    again = await press(client, button, **{**chosen, "score": "aucune", "product": "aucune",
                                           "score_kind": "stars5"})
    assert again["kind"] == "info" and again["job_id"] != reply["job_id"], again
    assert "note : (aucune)" in again["text"] and "produit : (aucune)" in again["text"]
    assert fields(again["cards"][0])["score"]["value"] == "aucune"
    assert fields(again["cards"][0])["score_kind"]["value"] == "auto"  # no score, no type
    second = await finished(client, again["job_id"])
    assert second["state"] == "succeeded" and "Moteurs" not in second["result"]["text"]
    # the same card pressed again (a double click) starts nothing more
    twice = await press(client, button, **{**chosen, "score": "aucune"})
    assert twice["kind"] == "error" and again["job_id"][:8] in twice["text"], twice
    assert "déjà relancé" in twice["text"] and not twice.get("job_id")
    # the new analysis's own card still runs it again
    [newer] = again["cards"][0]["buttons"]
    third = await press(client, newer, **{**chosen, "score": "aucune"})
    assert third["kind"] == "info" and third["job_id"] not in (reply["job_id"], again["job_id"])


async def test_the_card_refuses_what_it_cannot_do(
        client: TestClient) -> None:  # type: ignore[type-arg]
    reply = await chat(client, "/almia verbatims", [await upload_one(client, "e.csv", SURVEY)])
    [button] = reply["cards"][0]["buttons"]
    twice = await press(client, button, text="Commentaire client", score="Commentaire client")
    assert twice["kind"] == "error" and "une colonne ne sert qu'à un usage" in twice["text"]
    unknown = await press(client, button, date="Horodatage")
    assert unknown["kind"] == "error" and "Colonne « Horodatage » introuvable" in unknown["text"]
    stranger = await press(client, button, user="bob", text="Commentaire client")
    assert stranger["kind"] == "error" and "parmi les vôtres" in stranger["text"]
    forged = await press(client, {**button, "values": {"job": "0" * 32}})
    assert forged["kind"] == "error"


def test_form_values_become_reader_overrides() -> None:
    assert form_overrides({"text": "Avis", "score": "aucune", "score_kind": "auto",
                           "date": " ", "channel": "C"}, "fr") == {
        "text": "Avis", "score": "aucune", "channel": "C"}
    assert form_overrides({"score": "NPS", "score_kind": "stars5"}, "en") == {
        "score": "NPS", "score_kind": "stars5"}
    # the type the card showed, left as it was, does not pin a newly chosen column's type
    assert form_overrides({"score": "Étoiles", "score_kind": "nps", "shown_kind": "nps"},
                          "fr") == {"score": "Étoiles"}
    # a type chosen beside « (aucune) » note is dropped, not passed on
    assert form_overrides({"score": "aucune", "score_kind": "stars5", "shown_kind": "nps"},
                          "fr") == {"score": "aucune"}
    with pytest.raises(SkillError) as raised:
        form_overrides({"product": "Offre", "channel": "offre"}, "en")
    assert "both product and channel" in raised.value.message_for("en")


def test_the_card_keeps_its_choices_when_stored_with_a_job_result() -> None:
    card = columns_card("e.csv", "job-1", "en", None, (), 0)
    assert card_from_json(card.as_json()) == card
    detected = Columns(text="Avis", score="Note", score_kind="stars5")
    card = columns_card("e.csv", "job-1", "en", detected, ("Avis", "Note", "Date"), 2)
    assert card_from_json(card.as_json()) == card
    kinds = dict(card.inputs[2].choices)
    assert card.inputs[2].value == "stars5" and kinds["stars5"] == "stars 1-5"
    assert card.inputs[0].choices == (("Avis", "Avis"), ("Note", "Note"), ("Date", "Date"))
    assert "sans objet si note : aucune" in columns_card(
        "e.csv", "job-1", "fr", detected, ("Avis", "Note"), 2).inputs[2].label
    # a score type without a score column is not shown (it would be ignored)
    orphan = Columns(text="Avis", score=None, score_kind="stars5")
    card = columns_card("e.csv", "job-1", "en", orphan, ("Avis", "Note", "Date"), 2)
    assert card.inputs[2].value == "auto" and card.buttons[0].values["shown_kind"] == "auto"

"""``/template …`` end to end through the web chat API, and the analytics endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch

Client = TestClient  # type: ignore[type-arg]


async def _client(settings: Settings) -> Any:
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Any]:
    created = await _client(settings)
    yield created
    await created.close()


async def say(client: Any, text: str, *, user: str = "alice", thread: str = "t1",
              space: str = "web:sinistres", locale: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text, "user": user, "thread": thread, "space": space}
    if locale:
        body["locale"] = locale
    response = await client.post("/api/chat", json=body)
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = (await response.json())["reply"]
    return reply


async def test_starter_library_is_listed(client: Any) -> None:
    reply = await say(client, "/template list")
    assert reply["skill"] == "templates" and reply["kind"] == "info"
    for name in ("resume-appel", "reponse-reclamation", "compte-rendu-visite", "courrier-relance"):
        assert name in reply["text"]
    assert "courrier-relance" in (await say(client, "template list relance"))["text"]
    assert "resume-appel" not in (await say(client, "/template list relance"))["text"]


async def test_missing_variables_get_a_form_then_the_filled_template_runs(client: Any) -> None:
    reply = await say(client, "/template use courrier-relance")
    form = reply["form"]
    assert form["name"] == "courrier-relance" and form["version"] == 1
    variables = {v["name"]: v for v in form["variables"]}
    assert variables["motif"]["choices"] == ["pièce manquante", "cotisation impayée",
                                             "questionnaire de santé"]
    assert variables["delai"]["default"] == "8 jours" and not variables["delai"]["required"]
    assert variables["client"]["required"]

    answer = await say(client, '/template use courrier-relance@1 client="M. Martin" '
                               'motif="pièce manquante" reference="contrat 123"')
    # offline: no generative model runs it; the reply is the filled prompt, not an answer
    assert answer["kind"] == "info" and answer["skill"] == "templates"
    assert answer["model"] is None and "form" not in answer
    assert "M. Martin" in answer["text"] and "version 1" in answer["text"]

    stats = await (await client.get("/api/stats/templates?since=30d")).json()
    assert stats["runs"] == 1 and stats["templates"][0]["name"] == "courrier-relance"
    assert stats["use_cases"] == [{"space": "web:sinistres", "use_case": "recouvrement",
                                   "runs": 1}]
    assert (await client.get("/api/stats/templates?since=forever")).status == 400


async def test_form_arrives_on_the_stream_endpoint_too(client: Any) -> None:
    response = await client.post("/api/chat/stream", json={"text": "template use resume-appel"})
    raw = await response.text()
    assert "event: reply" in raw and '"form"' in raw and "event: delta" not in raw


async def test_unknown_or_bad_variables_are_named(client: Any) -> None:
    unknown = await say(client, "/template use courrier-relance client=X motif=pièce couleur=rouge")
    assert unknown["kind"] == "error" and "couleur" in unknown["text"]
    wrong_choice = await say(client, '/template use courrier-relance client=X motif=autre')
    assert wrong_choice["kind"] == "error" and "motif" in wrong_choice["text"]
    missing = await say(client, "/template use absent")
    assert missing["kind"] == "error" and "absent" in missing["text"]


async def test_save_show_edit_history_and_conflict(client: Any) -> None:
    await say(client, "Rédige un mail à {{client}} sur un ton {{ton:choice=formel|amical}}.")
    saved = await say(client, "/template save mail-client")  # the thread's last prompt
    assert "version 1" in saved["text"] and "client, ton" in saved["text"]
    shown = await say(client, "/template show mail-client")
    assert "{{ton:choice=formel|amical}}" in shown["text"] and "v1" in shown["text"]
    edited = await say(client, "/template save mail-client@1 tags=mail Écris à {{client}}.")
    assert "version 2" in edited["text"]
    conflict = await say(client, "/template save mail-client@1 Écris vite à {{client}}.")
    assert conflict["kind"] == "error" and "Conflit" in conflict["text"]
    history = await say(client, "/template history mail-client")
    assert "v2" in history["text"] and "v1" in history["text"] and "v3" not in history["text"]
    assert "· modification ·" in history["text"] and "· création ·" in history["text"]
    assert " edit " not in history["text"] and "personal" not in history["text"]
    hidden = await say(client, "/template show mail-client", user="bob")
    assert hidden["kind"] == "error"  # Alice's is hers alone
    other = await say(client, "/template save mail-client Autre {{x}}", user="bob")
    assert other["kind"] == "info" and "version 1, personnel" in other["text"]  # his own
    shown = await say(client, "/template show mail-client", user="bob")
    assert "Autre {{x}}" in shown["text"]


@pytest.mark.parametrize(("body", "expected"), [
    ("Bonjour {{client", "accolade"),
    ("Bonjour client}} !", "accolade"),
    ("Bonjour {{1client}}", "Variable invalide"),
    ("Bonjour {{client:couleur}}", "Type inconnu"),
    ("x" * 25_000, "trop long"),
])
async def test_bad_bodies_are_refused_and_nothing_is_saved(client: Any, body: str,
                                                           expected: str) -> None:
    reply = await say(client, f"/template save essai {body}")
    assert reply["kind"] == "error" and expected in reply["text"]
    assert "essai" not in (await say(client, "/template list"))["text"]


async def test_sharing_from_a_personal_web_space_and_english(client: Any) -> None:
    await say(client, "/template save perso Texte {{a}}")
    refused = await say(client, "/template share perso team", space="web:default")
    assert refused["kind"] == "error"
    company = await say(client, "/template share perso company")
    assert company["kind"] == "error" and "administrateurs" in company["text"]
    english = await say(client, "/template use nothing-here", locale="en")
    assert "can't find" in english["text"]


async def test_stats_endpoint_needs_the_token_when_set(tmp_path: Any) -> None:
    settings = load_settings(data_dir=tmp_path / "d", _env_file=None,
                             web={"api_token": "s3cret-token"})
    created = await _client(settings)
    try:
        assert (await created.get("/api/stats/templates")).status == 401
        ok = await created.get("/api/stats/templates",
                               headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status == 200 and (await ok.json())["runs"] == 0
    finally:
        await created.close()


async def test_runs_carry_their_answer_tokens_and_feedback(model_settings: Settings) -> None:
    client = await _client(model_settings)  # a generative model runs the template
    try:
        answer = await say(client, '/template use courrier-relance client="M. Martin" '
                                   'motif="pièce manquante" reference="contrat 123"')
        vote = await client.post("/api/feedback", json={"turn_id": answer["turn_id"],
                                                        "value": 1, "user": "alice"})
        assert vote.status == 200
        stats = await (await client.get("/api/stats/templates?since=30d")).json()
    finally:
        await client.close()
    [usage] = stats["templates"]
    assert usage["positive"] == 1 and usage["tokens"] > 0

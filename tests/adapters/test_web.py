"""The web chat's HTTP API on the real aiohttp app: JSON, SSE, bad input, token, feedback."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch, passage

SEARCH = [passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés.", title="Guide")]


async def _client(settings: Settings) -> TestClient:  # type: ignore[type-arg]
    app = build_app(settings, knowledge=FakeSearch(list(SEARCH)))  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    created = await _client(settings)
    yield created
    await created.close()


async def test_page_is_served_with_security_headers(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/")
    assert response.status == 200
    assert "<title>Almia" in await response.text()
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert (await client.get("/static/app.js")).status == 200
    assert (await client.get("/healthz")).status == 200


async def test_json_endpoint_answers_with_citations(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/chat", json={
        "text": "Quel délai pour un dégât des eaux ?", "user": "alice", "thread": "th-1"})
    assert response.status == 200
    body = await response.json()
    reply = body["reply"]
    assert body["thread"] == "th-1"
    assert "cinq jours" in reply["text"] and reply["skill"] == "qa"
    assert reply["citations"][0]["title"] == "Guide"
    assert reply["citations"][0]["passage"].startswith("Un dégât des eaux")
    feedback = await client.post("/api/feedback", json={"turn_id": reply["turn_id"], "value": 1,
                                                        "user": "alice"})
    assert feedback.status == 200


async def test_stream_endpoint_sends_events_in_order(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/chat/stream", json={"text": "Quel délai pour un dégât ?"})
    assert response.headers["Content-Type"].startswith("text/event-stream")
    raw = await response.text()
    events = [block.split("\n") for block in raw.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    assert names[0] == "thread" and names[1] == "progress" and names[-1] == "reply"
    assert "delta" in names
    final = json.loads(events[-1][1].removeprefix("data: "))
    assert final["citations"] and final["turn_id"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragment"),
    [
        (b"{not json", "application/json", 400, "JSON invalide"),
        (b'{"text": "\xff\xfe"}', "application/json", 400, "UTF-8"),
        (b'{"text": 42}', "application/json", 400, "text"),
        (b'{"text": "ok", "admin": true}', "application/json", 400, "admin"),
        (b"text=hello", "application/x-www-form-urlencoded", 400, "JSON"),
        (b'{"text": "' + b"a" * (1024 * 1024 + 10) + b'"}', "application/json", 413, "volumineuse"),
    ],
)
async def test_bad_requests_get_clear_4xx(client: TestClient, body: bytes,  # type: ignore[type-arg]
                                          content_type: str, status: int, fragment: str) -> None:
    response = await client.post("/api/chat", data=io.BytesIO(body),
                                 headers={"Content-Type": content_type})
    assert response.status == status
    error = (await response.json())["error"]
    assert fragment in error["message"] + error["message_en"]


async def test_huge_but_valid_message_gets_a_polite_reply(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/chat", json={"text": "a" * 100_000})
    assert response.status == 200
    assert "trop long" in (await response.json())["reply"]["text"]


async def test_feedback_on_unknown_answer_is_404(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/feedback", json={"turn_id": "nope", "value": -1})
    assert response.status == 404
    response = await client.post("/api/feedback", json={"turn_id": "x", "value": 7})
    assert response.status == 400


async def test_token_is_required_when_configured(settings: Settings) -> None:
    secured = load_settings(data_dir=settings.data_dir, web={"api_token": "s3cret"},
                            _env_file=None)
    client = await _client(secured)
    try:
        refused = await client.post("/api/chat", json={"text": "Bonjour"})
        assert refused.status == 401
        wrong = await client.post("/api/chat", json={"text": "Bonjour"},
                                  headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        accepted = await client.post("/api/chat", json={"text": "Bonjour"},
                                     headers={"Authorization": "Bearer s3cret"})
        assert accepted.status == 200
        assert (await client.get("/")).status == 200  # the page itself is public
    finally:
        await client.close()

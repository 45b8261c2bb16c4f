"""The web chat's HTTP API on the real aiohttp app: JSON, SSE, bad input, token, feedback."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import Settings, SettingsError, load_settings
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
        for method, path in (("POST", "/api/files"), ("GET", "/api/jobs"),
                             ("GET", "/api/stats/templates"), ("GET", "/api/not-yet-written")):
            response = await client.request(method, path)
            assert response.status == 401, path  # every web API route, present and future
            assert response.headers["X-Frame-Options"] == "DENY"
        jobs = await client.get("/api/jobs", headers={"Authorization": "Bearer s3cret"})
        assert jobs.status != 401
    finally:
        await client.close()


# -- malformed input, error paths, hosts --------------------------------------------------

DEEP = b'{"text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
HUGE_INTEGER = b'{"text": "x", "value": ' + b"9" * 5_000 + b"}"


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream", "/api/feedback"])
@pytest.mark.parametrize("body", [DEEP, HUGE_INTEGER, b"[" * 50_000], ids=["deep", "huge-int",
                                                                           "unclosed-deep"])
async def test_json_that_parses_badly_gets_400(client: TestClient, path: str,  # type: ignore[type-arg]
                                               body: bytes) -> None:
    response = await client.post(path, data=io.BytesIO(body),
                                 headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"]["message"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nope", 404), ("GET", "/api/nope", 404),
    ("GET", "/api/chat", 405), ("POST", "/api/feedback", 400),
])
async def test_error_responses_are_json_with_security_headers(
        client: TestClient, method: str, path: str, status: int) -> None:  # type: ignore[type-arg]
    response = await client.request(method, path, json={})
    assert response.status == status
    assert (await response.json())["error"]["status"] == status
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_every_success_response_has_security_headers(client: TestClient) -> None:  # type: ignore[type-arg]
    for path in ("/", "/static/app.js", "/favicon.ico", "/healthz"):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    stream = await client.post("/api/chat/stream", json={"text": "Bonjour"})
    assert stream.headers["Referrer-Policy"] == "no-referrer"
    missing = await client.get("/static/nope.js")
    assert missing.status == 404 and missing.headers["X-Frame-Options"] == "DENY"


async def test_favicon_is_a_small_icon(client: TestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/favicon.ico")
    assert response.status == 200
    icon = await response.read()
    assert icon[:4] == b"\x00\x00\x01\x00" and len(icon) < 4_096  # ICO header, one image


async def test_unknown_paths_and_methods_get_a_french_error(client: TestClient) -> None:  # type: ignore[type-arg]
    missing = await client.get("/nulle-part")
    assert missing.status == 404
    assert (await missing.json())["error"] == {
        "status": 404, "message": "Page introuvable.", "message_en": "Not Found"}
    wrong = await client.get("/api/chat")
    assert wrong.status == 405
    assert (await wrong.json())["error"]["message"] == "Méthode non autorisée pour cette adresse."


@pytest.mark.parametrize("host", ["evil.example:3978", "evil.example", "127.0.0.1.evil.example",
                                  "::1", "a b", ""])
async def test_unknown_host_names_are_refused(client: TestClient, host: str) -> None:  # type: ignore[type-arg]
    for method, path in (("POST", "/api/chat"), ("GET", "/")):
        response = await client.request(method, path, json={"text": "Bonjour"},
                                        headers={"Host": host})
        assert response.status == 421, (path, host)
        assert "ALLOWED_HOSTS" in (await response.json())["error"]["message_en"]
        assert response.headers["X-Frame-Options"] == "DENY"
    assert (await client.get("/healthz", headers={"Host": host})).status == 200  # probes


@pytest.mark.parametrize("host", ["127.0.0.1:3978", "localhost:8080", "LOCALHOST", "[::1]:3978",
                                  "almia.example.com", "almia.example.com:443"])
async def test_loopback_and_configured_host_names_are_served(settings: Settings,
                                                             host: str) -> None:
    configured = load_settings(data_dir=settings.data_dir, _env_file=None,
                               web={"allowed_hosts": ["almia.example.com"]})
    client = await _client(configured)
    try:
        response = await client.post("/api/chat", json={"text": "Bonjour"}, headers={"Host": host})
        assert response.status == 200, host
    finally:
        await client.close()


def test_allowed_hosts_come_from_the_environment(settings: Settings,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALMIA_WEB__ALLOWED_HOSTS", '["almia.example.com", "chat.example:8443"]')
    loaded = load_settings(data_dir=settings.data_dir, _env_file=None)
    assert loaded.web.allowed_hosts == ["almia.example.com", "chat.example:8443"]
    monkeypatch.setenv("ALMIA_WEB__ALLOWED_HOSTS", '["https://almia.example.com/"]')
    with pytest.raises(SettingsError, match="allowed_hosts"):
        load_settings(data_dir=settings.data_dir, _env_file=None)


# -- Teams on the same server --------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*")
@pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*")
@pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*")
@pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")
async def test_web_token_leaves_teams_to_its_own_authentication(tmp_path: Path) -> None:
    from adapters.teams import TeamsAdapter, TeamsEndpoints
    from adapters.web import WebChatAdapter
    from tests.adapters.test_teams import APP_ID, APP_PASSWORD, OUTBOUND_TOKEN, TENANT
    from tests.adapters.test_teams import fixture as teams_fixture
    from tests.fakes.bot_connector import FakeBotConnector
    from tests.fakes.openid import ISSUER, FakeOpenIdServer

    with FakeOpenIdServer() as issuer:
        async with FakeBotConnector() as connector:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None, web={"api_token": "s3cret"},
                teams={"app_id": APP_ID, "app_password": APP_PASSWORD, "tenant_id": TENANT})
            endpoints = TeamsEndpoints(
                openid_metadata_url=issuer.metadata_url,
                emulator_openid_metadata_url=issuer.metadata_url,
                token_issuer=ISSUER, login_url=f"{issuer.base_url}/{TENANT}")
            app = build_app(settings, knowledge=FakeSearch(list(SEARCH)), adapter_factories=[  # type: ignore[arg-type]
                lambda runtime: WebChatAdapter(runtime.assistant, runtime.settings.web),
                lambda runtime: TeamsAdapter(runtime, endpoints=endpoints,
                                             outbound_token=lambda: OUTBOUND_TOKEN)])
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                activity = teams_fixture("message_personal", connector.url)
                token = issuer.token(issuer.claims(APP_ID, activity["serviceUrl"]))
                teams = await client.post("/api/messages", data=json.dumps(activity), headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                assert teams.status == 200  # the Bot Framework JWT, not the web token
                await connector.wait_for(lambda calls: any(c.type == "message" for c in calls))
                web_token = await client.post("/api/messages", data=json.dumps(activity), headers={
                    "Content-Type": "application/json", "Authorization": "Bearer s3cret"})
                assert web_token.status == 401  # the web token is no Bot Framework token
                assert (await client.post("/api/chat", json={"text": "Bonjour"})).status == 401

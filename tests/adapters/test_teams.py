"""Teams channel end to end: real activity JSON → /api/messages → fake Bot Connector.

Tokens are signed with a local RSA key served by a loopback OpenID issuer; outbound
replies use an injected token (no MSAL, no network).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from adapters.teams import TeamsAdapter, TeamsEndpoints
from bot.app import RUNTIME, Runtime, build_app
from bot.settings import SettingsError, load_settings
from bot.store.inbox import InboxStore
from tests.conftest import FakeSearch
from tests.fakes.bot_connector import ConnectorCall, FakeBotConnector
from tests.fakes.loopback import poll, poll_async
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.openid import ISSUER, FakeOpenIdServer, new_key
from tests.fakes.presses import RecordingPresses

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
    # litellm reads a deprecated pydantic attribute while streaming (intermittently)
    pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning"),
]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "teams"
APP_ID = "11111111-2222-3333-4444-555555555555"
APP_PASSWORD = "not-a-real-secret-but-long-enough-for-hs256"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OUTBOUND_TOKEN = "outbound-test-token"


def fixture(name: str, service_url: str) -> dict[str, Any]:
    """A saved Teams activity pointed at the fake connector."""
    activity = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    activity["serviceUrl"] = service_url
    return activity


@dataclass
class Harness:
    """The app under test with its fakes."""

    client: TestClient[web.Request, web.Application]
    connector: FakeBotConnector
    issuer: FakeOpenIdServer
    model: FakeModelServer
    adapter: TeamsAdapter | None = None  # needed by ``settled`` only

    @property
    def runtime(self) -> Runtime:
        return self.client.app[RUNTIME]  # type: ignore[index]

    def token_for(self, activity: dict[str, Any], **overrides: Any) -> str:
        return self.issuer.token(self.issuer.claims(APP_ID, activity["serviceUrl"], **overrides))

    async def post(self, activity: dict[str, Any], token: str | None = None,
                   *, anonymous: bool = False) -> Any:
        headers = {"Content-Type": "application/json"}
        if token is None and not anonymous:
            token = self.token_for(activity)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.post("/api/messages", data=json.dumps(activity), headers=headers)

    async def settled(self) -> None:
        """Wait until every reply the adapter started has finished (work is started while
        the activity is handled, so after its response nothing new can begin)."""
        adapter = self.adapter
        assert adapter is not None, "this harness was built without its adapter"
        await poll(lambda: adapter.busy == 0, 60, lambda: f"{adapter.busy} running")


def _kept(made: list[TeamsAdapter], **options: Any) -> Callable[[Runtime], TeamsAdapter]:
    """A factory of the adapter under test that also keeps it in ``made``."""
    def build(runtime: Runtime) -> TeamsAdapter:
        made.append(TeamsAdapter(runtime, outbound_token=lambda: OUTBOUND_TOKEN,
                                 stream_interval=0.0, **options))
        return made[-1]
    return build


@contextlib.asynccontextmanager
async def running(tmp_path: Path, **options: Any) -> AsyncIterator[Harness]:
    """The app with a Teams adapter built with ``options``, and its fakes."""
    with FakeOpenIdServer() as issuer:
        async with FakeModelServer() as model, FakeBotConnector() as connector:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None,
                policy_file=write_policy(tmp_path / "policy.yaml", model.url),
                teams={"app_id": APP_ID, "app_password": APP_PASSWORD, "tenant_id": TENANT},
                web={"enabled": False})
            endpoints = TeamsEndpoints(
                openid_metadata_url=issuer.metadata_url,
                emulator_openid_metadata_url=issuer.metadata_url,
                token_issuer=ISSUER, login_url=f"{issuer.base_url}/{TENANT}")
            made: list[TeamsAdapter] = []
            app = build_app(settings, knowledge=FakeSearch(),  # type: ignore[arg-type]
                            adapter_factories=[_kept(made, endpoints=endpoints,
                                                     retry_delays=(0.01, 0.02), **options)])
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                yield Harness(client, connector, issuer, model, made[0])
            finally:
                await client.close()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running(tmp_path) as built:
        yield built


def finals(calls: list[ConnectorCall]) -> list[ConnectorCall]:
    return [call for call in calls if call.type == "message"]


def card_of(call: ConnectorCall) -> dict[str, Any]:
    assert call.body.get("attachments"), call.body.get("text")
    return call.body["attachments"][0]["content"]


async def test_personal_message_streams_then_sends_a_card(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    response = await harness.post(activity)
    assert response.status == 200  # acknowledged; the answer follows (timings: bench/teams_latency.py)
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert calls[0].type == "typing" and calls[0].stream_type is None  # plain typing at once
    streamed = [call for call in calls if call.stream_type == "streaming"]
    assert calls[1].stream_type == "informative"
    assert streamed, "personal chats stream"
    stream_id = streamed[0].body["entities"][0]["streamId"]
    sequences = [call.body["entities"][0]["streamSequence"] for call in calls
                 if call.stream_type in ("informative", "streaming")]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    final = finals(calls)[-1]
    assert final.stream_type == "final"
    assert final.body["entities"][0]["streamId"] == stream_id
    card = card_of(final)
    assert "Réponse du modèle factice" in card["body"][0]["text"]
    assert [a["data"]["value"] for a in card["actions"]] == [1, -1]
    assert all(call.authorization == f"Bearer {OUTBOUND_TOKEN}" for call in calls)
    assert all(call.conversation_id == activity["conversation"]["id"] for call in calls)
    assert harness.model.requests, "the summary skill reached the model"


async def test_channel_mention_is_stripped_and_answered_in_the_thread(harness: Harness) -> None:
    activity = fixture("message_channel_mention", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert not [call for call in calls if call.stream_type], "no streaming outside 1:1"
    assert calls[0].conversation_id.endswith(";messageid=1741771211123")
    user_prompt = harness.model.requests[0]["messages"][-1]["content"]
    assert "<at>" not in user_prompt and "Almia" not in user_prompt
    assert "Durand SA" in user_prompt
    audit = await harness.runtime.store.audit_events()
    assert audit[0].skill == "call_summary"


async def test_channel_message_without_mention_is_ignored(harness: Harness) -> None:
    activity = fixture("message_channel_mention", harness.connector.url)
    activity["entities"] = activity["entities"][1:]
    activity["text"] = "summary une discussion entre collègues"
    assert (await harness.post(activity)).status == 200
    await harness.settled()
    assert harness.connector.calls == []
    assert harness.model.requests == []


async def test_bot_added_to_team_posts_welcome_and_records_space(harness: Harness) -> None:
    activity = fixture("conversation_update_bot_added", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    card = card_of(finals(calls)[0])
    text = json.dumps(card, ensure_ascii=False)
    assert "almia collections attach" in text
    assert "teams:9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a" in text
    assert "summary" in text
    events = await harness.runtime.store.audit_events()
    assert [event.action for event in events] == ["space_joined"]


async def _answered_turn(harness: Harness) -> str:
    activity = fixture("message_personal", harness.connector.url)
    await harness.post(activity)
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    turn_id = card_of(finals(calls)[-1])["actions"][0]["data"]["turn_id"]
    harness.connector.calls.clear()
    return str(turn_id)


async def test_card_submit_records_feedback(harness: Harness) -> None:
    turn_id = await _answered_turn(harness)
    activity = fixture("card_submit", harness.connector.url)
    activity["value"]["turn_id"] = turn_id
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert "Merci" in finals(calls)[0].body["text"]
    assert (await harness.runtime.store.counts())["feedback"] == 1


async def test_card_invoke_records_feedback_in_the_invoke_response(harness: Harness) -> None:
    turn_id = await _answered_turn(harness)
    activity = fixture("invoke_card_action", harness.connector.url)
    activity["value"]["action"]["data"]["turn_id"] = turn_id
    response = await harness.post(activity)
    assert response.status == 200
    assert (await response.json())["statusCode"] == 200
    assert (await harness.runtime.store.counts())["feedback"] == 1


async def test_card_submit_with_missing_fields_gets_a_polite_message(harness: Harness) -> None:
    activity = fixture("card_submit", harness.connector.url)
    activity["value"] = {"almia": "feedback"}
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert "pas pu être enregistré" in finals(calls)[0].body["text"]
    assert (await harness.runtime.store.counts())["feedback"] == 0


def _forged(harness: Harness, activity: dict[str, Any]) -> dict[str, str | None]:
    claims = harness.issuer.claims(APP_ID, activity["serviceUrl"])
    now = int(time.time())
    return {
        "missing": None,
        "garbage": "not-a-jwt",
        "unknown key": harness.issuer.token(claims, key=new_key(), kid="unknown-kid"),
        "endorsed kid, other key": harness.issuer.token(claims, key=new_key()),
        "alg none": jwt.encode(claims, None, algorithm="none",
                               headers={"kid": harness.issuer.kid}),
        "hs256 with the app secret": jwt.encode(claims, APP_PASSWORD, algorithm="HS256",
                                                headers={"kid": harness.issuer.kid}),
        "expired": harness.token_for(activity, exp=now - 3600, iat=now - 7200, nbf=now - 7200),
        "wrong audience": harness.token_for(activity, aud="99999999-0000-0000-0000-000000000000"),
        "wrong issuer": harness.token_for(activity, iss="https://evil.example.com"),
        "serviceurl mismatch": harness.token_for(activity, serviceurl="https://evil.example.com/"),
    }


async def test_forged_tokens_are_401_and_run_nothing(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    before = await harness.runtime.store.counts()
    for name, token in _forged(harness, activity).items():
        response = await harness.post(activity, token=token, anonymous=token is None)
        assert response.status == 401, name
    await harness.settled()
    assert harness.connector.calls == []
    assert harness.model.requests == []
    assert await harness.runtime.store.counts() == before


async def test_other_tenant_is_refused(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    activity["conversation"]["tenantId"] = "00000000-1111-2222-3333-444444444444"
    activity["channelData"]["tenant"]["id"] = "00000000-1111-2222-3333-444444444444"
    assert (await harness.post(activity)).status == 403
    await harness.settled()
    assert harness.connector.calls == []


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"text": "no type"}'])
async def test_malformed_bodies_are_400(harness: Harness, body: bytes) -> None:
    token = harness.token_for(fixture("message_personal", harness.connector.url))
    response = await harness.client.post("/api/messages", data=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert response.status == 400


async def test_unknown_activity_type_is_acknowledged(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    activity["type"] = "messageReaction"
    assert (await harness.post(activity)).status == 200
    await harness.settled()
    assert harness.connector.calls == []


async def test_empty_text_gets_a_polite_reply(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    activity["text"] = "   "
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert finals(calls)[-1].body.get("text")
    assert harness.model.requests == []


async def test_a_file_from_an_unexpected_host_is_explained(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    activity["text"] = ""
    activity["attachments"] = [{
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": "https://files.example.invalid/personal/x/Documents/notes.docx",
        "name": "notes.docx",
        "content": {"downloadUrl": "https://files.example.invalid/download", "fileType": "docx"},
    }]
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert "récupérer « notes.docx »" in finals(calls)[0].body["text"]


def _refuse_streaming(status: int) -> Callable[[dict[str, Any]], int | None]:
    def refuse(body: dict[str, Any]) -> int | None:
        streamed = any(e.get("type") == "streaminfo" for e in body.get("entities") or [])
        return status if streamed and body.get("type") == "typing" else None
    return refuse


async def test_refused_streaming_falls_back_to_one_message(harness: Harness) -> None:
    harness.connector.refuse = _refuse_streaming(403)
    activity = fixture("message_personal", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    final = finals(calls)[-1]
    assert final.stream_type is None
    assert "Réponse du modèle factice" in card_of(final)["body"][0]["text"]
    refused = [call for call in harness.connector.calls if call.status == 403]
    assert len(refused) == 1, "streaming is not retried once refused"


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_transient_connector_errors_are_retried(harness: Harness, status: int) -> None:
    harness.connector.failures = [status, status]
    activity = fixture("message_channel_mention", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert finals(calls)
    assert [call.status for call in harness.connector.calls[:3]] == [status, status, 200]


async def test_too_large_reply_is_split_and_sent(harness: Harness) -> None:
    harness.connector.refuse = lambda body: 413 if body.get("attachments") else None
    activity = fixture("message_channel_mention", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(
        lambda calls: any("factice" in (call.body.get("text") or "") for call in calls))
    assert any(call.status == 413 for call in harness.connector.calls)
    assert finals(calls)


async def test_permanent_failure_ends_with_a_polite_message(harness: Harness) -> None:
    harness.connector.refuse = lambda body: 400 if body.get("attachments") else None
    activity = fixture("message_channel_mention", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(
        lambda calls: any("Désolé" in (call.body.get("text") or "") for call in calls))
    assert calls
    counts = await harness.runtime.store.counts()
    assert counts["turns"] >= 1, "the answer is kept in the store"


async def test_custom_cloud_endpoints_come_from_the_settings(tmp_path: Path) -> None:
    with FakeOpenIdServer() as issuer:
        async with FakeModelServer() as model, FakeBotConnector() as connector:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None,
                policy_file=write_policy(tmp_path / "policy.yaml", model.url),
                teams={"app_id": APP_ID, "app_password": APP_PASSWORD, "tenant_id": TENANT,
                       "openid_metadata_url": issuer.metadata_url, "token_issuer": ISSUER,
                       "login_url": f"{issuer.base_url}/{TENANT}",
                       "oauth_scope": "https://api.botframework.com"},
                web={"enabled": False})
            made: list[TeamsAdapter] = []
            app = build_app(settings, knowledge=FakeSearch(),  # type: ignore[arg-type]
                            adapter_factories=[_kept(made, retry_delays=(0.01,))])
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                harness = Harness(client, connector, issuer, model, made[0])
                activity = fixture("message_personal", connector.url)
                assert (await harness.post(activity)).status == 200
                await connector.wait_for(lambda calls: bool(finals(calls)))
                assert (await harness.post(activity, anonymous=True)).status == 401
            finally:
                await client.close()
    with pytest.raises(SettingsError, match="go together"):
        load_settings(teams={"app_id": APP_ID, "token_issuer": ISSUER}, _env_file=None)


def _nested(depth: int) -> bytes:
    return b'{"type": "message", "value": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(("name", "body"), [
    ("50,000-deep nesting", _nested(50_000)),
    ("200-deep nesting", _nested(200)),
    ("5,000-digit integer", b'{"type": "message", "value": ' + b"7" * 5_000 + b"}"),
    ("invalid UTF-8", b'{"type": "message", "text": "\xff\xfe"}'),
])
async def test_json_that_parses_badly_is_4xx_signed_or_not(harness: Harness, name: str,
                                                             body: bytes) -> None:
    activity = fixture("message_personal", harness.connector.url)
    for token in (None, harness.token_for(activity)):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await harness.client.post("/api/messages", data=body, headers=headers)
        assert 400 <= response.status < 500, (name, token is not None, response.status)
        assert "error" in await response.json()
    assert (await harness.post(activity)).status == 200, "the endpoint still works"


async def test_unauthenticated_body_is_refused_before_it_is_parsed(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    forged = harness.issuer.token(harness.issuer.claims(APP_ID, activity["serviceUrl"]),
                                  key=new_key())
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"},
                    {"Authorization": f"Bearer {forged}"}):
        response = await harness.client.post(
            "/api/messages", data=b"{not json",
            headers={"Content-Type": "application/json", **headers})
        assert response.status == 401, headers


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set (or with ``...`` delete) one dotted field of an activity."""
    def change(activity: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = activity
        for part in parents:
            target = target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return change


_MALFORMED: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    ("message_personal", "text is a number", _set("text", 12345)),
    ("message_personal", "text is a list", _set("text", ["summary", "x"])),
    ("message_personal", "text is an object", _set("text", {"content": "x"})),
    ("message_personal", "type is a number", _set("type", 1)),
    ("message_personal", "type is empty", _set("type", "")),
    ("message_personal", "locale is a number", _set("locale", 33)),
    ("message_personal", "from is a string", _set("from", "Claire")),
    ("message_personal", "from.id is a number", _set("from.id", 29)),
    ("message_personal", "from.name is a list", _set("from.name", ["Claire"])),
    ("message_personal", "from.aadObjectId is an object", _set("from.aadObjectId", {})),
    ("message_personal", "recipient.id is a number", _set("recipient.id", 28)),
    ("message_personal", "conversation missing", _set("conversation", ...)),
    ("message_personal", "conversation.id is a number", _set("conversation.id", 1)),
    ("message_personal", "conversation.tenantId is a list",
     _set("conversation.tenantId", [TENANT])),
    ("message_personal", "conversationType is a number",
     _set("conversation.conversationType", 3)),
    ("message_personal", "channelData is a string", _set("channelData", "x")),
    ("message_personal", "channelData.tenant is a string", _set("channelData.tenant", TENANT)),
    ("message_personal", "entities is a string", _set("entities", "mention")),
    ("message_personal", "entities hold a number", _set("entities", [7])),
    ("message_personal", "mention is a string",
     _set("entities", [{"type": "mention", "mentioned": "28:bot", "text": "<at>Almia</at>"}])),
    ("message_personal", "mention text is a number",
     _set("entities", [{"type": "mention", "text": 5,
                        "mentioned": {"id": "28:11111111-2222-3333-4444-555555555555"}}])),
    ("message_personal", "attachments is an object", _set("attachments", {"a": 1})),
    ("message_personal", "attachments hold a string", _set("attachments", ["file.docx"])),
    ("message_personal", "value is a string, text empty",
     lambda activity: activity.update(value="feedback", text="")),
    ("message_personal", "timestamp is garbage", _set("timestamp", "yesterday")),
    ("message_personal", "serviceUrl missing", _set("serviceUrl", ...)),
    ("message_channel_mention", "channelData.team is a string", _set("channelData.team", "x")),
    ("message_channel_mention", "team.id is a number", _set("channelData.team.id", 19)),
    ("card_submit", "value.turn_id is an object", _set("value.turn_id", {"id": "x"})),
    ("card_submit", "value.value is a huge number", _set("value.value", 10 ** 4000)),
    ("invoke_card_action", "value is a string", _set("value", "feedback")),
    ("invoke_card_action", "value is a list", _set("value", [1, 2])),
    ("invoke_card_action", "value.action is a string", _set("value.action", "x")),
    ("invoke_card_action", "action.data is a string", _set("value.action.data", "x")),
    ("invoke_card_action", "name is a number", _set("name", 42)),
    ("invoke_template_submit", "template name is a number", _set("value.action.data.name", 3)),
    ("invoke_template_submit", "template version is a string",
     _set("value.action.data.version", "v1")),
    ("invoke_template_submit", "template variable is an object",
     _set("value.action.data.var:client", {"nom": "Durand"})),
    ("conversation_update_bot_added", "membersAdded is a string", _set("membersAdded", "bot")),
    ("conversation_update_bot_added", "membersAdded hold a number", _set("membersAdded", [28])),
    ("conversation_update_bot_added", "member id is a list",
     _set("membersAdded", [{"id": ["28:11111111-2222-3333-4444-555555555555"]}])),
]


@pytest.mark.parametrize(("name", "label", "change"), _MALFORMED,
                         ids=[label for _name, label, _change in _MALFORMED])
async def test_malformed_signed_activities_are_never_500(
        harness: Harness, name: str, label: str,
        change: Callable[[dict[str, Any]], None]) -> None:
    activity = fixture(name, harness.connector.url)
    token = harness.token_for(activity)
    change(activity)
    response = await harness.post(activity, token=token)
    assert response.status < 500, label
    if response.status >= 400:
        assert "error" in await response.json(), label
    await harness.settled()  # let a spawned answer fail, if it is going to
    assert (await harness.post(fixture("message_personal", harness.connector.url))).status \
        == 200, "the endpoint still works"
    await harness.connector.wait_for(lambda calls: bool(finals(calls)))


# -- the chat inbox: messages a dead replica left unanswered ------------------------------


async def test_a_message_a_dead_replica_left_is_answered_here(harness: Harness) -> None:
    activity = fixture("message_channel_mention", harness.connector.url)
    store = harness.runtime.store
    user = f"teams:{activity['from']['aadObjectId']}"
    await InboxStore(store.engine, store).add("teams", user, {"activity": activity},
                                              owner="replica-dead",
                                              lease=timedelta(seconds=-1))
    assert await harness.runtime.inbox.sweep() == 1
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    await harness.settled()
    assert calls[0].conversation_id.endswith(";messageid=1741771211123")  # its thread
    assert all(call.authorization == f"Bearer {OUTBOUND_TOKEN}" for call in calls)
    assert "Durand SA" in harness.model.requests[0]["messages"][-1]["content"]
    assert await InboxStore(store.engine, store).count() == 0


async def test_an_answered_message_leaves_nothing_in_the_inbox(harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    harness.model.gate = asyncio.Event()
    assert (await harness.post(activity)).status == 200
    await poll(lambda: bool(harness.model.requests), 60, lambda: "no model request")
    inbox = InboxStore(harness.runtime.store.engine, harness.runtime.store)

    async def kept() -> bool:  # written beside the answer, not before it
        return await inbox.count() == 1

    await poll_async(kept, 60, lambda: "nothing kept while it is answered")
    harness.model.gate.set()
    await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    await harness.settled()
    assert await inbox.count() == 0


async def _left_by_a_dead_replica(harness: Harness, activity: dict[str, Any],
                                  **kept: Any) -> None:
    """An inbox entry as a replica that died while answering ``activity`` left it."""
    store = harness.runtime.store
    user = f"teams:{activity['from']['aadObjectId']}"
    await InboxStore(store.engine, store).add("teams", user, {"activity": activity, **kept},
                                              owner="replica-dead",
                                              lease=timedelta(seconds=-1))


async def _open_stream(harness: Harness, activity: dict[str, Any]) -> str:
    """A stream opened as the dead replica opened it (its informative update): its id."""
    conversation = activity["conversation"]["id"]
    url = f"{harness.connector.base_url}/v3/conversations/{conversation}/activities"
    update = {"type": "typing", "text": "Recherche dans les documents…",
              "entities": [{"type": "streaminfo", "streamType": "informative",
                            "streamSequence": 1}]}
    async with aiohttp.ClientSession() as session, session.post(url, json=update) as response:
        assert response.status == 200
        return str((await response.json())["id"])


def _posted_messages(harness: Harness) -> list[ConnectorCall]:
    return [call for call in harness.connector.delivered()
            if call.method == "POST" and call.type == "message"]


async def test_a_stream_s_id_is_kept_beside_the_message_it_answers(harness: Harness) -> None:
    harness.connector.stream_gate = asyncio.Event()  # the stream opens when the test says
    harness.model.gate = asyncio.Event()  # and the answer waits while the test looks
    activity = fixture("message_personal", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    store = harness.runtime.store

    async def payload() -> str | None:
        async with store.engine.connect() as connection:
            return (await connection.execute(text("SELECT payload FROM chat_inbox"))).scalar()

    async def kept() -> bool:
        return await payload() is not None

    await poll_async(kept, 60, lambda: "the message was not kept")
    first = await payload()
    harness.connector.stream_gate.set()

    async def noted() -> bool:  # the note is written in the background, beside the answer
        return (await payload()) not in (None, first)

    await poll_async(noted, 60, lambda: "the stream was not noted")
    later = InboxStore(store.engine, store, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    [entry] = await later.take_expired({"teams"}, owner="replica-other",
                                       lease=timedelta(hours=2), max_attempts=3,
                                       max_age=timedelta(days=1))
    assert entry.payload is not None
    assert entry.payload["stream"] == harness.connector.streams[0]
    assert entry.payload["activity"]["id"] == activity["id"]
    assert time.time() - 60 < entry.payload["stream_at"] <= time.time()
    harness.model.gate.set()


async def test_an_answer_taken_up_replaces_the_stream_the_dead_replica_left(
        tmp_path: Path) -> None:
    # the adapter waits at most 10 s for Teams to close the stream (two minutes in Teams);
    # the fake keeps it open until the test has seen the first, refused, replacement
    async with running(tmp_path, stream_window=10.0) as harness:
        harness.connector.stream_window = float("inf")
        harness.model.responder = lambda _body: "Réponse reprise ailleurs, en entier."
        activity = fixture("message_personal", harness.connector.url)
        stale = await _open_stream(harness, activity)
        await _left_by_a_dead_replica(harness, activity, stream=stale, stream_at=time.time())
        assert await harness.runtime.inbox.sweep() == 1
        await poll(lambda: any(call.method == "PUT" for call in harness.connector.calls), 60,
                   lambda: "no replacement tried")
        harness.connector.stream_window = 0.0  # Teams closes the stream
        await harness.connector.wait_for(
            lambda calls: any(call.method == "PUT" for call in calls), 60)
        await harness.settled()
        puts = [call for call in harness.connector.calls if call.method == "PUT"]
        # refused while Teams still held the stream open, put in place once it closed it
        assert [call.status for call in puts] == [403, 200]
        assert {call.activity_id for call in puts} == {stale}
        assert "Réponse reprise ailleurs" in json.dumps(puts[-1].body, ensure_ascii=False)
        assert _posted_messages(harness) == [], "no second message beside the stale one"
        assert not [call for call in harness.connector.calls
                    if call.stream_type in ("streaming", "final")]
        assert await InboxStore(harness.runtime.store.engine, harness.runtime.store).count() == 0


async def test_a_stream_teams_already_closed_is_replaced_at_once(harness: Harness) -> None:
    harness.connector.stream_window = 0.0  # closed by Teams (more than two minutes ago)
    activity = fixture("message_personal", harness.connector.url)
    stale = await _open_stream(harness, activity)
    await _left_by_a_dead_replica(harness, activity, stream=stale,
                                  stream_at=time.time() - 300)
    assert await harness.runtime.inbox.sweep() == 1
    await harness.connector.wait_for(lambda calls: any(call.method == "PUT" for call in calls))
    await harness.settled()
    [put] = [call for call in harness.connector.calls if call.method == "PUT"]
    assert put.status == 200 and put.activity_id == stale
    assert put.body.get("attachments") or put.body.get("text")
    assert _posted_messages(harness) == []


async def test_a_stale_message_that_cannot_be_replaced_gets_a_new_one(
        harness: Harness) -> None:
    activity = fixture("message_personal", harness.connector.url)
    stale = await _open_stream(harness, activity)
    harness.connector.refuse = lambda body: 404 if body.get("id") == stale else None  # deleted
    await _left_by_a_dead_replica(harness, activity, stream=stale,
                                  stream_at=time.time() - 300)
    assert await harness.runtime.inbox.sweep() == 1
    await harness.connector.wait_for(lambda calls: bool(_posted_messages(harness)))
    await harness.settled()
    assert [call.status for call in harness.connector.calls if call.method == "PUT"] == [404]
    [message] = _posted_messages(harness)
    assert message.body.get("attachments") or message.body.get("text")
    assert "id" not in message.body or message.body["id"] != stale


def _card_press(harness: Harness) -> dict[str, Any]:
    """A press on a ``bot.cards`` button (campaign approval), as Teams sends it."""
    invoke = fixture("invoke_card_action", harness.connector.url)
    invoke["value"]["action"] = {
        "type": "Action.Execute", "title": "Approuver", "verb": "almia_card",
        "data": {"almia": "almia_card", "action": "campaigns:decide",
                 "values": {"campaign": "c0ffee", "version": "2", "decision": "approve"}}}
    return invoke


async def test_a_button_a_dead_replica_left_is_not_pressed_again(harness: Harness) -> None:
    invoke = _card_press(harness)
    presses = harness.runtime.assistant.presses = RecordingPresses()
    await _left_by_a_dead_replica(harness, invoke, kind="action")
    assert await harness.runtime.inbox.sweep() == 1
    [notice] = [call.body["text"] for call in
                await harness.connector.wait_for(lambda calls: bool(_posted_messages(harness)))
                if call.type == "message"]
    await harness.settled()
    assert "« Approuver »" in notice and "Vérifiez le résultat" in notice
    assert harness.model.requests == []
    assert await InboxStore(harness.runtime.store.engine, harness.runtime.store).count() == 0
    # the dead replica's claim on the press is released: it may be pressed again at once
    [released] = presses.released
    assert released.action is not None and released.action.name == "campaigns:decide"
    assert released.action.values["campaign"] == "c0ffee"


async def test_a_pressed_button_is_kept_until_its_answer(harness: Harness) -> None:
    invoke = _card_press(harness)
    response = await harness.post(invoke)
    assert response.status == 200 and "noté" in (await response.json())["value"]
    await harness.connector.wait_for(lambda calls: bool(_posted_messages(harness)))
    await harness.settled()  # answered (here: the campaign is unknown), then forgotten
    assert await InboxStore(harness.runtime.store.engine, harness.runtime.store).count() == 0

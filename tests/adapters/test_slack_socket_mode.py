"""Slack over Socket Mode: no public endpoint, the app opens a WebSocket to Slack.

Bolt's Socket Mode handler asks ``apps.connections.open`` (with the app-level token) for a
link, connects, and acknowledges each envelope by its id before the answer goes out
through the Web API — all against the loopback fake, which speaks Slack's frames
(``hello``, ``events_api``, ``slash_commands``)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackAdapter
from adapters.slack_socket import SocketLink
from bot.app import RUNTIME, Runtime, build_app
from bot.settings import load_settings
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_computed_fields'")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
APP_TOKEN = "xapp-1-A0ALMIA-test"


@contextlib.asynccontextmanager
async def socket_only(tmp_path: Path, slack: FakeSlackApi,
                      model: FakeModelServer) -> AsyncIterator[tuple[TestClient[Any, Any],
                                                                     Runtime]]:
    """Almia with Slack in Socket Mode alone (no signing secret, no HTTP route)."""
    config = load_settings(
        data_dir=tmp_path / "data", policy_file=write_policy(tmp_path / "policy.yaml", model.url),
        slack={"bot_token": "xoxb-test", "app_token": APP_TOKEN, "socket_mode": True,
               "api_url": slack.api_url},
        web={"enabled": False})
    app = build_app(config, adapter_factories=[
        lambda runtime: SlackAdapter(runtime, update_interval_seconds=0.05)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client, app[RUNTIME]


def _event(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _answers(slack: FakeSlackApi) -> list[Any]:
    return [call for call in slack.of("chat.update", "chat.postMessage")
            if call.data.get("blocks")]


async def test_a_direct_message_over_the_socket_is_acknowledged_then_answered(
        tmp_path: Path, slack: FakeSlackApi, model: FakeModelServer) -> None:
    async with socket_only(tmp_path, slack, model) as (client, _runtime):
        [opened] = slack.of("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"  # not the bot token

        ack = await slack.push("events_api", _event("event_message_im.json"),
                               envelope_id="env-1")
        assert ack == {"envelope_id": "env-1"}
        await slack.wait_for(lambda: len(_answers(slack)) == 1)
        [answer] = _answers(slack)
        assert answer.data["channel"] == "D0EMPLOYE1"
        assert slack.of("chat.postMessage")[0].data["thread_ts"] == "1715000100.000200"

        # Slack redelivers an envelope it thinks was lost: acknowledged, answered once
        again = await slack.push("events_api", _event("event_message_im.json"),
                                 envelope_id="env-2", retry_attempt=1)
        assert again == {"envelope_id": "env-2"}
        assert len(model.requests) == 1

        # no HTTP endpoint in Socket Mode alone: nothing to sign, nothing to forge
        assert (await client.post("/slack/events", data=b"{}")).status == 404


async def test_a_slash_command_over_the_socket_is_acknowledged_with_its_reply(
        tmp_path: Path, slack: FakeSlackApi, model: FakeModelServer) -> None:
    raw = (FIXTURES / "slash_command_almia.txt").read_text(encoding="utf-8").strip()
    command = dict(parse_qsl(raw))
    command["response_url"] = slack.response_url("socket")
    async with socket_only(tmp_path, slack, model):
        ack = await slack.push("slash_commands", command, envelope_id="env-slash")
        assert ack["envelope_id"] == "env-slash"
        assert ack["payload"]["response_type"] == "ephemeral"  # the immediate « working on it »
        await slack.wait_for(lambda: bool(slack.of("response_url")))
        [reply] = slack.of("response_url")
        assert "Réponse du modèle factice" in json.dumps(reply.data, ensure_ascii=False)


async def test_a_refused_app_token_is_said_once_and_start_up_goes_on(
        tmp_path: Path, slack: FakeSlackApi, model: FakeModelServer,
        caplog: pytest.LogCaptureFixture) -> None:
    slack.app_tokens = ()  # the app-level token was revoked
    with caplog.at_level(logging.INFO, logger="adapters.slack_socket"):
        async with socket_only(tmp_path, slack, model) as (client, runtime):
            adapter = runtime.adapters[0]
            assert isinstance(adapter, SlackAdapter) and adapter.socket is not None
            await adapter.socket.wait()
            assert adapter.socket.state == "refused"
            assert (await client.get("/healthz")).status == 200  # the server is up
    assert len(slack.of("apps.connections.open")) == 1  # not retried
    assert "refused the app-level token (invalid_auth)" in caplog.text
    assert APP_TOKEN not in caplog.text and "Traceback" not in caplog.text


async def test_an_unreachable_slack_is_retried_until_the_link_opens(
        slack: FakeSlackApi) -> None:
    slack.fail("apps.connections.open", 503, times=2)
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:  # the delays are recorded, not slept
        waits.append(seconds)

    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
                    signing_secret="x" * 32)
    reactions: list[str] = []

    async def on_reaction(body: dict[str, Any]) -> None:
        reactions.append(body["event"]["reaction"])

    bolt.event("reaction_added")(on_reaction)
    link = SocketLink(AsyncSocketModeHandler(bolt, APP_TOKEN), sleep=no_wait)
    link.start()
    try:
        await link.wait()
        assert link.state == "connected" and waits == [1.0, 2.0]
        assert await slack.push("events_api", _event("event_reaction_added.json"),
                                envelope_id="env-r") == {"envelope_id": "env-r"}
        await slack.wait_for(lambda: bool(reactions))
    finally:
        await link.close()
    assert link.state == "closed"

"""The column card in Slack (Block Kit drop-downs, block_actions) and Teams (Adaptive Card
Input.ChoiceSet, Action.Execute), with the loopback fakes: a survey file is shared, the card
shows the columns, a changed drop-down and the button start a new analysis with them."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackAdapter
from adapters.teams import TeamsAdapter, TeamsEndpoints
from bot.app import RUNTIME, Runtime, build_app
from bot.jobs.engine import InProcessEngine
from bot.settings import Settings, load_settings
from knowledge import KnowledgeBase
from tests.adapters.test_teams_files import APP_ID, TENANT, FileHost
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.openid import ISSUER, FakeOpenIdServer
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi, signed_headers
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.verbatims.test_skill import SURVEY, _skills

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _settings(tmp_path: Path, **channel: Any) -> Settings:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return load_settings(data_dir=tmp_path / "data", policy_file=path, web={"enabled": False},
                         jobs={"progress_interval_seconds": 0.0}, _env_file=None, **channel)


def _fixture(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / path).read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


async def _idle(runtime: Runtime) -> None:
    assert isinstance(runtime.engine, InProcessEngine)
    await runtime.engine.idle()


# ---------------------------------------------------------------------------- Slack
@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


@pytest.fixture
async def slack_almia(tmp_path: Path,
                      slack: FakeSlackApi) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    settings = _settings(tmp_path, slack={"signing_secret": SECRET, "bot_token": "xoxb-test",
                                          "api_url": slack.api_url})
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    app = build_app(settings, knowledge=knowledge, skill_factory=_skills, adapter_factories=[
        lambda runtime: SlackAdapter(runtime, update_interval_seconds=0.05)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def _slack_post(client: TestClient, body: str,  # type: ignore[type-arg]
                      content_type: str = "application/json") -> None:
    response = await client.post("/slack/events", data=body.encode(), headers={
        "Content-Type": content_type, **signed_headers(body, SECRET)})
    assert response.status == 200


def _slack_cards(slack: FakeSlackApi) -> list[list[dict[str, Any]]]:
    return [call.data["blocks"] for call in slack.of("chat.postMessage", "chat.update")
            if any(b.get("block_id") == "almia_card" for b in call.data.get("blocks") or [])]


async def _slack_settled(client: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    runtime: Runtime = client.app[RUNTIME]
    adapter = runtime.adapters[0]
    assert isinstance(adapter, SlackAdapter)
    await slack.wait_for(lambda: adapter.busy == 0)
    await _idle(runtime)
    await slack.wait_for(lambda: adapter.busy == 0)


async def test_slack_card_drop_downs_run_the_analysis_again(
        slack_almia: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    payload = _fixture("slack/event_message_im_file_share.json")
    url = slack.share("enquete.csv", SURVEY)
    payload["event"]["text"] = "analyse ces verbatims"
    payload["event"]["files"][0].update(name="enquete.csv", title="enquete.csv",
                                        mimetype="text/csv", filetype="csv", size=len(SURVEY),
                                        url_private=url, url_private_download=url)
    await _slack_post(slack_almia, json.dumps(payload))
    await _slack_settled(slack_almia, slack)
    [blocks] = _slack_cards(slack)
    selects = {b["block_id"]: b["element"] for b in blocks if b["type"] == "input"}
    score = selects["almia_input:score"]
    assert score["type"] == "static_select"
    assert score["initial_option"]["value"] == "Note NPS"
    assert [o["value"] for o in score["options"]][:2] == ["aucune", "Identifiant"]
    assert selects["almia_input:text"]["initial_option"]["value"] == "Commentaire client"
    [button] = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert json.loads(button["value"])["a"] == "verbatims:columns"

    action = _fixture("slack/block_actions.json")
    channel = payload["event"]["channel"]
    action["channel"] = {"id": channel, "name": "directmessage"}
    action["container"] = {"type": "message", "message_ts": "1715000301.000100",
                           "channel_id": channel, "is_ephemeral": False}
    action["message"] = {"type": "message", "subtype": "bot_message", "text": "",
                         "ts": "1715000301.000100", "bot_id": "BALMIABOT", "blocks": []}
    action["actions"] = [{**button, "block_id": "almia_card", "action_ts": "1715000400.1"}]
    chosen = {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "(aucune)"}, "value": "aucune"}}
    stars = {"type": "static_select", "selected_option": {
        "text": {"type": "plain_text", "text": "étoiles 1-5"}, "value": "stars5"}}
    # the type left on « étoiles » beside « (aucune) » note is ignored, and shown as such
    action["state"] = {"values": {"almia_input:score": {"value": chosen},
                                  "almia_input:score_kind": {"value": stars}}}
    await _slack_post(slack_almia, urlencode({"payload": json.dumps(action)}),
                      "application/x-www-form-urlencoded")
    await _slack_settled(slack_almia, slack)
    cards = _slack_cards(slack)
    assert len(cards) == 2, "a new card for the new run"
    again = {b["block_id"]: b["element"] for b in cards[-1] if b["type"] == "input"}
    assert again["almia_input:score"]["initial_option"]["value"] == "aucune"
    assert again["almia_input:score_kind"]["initial_option"]["value"] == "auto"
    assert again["almia_input:text"]["initial_option"]["value"] == "Commentaire client"
    texts = "\n".join(c.message_text() for c in slack.of("chat.postMessage", "chat.update"))
    assert "note\u00a0: (aucune)" in texts and texts.count("Analyse de 5 verbatims") >= 1
    runtime: Runtime = slack_almia.app[RUNTIME]
    jobs = await runtime.jobs.mine(f"slack:{TEAM_ID}:U0EMPLOYE1") if runtime.jobs else []
    assert [job.params["overrides"] for job in jobs] == [{"score": "aucune"}, {}]


# ---------------------------------------------------------------------------- Teams
@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[tuple[TestClient, FakeBotConnector,  # type: ignore[type-arg]
                                                       FakeOpenIdServer, FileHost]]:
    with FakeOpenIdServer() as issuer:
        async with FakeBotConnector() as connector, FileHost() as host:
            settings = _settings(
                tmp_path, teams={"app_id": APP_ID, "app_password": "x" * 40,
                                 "tenant_id": TENANT, "file_hosts": ["127.0.0.1"]},
                files={"public_url": "https://almia.example.fr"})
            endpoints = TeamsEndpoints(
                openid_metadata_url=issuer.metadata_url,
                emulator_openid_metadata_url=issuer.metadata_url,
                token_issuer=ISSUER, login_url=f"{issuer.base_url}/{TENANT}")
            knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                           embedder=HashingEmbedder())
            app = build_app(settings, knowledge=knowledge, skill_factory=_skills,
                            adapter_factories=[lambda runtime: TeamsAdapter(
                                runtime, endpoints=endpoints, outbound_token=lambda: "outbound",
                                retry_delays=(0.01,), stream_interval=0.0)])
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield client, connector, issuer, host


async def _teams_send(client: TestClient, issuer: FakeOpenIdServer,  # type: ignore[type-arg]
                      activity: dict[str, Any]) -> Any:
    token = issuer.token(issuer.claims(APP_ID, activity["serviceUrl"]))
    response = await client.post("/api/messages", data=json.dumps(activity), headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert response.status in (200, 201, 202), await response.text()
    return await response.json() if response.content_type == "application/json" else None


def _adaptive_cards(calls: list[Any]) -> list[dict[str, Any]]:
    return [a["content"] for call in calls for a in call.body.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
            and a["content"].get("actions")]


async def test_teams_card_choice_sets_run_the_analysis_again(
        teams: tuple[TestClient, FakeBotConnector, FakeOpenIdServer, FileHost]) -> None:  # type: ignore[type-arg]
    client, connector, issuer, host = teams
    activity = _fixture("teams/message_personal_file.json")
    activity["serviceUrl"] = connector.url
    activity["text"] = "analyse ces verbatims"
    host.files["enquete.csv"] = SURVEY
    attachment = activity["attachments"][0]
    attachment["name"] = "enquete.csv"
    attachment["content"]["downloadUrl"] = f"{host.base_url}/download/enquete.csv"
    attachment["content"]["fileType"] = "csv"
    await _teams_send(client, issuer, activity)
    calls = await connector.wait_for(lambda calls: bool(_adaptive_cards(calls)), within=60)
    [card] = _adaptive_cards(calls)
    items = {item["id"]: item for item in card["body"] if "id" in item}
    score = items["in:score"]
    assert score["type"] == "Input.ChoiceSet" and score["value"] == "Note NPS"
    assert {"title": "(aucune)", "value": "aucune"} in score["choices"]
    assert items["in:text"]["value"] == "Commentaire client"
    [button] = card["actions"]
    assert button["data"]["action"] == "verbatims:columns"

    invoke = _fixture("teams/invoke_template_submit.json")
    invoke["serviceUrl"] = connector.url
    for key in ("from", "conversation", "channelData", "recipient"):
        if key in activity:
            invoke[key] = activity[key]
    invoke["value"]["action"] = {"type": "Action.Execute", "verb": button["verb"],
                                 "data": {**button["data"], "in:score": "aucune",
                                          "in:text": "Commentaire client",
                                          "in:score_kind": "sat10"}}
    await _teams_send(client, issuer, invoke)
    runtime: Runtime = client.app[RUNTIME]
    await _idle(runtime)
    calls = await connector.wait_for(lambda calls: len(_adaptive_cards(calls)) >= 2, within=60)
    again = {item["id"]: item for item in _adaptive_cards(calls)[-1]["body"] if "id" in item}
    assert again["in:score"]["value"] == "aucune"
    assert again["in:score_kind"]["value"] == "auto"  # no score, no type (sat10 dropped)
    user = "teams:" + activity["from"]["aadObjectId"]
    jobs = await runtime.jobs.mine(user) if runtime.jobs else []
    assert [job.params["overrides"] for job in jobs] == [
        {"text": "Commentaire client", "score": "aucune"}, {}]

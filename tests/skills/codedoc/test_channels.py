"""``doc`` with a ZIP of code in Slack and in Teams: the job reports in the conversation and its
result links to the documentation, the patch and the inventory."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackAdapter
from adapters.teams import TeamsAdapter, TeamsEndpoints
from bot.app import RUNTIME, Runtime, build_app
from bot.jobs.engine import InProcessEngine
from bot.settings import load_settings
from knowledge import KnowledgeBase
from tests.adapters.test_teams_files import APP_ID, TENANT, FileHost, Teams
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.openid import ISSUER, FakeOpenIdServer
from tests.fakes.slack_api import FakeSlackApi, signed_headers
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.codedoc.helpers import fixtures_zip

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
]
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _policy(tmp_path: Path) -> Path:
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as fake:
        yield fake


async def test_slack_a_shared_zip_with_doc_is_documented_in_the_thread(
        tmp_path: Path, slack: FakeSlackApi) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", policy_file=_policy(tmp_path), web={"enabled": False},
        slack={"signing_secret": SECRET, "bot_token": "xoxb-test", "api_url": slack.api_url},
        jobs={"progress_interval_seconds": 0.0}, _env_file=None)
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    app = build_app(settings, knowledge=knowledge, adapter_factories=[
        lambda runtime: SlackAdapter(runtime, update_interval_seconds=0.05)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        payload: dict[str, Any] = copy.deepcopy(json.loads(
            (FIXTURES / "slack" / "event_message_im_file_share.json").read_text(
                encoding="utf-8")))
        data = fixtures_zip()
        url = slack.share("paie.zip", data)
        payload["event"]["text"] = "doc"
        payload["event"]["files"][0].update(name="paie.zip", title="paie.zip", size=len(data),
                                            url_private=url, url_private_download=url,
                                            mimetype="application/zip", filetype="zip")
        body = json.dumps(payload)
        response = await client.post("/slack/events", data=body.encode(), headers={
            "Content-Type": "application/json", **signed_headers(body, SECRET)})
        assert response.status == 200
        runtime: Runtime = client.app[RUNTIME]
        adapter = runtime.adapters[0]
        assert isinstance(adapter, SlackAdapter) and isinstance(runtime.engine, InProcessEngine)
        await slack.wait_for(lambda: adapter.busy == 0)
        await runtime.engine.idle()
        texts = "\n".join(c.message_text() for c in slack.of("chat.postMessage", "chat.update"))
        assert "je documente «\u00a0paie.zip\u00a0»" in texts
        assert "Documentation de 14 fichiers" in texts
        assert len(slack.uploads) == 4  # docs ZIP, HTML, patch, inventory
        assert any(b"diff --git a/cobol/PAYROLL.cbl" in data for data in slack.uploads.values())


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Teams]:
    with FakeOpenIdServer() as issuer:
        async with FakeBotConnector() as connector, FileHost() as host:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None, policy_file=_policy(tmp_path),
                teams={"app_id": APP_ID, "app_password": "x" * 40, "tenant_id": TENANT,
                       "file_hosts": ["127.0.0.1"]},
                files={"public_url": "https://almia.example.fr"},
                jobs={"progress_interval_seconds": 0.0}, web={"enabled": False})
            endpoints = TeamsEndpoints(
                openid_metadata_url=issuer.metadata_url,
                emulator_openid_metadata_url=issuer.metadata_url,
                token_issuer=ISSUER, login_url=f"{issuer.base_url}/{TENANT}")
            knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                           embedder=HashingEmbedder())
            app = build_app(settings, knowledge=knowledge, adapter_factories=[
                lambda runtime: TeamsAdapter(runtime, endpoints=endpoints,
                                             outbound_token=lambda: "outbound",
                                             retry_delays=(0.01,), stream_interval=0.0)])
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield Teams(client, connector, issuer, host)


async def test_teams_a_zip_with_doc_is_documented_and_linked(teams: Teams) -> None:
    activity = json.loads((FIXTURES / "teams" / "message_personal_file.json").read_text(
        encoding="utf-8"))
    activity["serviceUrl"] = teams.connector.url
    activity["text"] = "doc"
    teams.host.files["paie.zip"] = fixtures_zip()
    activity["attachments"][0]["name"] = "paie.zip"
    activity["attachments"][0]["content"]["fileType"] = "zip"
    activity["attachments"][0]["content"]["downloadUrl"] = f"{teams.host.base_url}/download/paie.zip"
    await teams.send(activity)
    calls = await teams.connector.wait_for(
        lambda calls: any("documentation.patch" in str(c.body.get("text")) for c in calls),
        within=60)
    texts = [str(call.body.get("text") or "") for call in calls if call.type == "message"]
    assert any("je documente «\u00a0paie.zip\u00a0»" in text for text in texts)
    [result] = [text for text in texts if "documentation.patch" in text]
    assert "Documentation de 14 fichiers" in result and "inventory.json" in result

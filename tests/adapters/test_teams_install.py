"""Proactive installation of the Teams app through Microsoft Graph (loopback fakes): a
campaign reviewer who never wrote to the bot gets the review card in a personal chat opened
for them; without the setting, or when Graph refuses, the inbox keeps the request."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import TeamsAdapter, TeamsEndpoints
from adapters.teams_install import TeamsInstaller, build_installer
from bot.app import build_app
from bot.settings import SettingsError, load_settings
from bot.store.campaigns import CampaignStore
from skills import SkillServices, build_skills
from tests.adapters.test_teams import (
    APP_ID,
    APP_PASSWORD,
    OUTBOUND_TOKEN,
    TENANT,
    Harness,
    card_of,
    finals,
    fixture,
)
from tests.conftest import FakeSearch
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.graph import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    FakeEntra,
    LoopbackHttpClient,
)
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.openid import ISSUER, FakeOpenIdServer
from tests.skills.campaigns.test_teams_flow import AUTHOR, FORM, VALENTIN, cards_sent, press

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
    pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning"),
]

CATALOG_ID = "a1b2c3d4-0000-4000-8000-00000000c47a"
VALENTIN_CHAT = "19:valentin-almia@unq.gbl.spaces"


@dataclass
class FakeTeamsGraph(FakeEntra):
    """Entra and Graph's ``teamwork/installedApps`` for users (install, list, chat)."""

    installed: dict[str, str] = field(default_factory=dict)  # user → installation id
    refuse_install: int | None = None  # answer installation requests with this status
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def routes(self, app: web.Application) -> None:
        """Entra's routes and the three installedApps calls."""
        super().routes(app)
        base = "/v1.0/users/{user}/teamwork/installedApps"
        app.router.add_post(base, self._install)
        app.router.add_get(base, self._list)
        app.router.add_get(base + "/{installation}/chat", self._chat)

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"

    async def _install(self, request: web.Request) -> web.Response:
        body = (await self._record(request)).body
        if not self._authorised(request):
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}}, status=401)
        if self.refuse_install is not None:
            return web.json_response({"error": {"code": "Forbidden"}}, status=self.refuse_install)
        assert body["teamsApp@odata.bind"].endswith(f"/appCatalogs/teamsApps/{CATALOG_ID}")
        user = request.match_info["user"]
        if user in self.installed:
            return web.json_response({"error": {"code": "Conflict"}}, status=409)
        self.installed[user] = f"installation-{next(self._ids)}"
        return web.Response(status=201)

    async def _list(self, request: web.Request) -> web.Response:
        await self._record(request)
        assert request.query["$filter"] == f"teamsApp/id eq '{CATALOG_ID}'"
        user = request.match_info["user"]
        found = [{"id": self.installed[user], "teamsApp": {"id": CATALOG_ID}}] \
            if user in self.installed else []
        return web.json_response({"value": found})

    async def _chat(self, request: web.Request) -> web.Response:
        await self._record(request)
        user = request.match_info["user"]
        if self.installed.get(user) != request.match_info["installation"]:
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        return web.json_response({"id": VALENTIN_CHAT if user == VALENTIN else f"19:{user}",
                                  "chatType": "oneOnOne"})


def installer(graph: FakeTeamsGraph, service_url: str) -> TeamsInstaller:
    return TeamsInstaller(tenant_id=TENANT, client_id=CLIENT_ID, credential=CLIENT_SECRET,
                          app_catalog_id=CATALOG_ID, bot_app_id=APP_ID,
                          service_url=service_url, graph_url=graph.graph_url,
                          http_client=LoopbackHttpClient(graph.url))


async def test_install_then_chat_reference_and_already_installed() -> None:
    async with FakeTeamsGraph() as graph:
        chats = installer(graph, "https://smba.example/teams")
        reference = await chats.open(f"teams:{VALENTIN}")
        assert reference == {
            "channelId": "msteams", "serviceUrl": "https://smba.example/teams/",
            "conversation": {"id": VALENTIN_CHAT, "conversationType": "personal",
                             "tenantId": TENANT},
            "user": {"id": f"8:orgid:{VALENTIN}", "aadObjectId": VALENTIN},
            "bot": {"id": f"28:{APP_ID}"}}
        again = await chats.open(f"teams:{VALENTIN}")  # 409 from Graph: installed already
        assert again == reference
        paths = [(r.method, r.path.split("/teamwork/")[-1]) for r in graph.graph_calls()]
        assert paths[:3] == [("POST", "installedApps"), ("GET", "installedApps"),
                             ("GET", "installedApps/installation-1/chat")]
        assert len(graph.token_calls()) == 1  # MSAL caches the app token
        assert await chats.open("slack:T1:U1") is None and await chats.open("teams:x") is None


async def test_graph_refusal_leaves_the_inbox_and_names_no_one(
        caplog: pytest.LogCaptureFixture) -> None:
    async with FakeTeamsGraph(refuse_install=403) as graph:
        with caplog.at_level(logging.WARNING, logger="adapters.teams_install"):
            assert await installer(graph, "https://smba.example/").open(
                f"teams:{VALENTIN}") is None
    assert "installation: Graph HTTP 403" in caplog.text and VALENTIN not in caplog.text


def test_settings_say_when_proactive_installation_is_on(tmp_path: Path) -> None:
    plain = load_settings(data_dir=tmp_path, _env_file=None,
                          teams={"app_id": APP_ID, "app_password": APP_PASSWORD,
                                 "tenant_id": TENANT})
    assert build_installer(plain) is None  # no catalog id: the inbox
    on = load_settings(data_dir=tmp_path, _env_file=None,
                       teams={"app_id": APP_ID, "app_password": APP_PASSWORD,
                              "tenant_id": TENANT, "app_catalog_id": CATALOG_ID})
    assert isinstance(build_installer(on), TeamsInstaller)
    with pytest.raises(SettingsError, match="app_catalog_id"):
        load_settings(data_dir=tmp_path, _env_file=None,
                      teams={"app_catalog_id": "not-a-guid"})
    with pytest.raises(SettingsError, match="app_catalog_id needs"):
        load_settings(data_dir=tmp_path, _env_file=None, teams={"app_catalog_id": CATALOG_ID})


@dataclass
class InstallHarness(Harness):
    graph: FakeTeamsGraph = field(default_factory=FakeTeamsGraph)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[InstallHarness]:
    with FakeOpenIdServer() as issuer:
        async with FakeModelServer() as model, FakeBotConnector() as connector, \
                FakeTeamsGraph() as graph:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None,
                policy_file=write_policy(tmp_path / "policy.yaml", model.url),
                teams={"app_id": APP_ID, "app_password": APP_PASSWORD, "tenant_id": TENANT},
                web={"enabled": False})
            endpoints = TeamsEndpoints(
                openid_metadata_url=issuer.metadata_url,
                emulator_openid_metadata_url=issuer.metadata_url,
                token_issuer=ISSUER, login_url=f"{issuer.base_url}/{TENANT}")
            chats = installer(graph, connector.url)

            def skills(services: SkillServices) -> list[Any]:
                assert services.campaigns is not None
                return build_skills(replace(services, campaigns=replace(
                    services.campaigns, personal_chats=chats)))

            app = build_app(settings, knowledge=FakeSearch(), skill_factory=skills,  # type: ignore[arg-type]
                            adapter_factories=[lambda runtime: TeamsAdapter(
                                runtime, endpoints=endpoints,
                                outbound_token=lambda: OUTBOUND_TOKEN,
                                retry_delays=(0.01, 0.02), stream_interval=0.0)])
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                yield InstallHarness(client, connector, issuer, model, graph=graph)
            finally:
                await client.close()


async def test_a_reviewer_who_never_wrote_gets_the_card_in_a_new_personal_chat(
        harness: InstallHarness) -> None:
    message = fixture("message_channel_mention", harness.connector.url)
    message["text"] = "<at>Almia</at> campagne"
    assert (await harness.post(message)).status == 200
    form = (await cards_sent(harness, 1))[-1]
    await press(harness, form, "campaigns:create", AUTHOR, "Claire", **FORM)
    card = (await cards_sent(harness, 2))[-1]
    await press(harness, card, "campaigns:submit", AUTHOR, "Claire")
    calls = await harness.connector.wait_for(lambda calls: any(
        c.conversation_id == VALENTIN_CHAT and c.body.get("attachments")
        for c in finals(calls)) and any("envoyée en relecture" in str(c.body.get("text"))
                                        for c in finals(calls)), within=60)
    [review] = [card_of(c) for c in finals(calls) if c.conversation_id == VALENTIN_CHAT
                and c.body.get("attachments")]
    assert {a["data"]["values"].get("decision") for a in review["actions"]} >= {
        "approve", "changes", "reject"}
    sent = [c for c in finals(calls) if c.conversation_id == VALENTIN_CHAT]
    assert "attend votre relecture" in str(sent[0].body.get("text"))
    assert VALENTIN in harness.graph.installed  # and Nadia too: both reviewers never wrote
    assert len(harness.graph.installed) == 2
    told = " ".join(str(c.body.get("text")) for c in finals(calls))
    assert "pas de conversation directe" not in told  # both reached directly
    store = CampaignStore(harness.runtime.store.engine, harness.runtime.store)
    route = await store.route(f"teams:{VALENTIN}")  # remembered: no second installation
    assert route is not None and route.space_id == VALENTIN_CHAT

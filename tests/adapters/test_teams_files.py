"""Files in Teams: a file sent in a personal chat is downloaded, checked and kept; the job it
starts reports proactively in the conversation; channel files get a plain explanation."""

from __future__ import annotations

import contextlib
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.teams import TeamsAdapter, TeamsEndpoints
from adapters.teams_channel_files import (
    ChannelFileReader,
    build_channel_files,
    mentions_files,
    message_path,
)
from adapters.teams_files import allowed_host
from bot.app import RUNTIME, Runtime, build_app
from bot.cards import Card
from bot.jobs.model import JobResult, JobState, JobView, ReplyTo
from bot.settings import SettingsError, load_settings
from knowledge import KnowledgeBase
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.graph_files import TOKEN as GRAPH_TOKEN
from tests.fakes.graph_files import FakeGraphFiles
from tests.fakes.loopback import LoopbackServer
from tests.fakes.openid import ISSUER, FakeOpenIdServer
from tests.knowledge.helpers import HashingEmbedder

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "teams"
APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
USER = "teams:6b1c2f8e-4a7d-4f0e-9b3a-2c5d7e9f1a3b"
NOTE = "# Sinistres\n\nUn dégât des eaux se déclare sous cinq jours ouvrés.\n".encode()


@dataclass
class FileHost(LoopbackServer):
    """Stands for SharePoint: serves pre-authenticated download URLs."""

    files: dict[str, bytes] = field(default_factory=dict)
    _server: TestServer | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/download/{name}", self._get)

    async def _get(self, request: web.Request) -> web.Response:
        return web.Response(body=self.files[request.match_info["name"]])


@dataclass
class Teams:
    client: TestClient  # type: ignore[type-arg]
    connector: FakeBotConnector
    issuer: FakeOpenIdServer
    host: FileHost

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.client.app[RUNTIME]
        return runtime

    async def send(self, activity: dict[str, Any]) -> None:
        token = self.issuer.token(self.issuer.claims(APP_ID, activity["serviceUrl"]))
        response = await self.client.post("/api/messages", data=json.dumps(activity), headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        assert response.status in (200, 201, 202), await response.text()


@contextlib.asynccontextmanager
async def running(tmp_path: Path, **options: Any) -> AsyncIterator[Teams]:
    """The app with a Teams adapter built with ``options``, and its fakes."""
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    policy["user_roles"] = {"manager": [USER]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    with FakeOpenIdServer() as issuer:
        async with FakeBotConnector() as connector, FileHost() as host:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None, policy_file=path,
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
                                             retry_delays=(0.01,), stream_interval=0.0,
                                             **options)])
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield Teams(client, connector, issuer, host)


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Teams]:
    async with running(tmp_path) as built:
        yield built


def _activity(teams: Teams, name: str) -> dict[str, Any]:
    activity = json.loads((FIXTURES / "message_personal_file.json").read_text(encoding="utf-8"))
    activity["serviceUrl"] = teams.connector.url
    teams.host.files[name] = NOTE
    activity["attachments"][0]["name"] = name
    activity["attachments"][0]["content"]["downloadUrl"] = f"{teams.host.base_url}/download/{name}"
    return activity


async def test_a_file_in_a_personal_chat_feeds_the_space_documents(teams: Teams) -> None:
    await teams.send(_activity(teams, "procedure-sinistres.md"))
    calls = await teams.connector.wait_for(
        lambda calls: any("Documents de l'espace mis à jour" in str(c.body.get("text"))
                          for c in calls), within=60)
    texts = [str(call.body.get("text") or "") for call in calls if call.type == "message"]
    assert any("C'est parti" in text for text in texts)
    assert any("✅" in text for text in texts)
    updated = [call for call in calls if call.method == "PUT"]
    assert updated, "the progress message is updated in place"


async def test_a_question_sent_with_a_document_is_answered_from_it(teams: Teams) -> None:
    activity = _activity(teams, "sinistres.md")
    activity["text"] = "Sous quel délai déclarer un dégât des eaux ?"
    await teams.send(activity)
    calls = await teams.connector.wait_for(
        lambda calls: any("cinq jours ouvrés" in json.dumps(c.body, ensure_ascii=False)
                          for c in calls), within=60)
    answered = " ".join(json.dumps(call.body, ensure_ascii=False) for call in calls)
    assert "Un dégât des eaux se déclare sous cinq jours ouvrés." in answered


async def test_a_job_result_links_to_its_files(teams: Teams) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.md", NOTE)
        zipped.writestr("b.md", NOTE + b"Autre version.")
    activity = _activity(teams, "lot.zip")
    teams.host.files["lot.zip"] = archive.getvalue()
    await teams.send(activity)
    calls = await teams.connector.wait_for(
        lambda calls: any("rapport-documents.csv" in str(c.body.get("text")) for c in calls),
        within=60)
    [result] = [c for c in calls if "rapport-documents.csv" in str(c.body.get("text"))]
    link = re.search(r"\((https://almia\.example\.fr/files/[^)]+)\)", result.body["text"])
    assert link is not None
    path = link.group(1).removeprefix("https://almia.example.fr")
    downloaded = await teams.client.get(path)
    assert downloaded.status == 200 and b"a.md" in await downloaded.read()
    [download] = [e for e in await teams.runtime.store.audit_events(limit=100)
                  if e.action == "file_download"]
    assert download.user_id == USER and download.channel == "teams"  # the owner, not « web:… »
    actions = [event.action for event in await teams.runtime.store.audit_events(limit=50)]
    assert "file_received" in actions and "job_finished" in actions


async def test_a_job_result_card_is_posted_as_an_adaptive_card(teams: Teams) -> None:
    card = Card("Assurances du CHU", "1 lot : 0 go, 1 no-go.",
                (("Remise des offres", "J-7 · 22/01/2027 à 12:00 (heure de Paris)"),
                 ("Lot 1 – Flotte", "⛔ NO-GO — Régions\u00a0: Bretagne non servie")))
    now = datetime.now(UTC)
    reference = {"serviceUrl": teams.connector.url, "channelId": "msteams",
                 "conversation": {"id": "a:conv-cards"}, "bot": {"id": f"28:{APP_ID}"},
                 "user": {"id": "29:user"}}
    job = JobView(
        id="c" * 32, skill="tenders", task="screen", title="Analyse", user_id=USER,
        reply_to=ReplyTo("teams", "teams:conv-cards", "a:conv-cards", USER, "fr", reference),
        state=JobState.SUCCEEDED, progress=1.0, progress_text="", params={}, checkpoint=None,
        result=JobResult("**Assurances du CHU** : NO-GO", cards=(card,)), error=None,
        attempts=1, max_attempts=3, cancel_requested=False, notice=None,
        created_at=now, started_at=now, finished_at=now, delivered=False)
    await teams.runtime.reporters["teams"].deliver(job, [])
    calls = [c for c in teams.connector.delivered() if c.conversation_id == "a:conv-cards"]
    assert [c.type for c in calls] == ["message", "message"]
    assert "**Assurances du CHU** : NO-GO" in str(calls[0].body.get("text"))
    [attachment] = calls[1].body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    body = attachment["content"]["body"]
    assert body[0]["text"] == "Assurances du CHU"
    facts = {fact["title"]: fact["value"] for fact in body[-1]["facts"]}
    assert facts["Lot 1 – Flotte"] == "⛔ NO-GO — Régions\u00a0: Bretagne non servie"
    assert facts["Remise des offres"].startswith("J-7 · 22/01/2027")


async def test_a_download_from_an_unknown_host_is_refused(teams: Teams) -> None:
    activity = _activity(teams, "note.md")
    activity["attachments"][0]["content"]["downloadUrl"] = "https://evil.example/note.md"
    await teams.send(activity)
    calls = await teams.connector.wait_for(
        lambda calls: any("récupérer" in str(c.body.get("text")) for c in calls), within=60)
    assert not any("C'est parti" in str(c.body.get("text")) for c in calls)
    assert teams.runtime.files is not None and await teams.runtime.files.count() == 0


async def test_channel_files_get_a_plain_explanation(teams: Teams) -> None:
    activity = json.loads((FIXTURES / "message_channel_mention.json").read_text(encoding="utf-8"))
    activity["serviceUrl"] = teams.connector.url
    activity.setdefault("attachments", []).append({
        "contentType": "reference", "name": "offre.pdf",
        "contentUrl": "https://contoso.sharepoint.com/sites/Sinistres/Shared%20Documents/offre.pdf"})
    await teams.send(activity)
    calls = await teams.connector.wait_for(
        lambda calls: any("SharePoint" in str(c.body.get("text")) for c in calls), within=60)
    assert calls


def test_download_hosts() -> None:
    hosts = ["sharepoint.com"]
    assert allowed_host("https://contoso-my.sharepoint.com/x", hosts)
    assert not allowed_host("http://contoso-my.sharepoint.com/x", hosts)
    assert not allowed_host("https://sharepoint.com.evil.example/x", hosts)
    assert not allowed_host("http://127.0.0.1:8/x", hosts)


# -- files shared in channels, read through Microsoft Graph (teams.channel_files) ----------

TEAM_GROUP = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"  # the fixture's team (aadGroupId)
CHANNEL_MESSAGE = ("/teams/9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a/channels/"
                   "19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2/messages/1741771211123")


@dataclass
class Channel:
    teams: Teams
    graph: FakeGraphFiles


@pytest.fixture
async def channel(tmp_path: Path) -> AsyncIterator[Channel]:
    async def token() -> str:
        return GRAPH_TOKEN

    async with FakeGraphFiles() as graph:
        graph.drives[TEAM_GROUP] = "drive-sinistres"
        reader = ChannelFileReader(token, graph_url=graph.graph_url, hosts=["127.0.0.1"])
        async with running(tmp_path, channel_files=reader) as teams:
            yield Channel(teams, graph)


def _channel_post(teams: Teams) -> dict[str, Any]:
    """A channel post mentioning Almia with a file, as Teams sends it to the bot."""
    activity = json.loads((FIXTURES / "message_channel_mention.json").read_text(encoding="utf-8"))
    activity["serviceUrl"] = teams.connector.url
    activity["text"] = "<at>Almia</at> docs add <attachment id=\"att-0\"></attachment>"
    activity["attachments"] = [{"contentType": "text/html", "content": (
        "<div><at id=\"0\">Almia</at> docs add <attachment id=\"att-0\"></attachment></div>")}]
    return activity


async def test_a_file_shared_in_a_channel_is_read_through_graph(channel: Channel) -> None:
    channel.graph.post(CHANNEL_MESSAGE, {"procedure-sinistres.md": NOTE},
                       drive="drive-sinistres")
    await channel.teams.send(_channel_post(channel.teams))
    calls = await channel.teams.connector.wait_for(
        lambda calls: any("Documents de l'espace mis à jour" in str(c.body.get("text"))
                          for c in calls), within=60)
    assert any("C'est parti" in str(call.body.get("text")) for call in calls)
    paths = [path for path, _authorization in channel.graph.requests]
    assert paths[0] == "/v1.0" + CHANNEL_MESSAGE  # the message as Graph holds it
    assert f"/v1.0/groups/{TEAM_GROUP}/drive" in paths
    assert any(path.startswith("/v1.0/shares/u!") for path in paths)
    assert paths[-1] == "/download/procedure-sinistres.md"
    graph_calls = [auth for path, auth in channel.graph.requests if path.startswith("/v1.0")]
    assert graph_calls and all(auth == f"Bearer {GRAPH_TOKEN}" for auth in graph_calls)
    [(_path, download_auth)] = [r for r in channel.graph.requests if r[0].startswith("/download")]
    assert download_auth == "", "the pre-authenticated URL gets no Graph token"


async def test_a_file_from_another_library_is_refused(channel: Channel) -> None:
    channel.graph.post(CHANNEL_MESSAGE, {"paie.xlsx": b"confidentiel"}, drive="drive-rh",
                       site="https://contoso.sharepoint.com/sites/RH")
    await channel.teams.send(_channel_post(channel.teams))
    calls = await channel.teams.connector.wait_for(
        lambda calls: any("n'est pas rangé dans les fichiers de cette équipe"
                          in str(c.body.get("text")) for c in calls), within=60)
    assert "paie.xlsx" in next(str(c.body.get("text")) for c in calls
                               if "n'est pas rangé" in str(c.body.get("text")))
    assert not any(path.startswith("/download") for path, _auth in channel.graph.requests)
    files = channel.teams.runtime.files
    assert files is not None and await files.count() == 0


async def test_graph_without_consent_gets_a_plain_explanation(channel: Channel) -> None:
    channel.graph.status = 403
    await channel.teams.send(_channel_post(channel.teams))
    calls = await channel.teams.connector.wait_for(
        lambda calls: any("propriétaire de l'équipe doit accepter" in str(c.body.get("text"))
                          for c in calls), within=60)
    assert calls
    files = channel.teams.runtime.files
    assert files is not None and await files.count() == 0


def test_a_reply_is_read_under_its_thread_root() -> None:
    activity = json.loads((FIXTURES / "message_channel_mention.json").read_text(encoding="utf-8"))
    assert mentions_files({"attachments": [{"contentType": "text/html",
                                            "content": "<attachment id=\"1\"></attachment>"}]})
    assert not mentions_files(activity)
    activity["id"] = "1741771299999"  # a reply in the thread of 1741771211123
    assert message_path(activity) == CHANNEL_MESSAGE.replace(
        "/messages/1741771211123", "/messages/1741771211123/replies/1741771299999")


def test_channel_files_need_graph_credentials(tmp_path: Path) -> None:
    assert build_channel_files(load_settings(data_dir=tmp_path, _env_file=None)) is None
    with pytest.raises(SettingsError, match="channel_files needs"):
        load_settings(data_dir=tmp_path, _env_file=None, teams={"channel_files": True})
    settings = load_settings(data_dir=tmp_path, _env_file=None, teams={
        "app_id": APP_ID, "app_password": "x" * 40, "tenant_id": TENANT,
        "channel_files": True})
    assert isinstance(build_channel_files(settings), ChannelFileReader)
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")  # read when first used
    certified = load_settings(data_dir=tmp_path, _env_file=None, teams={
        "app_id": APP_ID, "certificate_path": str(pem), "certificate_thumbprint": "ab" * 20,
        "tenant_id": TENANT, "channel_files": True})
    assert isinstance(build_channel_files(certified), ChannelFileReader)  # a certificate app


async def test_a_post_linking_no_file_is_answered_as_before(channel: Channel) -> None:
    channel.graph.post(CHANNEL_MESSAGE, {}, drive="drive-sinistres")  # a pasted image, say
    post = _channel_post(channel.teams)
    post["attachments"].append({"contentType": "image/*", "contentUrl": "https://x.invalid/i"})
    await channel.teams.send(post)
    calls = await channel.teams.connector.wait_for(
        lambda calls: any("SharePoint" in str(c.body.get("text")) for c in calls), within=60)
    assert calls and not any(path.startswith("/download") for path, _ in channel.graph.requests)

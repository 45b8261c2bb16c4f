"""Teams proactive delivery from any process of a load-balanced deployment.

Two ``almia serve`` replicas and one ``almia worker`` (deploy/local_cluster: nginx,
PostgreSQL, Redis, a Chroma server), configured for a private cloud by settings alone:
inbound tokens are checked against a loopback OpenID issuer, outbound tokens come from a
loopback Entra login service over TLS (MSAL, client secret), replies go to a loopback Bot
Connector. Nothing is injected into the processes; no request leaves 127.0.0.1.

A reviewer's personal chat is remembered through replica 0 (the conversation reference,
sealed in PostgreSQL); a campaign is created and submitted through replica 1; the review
card then reaches that personal chat from the job worker, a process that never saw the
reviewer's message. Each process holds its own MSAL token, so the bearer token of a
delivery tells which process sent it. The reviewer's decision, pressed through the balancer
on the card the worker sent, is recorded and answered in the same chat; the author is told
in the channel by the worker; the export asked through replica 0 is posted by the worker
with signed links served through the balancer.

Heavy (about a minute on the 2-core CI machine); every wait is a bound on a condition.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.store import Store
from deploy.local_cluster import ClusterConfig, ClusterPorts, LocalCluster
from tests.adapters.test_teams import APP_ID, APP_PASSWORD, TENANT, card_of, finals, fixture
from tests.fakes.bot_connector import ConnectorCall, FakeBotConnector
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.openid import ISSUER, FakeOpenIdServer
from tests.fakes.token_endpoint import FakeLoginService, LoopbackCertificateAuthority

pytestmark = [
    pytest.mark.cluster, pytest.mark.postgres,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                       reason="nginx is not installed (.ci/run installs it)"),
]
SCOPE = "https://api.botframework.example.cloud"
AUTHOR = "6b1c2f8e-4a7d-4f0e-9b3a-2c5d7e9f1a3b"  # Claire Dubois in the fixtures
VALENTIN = "0a0b0c0d-1111-4222-8333-944445555666"
NADIA = "0f0e0d0c-2222-4333-8444-955556666777"
NADIA_CHAT = "a:1NadiaPersonalChatWithAlmia0000000000000000000000000000000000"
FORM = {"title": "Prévoyance pros 2027", "product": "Almia Prévoyance Pro",
        "segment": "Artisans et commerçants", "channels": "email", "tone": "formel",
        "key_messages": "un revenu maintenu en cas d'arrêt de travail",
        "call_to_action": "Prenez rendez-vous",
        "reviewers": f"teams:{VALENTIN}, teams:{NADIA}", "approval": "any"}


class TeamsCluster:
    """The running cluster and the Microsoft services its processes call."""

    def __init__(self, cluster: LocalCluster, connector: FakeBotConnector,
                 issuer: FakeOpenIdServer, login: FakeLoginService) -> None:
        self.cluster = cluster
        self.connector = connector
        self.issuer = issuer
        self.login = login

    def activity(self, name: str, *, user: str = AUTHOR, user_name: str = "Claire Dubois",
                 conversation: str | None = None) -> dict[str, Any]:
        """A saved Teams activity from ``user`` (in ``conversation`` when given)."""
        activity = copy.deepcopy(fixture(name, self.connector.url))
        activity["id"] = uuid.uuid4().hex
        activity["from"] = {"id": f"29:{user}", "name": user_name, "aadObjectId": user}
        if conversation is not None:
            activity["conversation"]["id"] = conversation
        return activity

    async def post(self, base: str, activity: dict[str, Any]) -> dict[str, Any]:
        """Send ``activity`` to ``base`` as the Bot Connector would (signed); its answer."""
        token = self.issuer.token(self.issuer.claims(APP_ID, activity["serviceUrl"]))
        async with aiohttp.ClientSession() as session, session.post(
                f"{base}/api/messages", data=json.dumps(activity),
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {token}"}) as response:
            assert response.status == 200, await response.text()
            text = await response.text()
            answer: dict[str, Any] = json.loads(text) if text.strip() else {}
            return answer

    async def press(self, base: str, card: dict[str, Any], action: str, *, user: str,
                    user_name: str, conversation: dict[str, Any], decision: str | None = None,
                    **typed: str) -> dict[str, Any]:
        """Press a card's button (``Action.Execute``) in ``conversation``."""
        [button] = [item for item in card["actions"] if item["data"]["action"] == action
                    and item["data"]["values"].get("decision") == decision]
        invoke = self.activity("invoke_template_submit", user=user, user_name=user_name)
        invoke["conversation"] = copy.deepcopy(conversation["conversation"])
        invoke["channelData"] = copy.deepcopy(conversation["channelData"])
        invoke["value"]["action"] = {"type": "Action.Execute", "verb": button["verb"],
                                     "data": {**button["data"],
                                              **{f"in:{k}": v for k, v in typed.items()}}}
        return await self.post(base, invoke)

    async def cards(self, conversation: str, count: int) -> list[ConnectorCall]:
        """The deliveries of cards with buttons in ``conversation``, once there are ``count``."""
        calls = await self.connector.wait_for(
            lambda calls: len(_cards(calls, conversation)) >= count, within=180)
        return _cards(calls, conversation)

    async def text(self, conversation: str, predicate: Callable[[str], bool]) -> ConnectorCall:
        """The first delivered text in ``conversation`` that ``predicate`` accepts."""
        def found(calls: list[ConnectorCall]) -> list[ConnectorCall]:
            return [call for call in finals(calls) if call.conversation_id == conversation
                    and predicate(str(call.body.get("text") or ""))]
        return found(await self.connector.wait_for(lambda calls: bool(found(calls)),
                                                   within=180))[0]


def _cards(calls: list[ConnectorCall], conversation: str) -> list[ConnectorCall]:
    return [call for call in finals(calls) if call.conversation_id == conversation
            and call.body.get("attachments") and card_of(call).get("actions")]


def _tokens(calls: list[ConnectorCall], conversation: str) -> set[str]:
    return {call.authorization for call in calls if call.conversation_id == conversation}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def teams() -> AsyncIterator[TeamsCluster]:
    base = Path(tempfile.mkdtemp(prefix="almia-teams-cluster-test-"))
    try:
        async with _cluster(base) as running:
            yield running
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.asynccontextmanager
async def _cluster(base: Path) -> AsyncIterator[TeamsCluster]:
    authority_ca = LoopbackCertificateAuthority()
    bundle = authority_ca.write_bundle(base / "private-cloud-ca.pem")
    with FakeOpenIdServer() as issuer, FakeLoginService(
            authority_ca, base, client_secrets={APP_ID: APP_PASSWORD}) as login:
        async with FakeModelServer() as model, FakeBotConnector() as connector:
            policy = write_policy(base / "policy.yaml", model.url,
                                  provider="openai-compatible", timeout_seconds=60.0)
            config = ClusterConfig(
                replicas=2, database=f"almia_cluster_{uuid.uuid4().hex[:8]}",
                ports=ClusterPorts.free(),
                policy_file=policy, base_dir=base / "run",
                environment={
                    "ALMIA_CHARTER__ENABLED": "false", "ALMIA_DLP__NER": "false",
                    "ALMIA_TEAMS__APP_ID": APP_ID, "ALMIA_TEAMS__APP_PASSWORD": APP_PASSWORD,
                    "ALMIA_TEAMS__TENANT_ID": TENANT,
                    "ALMIA_TEAMS__OPENID_METADATA_URL": issuer.metadata_url,
                    "ALMIA_TEAMS__TOKEN_ISSUER": ISSUER,
                    "ALMIA_TEAMS__LOGIN_URL": login.authority(TENANT),
                    "ALMIA_TEAMS__OAUTH_SCOPE": SCOPE,
                    # the login service's certificate is signed by the test CA
                    "REQUESTS_CA_BUNDLE": str(bundle)})
            async with LocalCluster(config) as running:
                yield TeamsCluster(running, connector, issuer, login)


async def test_a_review_card_reaches_a_chat_remembered_by_another_process(
        teams: TeamsCluster) -> None:
    replica_0, replica_1 = teams.cluster.replica_url(0), teams.cluster.replica_url(1)
    # Nadia writes to Almia once, through replica 0: her personal chat is remembered
    hello = teams.activity("message_personal", user=NADIA, user_name="Nadia",
                           conversation=NADIA_CHAT)
    hello["text"] = "campagne liste"
    await teams.post(replica_0, hello)
    await teams.text(NADIA_CHAT, bool)
    by_replica_0 = _tokens(teams.connector.delivered(), NADIA_CHAT)

    # Claire creates and submits a campaign in a channel, through replica 1
    channel = teams.activity("message_channel_mention")
    channel["text"] = "<at>Almia</at> campagne"
    channel_id = channel["conversation"]["id"]
    await teams.post(replica_1, channel)
    [form] = await teams.cards(channel_id, 1)
    await teams.press(replica_1, card_of(form), "campaigns:create", user=AUTHOR,
                      user_name="Claire Dubois", conversation=channel, **FORM)
    draft = (await teams.cards(channel_id, 2))[-1]
    by_replica_1 = _tokens(teams.connector.delivered(), channel_id)  # nothing queued yet
    await teams.press(replica_1, card_of(draft), "campaigns:submit", user=AUTHOR,
                      user_name="Claire Dubois", conversation=channel)
    [review] = await teams.cards(NADIA_CHAT, 1)

    # the card was sent by the job worker: a token neither replica used, from the login service
    issued = set(teams.login.issued())
    assert by_replica_0 and by_replica_1 and by_replica_0.isdisjoint(by_replica_1)
    assert {token.removeprefix("Bearer ") for token in by_replica_0 | by_replica_1} <= issued
    assert review.authorization.removeprefix("Bearer ") in issued
    assert review.authorization not in by_replica_0 | by_replica_1, \
        "the review card came from a replica, not from the job worker"
    assert {grant.client for grant in teams.login.grants} == {"secret"}
    assert {grant.scope for grant in teams.login.grants} == {f"{SCOPE}/.default"}
    card = card_of(review)
    assert {item["data"]["values"].get("decision") for item in card["actions"]} >= {
        "approve", "changes", "reject"}
    notice = await teams.text(NADIA_CHAT, lambda text: "attend votre relecture" in text)
    assert notice.authorization == review.authorization
    store = Store.open(teams.cluster.database_url)
    try:
        async with store.engine.connect() as connection:
            [stored] = (await connection.execute(text(
                "SELECT reference FROM campaign_routes WHERE user_id = :user"),
                {"user": f"teams:{NADIA}"})).scalars().all()
    finally:
        await store.close()
    assert NADIA_CHAT not in stored and "127.0.0.1" not in stored, "the route is sealed"

    # Nadia approves from that card, through the balancer (either replica)
    await teams.press(teams.cluster.url, card, "campaigns:decide", user=NADIA,
                      user_name="Nadia", conversation=hello, decision="approve")
    decided = await teams.text(NADIA_CHAT,
                               lambda text: "Décision enregistrée sur la version 1" in text)
    assert f"teams:{NADIA}" in str(decided.body["text"])
    assert decided.authorization in by_replica_0 | by_replica_1
    # the author hears of it in the channel, where the campaign was created: from the worker
    await teams.connector.wait_for(lambda calls: any(
        call.conversation_id == channel_id and call.authorization == review.authorization
        for call in finals(calls)), within=180)

    # a job result: the export asked through replica 0 is posted by the worker with signed
    # links that any replica serves (the files are in PostgreSQL)
    facts = next(item for item in card_of(draft)["body"] if item["type"] == "FactSet")
    reference = next(fact["value"] for fact in facts["facts"] if fact["title"] == "Référence")
    export = teams.activity("message_channel_mention")
    export["text"] = f"<at>Almia</at> campagne export {reference}"
    await teams.post(replica_0, export)
    result = await teams.text(channel_id, lambda text: "](http" in text)
    assert result.authorization == review.authorization, "the export job ran on the worker"
    links = re.findall(r"\]\((http[^)\s]+)\)", str(result.body["text"]))
    assert any(".docx" in link for link in links), result.body["text"]
    async with aiohttp.ClientSession() as session:
        for link in links:
            assert link.startswith(teams.cluster.url), link  # through nginx
            async with session.get(link) as response:
                assert response.status == 200, link
                body = await response.read()
            assert body, link
            if ".docx" in link:
                assert body[:2] == b"PK", "a DOCX is a ZIP file"

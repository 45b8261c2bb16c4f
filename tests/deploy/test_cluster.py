"""Three replicas behind nginx on PostgreSQL, Redis and a Chroma server (deploy/local_cluster).

What a load-balanced deployment must keep: a Slack retry landing on another replica is not
answered twice; a document added through one replica is found through the others; charter
acceptance and quotas hold across replicas; a replica killed with ``kill -9`` under load
loses no acknowledged message and leaves the audit chain intact.

Heavy (about a minute on the 2-core CI machine): one cluster for the module; every wait is
a generous bound on a condition, never a timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.governance.audit import verify_chain
from bot.store import Store
from deploy.local_cluster import ClusterConfig, ClusterPorts, LocalCluster
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.slack_api import FakeSlackApi, signed_headers

pytestmark = [
    pytest.mark.cluster, pytest.mark.postgres,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                       reason="nginx is not installed (.ci/run installs it)"),
]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
SECRET = "5c1f0e7d2a9b8c3d4e5f60718293a4b5"
QUOTA = 12
NOTES = ("Client : j'appelle au sujet de mon sinistre du 3 mars. Conseiller : je vais ouvrir "
         "le dossier et je vous rappelle demain.")
DOCUMENT = ("# Procédure grêle\n\nUne déclaration de dommages causés par la grêle se fait sous "
            "quatre jours ouvrés, photos des tuiles à l'appui, auprès du pôle Tempêtes.\n")


class Cluster:
    """The running cluster and the fakes its replicas call."""

    def __init__(self, cluster: LocalCluster, model: FakeModelServer,
                 slack: FakeSlackApi) -> None:
        self.cluster = cluster
        self.model = model
        self.slack = slack

    async def chat(self, session: aiohttp.ClientSession, base: str, user: str, text_: str,
                   **extra: Any) -> dict[str, Any]:
        async with session.post(f"{base}/api/chat", json={"text": text_, "user": user,
                                                          **extra}) as response:
            assert response.status == 200, await response.text()
            reply: dict[str, Any] = (await response.json())["reply"]
            return reply

    def log_tails(self, lines: int = 60) -> str:
        """The last ``lines`` lines of every process's log."""
        parts = []
        for log in sorted((self.cluster.base / "logs").glob("*.log")):
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    async def accept(self, session: aiohttp.ClientSession, user: str, replica: int) -> None:
        reply = await self.chat(session, self.cluster.replica_url(replica), user, "J'accepte")
        assert reply["skill"] == "charter", reply


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest) -> None:
    """A failed test's report ends with each process's last log lines (conftest.py)."""
    if "cluster" in request.fixturenames:
        running: Cluster = request.getfixturevalue("cluster")
        request.node.log_tails = running.log_tails  # type: ignore[attr-defined]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster() -> AsyncIterator[Cluster]:
    # its own directory: pytest prunes old temporary directories while other runs go on
    base = Path(tempfile.mkdtemp(prefix="almia-cluster-test-"))
    try:
        async with _cluster(base) as running:
            yield running
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.asynccontextmanager
async def _cluster(base: Path) -> AsyncIterator[Cluster]:
    async with FakeModelServer() as model, FakeSlackApi() as slack:
        policy_path = write_policy(base / "policy.yaml", model.url,
                                   provider="openai-compatible", timeout_seconds=60.0)
        policy = json.loads(policy_path.read_text(encoding="utf-8"))
        policy["user_roles"] = {"manager": ["web:manager"]}
        policy["quotas"] = {"user": {"requests_per_day": QUOTA}}
        policy_path.write_text(json.dumps(policy), encoding="utf-8")
        config = ClusterConfig(
            replicas=3, database=f"almia_cluster_{uuid.uuid4().hex[:8]}", ports=ClusterPorts.free(),
            policy_file=policy_path, base_dir=base / "run",
            environment={"ALMIA_LOG_LEVEL": "INFO",  # a failed report shows what each did
                         "ALMIA_CHARTER__ENABLED": "true", "ALMIA_DLP__NER": "false",
                         "ALMIA_SLACK__SIGNING_SECRET": SECRET,
                         "ALMIA_SLACK__BOT_TOKEN": "xoxb-cluster",
                         "ALMIA_SLACK__API_URL": slack.api_url,
                         # a killed replica's Slack message is taken up within ~20 s
                         "ALMIA_INBOX__LEASE_SECONDS": "15", "ALMIA_INBOX__SWEEP_SECONDS": "3"})
        async with LocalCluster(config) as running:
            yield Cluster(running, model, slack)


async def test_charter_and_quota_are_shared_by_the_replicas(cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as session:
        first = await cluster.chat(session, cluster.cluster.replica_url(0), "quota", "/almia help")
        assert first["skill"] == "charter"
        # accepted through another replica: the question asked first waited in Redis
        accepted = await cluster.chat(session, cluster.cluster.replica_url(1), "quota",
                                      "J'accepte")
        assert accepted["skill"] != "charter" and accepted["kind"] != "error", accepted
        assert accepted["text"].startswith("Merci, la charte"), accepted
        kinds = [accepted["kind"]]  # it counts against the quota like any request
        for index in range(QUOTA):  # round robin: each replica counts in the same Redis
            reply = await cluster.chat(session, cluster.cluster.replica_url(index % 3), "quota",
                                       "/almia help")
            kinds.append(reply["kind"])
        assert "error" not in kinds[:QUOTA], kinds
        assert kinds[QUOTA] == "error"


async def test_a_template_saved_through_one_replica_is_used_through_another(
        cluster: Cluster) -> None:
    async with aiohttp.ClientSession() as session:
        await cluster.accept(session, "redacteur", replica=0)
        saved = await cluster.chat(
            session, cluster.cluster.replica_url(0), "redacteur",
            "/almia template save relance-sinistre Bonjour {{client}}, votre dossier avance.")
        assert "relance-sinistre" in saved["text"] and saved["kind"] != "error", saved
        # sealed with the service key by replica 0, read by replica 2 (same KEK, same rows)
        shown = await cluster.chat(session, cluster.cluster.replica_url(2), "redacteur",
                                   "/almia template show relance-sinistre")
        assert "votre dossier avance" in shown["text"], shown


async def test_slack_retries_spread_over_replicas_give_one_reply(cluster: Cluster) -> None:
    payload = json.loads((FIXTURES / "event_app_mention.json").read_text(encoding="utf-8"))
    payload["event_id"] = "Ev0CLUSTER01"
    body = json.dumps(payload)
    await _slack_charter_accepted(cluster, payload)
    async with aiohttp.ClientSession() as session:
        # the first delivery through the balancer, retries straight to the other replicas
        targets = [cluster.cluster.url, cluster.cluster.replica_url(1),
                   cluster.cluster.replica_url(2)]
        for attempt, base in enumerate(targets):
            headers = {"Content-Type": "application/json", **signed_headers(body, SECRET)}
            if attempt:
                headers.update({"X-Slack-Retry-Num": str(attempt),
                                "X-Slack-Retry-Reason": "http_timeout"})
            async with session.post(f"{base}/slack/events", data=body.encode(),
                                    headers=headers) as response:
                assert response.status == 200
    marker = "M. Martin"

    def answers() -> list[Any]:
        return [call for call in cluster.slack.of("chat.update", "chat.postMessage")
                if call.data.get("blocks") and call.data.get("channel") == "C0SINISTRE"]

    await cluster.slack.wait_for(lambda: len(answers()) >= 1, within=120)
    # let every replica finish what it took: answer a later message on each of them
    for index in range(3):
        later = {**payload, "event_id": f"Ev0BARRIER{index}",
                 "event": {**payload["event"], "channel": f"C0BARRIER{index}",
                           "ts": f"171500000{index}.000100", "client_msg_id": uuid.uuid4().hex,
                           "text": f"<@UALMIABOT> summary: barrière {index}."}}
        raw = json.dumps(later)
        async with aiohttp.ClientSession() as session, session.post(
                f"{cluster.cluster.replica_url(index)}/slack/events", data=raw.encode(),
                headers={"Content-Type": "application/json",
                         **signed_headers(raw, SECRET)}) as response:
            assert response.status == 200
    await cluster.slack.wait_for(lambda: all(
        any(call.data.get("channel") == f"C0BARRIER{index}" and call.data.get("blocks")
            for call in cluster.slack.of("chat.update", "chat.postMessage"))
        for index in range(3)), within=120)
    assert len(answers()) == 1
    asked = [request for request in cluster.model.requests
             if marker in json.dumps(request, ensure_ascii=False)]
    assert len(asked) == 1


async def _slack_charter_accepted(cluster: Cluster, payload: dict[str, Any]) -> None:
    """The Slack user of ``payload`` accepts the charter (once is enough; again is harmless)."""
    accept = {**payload, "event_id": f"Ev0CHARTER{uuid.uuid4().hex[:6]}",
              "event": {**payload["event"], "channel": "C0CHARTE",
                        "ts": f"1714999999.{uuid.uuid4().int % 10**6:06d}",
                        "client_msg_id": uuid.uuid4().hex, "text": "<@UALMIABOT> J'accepte"}}
    answered = len(_posted_in(cluster, "C0CHARTE"))
    await _post_slack(cluster.cluster.url, accept)
    await cluster.slack.wait_for(lambda: len(_posted_in(cluster, "C0CHARTE")) > answered,
                                 within=120)


async def _post_slack(base: str, payload: dict[str, Any]) -> None:
    raw = json.dumps(payload)
    async with aiohttp.ClientSession() as session, session.post(
            f"{base}/slack/events", data=raw.encode(),
            headers={"Content-Type": "application/json",
                     **signed_headers(raw, SECRET)}) as response:
        assert response.status == 200


def _posted_in(cluster: Cluster, channel: str) -> list[Any]:
    """Final answers (with blocks) posted or updated in a Slack channel."""
    return [call for call in cluster.slack.of("chat.update", "chat.postMessage")
            if call.data.get("blocks") and call.data.get("channel") == channel]


async def test_a_slack_message_whose_replica_dies_mid_answer_is_answered_by_another(
        cluster: Cluster) -> None:
    payload = json.loads((FIXTURES / "event_app_mention.json").read_text(encoding="utf-8"))
    await _slack_charter_accepted(cluster, payload)
    marker = "Mme Leroy"
    message = {**payload, "event_id": "Ev0INBOX01",
               "event": {**payload["event"], "channel": "C0INBOX", "ts": "1715000500.000100",
                         "client_msg_id": uuid.uuid4().hex,
                         "text": f"<@UALMIABOT> summary: Client : {marker} signale un dégât "
                                 "des eaux. Je lui envoie le formulaire."}}
    asked = lambda: [request for request in cluster.model.requests  # noqa: E731
                     if marker in json.dumps(request, ensure_ascii=False)]
    cluster.model.gate = asyncio.Event()  # replica 1 is answering: it waits for the model
    try:
        await _post_slack(cluster.cluster.replica_url(1), message)
        await cluster.slack.wait_for(lambda: len(asked()) == 1, within=120)
        cluster.cluster.kill(1)  # acknowledged, not answered
        assert await asyncio.to_thread(cluster.cluster.wait_replica_exit, 1) != 0
    finally:
        cluster.model.gate.set()
        cluster.model.gate = None
    try:
        # its lease (ALMIA_INBOX__LEASE_SECONDS) runs out; replica 0 or 2 takes it up
        await cluster.slack.wait_for(lambda: len(_posted_in(cluster, "C0INBOX")) == 1,
                                     within=120)
        assert len(asked()) == 2
        deleted = [call.data.get("ts") for call in cluster.slack.of("chat.delete")
                   if call.data.get("channel") == "C0INBOX"]
        answer = _posted_in(cluster, "C0INBOX")[0]
        # the dead replica's « Almia réfléchit » is gone, the new one became the answer
        assert len(deleted) == 1 and deleted[0] != answer.data.get("ts")
    finally:
        cluster.cluster.start_replica(1)  # the next tests use three replicas
        await cluster.cluster.wait_ready(1)
    assert len(_posted_in(cluster, "C0INBOX")) == 1


async def test_a_document_added_through_one_replica_is_found_through_the_others(
        cluster: Cluster) -> None:
    space = "web:equipe-sinistres"
    async with aiohttp.ClientSession() as session:
        for user in ("manager", "lecteur"):
            await cluster.accept(session, user, replica=2)
        form = aiohttp.FormData()
        form.add_field("file", DOCUMENT.encode(), filename="procedure-grele.md")
        async with session.post(f"{cluster.cluster.replica_url(0)}/api/files?user=manager",
                                data=form) as response:
            assert response.status == 200, await response.text()
            file_id = (await response.json())["files"][0]["id"]
        reply = await cluster.chat(session, cluster.cluster.replica_url(0), "manager",
                                   "/almia docs add", attachments=[file_id], space=space)
        assert reply["job_id"], reply
        job: dict[str, Any] = {}
        deadline = asyncio.get_running_loop().time() + 240
        while job.get("state") not in {"succeeded", "failed", "cancelled", "timed_out"}:
            assert asyncio.get_running_loop().time() < deadline, job
            await asyncio.sleep(0.5)
            async with session.get(f"{cluster.cluster.replica_url(1)}/api/jobs/"
                                   f"{reply['job_id']}?user=manager") as response:
                job = await response.json()
                job = job.get("job", job)
        assert job["state"] == "succeeded", job
        for index in (1, 2):  # the worker indexed it in the Chroma server every replica reads
            # a replica caches the collection list for ALMIA_KNOWLEDGE__REGISTRY_TTL_S (5 s):
            # a collection created elsewhere shows up within that time, not at once
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                found = await cluster.chat(session, cluster.cluster.replica_url(index),
                                           "lecteur",
                                           "Sous quel délai déclarer des dommages de grêle ?",
                                           space=space)
                if any(citation["document"] == "procedure-grele.md"
                       for citation in found["citations"]):
                    break
                assert asyncio.get_running_loop().time() < deadline, found
                await asyncio.sleep(1)


async def test_kill_9_of_a_replica_under_load_loses_no_acknowledged_message(
        cluster: Cluster) -> None:
    users = [f"charge{index}" for index in range(12)]
    acknowledged: list[str] = []
    failed: list[int] = []
    after_kill: list[int] = []
    killed = asyncio.Event()
    enough = asyncio.Event()  # set once 30 answers were acknowledged: time to kill
    async with aiohttp.ClientSession() as session:
        for index, user in enumerate(users):
            await cluster.accept(session, user, replica=index % 3)

        async def conversation(user: str) -> None:
            for turn in range(QUOTA - 2):
                async with session.post(f"{cluster.cluster.url}/api/chat", json={
                        "text": f"/almia summary {NOTES} ({turn})", "user": user,
                        "thread": f"{user}-fil"}) as response:
                    statuses = after_kill if killed.is_set() else []
                    statuses.append(response.status)
                    if response.status == 200:
                        acknowledged.append((await response.json())["reply"]["turn_id"])
                        if len(acknowledged) >= 30:
                            enough.set()
                    else:
                        failed.append(response.status)

        async def killer() -> None:
            await enough.wait()
            cluster.cluster.kill(2)
            killed.set()

        await asyncio.gather(killer(), *(conversation(user) for user in users))
    assert cluster.cluster.wait_replica_exit(2) != 0
    assert killed.is_set() and after_kill, "the replica was killed after the load ended"
    # the balancer routes around the dead replica: what follows the kill is answered
    assert after_kill[-len(users):] == [200] * len(users), after_kill
    store = Store.open(cluster.cluster.database_url)
    try:
        async with store.engine.connect() as connection:
            stored = set((await connection.execute(
                text("SELECT id FROM turns WHERE id = ANY(:ids)"),
                {"ids": acknowledged})).scalars())
        records = await store.audit_records()
    finally:
        await store.close()
    assert set(acknowledged) <= stored, f"lost: {set(acknowledged) - stored}"
    report = verify_chain(records)
    assert report.intact, report.problems
    assert len(acknowledged) + len(failed) == len(users) * (QUOTA - 2)

"""Files in Slack: a shared file is downloaded with the bot token, checked, and a job reports
its progress and result in the thread; artefacts are uploaded with the external upload API."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import SlackAdapter
from adapters.slack_files import SlackJobReporter, allowed_download
from bot.app import RUNTIME, Runtime, build_app
from bot.cards import Card
from bot.jobs.engine import InProcessEngine
from bot.jobs.model import Artefact, JobResult, JobState, JobView, ReplyTo
from bot.settings import load_settings
from bot.store.files import NewFile
from knowledge import KnowledgeBase
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi, signed_headers
from tests.knowledge.helpers import HashingEmbedder

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOTE = "# Bris de glace\n\nUn bris de glace se déclare sous cinq jours ouvrés.\n".encode()
MANAGER = f"slack:{TEAM_ID}:U0EMPLOYE1"


@pytest.fixture
async def almia(tmp_path: Path, slack: FakeSlackApi) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    policy = yaml.safe_load(Path("bot/default_policy.yaml").read_text(encoding="utf-8"))
    policy["user_roles"] = {"manager": [MANAGER]}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    settings = load_settings(
        data_dir=tmp_path / "data", policy_file=path, web={"enabled": False},
        slack={"signing_secret": SECRET, "bot_token": "xoxb-test", "api_url": slack.api_url},
        jobs={"progress_interval_seconds": 0.0}, _env_file=None)
    knowledge = KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                                   embedder=HashingEmbedder())
    app = build_app(settings, knowledge=knowledge, adapter_factories=[
        lambda runtime: SlackAdapter(runtime, update_interval_seconds=0.05)])
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def _file_share(slack: FakeSlackApi, name: str, data: bytes) -> dict[str, Any]:
    payload = copy.deepcopy(json.loads(
        (FIXTURES / "event_message_im_file_share.json").read_text(encoding="utf-8")))
    url = slack.share(name, data)
    item = payload["event"]["files"][0]
    item.update(name=name, title=name, size=len(data), url_private=url,
                url_private_download=url)
    return payload


async def _send(client: TestClient, payload: dict[str, Any]) -> None:  # type: ignore[type-arg]
    body = json.dumps(payload)
    response = await client.post("/slack/events", data=body.encode(), headers={
        "Content-Type": "application/json", **signed_headers(body, SECRET)})
    assert response.status == 200


async def _settled(runtime: Runtime, slack: FakeSlackApi) -> None:
    adapter = runtime.adapters[0]
    assert isinstance(adapter, SlackAdapter) and isinstance(runtime.engine, InProcessEngine)
    await slack.wait_for(lambda: adapter.busy == 0)
    await runtime.engine.idle()


async def test_a_shared_file_becomes_team_documents_reported_in_the_thread(
        almia: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    runtime: Runtime = almia.app[RUNTIME]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("procedure-bris-de-glace.md", NOTE)
        zipped.writestr("vide.txt", "")
    await _send(almia, _file_share(slack, "procedures.zip", archive.getvalue()))
    await _settled(runtime, slack)
    downloads = slack.of("files-pri")
    assert downloads and downloads[0].headers["Authorization"] == "Bearer xoxb-test"
    thread = [c for c in slack.of("chat.postMessage", "chat.update")
              if c.data.get("thread_ts") == "1715000300.000400" or c.method == "chat.update"]
    texts = "\n".join(c.message_text() for c in thread)
    assert "C'est parti" in texts  # the skill's immediate answer
    assert "Documents de l'espace mis à jour\u00a0: 1 ajouté," in texts  # the job's result
    assert "vide.txt" in texts and "fichier vide" in texts  # what failed, and why
    completed = slack.of("files.completeUploadExternal")[-1].data
    assert completed["thread_ts"] == "1715000300.000400"
    [report] = slack.uploads.values()
    assert "procedures/vide.txt;échec;fichier vide" in report.decode("utf-8-sig")
    assert "✅" in texts  # progress message closed
    listed = await runtime.knowledge.documents(
        "espace-" + __import__("hashlib").sha256(
            f"slack:{TEAM_ID}:D0EMPLOYE1".encode()).hexdigest()[:20])
    assert listed == ["procedures/procedure-bris-de-glace.md"]
    actions = [event.action for event in await runtime.store.audit_events(limit=50)]
    assert {"file_received", "job_queued", "job_started", "job_finished"} <= set(actions)


async def test_a_question_shared_with_a_document_is_answered_from_it(
        almia: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    runtime: Runtime = almia.app[RUNTIME]
    payload = _file_share(slack, "bris-de-glace.md", NOTE)
    payload["event"]["text"] = "Sous quel délai déclarer un bris de glace ?"
    await _send(almia, payload)
    await _settled(runtime, slack)
    texts = "\n".join(c.message_text() for c in slack.of("chat.postMessage", "chat.update"))
    assert "Un bris de glace se déclare sous cinq jours ouvrés." in texts, texts
    assert "Bris de glace" in texts  # the document cited by its title


async def test_a_bad_shared_file_is_refused_in_the_thread_and_not_kept(
        almia: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    runtime: Runtime = almia.app[RUNTIME]
    await _send(almia, _file_share(slack, "rapport.pdf", b"ceci n'est pas un PDF"))
    await _settled(runtime, slack)
    posted = [c.message_text() for c in slack.of("chat.postMessage")]
    assert any("ne correspond pas à son extension" in text for text in posted), posted
    assert runtime.files is not None and await runtime.files.count() == 0


def test_the_bot_token_goes_only_to_slack_file_hosts() -> None:
    api = "https://slack.com/api/"
    assert allowed_download("https://files.slack.com/files-pri/T1-F1/x.pdf", api)
    assert not allowed_download("http://files.slack.com/files-pri/T1-F1/x.pdf", api)
    assert not allowed_download("https://files.slack.com.evil.example/x.pdf", api)
    assert not allowed_download("https://evil.example/files.slack.com/x.pdf", api)
    assert allowed_download("http://127.0.0.1:9/files-pri/x", "http://127.0.0.1:9/api/")


async def test_artefacts_are_uploaded_into_the_thread(
        almia: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    runtime: Runtime = almia.app[RUNTIME]
    assert runtime.files is not None
    info = await runtime.files.save_bytes(NewFile(
        MANAGER, f"slack:{TEAM_ID}:C1", "slack", "artefact", "axes.csv", "csv", "text/csv",
        "0" * 64), b"axe;volume\nDelais;120\n")
    now = datetime.now(UTC)
    job = JobView(
        id="a" * 32, skill="verbatims", task="analyse", title="Analyse", user_id=MANAGER,
        reply_to=ReplyTo("slack", f"slack:{TEAM_ID}:C1", "1715000300.000400", MANAGER, "fr",
                         {"channel": "C1", "thread_ts": "1715000300.000400"}),
        state=JobState.SUCCEEDED, progress=1.0, progress_text="", params={}, checkpoint=None,
        result=JobResult("**3 axes** trouvés", (info.id,)), error=None, attempts=1,
        max_attempts=3, cancel_requested=False, notice={"ts": "1715000301.000100"},
        created_at=now, started_at=now, finished_at=now, delivered=False)
    reporter = SlackJobReporter(AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
                                runtime.files)
    await reporter.deliver(job, [Artefact(info.id, "axes.csv", "text/csv", info.size, "/x")])
    assert slack.of("chat.update")[-1].data["ts"] == "1715000301.000100"
    result = slack.of("chat.postMessage")[-1]
    assert "*3 axes* trouvés" in result.message_text()
    completed = slack.of("files.completeUploadExternal")[-1].data
    assert completed["channel_id"] == "C1" and completed["thread_ts"] == "1715000300.000400"
    assert list(slack.uploads.values()) == [b"axe;volume\nDelais;120\n"]


async def test_a_job_result_card_is_posted_as_blocks_after_the_text(
        almia: TestClient, slack: FakeSlackApi) -> None:  # type: ignore[type-arg]
    runtime: Runtime = almia.app[RUNTIME]
    assert runtime.files is not None
    now = datetime.now(UTC)
    card = Card("Assurances du CHU", "1 lot : 0 go, 1 no-go.",
                (("Remise des offres", "J-7 · 22/01/2027 à 12:00 (heure de Paris)"),
                 ("Lot 1 – Flotte", "⛔ NO-GO — Régions : Bretagne non servie")))
    job = JobView(
        id="b" * 32, skill="tenders", task="screen", title="Analyse", user_id=MANAGER,
        reply_to=ReplyTo("slack", f"slack:{TEAM_ID}:C1", "1715000300.000400", MANAGER, "fr",
                         {"channel": "C1", "thread_ts": "1715000300.000400"}),
        state=JobState.SUCCEEDED, progress=1.0, progress_text="", params={}, checkpoint=None,
        result=JobResult("**Assurances du CHU** : NO-GO", cards=(card,)), error=None,
        attempts=1, max_attempts=3, cancel_requested=False, notice=None,
        created_at=now, started_at=now, finished_at=now, delivered=False)
    reporter = SlackJobReporter(AsyncWebClient(token="xoxb-test", base_url=slack.api_url),
                                runtime.files)
    await reporter.deliver(job, [])
    text, posted = slack.of("chat.postMessage")[-2:]
    assert "*Assurances du CHU* : NO-GO" in text.message_text() and not text.data.get("blocks")
    blocks = posted.data["blocks"]
    assert blocks[1]["text"]["text"] == "*Assurances du CHU*"
    assert posted.data["thread_ts"] == "1715000300.000400"
    assert posted.data["text"] == "*Assurances du CHU*"  # the notification's fallback
    facts = posted.message_text()
    assert "*Remise des offres* : J-7 · 22/01/2027" in facts
    assert "*Lot 1 – Flotte* : ⛔ NO-GO — Régions" in facts

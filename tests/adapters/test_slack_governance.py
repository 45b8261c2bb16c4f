"""Governance flows through the Slack channel: signed events on the real endpoint, fake Slack
API and fake external model on loopback (DLP, charter, quotas, roles incl. Slack user groups).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackAdapter
from bot.app import RUNTIME, build_app
from bot.governance.directory import SlackUserGroups
from bot.governance.roles import DirectoryGroups
from bot.settings import load_settings
from tests.adapters.test_slack import SECRET, Harness, fixture
from tests.fakes.graph import SLACK_TOKEN, FakeSlackUserGroups
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.pii import KINDS, PiiGenerator
from tests.fakes.slack_api import TEAM_ID, FakeSlackApi

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_computed_fields'")

EMPLOYEE = "U0EMPLOYE1"
CHAMPION = "U0CHAMPION"


def governance_policy(path: Path, model_url: str, *, hosting: str = "internal",
                      quotas: dict[str, Any] | None = None,
                      user_roles: dict[str, list[str]] | None = None,
                      summary_roles: list[str] | None = None) -> Path:
    """The fake model's policy (see ``write_policy``) with governance rules added."""
    write_policy(path, model_url, hosting=hosting, clearance="confidential")
    policy = json.loads(path.read_text(encoding="utf-8"))
    if quotas is not None:
        policy["quotas"] = quotas
    if user_roles is not None:
        policy["user_roles"] = user_roles
    if summary_roles is not None:
        policy["skills"]["call_summary"]["allowed_user_roles"] = summary_roles
    path.write_text(json.dumps(policy), encoding="utf-8")
    return path


def echo_notes(body: dict[str, Any]) -> str:
    """The external model repeats what it was given (placeholders included)."""
    return str(body["messages"][-1]["content"])


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, rules: dict[str, Any] | None = None,
                  responder: Any = None, directory: DirectoryGroups | None = None,
                  **settings: Any) -> AsyncIterator[Harness]:
    """An Almia app (Slack only) on loopback; ``rules`` go to :func:`governance_policy`."""
    async with FakeSlackApi() as slack, FakeModelServer(
            **({"responder": responder} if responder else {})) as model:
        config = load_settings(
            data_dir=tmp_path / "data", _env_file=None,
            policy_file=governance_policy(tmp_path / "policy.yaml", model.url, **(rules or {})),
            slack={"signing_secret": SECRET, "bot_token": "xoxb-test", "api_url": slack.api_url},
            web={"enabled": False}, **settings)
        app = build_app(config, directory=directory, adapter_factories=[
            lambda runtime: SlackAdapter(runtime, update_interval_seconds=0.05)])
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield Harness(client, slack, model, app[RUNTIME])


async def mention(almia: Harness, text: str, user: str = EMPLOYEE) -> str:
    """Mention the bot in a new thread; the text of the answer it posts there."""
    payload = fixture("event_app_mention.json")
    ts = f"{1_715_000_000 + len(almia.slack.calls)}.{uuid.uuid4().int % 1_000_000:06d}"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    payload["event_id"] = f"Ev{uuid.uuid4().hex[:10].upper()}"
    payload["event"].update({"text": f"<@UALMIABOT> {escaped}", "user": user, "ts": ts,
                             "event_ts": ts, "client_msg_id": str(uuid.uuid4())})
    payload["event"].pop("blocks", None)
    before = len(almia.answers())
    assert (await almia.event(payload)).status == 200
    await almia.slack.wait_for(lambda: len(almia.answers()) > before)
    await almia.settled()
    return "\n".join(call.message_text() for call in almia.answers()[before:])


async def test_personal_data_is_masked_for_the_external_model_and_restored(
        tmp_path: Path) -> None:
    generator = PiiGenerator(seed=11)
    kinds = tuple(kind for kind in KINDS if kind not in {"PERSONNE", "SECRET"})
    samples = [generator.sample(kinds, lookalikes=("IBAN",)) for _ in range(3)]
    async with running(tmp_path, responder=echo_notes,
                       rules={"hosting": "external"}, dlp={"ner": False}) as almia:
        answers = [await mention(almia, f"summary {sample.text}") for sample in samples]
        sent = json.dumps(almia.model.requests, ensure_ascii=False)
    assert len(almia.model.requests) == len(samples)
    for sample, answer in zip(samples, answers, strict=True):
        for entity in sample.entities:
            value = sample.text[entity.start:entity.end]
            if entity.valid:
                assert value not in sent, f"{entity.kind} reached the external model"
            assert value in answer, f"{entity.kind} not restored in the Slack answer"
    assert "[IBAN_1]" in sent and "[EMAIL_1]" in sent


async def test_person_names_are_masked_with_ner(tmp_path: Path) -> None:
    async with running(tmp_path, responder=echo_notes,
                       rules={"hosting": "external"}) as almia:
        answer = await mention(almia, "summary Appel de Mme Nathalie Fontaine au sujet de son "
                                      "contrat ; elle attend un rappel.")
        sent = json.dumps(almia.model.requests, ensure_ascii=False)
    assert "Fontaine" not in sent and "[PERSONNE_1]" in sent
    assert "Nathalie Fontaine" in answer


async def test_charter_then_acceptance_then_an_answer(tmp_path: Path) -> None:
    async with running(tmp_path,
                       charter={"enabled": True, "version": "v-slack"}) as almia:
        first = await mention(almia, "summary Appel de M. Martin.")
        accepted = await mention(almia, "J'accepte")
        answered = await mention(almia, "summary Appel de M. Martin.")
        other = await mention(almia, "summary Appel.", user=CHAMPION)
        requests = len(almia.model.requests)
    assert "Charte d'utilisation" in first and "J'accepte" in first
    assert "acceptée" in accepted and "v-slack" in accepted
    assert "Réponse du modèle factice" in accepted  # the question asked before the charter
    assert "Réponse du modèle factice" in answered
    assert "Charte d'utilisation" in other  # acceptance is personal
    assert requests == 2


async def test_daily_request_quota(tmp_path: Path) -> None:
    async with running(tmp_path,
                       rules={"quotas": {"user": {"requests_per_day": 1}}}) as almia:
        first = await mention(almia, "summary Appel 1.")
        second = await mention(almia, "summary Appel 2.")
        colleague = await mention(almia, "summary Appel 3.", user=CHAMPION)
        requests = len(almia.model.requests)
    assert "Réponse du modèle factice" in first and "Réponse du modèle factice" in colleague
    assert "quota quotidien (1 demandes) personnel" in second
    assert requests == 2


async def test_skill_reserved_to_champions(tmp_path: Path) -> None:
    roles = {"champion": [f"slack:{TEAM_ID}:{CHAMPION}"]}
    async with running(tmp_path,
                       rules={"user_roles": roles, "summary_roles": ["champion"]}) as almia:
        refused = await mention(almia, "summary Appel de M. Martin.")
        allowed = await mention(almia, "summary Appel de M. Martin.", user=CHAMPION)
        requests = len(almia.model.requests)
    assert "réservé aux rôles\u00a0: champion" in refused
    assert "Réponse du modèle factice" in allowed
    assert requests == 1


async def test_champion_role_from_a_slack_user_group(tmp_path: Path) -> None:
    async with FakeSlackUserGroups(groups={"S0CHAMPS": {CHAMPION}}) as groups:
        directory = SlackUserGroups(bot_token=SLACK_TOKEN, api_url=groups.api_url,
                                    group_roles={"S0CHAMPS": "champion"})
        async with running(tmp_path, directory=directory,
                           rules={"summary_roles": ["champion"]}) as almia:
            refused = await mention(almia, "summary Appel de M. Martin.")
            allowed = await mention(almia, "summary Appel de M. Martin.", user=CHAMPION)
        assert [r.body["usergroup"] for r in groups.requests] == ["S0CHAMPS"]  # cached
    assert "réservé aux rôles\u00a0: champion" in refused
    assert "Réponse du modèle factice" in allowed

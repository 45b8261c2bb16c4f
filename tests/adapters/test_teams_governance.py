"""Governance flows through the Teams channel: authenticated activities on /api/messages, fake
Bot Connector and fake external model on loopback (DLP, charter, quotas, roles incl. Entra ID
groups read through MSAL and Microsoft Graph fakes).
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

from adapters.teams import TeamsAdapter, TeamsEndpoints
from bot.app import build_app
from bot.governance.directory import EntraGroups
from bot.governance.roles import DirectoryGroups
from bot.settings import load_settings
from tests.adapters.test_slack_governance import echo_notes, governance_policy
from tests.adapters.test_teams import (
    APP_ID,
    APP_PASSWORD,
    OUTBOUND_TOKEN,
    TENANT,
    Harness,
    finals,
    fixture,
)
from tests.conftest import FakeSearch
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.graph import CLIENT_ID, CLIENT_SECRET, FakeEntra, LoopbackHttpClient
from tests.fakes.model_server import FakeModelServer
from tests.fakes.openid import ISSUER, FakeOpenIdServer
from tests.fakes.pii import KINDS, PiiGenerator

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
    pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning"),
]

EMPLOYEE = "6b1c2f8e-4a7d-4f0e-9b3a-2c5d7e9f1a3b"  # the fixture's aadObjectId
CHAMPION = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"
CHAMPIONS_GROUP = "0b1f6c1e-7d55-4c54-9a53-000000000002"


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, rules: dict[str, Any] | None = None,
                  responder: Any = None, directory: DirectoryGroups | None = None,
                  **settings: Any) -> AsyncIterator[Harness]:
    """An Almia app (Teams only) on loopback; ``rules`` go to ``governance_policy``."""
    with FakeOpenIdServer() as issuer:
        async with FakeModelServer(**({"responder": responder} if responder else {})) as model, \
                FakeBotConnector() as connector:
            config = load_settings(
                data_dir=tmp_path / "data", _env_file=None,
                policy_file=governance_policy(tmp_path / "policy.yaml", model.url,
                                              **(rules or {})),
                teams={"app_id": APP_ID, "app_password": APP_PASSWORD, "tenant_id": TENANT},
                web={"enabled": False}, **settings)
            endpoints = TeamsEndpoints(
                openid_metadata_url=issuer.metadata_url,
                emulator_openid_metadata_url=issuer.metadata_url,
                token_issuer=ISSUER, login_url=f"{issuer.base_url}/{TENANT}")
            app = build_app(config, knowledge=FakeSearch(), directory=directory,  # type: ignore[arg-type]
                            adapter_factories=[lambda runtime: TeamsAdapter(
                                runtime, endpoints=endpoints,
                                outbound_token=lambda: OUTBOUND_TOKEN,
                                retry_delays=(0.01, 0.02), stream_interval=0.0)])
            async with TestClient(TestServer(app, host="127.0.0.1")) as client:
                yield Harness(client, connector, issuer, model)


async def say(harness: Harness, text: str, user: str = EMPLOYEE) -> str:
    """A personal message from ``user`` (AAD object id); every final activity sent back, as JSON."""
    activity = fixture("message_personal", harness.connector.url)
    activity["id"] = str(uuid.uuid4().int)[:13]
    activity["text"] = text
    activity["from"].update({"aadObjectId": user, "id": f"29:{user}"})
    harness.connector.calls.clear()
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    return json.dumps([call.body for call in finals(calls)], ensure_ascii=False)


async def test_personal_data_is_masked_for_the_external_model_and_restored(
        tmp_path: Path) -> None:
    generator = PiiGenerator(seed=23)
    kinds = tuple(kind for kind in KINDS if kind not in {"PERSONNE", "SECRET"})
    samples = [generator.sample(kinds, lookalikes=("SIRET",)) for _ in range(3)]
    async with running(tmp_path, responder=echo_notes, rules={"hosting": "external"},
                       dlp={"ner": False}) as harness:
        answers = [await say(harness, f"summary {sample.text}") for sample in samples]
        sent = json.dumps(harness.model.requests, ensure_ascii=False)
    assert len(harness.model.requests) == len(samples)
    for sample, answer in zip(samples, answers, strict=True):
        for entity in sample.entities:
            value = sample.text[entity.start:entity.end]
            if entity.valid:
                assert value not in sent, f"{entity.kind} reached the external model"
            assert value in answer, f"{entity.kind} not restored in the Teams answer"
    assert "[NIR_1]" in sent and "[TELEPHONE_1]" in sent


async def test_charter_then_acceptance_then_an_answer(tmp_path: Path) -> None:
    async with running(tmp_path, charter={"enabled": True, "version": "v-teams"}) as harness:
        first = await say(harness, "summary Appel de Mme Martin.")
        accepted = await say(harness, "J'accepte")
        answered = await say(harness, "summary Appel de Mme Martin.")
        other = await say(harness, "summary Appel.", user=CHAMPION)
        requests = len(harness.model.requests)
    assert "Charte d'utilisation" in first and "J'accepte" in first
    assert "acceptée" in accepted and "v-teams" in accepted
    assert "Réponse du modèle factice" in accepted  # the question asked before the charter
    assert "Réponse du modèle factice" in answered
    assert "Charte d'utilisation" in other  # acceptance is personal
    assert requests == 2


async def test_daily_request_quota(tmp_path: Path) -> None:
    async with running(tmp_path, rules={"quotas": {"user": {"requests_per_day": 1}}}) as harness:
        first = await say(harness, "summary Appel 1.")
        second = await say(harness, "summary Appel 2.")
        colleague = await say(harness, "summary Appel 3.", user=CHAMPION)
        requests = len(harness.model.requests)
    assert "Réponse du modèle factice" in first and "Réponse du modèle factice" in colleague
    assert "quota quotidien (1 demandes) personnel" in second
    assert requests == 2


async def test_skill_reserved_to_champions(tmp_path: Path) -> None:
    rules = {"user_roles": {"champion": [f"teams:{CHAMPION}"]}, "summary_roles": ["champion"]}
    async with running(tmp_path, rules=rules) as harness:
        refused = await say(harness, "summary Appel de Mme Martin.")
        allowed = await say(harness, "summary Appel de Mme Martin.", user=CHAMPION)
        requests = len(harness.model.requests)
    assert "réservé aux rôles\u00a0: champion" in refused
    assert "Réponse du modèle factice" in allowed
    assert requests == 1


async def test_champion_role_from_an_entra_group(tmp_path: Path) -> None:
    async with FakeEntra(members={CHAMPION: {CHAMPIONS_GROUP}, EMPLOYEE: set()}) as entra:
        msal_http = LoopbackHttpClient(entra.url)
        directory = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID,
                                credential=CLIENT_SECRET,
                                group_roles={CHAMPIONS_GROUP: "champion"},
                                graph_url=entra.graph_url, http_client=msal_http)
        async with running(tmp_path, directory=directory,
                           rules={"summary_roles": ["champion"]}) as harness:
            refused = await say(harness, "summary Appel de Mme Martin.")
            allowed = await say(harness, "summary Appel de Mme Martin.", user=CHAMPION)
            again = await say(harness, "summary Appel de M. Durand.", user=CHAMPION)
        graph_users = [call.path.split("/")[3] for call in entra.graph_calls()]
    assert "réservé aux rôles\u00a0: champion" in refused
    assert "Réponse du modèle factice" in allowed and "Réponse du modèle factice" in again
    assert graph_users == [EMPLOYEE, CHAMPION]  # each looked up once, then cached
    assert all(url.startswith("https://login.microsoftonline.com/") for url in msal_http.intended)

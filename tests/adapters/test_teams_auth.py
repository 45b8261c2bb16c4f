"""Teams in a private or sovereign cloud: replies carry a token from that cloud's login service.

End to end with nothing mocked: a signed activity arrives, MSAL (built by the adapter,
no instance discovery) asks a loopback login service over TLS — its certificate from a
CA generated here — for a client-credentials token, and the loopback Bot Connector
receives the reply with that bearer token. No request leaves 127.0.0.1.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization

from adapters.teams import TeamsAdapter
from adapters.teams_auth import login_authority
from bot.app import build_app
from bot.settings import load_settings
from tests.adapters.test_teams import APP_ID, APP_PASSWORD, TENANT, Harness, finals, fixture
from tests.conftest import FakeSearch
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.loopback import poll
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.openid import ISSUER, FakeOpenIdServer, new_key
from tests.fakes.token_endpoint import FakeLoginService, LoopbackCertificateAuthority

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
    pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning"),
]

SCOPE = "https://api.botframework.example.cloud"


@asynccontextmanager
async def private_cloud(tmp_path: Path, login: FakeLoginService, teams: dict[str, Any],
                        login_verify: bool | str) -> AsyncIterator[Harness]:
    """Almia configured for a custom cloud by settings alone (plus the test CA)."""
    with FakeOpenIdServer() as issuer:
        async with FakeModelServer() as model, FakeBotConnector() as connector:
            settings = load_settings(
                data_dir=tmp_path / "data", _env_file=None,
                policy_file=write_policy(tmp_path / "policy.yaml", model.url),
                teams={"app_id": APP_ID, "tenant_id": TENANT,
                       "openid_metadata_url": issuer.metadata_url, "token_issuer": ISSUER,
                       "login_url": login.authority(TENANT), "oauth_scope": SCOPE, **teams},
                web={"enabled": False})
            app = build_app(settings, knowledge=FakeSearch(), adapter_factories=[  # type: ignore[arg-type]
                lambda runtime: TeamsAdapter(runtime, login_verify=login_verify,
                                             retry_delays=(0.01,), stream_interval=0.0)])
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                yield Harness(client, connector, issuer, model)
            finally:
                await client.close()


def _secret(tmp_path: Path, login: FakeLoginService) -> dict[str, Any]:
    login.client_secrets[APP_ID] = APP_PASSWORD
    return {"app_password": APP_PASSWORD}


def _certificate(tmp_path: Path, login: FakeLoginService) -> dict[str, Any]:
    key = new_key()
    login.client_keys[APP_ID] = key.public_key()
    path = tmp_path / "almia-teams.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return {"certificate_path": str(path), "certificate_thumbprint": "a1" * 20}


@pytest.mark.parametrize(("kind", "credential"), [("secret", _secret),
                                                  ("certificate", _certificate)])
async def test_reply_carries_a_token_from_the_private_clouds_login_service(
        tmp_path: Path, kind: str,
        credential: Callable[[Path, FakeLoginService], dict[str, Any]]) -> None:
    authority_ca = LoopbackCertificateAuthority()
    bundle = authority_ca.write_bundle(tmp_path / "private-cloud-ca.pem")
    with FakeLoginService(authority_ca, tmp_path) as login:
        teams = credential(tmp_path, login)
        async with private_cloud(tmp_path, login, teams, str(bundle)) as harness:
            activity = fixture("message_personal", harness.connector.url)
            assert (await harness.post(activity)).status == 200
            calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert len(login.grants) == 1, "one token, cached by MSAL for every send"
    grant = login.grants[0]
    assert (grant.tenant, grant.grant_type, grant.client_id, grant.scope, grant.client) == \
        (TENANT, "client_credentials", APP_ID, f"{SCOPE}/.default", kind)
    assert {call.authorization for call in calls} == {f"Bearer {grant.access_token}"}
    assert login.requests[0] == f"GET /{TENANT}/v2.0/.well-known/openid-configuration", \
        "the cloud's own OpenID configuration, no instance discovery elsewhere"


def _reply_failed(caplog: pytest.LogCaptureFixture) -> bool:
    return any(record.getMessage().startswith("teams: reply") and "not delivered"
               in record.getMessage() for record in caplog.records)


async def test_refused_credentials_deliver_nothing_and_log_no_secret(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    authority_ca = LoopbackCertificateAuthority()
    bundle = authority_ca.write_bundle(tmp_path / "private-cloud-ca.pem")
    with FakeLoginService(authority_ca, tmp_path, client_secrets={APP_ID: "another"}) as login:
        async with private_cloud(tmp_path, login, {"app_password": APP_PASSWORD},
                                 str(bundle)) as harness:
            activity = fixture("message_personal", harness.connector.url)
            with caplog.at_level(logging.INFO):
                assert (await harness.post(activity)).status == 200
                await poll(lambda: _reply_failed(caplog), 30.0, lambda: caplog.text)
    assert harness.connector.calls == []
    assert login.grants and {grant.client for grant in login.grants} == {"refused"}
    assert APP_PASSWORD not in caplog.text


async def test_an_untrusted_login_certificate_is_refused(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeLoginService(LoopbackCertificateAuthority(), tmp_path,
                          client_secrets={APP_ID: APP_PASSWORD}) as login:
        async with private_cloud(tmp_path, login, {"app_password": APP_PASSWORD},
                                 True) as harness:
            activity = fixture("message_personal", harness.connector.url)
            with caplog.at_level(logging.INFO):
                assert (await harness.post(activity)).status == 200
                await poll(lambda: _reply_failed(caplog), 30.0, lambda: caplog.text)
    assert harness.connector.calls == [] and login.grants == []


@pytest.mark.parametrize(("login_url", "expected"), [
    ("https://login.example.cloud", f"https://login.example.cloud/{TENANT}"),
    ("https://login.example.cloud/", f"https://login.example.cloud/{TENANT}"),
    ("https://login.example.cloud/contoso.onmicrosoft.com/",
     "https://login.example.cloud/contoso.onmicrosoft.com"),
])
def test_login_authority_gets_the_tenant_when_it_has_none(login_url: str,
                                                          expected: str) -> None:
    assert login_authority(login_url, TENANT) == expected

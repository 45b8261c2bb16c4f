"""Entra ID sign-in end to end: the code flow with PKCE through MSAL against a loopback
identity provider over TLS, roles from the ID token's groups and app roles."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer, unused_port

from bot.app import RUNTIME, build_app
from tests.conftest import FakeSearch
from tests.console.conftest import console_settings, scalar
from tests.console.fake_entra import FakeEntra, Person
from tests.fakes.token_endpoint import LoopbackCertificateAuthority, app_certificate

TENANT = "11111111-2222-3333-4444-555555555555"
DPO_GROUP = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CLIENT_ID = "console-client"
SECRET = "console-secret"


@dataclass
class Setup:
    entra: FakeEntra
    client: TestClient[Any, Any]
    tls: ssl.SSLContext


@asynccontextmanager
async def signing_in(tmp_path: Path, credential: dict[str, str],
                     **entra_options: Any) -> AsyncIterator[Setup]:
    """The console behind a loopback Entra ID, its app proving itself with ``credential``
    (its secret, or its certificate's path and thumbprint)."""
    authority = LoopbackCertificateAuthority()
    bundle = authority.write_bundle(tmp_path / "ca.pem")
    port = unused_port()
    with FakeEntra(authority, tmp_path, CLIENT_ID, SECRET, **entra_options) as entra:
        settings = console_settings(tmp_path, group_roles={DPO_GROUP: "dpo"}, oidc={
            "client_id": CLIENT_ID, **credential,
            "authority": entra.authority(TENANT), "ca_bundle": str(bundle),
            "redirect_url": f"http://127.0.0.1:{port}/console/auth/callback"})
        app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
        client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1", port=port))
        await client.start_server()
        try:
            yield Setup(entra, client, ssl.create_default_context(cafile=str(bundle)))
        finally:
            await client.close()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with signing_in(tmp_path, {"client_secret": SECRET}) as ready:
        yield ready


async def _through_the_provider(setup: Setup, *, tamper_state: bool = False) -> Any:
    """What a browser does: start, follow the provider's redirect, come back."""
    start = await setup.client.get("/console/auth/start", allow_redirects=False)
    assert start.status == 302
    async with aiohttp.ClientSession() as browser, browser.get(
            start.headers["Location"], ssl=setup.tls) as answer:
        assert answer.status == 200
        form = await answer.json()
    fields = dict(form["fields"])
    if tamper_state:
        fields["state"] = "forged"
    return await setup.client.post(urlsplit(form["action"]).path, data=fields,
                                   allow_redirects=False)


async def test_a_dpo_signs_in_with_the_code_flow_and_pkce(setup: Setup) -> None:
    setup.entra.next_person = Person("0f0f0f0f-0000-0000-0000-000000000001", "Dana Pro",
                                     groups=[DPO_GROUP])
    back = await _through_the_provider(setup)
    assert back.status == 302 and back.headers["Location"] == "/console/usage"
    asked = setup.entra.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    assert setup.entra.token_requests[-1]["code_verifier"]  # PKCE: the verifier was sent
    audit = await setup.client.get("/console/audit")
    assert audit.status == 200
    assert "Dana Pro" in await audit.text()
    store = setup.client.app[RUNTIME].store  # type: ignore[index]
    assert await scalar(store, "SELECT count(*) FROM audit_events WHERE action = "
                        "'console_sign_in' AND outcome = 'ok'") == 1
    assert await scalar(store, "SELECT count(*) FROM console_logins") == 0  # flow spent


async def test_the_console_app_may_prove_itself_with_a_certificate(tmp_path: Path) -> None:
    certificate, public_key = app_certificate(tmp_path)
    async with signing_in(tmp_path, {"certificate_path": str(certificate.path),
                                     "certificate_thumbprint": certificate.thumbprint},
                          client_key=public_key,
                          client_thumbprint=certificate.thumbprint) as setup:
        setup.entra.next_person = Person("0f0f0f0f-0000-0000-0000-000000000004", "Cé Cert",
                                         groups=[DPO_GROUP])
        back = await _through_the_provider(setup)
        assert back.status == 302 and back.headers["Location"] == "/console/usage"
        redeemed = setup.entra.token_requests[-1]
        assert "client_secret" not in redeemed and redeemed["client_assertion"]


async def test_an_app_role_grants_the_auditor_pages_but_not_erasure(setup: Setup) -> None:
    setup.entra.next_person = Person("0f0f0f0f-0000-0000-0000-000000000002", "Ali Audit",
                                     roles=["auditor"])
    assert (await _through_the_provider(setup)).status == 302
    assert (await setup.client.get("/console/protection")).status == 200
    page = await (await setup.client.get("/console/audit")).text()
    assert 'id="purge"' not in page


async def test_a_person_without_a_governance_role_gets_no_session(setup: Setup) -> None:
    setup.entra.next_person = Person("0f0f0f0f-0000-0000-0000-000000000003", "Eve Employee")
    back = await _through_the_provider(setup)
    assert back.status == 403
    assert "aucun rôle" in await back.text()
    assert (await setup.client.get("/console/usage", allow_redirects=False)).status == 302


async def test_a_forged_state_is_refused(setup: Setup) -> None:
    setup.entra.next_person = Person("0f0f0f0f-0000-0000-0000-000000000004", "Dana Pro",
                                     groups=[DPO_GROUP])
    back = await _through_the_provider(setup, tamper_state=True)
    assert back.status == 401
    assert not setup.entra.token_requests  # no code was redeemed
    assert (await setup.client.get("/console/usage", allow_redirects=False)).status == 302


async def test_the_callback_without_a_sign_in_under_way_is_refused(setup: Setup) -> None:
    back = await setup.client.post("/console/auth/callback", data={"code": "x", "state": "y"},
                                   allow_redirects=False)
    assert back.status == 401

"""A loopback Entra ID for the console's sign-in: discovery, authorize and token over TLS.

The authorization endpoint answers at once for the person set in ``next_person`` (no
login form) with, as JSON, the form its page would post to the client's ``redirect_uri``
(``response_mode=form_post``): the code and the state; the token endpoint
redeems that code only with the client's secret (or an assertion signed with its
certificate's key) and the PKCE verifier matching the
challenge (S256), and returns an ID token carrying the nonce of the request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from tests.fakes.openid import new_key
from tests.fakes.token_endpoint import LoopbackCertificateAuthority, signed_by


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Person:
    """Who the fake signs in next, and the claims it puts in the ID token."""

    object_id: str
    name: str
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)


@dataclass
class FakeEntra:
    """``with FakeEntra(ca, tmp_path, client_id, secret) as entra: entra.authority(tenant)``."""

    authority_ca: LoopbackCertificateAuthority
    directory: Path
    client_id: str
    client_secret: str
    next_person: Person | None = None
    # a certificate credential the app registration holds instead: its key and thumbprint
    client_key: Any = None
    client_thumbprint: str | None = None
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _key: Any = field(default_factory=new_key)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def authority(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}"

    def __enter__(self) -> FakeEntra:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                tenant_url = owner.authority(parts[0])
                if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                    self._json(200, {
                        "issuer": f"{tenant_url}/v2.0",
                        "authorization_endpoint": f"{tenant_url}/oauth2/v2.0/authorize",
                        "token_endpoint": f"{tenant_url}/oauth2/v2.0/token",
                        "jwks_uri": f"{tenant_url}/discovery/v2.0/keys"})
                elif parts[1:] == ["oauth2", "v2.0", "authorize"]:
                    query = {name: values[0] for name, values in parse_qs(url.query).items()}
                    owner.authorize_requests.append(query)
                    self._json(200, owner._authorize(parts[0], query))  # the form to post
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                parts = urlsplit(self.path).path.strip("/").split("/")
                length = int(self.headers.get("Content-Length", "0"))
                form = {name: values[0] for name, values in
                        parse_qs(self.rfile.read(length).decode()).items()}
                owner.token_requests.append(form)
                if parts[1:] != ["oauth2", "v2.0", "token"]:
                    self._json(404, {"error": "not_found"})
                    return
                self._json(*owner._redeem(parts[0], form))

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = self.authority_ca.server_context(self.directory)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _authorize(self, tenant: str, query: dict[str, str]) -> dict[str, Any]:
        """What the provider's page would post to ``redirect_uri`` (``response_mode=form_post``)."""
        redirect = query["redirect_uri"]
        if (query.get("client_id") != self.client_id or self.next_person is None
                or query.get("code_challenge_method") != "S256"
                or query.get("response_mode") != "form_post"):
            return {"action": redirect,
                    "fields": {"error": "access_denied", "state": query.get("state", "")}}
        code = uuid.uuid4().hex
        self._codes[code] = {"tenant": tenant, "person": self.next_person,
                             "challenge": query["code_challenge"], "nonce": query.get("nonce"),
                             "redirect_uri": redirect}
        return {"action": redirect, "fields": {"code": code, "state": query["state"]}}

    def _redeem(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self._codes.pop(form.get("code", ""), None)
        by_secret = "client_secret" in form and form["client_secret"] == self.client_secret
        by_certificate = self.client_key is not None and signed_by(
            form, self.client_key, f"{self.authority(tenant)}/oauth2/v2.0/token",
            self.client_id, self.client_thumbprint)
        if form.get("client_id") != self.client_id or not (by_secret or by_certificate):
            return 401, {"error": "invalid_client"}
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier mismatch"}
        person: Person = grant["person"]
        now = int(time.time())
        claims = {"iss": f"{self.authority(tenant)}/v2.0", "aud": self.client_id,
                  "tid": tenant, "oid": person.object_id, "sub": person.object_id,
                  "name": person.name, "preferred_username": f"{person.object_id}@example.test",
                  "nonce": grant["nonce"], "iat": now, "nbf": now, "exp": now + 3600,
                  "groups": person.groups, "roles": person.roles}
        id_token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": "test"})
        client_info = _b64(json.dumps({"uid": person.object_id, "utid": tenant}).encode())
        return 200, {"token_type": "Bearer", "expires_in": 3599, "scope": "openid profile",
                     "access_token": f"access-{uuid.uuid4().hex}", "id_token": id_token,
                     "client_info": client_info}

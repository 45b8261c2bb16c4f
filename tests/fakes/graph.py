"""Fake directories on loopback: Entra ID (OpenID discovery, token endpoint, Microsoft Graph)
and the Slack user-group API. Both speak the real wire format and record every request.

MSAL insists on an ``https`` authority, so it keeps ``https://login.microsoftonline.com``
and is given :class:`LoopbackHttpClient`, an HTTP client that sends every request to the
fake instead (and records the URL MSAL meant to reach): MSAL can touch no network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.loopback import LoopbackServer
from tests.fakes.token_endpoint import signed_by

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "graph-test-secret-not-real"
ACCESS_TOKEN = "graph-access-token-for-tests"
LOGIN_HOST = "https://login.microsoftonline.com"
SLACK_TOKEN = "xoxb-directory-test"


@dataclass(frozen=True)
class Recorded:
    """One request a fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeEntra(LoopbackServer):
    """``async with FakeEntra(members={user: {group}}) as entra:`` → ``entra.graph_url``."""

    members: dict[str, set[str]] = field(default_factory=dict)  # user object id → group ids
    graph_status: int | None = None  # answer every Graph call with this status
    token_error: str | None = None  # answer token requests with this OAuth error
    # a certificate credential the app registration holds: its public key and SHA-1 thumbprint
    client_key: rsa.RSAPublicKey | None = None
    client_thumbprint: str | None = None
    authentications: list[str] = field(default_factory=list)  # "secret", "certificate"…
    # the user-assigned managed identity the instance metadata service hands tokens for
    managed_identity: str | None = None
    requests: list[Recorded] = field(default_factory=list)
    _server: TestServer | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.base_url

    @property
    def graph_url(self) -> str:
        """The value for ``settings.directory.graph_url``."""
        return self.url + "/v1.0"

    def graph_calls(self) -> list[Recorded]:
        """The Microsoft Graph requests received."""
        return [r for r in self.requests if r.path.startswith("/v1.0/")]

    def token_calls(self) -> list[Recorded]:
        """The token requests received."""
        return [r for r in self.requests if r.path.endswith("/oauth2/v2.0/token")]

    def routes(self, app: web.Application) -> None:
        """Entra ID's discovery and token endpoints and Graph's checkMemberGroups."""
        app.router.add_get("/common/discovery/instance", self._instance_discovery)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v1.0/users/{user}/checkMemberGroups", self._check_member_groups)
        app.router.add_get("/metadata/identity/oauth2/token", self._instance_metadata_token)

    async def _record(self, request: web.Request) -> Recorded:
        raw = await request.text()
        if request.content_type == "application/json":
            body: dict[str, Any] = json.loads(raw or "{}")
        else:
            body = dict(parse_qsl(raw))
        recorded = Recorded(request.method, request.path, dict(request.headers), body)
        self.requests.append(recorded)
        return recorded

    async def _discovery(self, request: web.Request) -> web.Response:
        await self._record(request)
        tenant = request.match_info["tenant"]
        base = f"{LOGIN_HOST}/{tenant}"
        return web.json_response({
            "issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{LOGIN_HOST}/{tenant}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"]})

    async def _instance_discovery(self, request: web.Request) -> web.Response:
        """MSAL asks for the authority's aliases after a failed token request."""
        await self._record(request)
        aliases = ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com",
                   "sts.windows.net"]
        return web.json_response({
            "tenant_discovery_endpoint":
                f"{LOGIN_HOST}/common/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": "login.microsoftonline.com",
                          "preferred_cache": "login.windows.net", "aliases": aliases}]})

    async def _token(self, request: web.Request) -> web.Response:
        form = (await self._record(request)).body
        how = self._client_authentication(request.match_info["tenant"], form)
        self.authentications.append(how)
        if self.token_error is not None or how == "refused" \
                or form.get("client_id") != CLIENT_ID:
            return web.json_response({"error": self.token_error or "invalid_client",
                                      "error_description": "AADSTS7000215: Invalid client."},
                                     status=401)
        assert form.get("grant_type") == "client_credentials"
        assert form.get("scope") == "https://graph.microsoft.com/.default"
        return web.json_response({"token_type": "Bearer", "expires_in": 3599,
                                  "ext_expires_in": 3599, "access_token": ACCESS_TOKEN})

    async def _instance_metadata_token(self, request: web.Request) -> web.Response:
        """Azure's instance metadata service: a token for a resource, for the identity
        attached to the machine (only asked with ``Metadata: true``, as IMDS requires)."""
        await self._record(request)
        query = request.query
        if request.headers.get("Metadata") != "true":
            return web.json_response({"error": "invalid_request"}, status=400)
        if self.managed_identity is None or query.get("client_id") != self.managed_identity:
            self.authentications.append("refused")
            return web.json_response({"error": "invalid_request", "error_description":
                                      "Identity not found"}, status=400)
        assert query.get("resource") == "https://graph.microsoft.com"
        self.authentications.append("managed identity")
        return web.json_response({"access_token": ACCESS_TOKEN, "expires_in": "3599",
                                  "resource": query["resource"], "token_type": "Bearer"})

    def _client_authentication(self, tenant: str, form: dict[str, Any]) -> str:
        """How the client proved itself: its secret, or a client assertion signed with the
        registered certificate's key."""
        if "client_secret" in form:
            return "secret" if form["client_secret"] == CLIENT_SECRET else "refused"
        if self.client_key is not None and signed_by(
                form, self.client_key, f"{LOGIN_HOST}/{tenant}/oauth2/v2.0/token", CLIENT_ID,
                self.client_thumbprint or ""):
            return "certificate"
        return "refused"

    async def _check_member_groups(self, request: web.Request) -> web.Response:
        body = (await self._record(request)).body
        if self.graph_status is not None:
            return web.json_response({"error": {"code": "Fake", "message": "fake failure"}},
                                     status=self.graph_status)
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return web.json_response({"error": {"code": "InvalidAuthenticationToken"}},
                                     status=401)
        user = request.match_info["user"]
        if user not in self.members:
            return web.json_response({"error": {"code": "Request_ResourceNotFound"}},
                                     status=404)
        asked = body.get("groupIds", [])
        assert len(asked) <= 20, "Graph refuses more than 20 group ids"
        return web.json_response({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
            "value": [group for group in asked if group in self.members[user]]})


class LoopbackHttpClient:
    """An MSAL ``http_client`` that sends every request to ``base_url``, whatever the host."""

    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")
        self.intended: list[str] = []  # the URLs MSAL asked for

    def _send(self, method: str, url: str, params: Any, data: Any,
              headers: Any) -> requests.Response:
        self.intended.append(url)
        parts = urlsplit(url)
        target = self._base + parts.path + (f"?{parts.query}" if parts.query else "")
        with requests.Session() as session:
            session.trust_env = False  # never a proxy: loopback only
            return session.request(method, target, params=params, data=data, headers=headers,
                                   timeout=5)

    def get(self, url: str, params: Any = None, headers: Any = None,
            **_kwargs: Any) -> requests.Response:
        """HTTP GET (MSAL's HttpClient interface)."""
        return self._send("GET", url, params, None, headers)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **_kwargs: Any) -> requests.Response:
        """HTTP POST (MSAL's HttpClient interface)."""
        return self._send("POST", url, params, data, headers)

    def close(self) -> None:
        """Nothing is kept open."""


@dataclass
class FakeSlackUserGroups(LoopbackServer):
    """``usergroups.users.list`` of the Slack Web API: ``groups = {S…: {U…}}``."""

    groups: dict[str, set[str]] = field(default_factory=dict)
    error: str | None = None  # answer ``{"ok": false, "error": …}`` (e.g. missing_scope)
    requests: list[Recorded] = field(default_factory=list)
    _server: TestServer | None = None

    @property
    def api_url(self) -> str:
        """The value for ``settings.slack.api_url``."""
        return f"{self.base_url}/api/"

    def routes(self, app: web.Application) -> None:
        """``usergroups.users.list``."""
        app.router.add_post("/api/usergroups.users.list", self._list)

    async def _list(self, request: web.Request) -> web.Response:
        form = dict(parse_qsl(await request.text()))
        self.requests.append(Recorded(request.method, request.path, dict(request.headers), form))
        if request.headers.get("Authorization") != f"Bearer {SLACK_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.error is not None:
            return web.json_response({"ok": False, "error": self.error})
        group = form.get("usergroup", "")
        if group not in self.groups:
            return web.json_response({"ok": False, "error": "no_such_subteam"})
        return web.json_response({"ok": True, "users": sorted(self.groups[group])})

"""A loopback OpenID issuer: metadata, JWKS and RS256 signing with a locally generated key.

botbuilder fetches metadata with blocking ``requests`` from inside the event loop,
so the server runs in its own thread (a loop-hosted server would deadlock).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeOpenIdServer:
    """``with FakeOpenIdServer() as issuer: issuer.metadata_url; issuer.token(...)``."""

    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex)
    endorsements: tuple[str, ...] = ("msteams",)
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def prefix(self) -> str:
        """A path of this issuer's own: the SDK caches metadata and keys by URL for the
        whole process, and a later issuer may get a port an earlier one used."""
        return f"/{self.kid}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}{self.prefix}/v1/.well-known/openidconfiguration"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)})
        return {"keys": [public]}

    def __enter__(self) -> FakeOpenIdServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                if self.path == f"{owner.prefix}/v1/.well-known/openidconfiguration":
                    body = {"issuer": ISSUER,
                            "jwks_uri": f"{owner.base_url}{owner.prefix}/v1/keys",
                            "id_token_signing_alg_values_supported": ["RS256"]}
                elif self.path == f"{owner.prefix}/v1/keys":
                    body = owner.jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def claims(self, app_id: str, service_url: str, **overrides: Any) -> dict[str, Any]:
        """Valid Bot Framework channel claims (override any of them)."""
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": app_id, "serviceurl": service_url,
                  "nbf": now - 10, "iat": now - 10, "exp": now + 3600}
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, claims: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None,
              kid: str | None = None) -> str:
        """An RS256 token signed with this issuer's key (or ``key``)."""
        return jwt.encode(claims, key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

"""A loopback Entra ID login service over TLS, as a private or sovereign cloud runs it.

Serves tenant discovery (``GET /{tenant}/v2.0/.well-known/openid-configuration``) and
the client-credentials grant (``POST /{tenant}/oauth2/v2.0/token``, client secret or
certificate assertion). MSAL only accepts an https authority, so the server presents a
certificate from a :class:`LoopbackCertificateAuthority` generated for the test.
It runs in its own thread: MSAL makes blocking calls from inside the event loop.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bot.governance.app_credential import AppCertificate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class LoopbackCertificateAuthority:
    """A throw-away CA that issues a server certificate for 127.0.0.1."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(
        ec.SECP256R1()))
    certificate: x509.Certificate | None = None

    def __post_init__(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("Almia test CA")).issuer_name(_name("Almia test CA"))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256()))

    def write_bundle(self, path: Path) -> Path:
        """The CA certificate as a PEM bundle (what a client is told to trust)."""
        assert self.certificate is not None
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def server_context(self, directory: Path) -> ssl.SSLContext:
        """A TLS server context with a fresh certificate for 127.0.0.1 signed by this CA."""
        assert self.certificate is not None
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1")).issuer_name(self.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256()))
        certificate_file = directory / "login-server.pem"
        key_file = directory / "login-server.key"
        certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate_file, key_file)
        return context


@dataclass(frozen=True)
class TokenGrant:
    """One token request the login service answered (``client`` is how it authenticated)."""

    tenant: str
    grant_type: str
    client_id: str
    scope: str
    client: str  # "secret", "certificate" or "refused"
    access_token: str | None


@dataclass
class FakeLoginService:
    """``with FakeLoginService(ca, tmp_path) as login: login.authority(tenant)``.

    ``client_secrets`` and ``client_keys`` (public keys of certificate credentials) say
    which clients may obtain tokens.
    """

    authority_ca: LoopbackCertificateAuthority
    directory: Path
    client_secrets: dict[str, str] = field(default_factory=dict)
    client_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    grants: list[TokenGrant] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def authority(self, tenant: str) -> str:
        """The login URL of a tenant (what ``ALMIA_TEAMS__LOGIN_URL`` holds)."""
        return f"{self.base_url}/{tenant}"

    def issued(self) -> list[str]:
        """The access tokens handed out so far."""
        return [grant.access_token for grant in self.grants if grant.access_token]

    def __enter__(self) -> FakeLoginService:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(f"GET {self.path}")
                parts = self.path.strip("/").split("/")
                if parts[1:] != ["v2.0", ".well-known", "openid-configuration"]:
                    self._send(404, {"error": "not_found"})
                    return
                tenant_url = owner.authority(parts[0])
                self._send(200, {
                    "issuer": f"{tenant_url}/v2.0",
                    "authorization_endpoint": f"{tenant_url}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{tenant_url}/oauth2/v2.0/token",
                    "jwks_uri": f"{tenant_url}/discovery/v2.0/keys",
                })

            def do_POST(self) -> None:
                owner.requests.append(f"POST {self.path}")
                parts = self.path.strip("/").split("/")
                if parts[1:] != ["oauth2", "v2.0", "token"]:
                    self._send(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                form = {name: values[0] for name, values in
                        parse_qs(self.rfile.read(length).decode()).items()}
                status, body = owner._grant(parts[0], form,
                                            f"{owner.authority(parts[0])}/oauth2/v2.0/token")
                self._send(status, body)

            def _send(self, status: int, body: dict[str, Any]) -> None:
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

    def _grant(self, tenant: str, form: dict[str, str],
               token_url: str) -> tuple[int, dict[str, Any]]:
        client_id = form.get("client_id", "")
        how = self._client_authentication(client_id, form, token_url)
        token = f"login-token-{uuid.uuid4().hex}" if how != "refused" else None
        self.grants.append(TokenGrant(tenant, form.get("grant_type", ""), client_id,
                                      form.get("scope", ""), how, token))
        if token is None or form.get("grant_type") != "client_credentials":
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215"}
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                     "access_token": token}

    def _client_authentication(self, client_id: str, form: dict[str, str],
                               token_url: str) -> str:
        secret = self.client_secrets.get(client_id)
        if secret is not None and form.get("client_secret") == secret:
            return "secret"
        key = self.client_keys.get(client_id)
        if key is not None and signed_by(form, key, token_url, client_id):
            return "certificate"
        return "refused"


def signed_by(form: dict[str, str], key: rsa.RSAPublicKey, token_url: str, client_id: str,
              thumbprint: str | None = None) -> bool:
    """Whether a token request's client assertion is signed with ``key``, for ``token_url``,
    by ``client_id`` (issuer and subject) and, when given, names the certificate's SHA-1
    ``thumbprint`` in its ``x5t`` header: what Entra ID checks of a certificate credential."""
    assertion = form.get("client_assertion")
    if not assertion or form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"):
        return False
    try:
        claims = jwt.decode(assertion, key, algorithms=["RS256", "PS256"], audience=token_url)
        x5t = str(jwt.get_unverified_header(assertion).get("x5t", ""))
    except jwt.InvalidTokenError:
        return False
    named = base64.urlsafe_b64decode(x5t + "=" * (-len(x5t) % 4)).hex()
    return (claims.get("iss") == client_id and claims.get("sub") == client_id
            and (thumbprint is None or named == thumbprint.lower()))


def app_certificate(directory: Path) -> tuple[AppCertificate, rsa.RSAPublicKey]:
    """A self-signed certificate as an app registration holds it: one PEM file with the
    private key and the certificate (what the Entra portal's upload takes), its thumbprint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "almia-graph")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    path = directory / "almia-graph.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
                     + certificate.public_bytes(serialization.Encoding.PEM))
    thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 (Entra's x5t)
    return AppCertificate(path, thumbprint), key.public_key()

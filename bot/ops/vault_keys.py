"""The key-encryption key held by HashiCorp Vault's transit engine (it never leaves Vault).

Data keys are wrapped with ``POST /v1/<mount>/encrypt/<key>`` and unwrapped with
``…/decrypt/<key>``; the wrapped form is Vault's ``vault:v<N>:…`` ciphertext. Rotation
(``almia keys rotate``) asks Vault for a new key version (``…/keys/<key>/rotate``), then
re-wraps every stored data key with ``…/rewrap/<key>`` — the data keys never appear in
clear outside Vault, and replicas keep running (Vault still decrypts older versions).

Calls are synchronous (the :class:`~bot.governance.crypto.KeyProvider` protocol): each process unwraps
a data key once and keeps it in memory, so Vault sees one call per key and process.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.governance.crypto import KeyUnavailable
from bot.ops.settings import VaultSettings


class VaultError(KeyUnavailable):
    """Vault refused or could not be reached (the message carries Vault's own error text)."""


class VaultTransit:
    """A :class:`~bot.governance.crypto.KeyProvider` backed by a transit key."""

    def __init__(self, settings: VaultSettings) -> None:
        if not settings.url:
            raise ValueError("ops.vault.url is not set")
        self._base = settings.url.rstrip("/")
        self._mount = settings.mount.strip("/")
        self._key = settings.key_name
        self._timeout = settings.timeout_seconds
        self._namespace = settings.namespace
        self._context = (ssl.create_default_context(cafile=str(settings.ca_file))
                         if settings.ca_file else None)
        token = settings.token.get_secret_value() if settings.token else None
        if settings.token_file is not None:
            token = _read_token(settings.token_file)
        if not token:
            raise KeyUnavailable("ops.vault needs token or token_file")
        self._token = token

    @property
    def key_id(self) -> str:
        """The transit key's name (its versions are inside each wrapped key)."""
        return f"vault:{self._mount}/{self._key}"

    def wrap(self, data_key: bytes) -> bytes:
        """Vault's ciphertext of ``data_key`` under the key's latest version."""
        data = self._post(f"encrypt/{self._key}",
                          {"plaintext": base64.b64encode(data_key).decode("ascii")})
        return str(data["ciphertext"]).encode("ascii")

    def unwrap(self, wrapped: bytes) -> bytes:
        """The data key; :class:`KeyUnavailable` when Vault cannot decrypt it."""
        ciphertext = _ciphertext(wrapped)
        data = self._post(f"decrypt/{self._key}", {"ciphertext": ciphertext})
        return base64.b64decode(str(data["plaintext"]))

    def rewrap(self, wrapped: bytes) -> bytes:
        """``wrapped`` under the key's latest version, without the data key leaving Vault."""
        data = self._post(f"rewrap/{self._key}", {"ciphertext": _ciphertext(wrapped)})
        return str(data["ciphertext"]).encode("ascii")

    def rotate(self) -> int:
        """A new version of the transit key; returns the latest version number."""
        self._request("POST", f"keys/{self._key}/rotate", {})
        return self.latest_version()

    def latest_version(self) -> int:
        """The version new wraps use."""
        data = self._request("GET", f"keys/{self._key}", None)
        return int(data["latest_version"])

    @staticmethod
    def version_of(wrapped: bytes) -> int | None:
        """The key version a wrapped data key names (``vault:v3:…`` → 3)."""
        try:
            prefix, version, _rest = wrapped.decode("ascii").split(":", 2)
        except (UnicodeDecodeError, ValueError):
            return None
        if prefix != "vault" or not version.startswith("v") or not version[1:].isdigit():
            return None
        return int(version[1:])

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", path, body)

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self._base}/v1/{self._mount}/{path}"
        if not url.startswith(("https://", "http://")):
            raise VaultError("ops.vault.url must be an http(s) URL")
        headers = {"X-Vault-Token": self._token, "Content-Type": "application/json"}
        if self._namespace:
            headers["X-Vault-Namespace"] = self._namespace
        payload = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=payload, headers=headers,  # noqa: S310
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout,  # noqa: S310
                                        context=self._context) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise VaultError(f"Vault answered {error.code} to {path}: "
                             f"{_errors(error.read())}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise VaultError(f"Vault unreachable ({type(error).__name__})") from None
        if not raw:
            return {}
        data = json.loads(raw).get("data") or {}
        if not isinstance(data, dict):
            raise VaultError(f"unexpected answer from Vault to {path}")
        return data


def _ciphertext(wrapped: bytes) -> str:
    try:
        text = wrapped.decode("ascii")
    except UnicodeDecodeError:
        raise KeyUnavailable("not a key wrapped by Vault") from None
    if not text.startswith("vault:"):
        raise KeyUnavailable("not a key wrapped by Vault")
    return text


def _errors(raw: bytes) -> str:
    try:
        errors = json.loads(raw).get("errors") or []
    except (ValueError, AttributeError):
        return "no details"
    return "; ".join(str(error)[:200] for error in errors[:3]) or "no details"


def _read_token(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise KeyUnavailable(f"cannot read the Vault token file {path} "
                             f"({type(error).__name__})") from None

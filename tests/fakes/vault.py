"""A fake HashiCorp Vault transit engine on loopback, speaking its HTTP API.

``POST /v1/<mount>/encrypt/<key>``, ``decrypt``, ``rewrap``, ``POST keys/<key>/rotate``,
``GET keys/<key>``, with Vault's ``vault:v<N>:<base64>`` ciphertexts (AES-256-GCM, one key
per version), ``X-Vault-Token`` checked, ``{"errors": [...]}`` answers. It runs its own event
loop in a thread: the provider under test makes blocking calls, as it does in production.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN = "hvs.fake-vault-token"


@dataclass
class FakeVault:
    """``with FakeVault() as vault: vault.url``; ``vault.calls`` records (method, path)."""

    mount: str = "transit"
    key: str = "almia"
    token: str = TOKEN
    down: bool = False  # answer 503 to everything (sealed Vault)
    calls: list[tuple[str, str]] = field(default_factory=list)
    versions: list[bytes] = field(default_factory=lambda: [secrets.token_bytes(32)])
    min_decryption_version: int = 1
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _port: int = 0

    @property
    def url(self) -> str:
        """The base URL (``ops.vault.url``)."""
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> Self:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-vault", daemon=True)
        self._thread.start()
        ready.wait(30)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        prefix = f"/v1/{self.mount}"
        app.router.add_post(f"{prefix}/encrypt/{{name}}", self._encrypt)
        app.router.add_post(f"{prefix}/decrypt/{{name}}", self._decrypt)
        app.router.add_post(f"{prefix}/rewrap/{{name}}", self._rewrap)
        app.router.add_post(f"{prefix}/keys/{{name}}/rotate", self._rotate)
        app.router.add_get(f"{prefix}/keys/{{name}}", self._read_key)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the API ------------------------------------------------------------------------
    def _check(self, request: web.Request) -> web.Response | None:
        self.calls.append((request.method, request.path))
        if self.down:
            return _errors(503, "Vault is sealed")
        if request.headers.get("X-Vault-Token") != self.token:
            return _errors(403, "permission denied")
        if request.match_info["name"] != self.key:
            return _errors(400, "encryption key not found")
        return None

    async def _encrypt(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        plain = base64.b64decode((await request.json())["plaintext"])
        return _data({"ciphertext": self._seal(plain), "key_version": len(self.versions)})

    async def _decrypt(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        plain = self._open((await request.json())["ciphertext"])
        if plain is None:
            return _errors(400, "cipher: message authentication failed")
        return _data({"plaintext": base64.b64encode(plain).decode("ascii")})

    async def _rewrap(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        plain = self._open((await request.json())["ciphertext"])
        if plain is None:
            return _errors(400, "cipher: message authentication failed")
        return _data({"ciphertext": self._seal(plain), "key_version": len(self.versions)})

    async def _rotate(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        self.versions.append(secrets.token_bytes(32))
        return web.Response(status=204)

    async def _read_key(self, request: web.Request) -> web.Response:
        refused = self._check(request)
        if refused is not None:
            return refused
        return _data({"name": self.key, "type": "aes256-gcm96",
                      "latest_version": len(self.versions),
                      "min_decryption_version": self.min_decryption_version})

    def _seal(self, plain: bytes) -> str:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.versions[-1]).encrypt(nonce, plain, None)
        return f"vault:v{len(self.versions)}:{base64.b64encode(nonce + sealed).decode()}"

    def _open(self, ciphertext: str) -> bytes | None:
        try:
            prefix, version, payload = ciphertext.split(":", 2)
            number = int(version.removeprefix("v"))
            if prefix != "vault" or not self.min_decryption_version <= number <= len(
                    self.versions):
                return None
            raw = base64.b64decode(payload)
            return AESGCM(self.versions[number - 1]).decrypt(raw[:12], raw[12:], None)
        except (ValueError, InvalidTag):
            return None


def _data(data: dict[str, Any]) -> web.Response:
    return web.json_response({"request_id": secrets.token_hex(8), "data": data})


def _errors(status: int, message: str) -> web.Response:
    return web.json_response({"errors": [message]}, status=status)

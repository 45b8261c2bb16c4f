"""Expiring download links signed with a server secret (HMAC-SHA256), valid on every replica."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode


class LinkSigner:
    """Signs ``/files/<id>/<name>?expires=…&signature=…`` links and checks them."""

    def __init__(self, secret: bytes, *, ttl_seconds: float, base_url: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 32:
            raise ValueError("the link secret must be at least 32 bytes")
        self._secret = secret
        self._ttl = ttl_seconds
        self._base = base_url.rstrip("/")
        self._clock = clock

    def url(self, file_id: str, name: str, *, absolute: bool = False) -> str:
        """A link valid for the configured time (absolute with the public base URL)."""
        expires = int(self._clock() + self._ttl)
        query = urlencode({"expires": expires, "signature": self._sign(file_id, expires)})
        path = f"/files/{file_id}/{quote(name, safe='')}?{query}"
        return f"{self._base}{path}" if absolute and self._base else path

    def verify(self, file_id: str, expires: str, signature: str) -> bool:
        """True for an unexpired link this deployment signed (constant-time comparison)."""
        try:
            moment = int(expires)
        except ValueError:
            return False
        if moment < self._clock():
            return False
        return hmac.compare_digest(self._sign(file_id, moment), signature)

    def _sign(self, file_id: str, expires: int) -> str:
        return hmac.new(self._secret, f"{file_id}\x1f{expires}".encode(),
                        hashlib.sha256).hexdigest()


def load_link_secret(path: Path) -> bytes:
    """The secret in ``path``, created owner-only on first use (shared by replicas via settings)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                 stat.S_IRUSR | stat.S_IWUSR)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()

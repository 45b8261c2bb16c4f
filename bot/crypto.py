"""Encryption at rest: AES-256-GCM data keys, wrapped by a key-encryption key (KEK).

Stored content (conversation text, template bodies) is encrypted with a *data key*.
Data keys are kept in the database only wrapped by the KEK, which lives outside the
application: a local key file by default, or an external KMS/HSM through a
:class:`KeyProvider` (the reference customer keeps its keys with an external provider).

Design note for an external KMS: implement ``wrap``/``unwrap`` with the provider's
encrypt/decrypt API (the KEK never leaves it). Unwrapped data keys are cached in
memory for the process lifetime, so the provider sees one call per data key and
process, not one per record. Rotating the KEK means re-wrapping the few data keys;
rotating a data key needs no re-encryption of old records (each names its key).

Losing the KEK makes stored content unreadable, not the service unavailable:
:meth:`ContentCipher.decrypt` then returns None and callers show a placeholder.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"
_WRAP_CONTEXT = b"almia-data-key"


class KeyProvider(Protocol):
    """Wraps and unwraps data keys with a key-encryption key it never discloses."""

    @property
    def key_id(self) -> str:
        """Identifies the KEK (stored with each wrapped data key)."""
        ...

    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt a data key."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes:
        """Decrypt a data key; raises :class:`KeyUnavailable` when it cannot."""
        ...


class KeyUnavailable(Exception):
    """The KEK is missing or does not match: content stays unreadable."""


class LocalKeyFile:
    """A 256-bit KEK in a file readable by the service account only (created if absent)."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self._path = path
        if not path.exists():
            if not create:
                raise KeyUnavailable(f"no key file at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                 stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        key = path.read_bytes()
        if len(key) != 32:
            raise KeyUnavailable(f"{path} does not hold a 256-bit key")
        self._aead = AESGCM(key)
        self._key_id = "local:" + base64.urlsafe_b64encode(
            AESGCM(key).encrypt(b"\0" * 12, b"key-id", None)[:6]).decode()

    @property
    def key_id(self) -> str:
        """A fingerprint of the key (not the key)."""
        return self._key_id

    def wrap(self, data_key: bytes) -> bytes:
        """AES-GCM with a random nonce; the nonce is prepended."""
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, data_key, _WRAP_CONTEXT)

    def unwrap(self, wrapped: bytes) -> bytes:
        """The data key, or :class:`KeyUnavailable` if this KEK did not wrap it."""
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:], _WRAP_CONTEXT)
        except InvalidTag:
            raise KeyUnavailable("the key-encryption key does not match") from None


class ContentCipher:
    """Encrypts text with the active data key; decrypts with whichever key a record names."""

    def __init__(self, active_key_id: str, keys: dict[str, bytes]) -> None:
        self._active = active_key_id
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}

    def encrypt(self, plaintext: str, context: str) -> str:
        """``enc1:<key id>:<base64 nonce+ciphertext>``; ``context`` binds it to its row."""
        nonce = secrets.token_bytes(12)
        sealed = self._keys[self._active].encrypt(nonce, plaintext.encode("utf-8"),
                                                  context.encode("utf-8"))
        return f"{PREFIX}{self._active}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, context: str) -> str | None:
        """The plaintext; text stored before encryption is returned as is; None if unreadable."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            key_id, payload = stored[len(PREFIX):].split(":", 1)
            raw = base64.b64decode(payload)
            aead = self._keys[key_id]
            return aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")
        except (KeyError, ValueError, InvalidTag):
            return None

"""Encryption at rest: AES-256-GCM data keys, wrapped by a key-encryption key (KEK).

Stored content is encrypted with a *data key*. Each person's conversation text,
feedback comments, files and job artefacts use that person's own data key; service
content (template bodies, text written before per-user keys) uses a service key.
Data keys are kept in the database only wrapped by the KEK, which lives outside the
application: a local key file by default, or an external KMS/HSM through a
:class:`KeyProvider` (the reference customer keeps its keys with an external provider).
Erasing a person deletes their data key (crypto-shredding): a copy of their content
that survives anywhere (a backup, a free page) can no longer be decrypted.

Design note for an external KMS: implement ``wrap``/``unwrap`` with the provider's
encrypt/decrypt API (the KEK never leaves it). Unwrapped data keys are cached in
memory for the process lifetime, so the provider sees one call per data key and
process, not one per record. Rotating the KEK means re-wrapping the data keys;
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
BINARY_PREFIX = b"\x00almia-enc1\x00"
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


class KeyFileExposed(KeyUnavailable):
    """The key file can be read or changed by other accounts than the service's."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(
            f"the key file {path} is accessible to other users (mode {mode:04o}); "
            f"restrict it with: chmod 600 {path}")
        self.path = path


OWNER_ONLY_UMASK = 0o077


def private_directory(path: Path) -> Path:
    """Create ``path`` (if absent) readable by this account only, and keep what it creates so.

    Sets the process umask to 077: the database, its journal, Chroma's files and the keys
    created afterwards are owner-only. An existing directory owned by this account is
    restricted to 0700 (files inside are then out of others' reach whatever their mode).
    """
    os.umask(OWNER_ONLY_UMASK)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    restrict(path, 0o700)
    return path


def restrict(path: Path, mode: int) -> None:
    """``chmod mode`` when ``path`` exists and this account owns it (POSIX only)."""
    if os.name != "posix":
        return
    try:
        status = path.stat()
        if status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) != mode:
            path.chmod(mode)
    except FileNotFoundError:
        return


class LocalKeyFile:
    """A 256-bit KEK in a file readable by the service account only (created if absent).

    An existing key file that other accounts can read or write is refused
    (:class:`KeyFileExposed`, whose message gives the ``chmod`` that fixes it).
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self._path = path
        if not path.exists():
            if not create:
                raise KeyUnavailable(f"no key file at {path}")
            _create_key_file(path)
        _check_private(path)
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


def _create_key_file(path: Path) -> None:
    """A new random key, 0600, in a directory created 0700."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        restrict(path.parent, 0o700)  # whatever the umask
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))


def _check_private(path: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileExposed(path, mode)


class ContentCipher:
    """A key ring: encrypts with the active data key or a named one; decrypts with the key a
    record names. Text is ``enc1:<key id>:<base64 nonce+ciphertext>``; binary content is
    :data:`BINARY_PREFIX`, the key id's length (one byte), the key id, nonce and ciphertext.
    """

    def __init__(self, active_key_id: str, keys: dict[str, bytes]) -> None:
        self._active = active_key_id
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}

    def activate(self, key_id: str) -> None:
        """Encrypt with ``key_id`` when no key is named (it must be in the ring)."""
        if key_id not in self._keys:
            raise KeyUnavailable(f"data key {key_id} is not loaded")
        self._active = key_id

    def add(self, key_id: str, key: bytes) -> None:
        """Make a data key usable (a person's key, unwrapped)."""
        self._keys[key_id] = AESGCM(key)

    def forget(self, key_id: str) -> None:
        """Drop a data key from memory (its owner was erased)."""
        self._keys.pop(key_id, None)

    def knows(self, key_id: str) -> bool:
        """True when ``key_id`` is in the ring."""
        return key_id in self._keys

    def encrypt(self, plaintext: str, context: str, key_id: str | None = None) -> str:
        """``enc1:<key id>:<base64 nonce+ciphertext>``; ``context`` binds it to its row."""
        key_id = key_id or self._active
        sealed = self._seal(plaintext.encode("utf-8"), context, key_id)
        return f"{PREFIX}{key_id}:{base64.b64encode(sealed).decode('ascii')}"

    def decrypt(self, stored: str, context: str) -> str | None:
        """The plaintext; text stored before encryption is returned as is; None if unreadable."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            key_id, payload = stored[len(PREFIX):].split(":", 1)
            plain = self._open(base64.b64decode(payload), context, key_id)
            return None if plain is None else plain.decode("utf-8")
        except ValueError:  # also UnicodeDecodeError and bad base64
            return None

    def encrypt_bytes(self, data: bytes, context: str, key_id: str | None = None) -> bytes:
        """Binary content sealed with the active key or ``key_id``, bound to ``context``."""
        key_id = key_id or self._active
        name = key_id.encode("ascii")
        return BINARY_PREFIX + bytes([len(name)]) + name + self._seal(data, context, key_id)

    def decrypt_bytes(self, stored: bytes, context: str) -> bytes | None:
        """The plaintext; content stored unsealed is returned as is; None if unreadable."""
        key_id = binary_key_id(stored)
        if key_id is None:
            return None if stored.startswith(BINARY_PREFIX) else stored
        start = len(BINARY_PREFIX) + 1 + len(key_id)
        return self._open(stored[start:], context, key_id)

    def _seal(self, data: bytes, context: str, key_id: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._keys[key_id].encrypt(nonce, data, context.encode("utf-8"))

    def _open(self, sealed: bytes, context: str, key_id: str) -> bytes | None:
        aead = self._keys.get(key_id)
        if aead is None:
            return None
        try:
            return aead.decrypt(sealed[:12], sealed[12:], context.encode("utf-8"))
        except (InvalidTag, ValueError):
            return None


def text_key_id(stored: str) -> str | None:
    """The data key a sealed text names; None for text stored in clear."""
    if not stored.startswith(PREFIX):
        return None
    key_id, _, _ = stored[len(PREFIX):].partition(":")
    return key_id or None


def binary_key_id(stored: bytes) -> str | None:
    """The data key sealed binary content names; None for content stored in clear."""
    if not stored.startswith(BINARY_PREFIX) or len(stored) <= len(BINARY_PREFIX):
        return None
    length = stored[len(BINARY_PREFIX)]
    name = stored[len(BINARY_PREFIX) + 1:len(BINARY_PREFIX) + 1 + length]
    try:
        return name.decode("ascii") if len(name) == length and length else None
    except UnicodeDecodeError:
        return None

"""Sealing content with its owner's key, so that erasing a person erases their content."""

from __future__ import annotations

import base64
from typing import Protocol, runtime_checkable


class OwnerSealer(Protocol):
    """Encrypts and decrypts stored content with the data key of the person it belongs to."""

    async def seal_bytes(self, owner: str, data: bytes, context: str) -> bytes:
        """``data`` encrypted for ``owner`` and bound to ``context`` (as is when off)."""
        ...

    async def unseal_bytes(self, owner: str, stored: bytes, context: str) -> bytes | None:
        """The plaintext; None when the owner's key is gone (erased) or lost."""
        ...


@runtime_checkable
class QuickSealer(OwnerSealer, Protocol):
    """A sealer that can also seal with the owner's key as this process last knew it."""

    async def seal_bytes_quickly(self, owner: str, data: bytes, context: str) -> bytes:
        """``data`` sealed without a round trip for the key, for short-lived rows: a key
        erased meanwhile by another process leaves the row unreadable, that is erased too."""
        ...


class PlainSealer:
    """No encryption (encryption at rest turned off)."""

    async def seal_bytes(self, owner: str, data: bytes, context: str) -> bytes:
        """``data`` unchanged."""
        return data

    async def unseal_bytes(self, owner: str, stored: bytes, context: str) -> bytes | None:
        """``stored`` unchanged."""
        return stored


async def seal_text(sealer: OwnerSealer, owner: str, text: str, context: str) -> str:
    """Text sealed for a text column (base64 of the sealed UTF-8 bytes)."""
    sealed = await sealer.seal_bytes(owner, text.encode("utf-8"), context)
    return base64.b64encode(sealed).decode("ascii")


async def seal_text_quickly(sealer: OwnerSealer, owner: str, text: str, context: str) -> str:
    """:func:`seal_text` with :meth:`QuickSealer.seal_bytes_quickly` when the sealer has it."""
    if not isinstance(sealer, QuickSealer):
        return await seal_text(sealer, owner, text, context)
    sealed = await sealer.seal_bytes_quickly(owner, text.encode("utf-8"), context)
    return base64.b64encode(sealed).decode("ascii")


async def unseal_text(sealer: OwnerSealer, owner: str, stored: str, context: str) -> str | None:
    """The text of :func:`seal_text`; None when unreadable."""
    try:
        sealed = base64.b64decode(stored.encode("ascii"), validate=True)
    except ValueError:
        return None
    plain = await sealer.unseal_bytes(owner, sealed, context)
    if plain is None:
        return None
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        return None



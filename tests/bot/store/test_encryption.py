"""Encryption at rest: stored text is ciphertext; losing the key loses content, not service."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.crypto import ContentCipher, KeyUnavailable, LocalKeyFile
from bot.messages import Channel, Message, Reply, Space, User
from bot.store import AuditEntry, Store


def _message(text_: str) -> Message:
    return Message(text=text_, user=User("u1"), space=Space("web:default"), channel=Channel.WEB,
                   thread_id="t1")


async def _open(tmp_path: Path, key_file: Path) -> Store:
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}",
                       key_provider=LocalKeyFile(key_file))
    await store.migrate()
    return store


async def test_turns_are_stored_encrypted_and_read_back(tmp_path: Path) -> None:
    store = await _open(tmp_path, tmp_path / "keys" / "kek.key")
    try:
        await store.record_exchange(_message("Mon IBAN est FR7630006000011234567890189"),
                                    Reply("Bien noté."), [], AuditEntry("message", "ok"))
        async with store.engine.connect() as connection:
            stored = [row[0] for row in await connection.execute(text("SELECT text FROM turns"))]
        assert all(value.startswith("enc1:") for value in stored)
        assert not any("FR76" in value for value in stored)
        history = await store.history(_message("suite"), limit=10)
        assert [turn.content for turn in history] == [
            "Mon IBAN est FR7630006000011234567890189", "Bien noté."]
    finally:
        await store.close()
    assert oct((tmp_path / "keys" / "kek.key").stat().st_mode & 0o777) == "0o600"


async def test_lost_key_makes_content_unreadable_not_the_service(tmp_path: Path) -> None:
    store = await _open(tmp_path, tmp_path / "kek-1.key")
    await store.record_exchange(_message("ancien"), Reply("ancienne réponse"), [],
                                AuditEntry("message", "ok"))
    await store.close()
    store = await _open(tmp_path, tmp_path / "kek-2.key")  # the first key is gone
    try:
        assert await store.history(_message("x"), limit=10) == ()
        await store.record_exchange(_message("nouveau"), Reply("nouvelle réponse"), [],
                                    AuditEntry("message", "ok"))
        history = await store.history(_message("x"), limit=10)
        assert [turn.content for turn in history] == ["nouveau", "nouvelle réponse"]
    finally:
        await store.close()


def test_ciphertext_is_bound_to_its_row_and_key(tmp_path: Path) -> None:
    cipher = ContentCipher("k1", {"k1": b"\x01" * 32})
    sealed = cipher.encrypt("secret", "turn:a")
    assert cipher.decrypt(sealed, "turn:a") == "secret"
    assert cipher.decrypt(sealed, "turn:b") is None  # moved to another row
    assert cipher.decrypt("texte d'avant le chiffrement", "turn:a") == "texte d'avant le chiffrement"
    assert ContentCipher("k2", {"k2": b"\x02" * 32}).decrypt(sealed, "turn:a") is None
    (tmp_path / "short.key").write_bytes(b"too short")
    with pytest.raises(KeyUnavailable):
        LocalKeyFile(tmp_path / "short.key")
    with pytest.raises(KeyUnavailable):
        LocalKeyFile(tmp_path / "absent.key", create=False)

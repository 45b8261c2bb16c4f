"""Encryption at rest: stored text is ciphertext; losing the key loses content, not service."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.governance.crypto import (
    ContentCipher,
    KeyFileExposed,
    KeyUnavailable,
    LocalKeyFile,
    private_directory,
)
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


@pytest.fixture
def umask() -> Iterator[None]:
    """The process umask is restored after a test that changes it."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.mark.usefixtures("umask")
def test_data_dir_and_what_it_holds_are_owner_only(tmp_path: Path) -> None:
    os.umask(0o022)
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    assert private_directory(data_dir) == data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    (data_dir / "chroma.sqlite3").write_bytes(b"")  # as Chroma or any library would
    assert stat.S_IMODE((data_dir / "chroma.sqlite3").stat().st_mode) == 0o600
    LocalKeyFile(data_dir / "keys" / "kek.key")
    assert stat.S_IMODE((data_dir / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "keys" / "kek.key").stat().st_mode) == 0o600


@pytest.mark.usefixtures("umask")
async def test_database_files_are_owner_only_even_when_created_before(tmp_path: Path) -> None:
    os.umask(0o022)
    database = tmp_path / "almia.db"
    database.write_bytes(b"")
    database.chmod(0o644)
    store = Store.open(f"sqlite+aiosqlite:///{database}")
    await store.migrate()
    try:
        await store.record_event(_message(""), AuditEntry("message", "ok"))
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        await store.close()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "kek.key"
    LocalKeyFile(key_file)
    key_file.chmod(0o644)
    with pytest.raises(KeyFileExposed) as refused:
        LocalKeyFile(key_file)
    assert str(key_file) in str(refused.value) and "chmod 600" in str(refused.value)
    key_file.chmod(0o600)
    LocalKeyFile(key_file)


@pytest.mark.postgres
async def test_replicas_starting_together_on_a_new_database_share_one_service_key(
        tmp_path: Path, postgres_schema: str) -> None:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    from tests.conftest import POSTGRES_URL

    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{postgres_schema}"'))
    key_file = tmp_path / "keys" / "kek.key"
    LocalKeyFile(key_file)  # one KEK for every replica, as deployed
    replicas = [Store.open(POSTGRES_URL, key_provider=LocalKeyFile(key_file),
                           connect_args={"server_settings": {"search_path": postgres_schema}})
                for _ in range(4)]
    try:
        await asyncio.gather(*(replica.migrate() for replica in replicas))
        sealed = replicas[0].seal("a reviewer's chat", "campaign-route:teams:x")
        # what one replica seals with the service key, every other one opens
        assert [replica.unseal(sealed, "campaign-route:teams:x") for replica in replicas] == [
            "a reviewer's chat"] * 4
        async with replicas[0].engine.connect() as connection:
            services = (await connection.execute(text(
                "SELECT count(*) FROM data_keys WHERE owner_id IS NULL"))).scalar_one()
        assert services == 1
    finally:
        for replica in replicas:
            await replica.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{postgres_schema}" CASCADE'))
        await admin.dispose()

"""Keys held by Vault's transit engine (a loopback fake of its HTTP API) and KEK rotation."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.governance.crypto import KeyUnavailable, LocalKeyFile
from bot.ops.keys import key_status, rotate_local, rotate_vault
from bot.ops.settings import VaultSettings
from bot.ops.vault_keys import VaultTransit
from bot.store import Store
from bot.store.tables import DataKey
from tests.fakes.vault import TOKEN, FakeVault

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Le dossier de Mme Leroy est en litige."


def _vault(fake: FakeVault, **changes: object) -> VaultTransit:
    fields: dict[str, object] = {"url": fake.url, "token": TOKEN}
    fields.update(changes)
    return VaultTransit(VaultSettings.model_validate(fields))


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}"


async def _write(url: str, provider: VaultTransit | LocalKeyFile, owner: str) -> str:
    store = Store.open(url, key_provider=provider)
    try:
        await store.migrate()
        return await store.seal_text(owner, SECRET, "turn:t1")
    finally:
        await store.close()


async def _read(url: str, provider: VaultTransit | LocalKeyFile, owner: str,
                sealed: str) -> str | None:
    store = Store.open(url, key_provider=provider)
    try:
        await store.migrate()
        return await store.unseal_text(owner, sealed, "turn:t1")
    finally:
        await store.close()


def test_data_keys_are_wrapped_and_unwrapped_by_vault() -> None:
    with FakeVault() as fake:
        vault = _vault(fake)
        wrapped = vault.wrap(b"k" * 32)
        assert wrapped.startswith(b"vault:v1:") and b"k" * 32 not in wrapped
        assert vault.unwrap(wrapped) == b"k" * 32
        assert VaultTransit.version_of(wrapped) == 1
        assert vault.key_id == "vault:transit/almia"
        with pytest.raises(KeyUnavailable, match="403"):
            _vault(fake, token="hvs.wrong").unwrap(wrapped)
        with pytest.raises(KeyUnavailable, match="not a key wrapped by Vault"):
            vault.unwrap(b"\x00" * 40)
        fake.down = True
        with pytest.raises(KeyUnavailable, match="503"):
            vault.wrap(b"k" * 32)


def test_the_token_can_come_from_a_mounted_file(tmp_path: Path) -> None:
    token_file = tmp_path / "vault-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    with FakeVault() as fake:
        vault = _vault(fake, token=None, token_file=token_file)
        assert vault.unwrap(vault.wrap(b"x" * 32)) == b"x" * 32
    with pytest.raises(KeyUnavailable, match="token"):
        VaultTransit(VaultSettings(url="http://127.0.0.1:1"))


async def test_content_sealed_through_vault_is_read_by_another_process_after_rotation(
        tmp_path: Path) -> None:
    url = _url(tmp_path)
    with FakeVault() as fake:
        sealed = await _write(url, _vault(fake), "web:alice")
        assert SECRET not in sealed
        serving = Store.open(url, key_provider=_vault(fake))  # a replica running meanwhile
        await serving.migrate()
        try:
            report = await rotate_vault(serving.engine, _vault(fake))
            assert report.version == 2 and report.rewrapped == 2  # service key + alice's
            assert report.unreadable == 0
            assert await key_status(serving.engine) == {"vault:transit/almia v2": 2}
            # the running replica keeps reading and writing
            assert await serving.unseal_text("web:alice", sealed, "turn:t1") == SECRET
            again = await serving.seal_text("web:alice", SECRET, "turn:t2")
            assert await serving.unseal_text("web:alice", again, "turn:t2") == SECRET
        finally:
            await serving.close()
        fake.min_decryption_version = 2  # the old key version is retired in Vault
        decrypts = sum(1 for _method, path in fake.calls if "/decrypt/" in path)
        assert await _read(url, _vault(fake), "web:alice", sealed) == SECRET
        # a new process unwraps each data key once (service key, alice's), then caches it
        assert sum(1 for _method, path in fake.calls if "/decrypt/" in path) - decrypts == 2
        store = Store.open(url)
        try:
            second = await rotate_vault(store.engine, _vault(fake))
        finally:
            await store.close()
        assert second.version == 3 and second.rewrapped == 2


async def test_local_key_file_rotation_rewraps_data_keys(tmp_path: Path) -> None:
    url = _url(tmp_path)
    old = LocalKeyFile(tmp_path / "keys" / "old.key")
    sealed = await _write(url, old, "web:bob")
    store = Store.open(url)
    try:
        with pytest.raises(KeyUnavailable):
            await rotate_local(store.engine, old, tmp_path / "keys" / "old.key")
        report = await rotate_local(store.engine, old, tmp_path / "keys" / "new.key")
        assert (report.rewrapped, report.unreadable) == (2, 0)
        assert (await rotate_local(store.engine, old, tmp_path / "keys" / "new.key")
                ).unchanged == 2  # run twice: nothing left to do
        async with store.engine.connect() as connection:
            keks = set((await connection.execute(select(DataKey.kek_id))).scalars())
    finally:
        await store.close()
    new = LocalKeyFile(tmp_path / "keys" / "new.key")
    assert keks == {new.key_id}
    (tmp_path / "keys" / "old.key").unlink()  # the old KEK is no longer needed
    assert await _read(url, new, "web:bob", sealed) == SECRET


async def test_keys_rotate_command_with_vault(tmp_path: Path) -> None:
    url = _url(tmp_path)
    with FakeVault() as fake:
        sealed = await _write(url, _vault(fake), "web:carol")
        environment = {**os.environ, "ALMIA_DATA_DIR": str(tmp_path / "data"),
                       "ALMIA_DATABASE_URL": url, "ALMIA_OPS__VAULT__URL": fake.url,
                       "ALMIA_OPS__VAULT__TOKEN": TOKEN}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "keys", "rotate", cwd=ROOT, env=environment,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        assert "2 data key(s) re-wrapped" in " ".join(out.decode().split())
        store = Store.open(url)
        try:
            async with store.engine.connect() as connection:
                wrapped = list((await connection.execute(select(DataKey.wrapped))).scalars())
        finally:
            await store.close()
        assert {VaultTransit.version_of(base64.b64decode(w)) for w in wrapped} == {2}
        fake.min_decryption_version = 2
        assert await _read(url, _vault(fake), "web:carol", sealed) == SECRET

"""The store on both databases: SQLite in a temporary file, PostgreSQL in a schema of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.governance.crypto import KeyProvider, LocalKeyFile
from bot.store import Store
from tests.conftest import POSTGRES_URL

_DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def _opened(kind: str, tmp_path: Path, schema: str,
                  key_provider: KeyProvider | None) -> AsyncIterator[Store]:
    if kind == "sqlite":
        created = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}",
                             key_provider=key_provider)
        await created.migrate()
        yield created
        await created.close()
        return
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    created = Store.open(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}},
                         key_provider=key_provider)
    try:
        await created.migrate()
        yield created
    finally:
        await created.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture(params=_DATABASES)
async def store(request: pytest.FixtureRequest, tmp_path: Path,
                postgres_schema: str) -> AsyncIterator[Store]:
    async for opened in _opened(request.param, tmp_path, postgres_schema, None):
        yield opened


@pytest.fixture(params=_DATABASES)
async def encrypted_store(request: pytest.FixtureRequest, tmp_path: Path,
                          postgres_schema: str) -> AsyncIterator[Store]:
    """A store with encryption at rest (a key file in the temporary directory)."""
    key_provider = LocalKeyFile(tmp_path / "keys" / "kek.key")
    async for opened in _opened(request.param, tmp_path, postgres_schema, key_provider):
        yield opened

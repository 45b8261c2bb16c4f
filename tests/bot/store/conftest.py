"""The store on both databases: SQLite in a temporary file, PostgreSQL in a schema of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import Store
from tests.conftest import POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path,
                postgres_schema: str) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        created = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}")
        await created.migrate()
        yield created
        await created.close()
        return
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{postgres_schema}"'))
    created = Store.open(POSTGRES_URL,
                         connect_args={"server_settings": {"search_path": postgres_schema}})
    try:
        await created.migrate()
        yield created
    finally:
        await created.close()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{postgres_schema}" CASCADE'))
        await admin.dispose()

"""Several processes on one database: the audit chain stays one chain."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import text

from bot.governance.audit import verify_chain
from bot.store import Store

_ROOT = Path(__file__).resolve().parents[3]
_RECORDS_EACH = 150


async def _start(url: str, schema: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bot.store.audit_appender", url, schema, str(_RECORDS_EACH),
        cwd=_ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    assert await process.stdout.readline() == b"ready\n"
    return process


async def test_two_processes_appending_keep_one_audit_chain(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    schema = ""
    if store.dialect == "postgresql":
        async with store.engine.connect() as connection:
            schema = str(await connection.scalar(text("SHOW search_path")))
    processes = [await _start(url, schema) for _ in range(2)]
    for process in processes:  # both start appending at once
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    for process in processes:
        out, _ = await process.communicate()
        assert process.returncode == 0
        assert out == b"done\n"
    report = verify_chain(await store.audit_records())
    assert report.records == 2 * _RECORDS_EACH
    assert report.problems == ()

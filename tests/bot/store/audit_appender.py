"""Appends audit records from a process of its own (see test_processes.py).

``python -m tests.bot.store.audit_appender URL SCHEMA COUNT``: prints ``ready`` once
connected, waits for a line on stdin (so that every process starts together), appends
COUNT records (ten at a time, so that they go in batches), prints ``done``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from bot.messages import Channel, Message, Space, User
from bot.store import AuditEntry, Store


async def append(url: str, schema: str, count: int) -> None:
    """Append ``count`` audit records as fast as the store allows."""
    connect_args: dict[str, Any] = (
        {"server_settings": {"search_path": schema}} if url.startswith("postgresql") else {})
    store = Store.open(url, connect_args=connect_args)
    message = Message(text="", user=User(f"process-{os.getpid()}"), space=Space("tests"),
                      channel=Channel.CLI, thread_id="audit")
    try:
        await store.counts()  # connected
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        for first in range(0, count, 10):  # ten at a time: they are committed in batches
            await asyncio.gather(*(
                store.record_event(message, AuditEntry("test", "ok", details={"n": number}))
                for number in range(first, min(first + 10, count))))
    finally:
        await store.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(append(sys.argv[1], sys.argv[2], int(sys.argv[3])))

"""The web API as a test drives it: upload files, chat with attachments, follow a job."""

from __future__ import annotations

import io
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from bot.app import RUNTIME
from bot.jobs.engine import InProcessEngine


async def upload(client: TestClient, files: dict[str, bytes],  # type: ignore[type-arg]
                 user: str = "alice") -> aiohttp.ClientResponse:
    """``POST /api/files`` with one ``file`` field per entry."""
    form = aiohttp.FormData()
    for name, data in files.items():
        form.add_field("file", io.BytesIO(data), filename=name)
    return await client.post(f"/api/files?user={user}", data=form)


async def upload_one(client: TestClient, name: str, data: bytes,  # type: ignore[type-arg]
                     user: str = "alice") -> str:
    """Upload one file that must be accepted; its id."""
    response = await upload(client, {name: data}, user)
    assert response.status == 200, await response.text()
    file_id: str = (await response.json())["files"][0]["id"]
    return file_id


async def chat(client: TestClient, text: str, attachments: list[str],  # type: ignore[type-arg]
               user: str = "alice", locale: str | None = None) -> dict[str, Any]:
    """``POST /api/chat``; the reply."""
    body: dict[str, Any] = {"text": text, "user": user, "attachments": attachments}
    if locale is not None:
        body["locale"] = locale
    response = await client.post("/api/chat", json=body)
    assert response.status == 200, await response.text()
    reply: dict[str, Any] = (await response.json())["reply"]
    return reply


async def finished(client: TestClient, job_id: str,  # type: ignore[type-arg]
                   user: str = "alice") -> dict[str, Any]:
    """The job's last event once the in-process engine is idle (it must be ``done``)."""
    engine = client.app[RUNTIME].engine
    assert isinstance(engine, InProcessEngine)
    await engine.idle()
    response = await client.get(f"/api/jobs/{job_id}/events?user={user}")
    events = [block for block in (await response.text()).split("\n\n") if block]
    last = events[-1].splitlines()
    assert last[0] == "event: done"
    job: dict[str, Any] = json.loads(last[1].removeprefix("data: "))
    return job

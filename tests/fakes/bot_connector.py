"""A fake Bot Connector (Teams service URL) on loopback that records every call.

Implements ``POST /v3/conversations/{id}/activities[/{activityId}]`` and ``PUT`` for
updates; ``failures`` makes the next calls answer with given statuses (413, 429, 5xx),
``refuse`` answers a status for calls a predicate selects (e.g. streaming chunks).

Teams streams follow Microsoft's rules: a stream is open from its first update until its
``final`` message or ``stream_window`` seconds (two minutes in Teams); an update to a
closed stream is refused with 403 ``ContentStreamNotAllowed``, and so is replacing (PUT)
a stream's message while the stream is open.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.loopback import LoopbackServer, poll


@dataclass(frozen=True)
class ConnectorCall:
    """One request the bot made to the connector."""

    method: str
    conversation_id: str
    activity_id: str | None
    body: dict[str, Any]
    authorization: str
    status: int
    at: float

    @property
    def type(self) -> str:
        return str(self.body.get("type"))

    @property
    def stream_type(self) -> str | None:
        for entity in self.body.get("entities") or []:
            if entity.get("type") == "streaminfo":
                return str(entity.get("streamType"))
        return None


@dataclass
class FakeBotConnector(LoopbackServer):
    """``async with FakeBotConnector() as connector: connector.url`` is the serviceUrl."""

    failures: list[int] = field(default_factory=list)
    refuse: Callable[[dict[str, Any]], int | None] | None = None
    calls: list[ConnectorCall] = field(default_factory=list)
    stream_window: float = 120.0
    stream_gate: asyncio.Event | None = None  # holds the answer to a stream's first update
    _streams: dict[str, tuple[float, bool]] = field(default_factory=dict)  # opened, finished
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: TestServer | None = None

    @property
    def url(self) -> str:
        """The ``serviceUrl`` of activities (with a trailing slash, as Teams sends it)."""
        return f"{self.base_url}/"

    def routes(self, app: web.Application) -> None:
        """The Bot Connector's activity endpoints."""
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}",
                            self._activity)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                           self._activity)

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        status = self.failures.pop(0) if self.failures else 200
        if status == 200 and self.refuse is not None:
            status = self.refuse(body) or 200
        if status == 200:
            status = self._stream_rule(request.method, request.match_info.get("activity"), body)
        self.calls.append(ConnectorCall(
            request.method, request.match_info["conversation"],
            request.match_info.get("activity"), body,
            request.headers.get("Authorization", ""), status, time.monotonic()))
        if status != 200:
            headers = {"Retry-After": "0"} if status == 429 else None
            code = "ContentStreamNotAllowed" if status == 403 else "Fake"
            return web.json_response({"error": {"code": code, "message": str(status)}},
                                     status=status, headers=headers)
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activity"]})
        activity_id = f"activity-{next(self._ids)}"
        info = _stream_info(body)
        if info is not None and not info.get("streamId"):
            self._streams[activity_id] = (time.monotonic(), False)
            if self.stream_gate is not None:
                await self.stream_gate.wait()
        return web.json_response({"id": activity_id})

    def _open(self, stream_id: str) -> bool:
        opened, finished = self._streams[stream_id]
        return not finished and time.monotonic() - opened < self.stream_window

    def _stream_rule(self, method: str, activity_id: str | None, body: dict[str, Any]) -> int:
        """403 for an update to a closed stream, or a PUT on an open stream's message."""
        if method == "PUT":
            return 403 if activity_id in self._streams and self._open(activity_id) else 200
        info = _stream_info(body)
        stream_id = str(info.get("streamId") or "") if info is not None else ""
        if stream_id not in self._streams:
            return 200
        if not self._open(stream_id):
            return 403
        if info is not None and info.get("streamType") == "final":
            self._streams[stream_id] = (self._streams[stream_id][0], True)
        return 200

    @property
    def streams(self) -> list[str]:
        """The ids of the streams opened so far, oldest first."""
        return list(self._streams)

    def delivered(self) -> list[ConnectorCall]:
        """Calls that succeeded."""
        return [call for call in self.calls if call.status == 200]

    async def wait_for(self, predicate: Callable[[list[ConnectorCall]], bool],
                       within: float = 10.0) -> list[ConnectorCall]:
        """Poll the recorded calls until ``predicate`` holds (AssertionError after ``within`` s)."""
        await poll(lambda: predicate(self.delivered()), within, lambda: repr(self.calls))
        return self.delivered()


def _stream_info(body: dict[str, Any]) -> dict[str, Any] | None:
    for entity in body.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "streaminfo":
            return entity
    return None

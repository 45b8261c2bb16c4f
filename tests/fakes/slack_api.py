"""A fake Slack Web API (and ``response_url`` endpoint) on loopback.

Speaks the real wire format (form or JSON bodies, ``{"ok": …}`` answers), records
every call, and can be told to answer 429 with ``Retry-After``, a 5xx, or
``msg_too_long`` for messages above a size.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.loopback import LoopbackServer, poll

BOT_USER_ID = "UALMIABOT"
BOT_ID = "BALMIABOT"
TEAM_ID = "T0ALMIA01"


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage", … or "response_url"
    data: dict[str, Any]
    status: int
    headers: dict[str, str]

    def message_text(self) -> str:
        """Every text the message carries (fallback and blocks)."""
        parts = [str(self.data.get("text") or self.data.get("markdown_text") or "")]
        blocks = self.data.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        parts.extend(block.get("text", {}).get("text", "") for block in blocks)
        return "\n".join(parts)


@dataclass
class _Failure:
    status: int
    times: int
    retry_after: int | None = None
    error: str | None = None


@dataclass
class FakeSlackApi(LoopbackServer):
    """``async with FakeSlackApi() as slack: slack.url`` → ``http://127.0.0.1:PORT``."""

    max_message_chars: int | None = None  # above this, chat.* answers msg_too_long
    calls: list[Call] = field(default_factory=list)
    token: str = "xoxb-test"  # the bot token private file downloads must carry
    private_files: dict[str, bytes] = field(default_factory=dict)  # path → content
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id → uploaded bytes
    # Socket Mode: the app-level tokens apps.connections.open accepts, the open sockets,
    # and every frame the app sent back (acknowledgements)
    app_tokens: tuple[str, ...] = ("xapp-1-A0ALMIA-test",)
    locales: dict[str, str] = field(default_factory=dict)  # member id → Slack language
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_frames: list[dict[str, Any]] = field(default_factory=list)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _server: TestServer | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.base_url

    @property
    def api_url(self) -> str:
        """The value for ``settings.slack.api_url``."""
        return self.url + "/api/"

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` that this fake records."""
        return f"{self.url}/response/{name}"

    def routes(self, app: web.Application) -> None:
        """Web API methods and ``response_url`` targets."""
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # read methods may be sent as GET
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/files-pri/{path:.+}", self._private_file)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link/", self._socket)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode link: ``hello`` first, then the envelopes :meth:`push` sends;
        the app's frames (acknowledgements) are recorded."""
        if request.query.get("ticket") != "loopback-ticket":
            raise web.HTTPUnauthorized()
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1,
                                "debug_info": {"host": "applink-loopback", "build_number": 1,
                                               "approximate_connection_time": 18060},
                                "connection_info": {"app_id": "A0ALMIA"}})
        async for frame in socket:
            if frame.type == web.WSMsgType.TEXT:
                self.socket_frames.append(json.loads(frame.data))
        return socket

    async def push(self, kind: str, payload: dict[str, Any], *, envelope_id: str,
                   retry_attempt: int = 0) -> dict[str, Any]:
        """Send an envelope (``events_api``, ``slash_commands``, ``interactive``) down the
        open socket as Slack does, and return the app's acknowledgement of it."""
        await poll(lambda: bool(self.sockets), 30, lambda: "no Socket Mode connection")
        await self.sockets[-1].send_json({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else ""})

        def acknowledged() -> dict[str, Any] | None:
            return next((frame for frame in self.socket_frames
                         if frame.get("envelope_id") == envelope_id), None)

        await poll(lambda: acknowledged() is not None, 30,
                   lambda: f"no acknowledgement of {envelope_id}")
        found = acknowledged()
        assert found is not None
        return found

    def share(self, name: str, data: bytes) -> str:
        """Host a private file as Slack does; returns its ``url_private_download``."""
        path = f"{TEAM_ID}-F{len(self.private_files):08d}/download/{name}"
        self.private_files[path] = data
        return f"{self.url}/files-pri/{path}"

    async def _private_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.calls.append(Call("files-pri", {"path": path}, 200, dict(request.headers)))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            # Slack answers a sign-in page, not an error status, to an unauthorised download
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        if path not in self.private_files:
            return web.Response(status=404, text="file_not_found")
        return web.Response(body=self.private_files[path],
                            content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        self.calls.append(Call("upload", {"file_id": file_id}, 200, dict(request.headers)))
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None,
             error: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` with ``status`` (or ``ok: false``)."""
        self._failures.setdefault(method, []).append(
            _Failure(status=status, times=times, retry_after=retry_after, error=error)
        )

    def of(self, *methods: str, ok_only: bool = True) -> list[Call]:
        """The recorded calls of these methods (successful ones by default)."""
        return [c for c in self.calls if c.method in methods and (c.status == 200 or not ok_only)]

    async def wait_for(self, condition: Callable[[], bool], within: float = 60.0) -> None:
        """Poll ``condition`` until true, failing after ``within`` seconds (a generous bound:
        a busy machine is slow, never wrong)."""
        await poll(condition, within, lambda: f"calls: {[c.method for c in self.calls]}")

    async def _read(self, request: web.Request) -> dict[str, Any]:
        raw = await request.text()
        if request.content_type == "application/json":
            data: dict[str, Any] = json.loads(raw or "{}")
        else:
            data = dict(parse_qsl(raw))
            for key in ("blocks",):
                if isinstance(data.get(key), str):
                    data[key] = json.loads(data[key])
        data.update({k: v for k, v in request.query.items() if k not in data})
        return data

    def _injected(self, method: str) -> _Failure | None:
        queue = self._failures.get(method) or []
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = await self._read(request)
        headers = dict(request.headers)
        failure = self._injected(method)
        if failure is None and self._too_long(method, data):
            failure = _Failure(status=200, times=0, error="msg_too_long")
        if failure is not None:
            self.calls.append(Call(method, data, failure.status if not failure.error else 400,
                                   headers))
            if failure.error:
                return web.json_response({"ok": False, "error": failure.error})
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response({"ok": False, "error": "ratelimited"
                                      if failure.status == 429 else "fatal_error"},
                                     status=failure.status, headers=extra)
        self.calls.append(Call(method, data, 200, headers))
        return web.json_response(self._answer(method, data, headers))

    def _too_long(self, method: str, data: dict[str, Any]) -> bool:
        if self.max_message_chars is None or not method.startswith("chat."):
            return False
        call = Call(method, data, 200, {})
        return len(call.message_text()) > self.max_message_chars

    def _answer(self, method: str, data: dict[str, Any],
                headers: dict[str, str] | None = None) -> dict[str, Any]:
        if method == "apps.connections.open":  # an app-level token, never the bot token
            token = (headers or {}).get("Authorization", "").removeprefix("Bearer ")
            if token not in self.app_tokens:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket=loopback-ticket"}
        if method == "auth.test":
            return {"ok": True, "url": "https://almia-test.slack.com/", "team": "Almia Test",
                    "user": "almia", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID, "is_enterprise_install": False}
        if method in ("chat.postMessage", "chat.startStream"):
            ts = f"{1_700_000_000 + next(self._ts)}.000100"
            return {"ok": True, "channel": data.get("channel"), "ts": ts,
                    "message": {"text": data.get("text", ""), "ts": ts, "bot_id": BOT_ID}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):010d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = data.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")}
                                          for f in listed]}
        if method == "users.info":  # the language only when asked for (include_locale)
            member: dict[str, Any] = {"id": data.get("user"), "name": "employe"}
            if str(data.get("include_locale")).lower() in ("true", "1"):
                member["locale"] = self.locales.get(str(data.get("user")), "fr-FR")
            return {"ok": True, "user": member}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1_700_000_000 + next(self._ts)}.000200"}
        return {"ok": True, "channel": data.get("channel"), "ts": data.get("ts")}

    async def _response_url(self, request: web.Request) -> web.Response:
        data = await request.json()
        failure = self._injected("response_url")
        if failure is not None:
            self.calls.append(Call("response_url", data, failure.status, dict(request.headers)))
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.Response(status=failure.status, text=failure.error or "error",
                                headers=extra)
        self.calls.append(Call("response_url", data, 200, dict(request.headers)))
        return web.Response(text="ok")


def signed_headers(body: str | bytes, secret: str, timestamp: int | str | None = None,
                   *, version: str = "v0") -> dict[str, str]:
    """The headers Slack sends: ``X-Slack-Request-Timestamp`` and the v0 HMAC signature."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + raw
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"{version}={digest}"}

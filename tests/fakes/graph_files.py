"""A fake Microsoft Graph for files shared in Teams channels, on loopback.

Serves what :mod:`adapters.teams_channel_files` reads: a channel message (root or reply)
with its ``reference`` attachments, a team's document library, a sharing link resolved to
its drive item (``/shares/u!…/driveItem``), and the item's pre-authenticated download URL.
Every Graph call must carry ``Bearer {TOKEN}``; ``status`` makes Graph answer that status.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.loopback import LoopbackServer

TOKEN = "graph-files-token"


def share_id(url: str) -> str:
    """Graph's id of a sharing URL (``u!`` + unpadded base64url), as Graph documents it."""
    return "u!" + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


@dataclass
class FakeGraphFiles(LoopbackServer):
    """``async with FakeGraphFiles() as graph:`` then :meth:`post` messages and files."""

    status: int | None = None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # path → message
    drives: dict[str, str] = field(default_factory=dict)  # group id → its library's drive id
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # share id → drive item
    files: dict[str, bytes] = field(default_factory=dict)  # download name → bytes
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, authorization)
    _server: TestServer | None = None

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    def post(self, path: str, files: dict[str, bytes], *, drive: str,
             site: str = "https://contoso.sharepoint.com/sites/Sinistres") -> None:
        """A channel message at ``path`` (under /v1.0) sharing ``files`` from ``drive``."""
        attachments = []
        for index, (name, data) in enumerate(files.items()):
            url = f"{site}/Shared Documents/General/{name}"
            attachments.append({"id": f"att-{index}", "contentType": "reference",
                                "contentUrl": url, "name": name, "content": None})
            self.items[share_id(url)] = {
                "id": f"item-{name}", "name": name, "size": len(data),
                "file": {"mimeType": "application/octet-stream"},
                "parentReference": {"driveId": drive},
                "@microsoft.graph.downloadUrl": f"{self.base_url}/download/{name}"}
            self.files[name] = data
        self.messages[path] = {"id": path.rsplit("/", 1)[-1], "messageType": "message",
                               "body": {"contentType": "html", "content": "<p>fichiers</p>"},
                               "attachments": attachments}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1.0/{path:.*}", self._graph)
        app.router.add_get("/download/{name}", self._download)

    async def _graph(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        self.requests.append((request.path, authorization))
        if authorization != f"Bearer {TOKEN}":
            return _error(401, "InvalidAuthenticationToken")
        if self.status is not None:
            return _error(self.status, "Forbidden" if self.status == 403 else "Fake")
        path = request.path.removeprefix("/v1.0")
        parts = path.strip("/").split("/")
        if parts[0] == "groups" and parts[-1] == "drive":
            drive = self.drives.get(parts[1])
            return web.json_response({"id": drive}) if drive else _error(404, "itemNotFound")
        if parts[0] == "shares" and parts[-1] == "driveItem":
            item = self.items.get(parts[1])
            return web.json_response(item) if item else _error(404, "itemNotFound")
        message = self.messages.get(path)
        return web.json_response(message) if message else _error(404, "NotFound")

    async def _download(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, request.headers.get("Authorization", "")))
        return web.Response(body=self.files[request.match_info["name"]])


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": code}}, status=status)

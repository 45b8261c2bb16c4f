"""``almia admin link``: a one-time link that opens the console as local administrator."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.cli.admin import console_origin
from tests.conftest import FakeSearch
from tests.console.conftest import console_settings

ALMIA = str(Path(sys.executable).with_name("almia"))


async def test_the_printed_link_signs_in_once(tmp_path: Path) -> None:
    environment = {**{key: value for key, value in os.environ.items()
                      if not key.startswith("ALMIA_")},
                   "ALMIA_DATA_DIR": str(tmp_path / "data"), "ALMIA_CHARTER__ENABLED": "false"}
    process = await asyncio.create_subprocess_exec(
        ALMIA, "admin", "link", "--quiet", env=environment, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    output, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()
    url = urlsplit(output.decode().strip())
    assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1:3978",
                                                  "/console/auth/link")
    token = parse_qs(url.query)["token"][0]
    app = build_app(console_settings(tmp_path), knowledge=FakeSearch())  # type: ignore[arg-type]
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        first = await client.post("/console/auth/link", data={"token": token},
                                  allow_redirects=False)
        assert first.status == 302 and "almia_console" in first.cookies
        again = await client.post("/console/auth/link", data={"token": token})
        assert again.status == 403
    finally:
        await client.close()


def test_the_link_uses_the_public_address_when_sign_in_is_configured(tmp_path: Path) -> None:
    settings = console_settings(tmp_path, oidc={
        "redirect_url": "https://almia.example.com/console/auth/callback"})
    assert console_origin(settings) == "https://almia.example.com"

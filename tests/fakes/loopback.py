"""What every loopback fake shares: an aiohttp app on 127.0.0.1 and a bounded poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Self

from aiohttp import web
from aiohttp.test_utils import TestServer


class LoopbackServer:
    """Base of the fakes: ``async with Fake() as fake`` serves ``fake.routes`` on loopback.

    Subclasses are dataclasses declaring ``_server: TestServer | None = None``.
    """

    _server: TestServer | None

    def routes(self, app: web.Application) -> None:
        """Add the fake's routes."""
        raise NotImplementedError

    @property
    def port(self) -> int:
        """The port the fake listens on."""
        assert self._server is not None and self._server.port is not None, "not started"
        return self._server.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._server is not None:
            await self._server.close()


async def poll_async(condition: Callable[[], Awaitable[bool]], within: float,
                     describe: Callable[[], str]) -> None:
    """:func:`poll` for a condition that must query (a database, say)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within}s: {describe()}")
        await asyncio.sleep(0.01)


async def poll(condition: Callable[[], bool], within: float,
               describe: Callable[[], str]) -> None:
    """Wait until ``condition`` holds; AssertionError (with ``describe()``) after ``within`` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within}s: {describe()}")
        await asyncio.sleep(0.01)

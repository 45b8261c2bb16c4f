"""Slack's Socket Mode link, opened in the background: start-up never waits on Slack.

Bolt's handler, asked to connect, retries for ever and logs a stack trace each time, even
when Slack refuses the app-level token — and ``almia serve`` would not start its web chat,
Teams endpoint or health check meanwhile. Here the link is asked for first
(``apps.connections.open``): a refused token is said once, plainly, and not retried; an
unreachable Slack is retried with a growing delay; then Bolt's handler connects and keeps
the link up (it reconnects on its own when Slack drops it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

# answers of apps.connections.open that another attempt will not change
_REFUSED = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked",
                      "account_inactive", "missing_scope", "no_permission"})


class SocketLink:
    """``start()`` when the app starts, ``close()`` when it stops; ``state`` says where the
    link is: ``connecting``, ``connected``, ``refused`` (no retry) or ``closed``."""

    def __init__(self, handler: Any, *, max_delay_seconds: float = 60.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._handler = handler  # Bolt's AsyncSocketModeHandler (built by adapters.slack)
        self._max_delay = max_delay_seconds
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self.state = "connecting"

    def start(self) -> None:
        """Open the link in the background."""
        self._task = asyncio.create_task(self._open(), name="slack-socket-mode")

    async def _open(self) -> None:
        client = self._handler.client
        delay = 1.0
        while True:
            try:
                client.wss_uri = await client.issue_new_wss_url()
            except SlackApiError as error:
                code = str(error.response.get("error", "unknown"))
                if code in _REFUSED:
                    self.state = "refused"
                    log.error("Slack Socket Mode: Slack refused the app-level token (%s); "
                              "set a valid ALMIA_SLACK__APP_TOKEN (xapp-…, scope "
                              "connections:write) and restart", code)
                    return
                log.warning("Slack Socket Mode: no link (%s); retrying in %.0f s", code, delay)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning("Slack Socket Mode: Slack unreachable (%s); retrying in %.0f s",
                            type(error).__name__, delay)
            else:
                await self._handler.connect_async()
                self.state = "connected"
                log.info("Slack Socket Mode: connected")
                return
            await self._sleep(delay)
            delay = min(delay * 2, self._max_delay)

    async def wait(self) -> None:
        """Until the first attempt has ended (connected or refused)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop trying, and close the link if it is open."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._handler.close_async()
        self.state = "closed"

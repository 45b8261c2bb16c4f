"""Delivery to the Teams Bot Connector: sends and in-place updates with retries, Teams
streaming (informative update, cumulative chunks, final message), and putting an answer in
place of a stream a dead replica left open.

Teams streams (personal chats) follow Microsoft's protocol: at most one request a second,
the final message names the stream, and a stream not finished within two minutes is closed
by Teams (403); a closed stream's message can still be updated in place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Entity, ResourceResponse

from adapters.teams_cards import MAX_TEXT_BYTES, inert_text

log = logging.getLogger(__name__)
_T = TypeVar("_T")

STREAM_WINDOW_SECONDS = 125.0  # Teams closes a stream two minutes after it opened; margin


class StreamInfo(Entity):  # type: ignore[misc]
    """The ``streaminfo`` entity of the Teams streaming protocol."""

    _attribute_map = {  # noqa: RUF012 (msrest model metadata)
        **Entity._attribute_map,
        "stream_id": {"key": "streamId", "type": "str"},
        "stream_type": {"key": "streamType", "type": "str"},
        "stream_sequence": {"key": "streamSequence", "type": "int"},
    }

    def __init__(self, stream_type: str, stream_id: str | None = None,
                 stream_sequence: int | None = None) -> None:
        super().__init__(type="streaminfo")
        self.stream_type = stream_type
        self.stream_id = stream_id
        self.stream_sequence = stream_sequence


class DeliveryError(Exception):
    """The Bot Connector refused an activity for good (after retries)."""

    def __init__(self, status: int | None) -> None:
        super().__init__(f"connector status {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class StaleStream:
    """A stream another replica opened for the same message before dying: the id of its
    message, and when it opened (seconds since the epoch)."""

    id: str
    opened_at: float


class Connector:
    """Sends and updates activities, retrying 429, 5xx and network errors (``Retry-After``
    honoured, at most 30 s); other refusals raise :class:`DeliveryError` at once."""

    def __init__(self, retry_delays: Sequence[float]) -> None:
        self._retry_delays = tuple(retry_delays)

    async def send(self, context: TurnContext, activity: Activity) -> str | None:
        """Post ``activity``; the id Teams gave it."""
        async def post() -> str | None:
            response: ResourceResponse | None = await context.send_activity(activity)
            return response.id if response is not None else None
        return await self._retrying(post)

    async def update(self, context: TurnContext, activity: Activity) -> None:
        """Replace the message ``activity.id`` with ``activity``."""
        async def put() -> None:
            await context.update_activity(activity)
        await self._retrying(put)

    async def _retrying(self, call: Callable[[], Awaitable[_T]]) -> _T:
        attempt = 0
        while True:
            try:
                return await call()
            except Exception as error:
                status = status_of(error)
                retriable = status is None or status == 429 or status >= 500
                if not retriable or attempt >= len(self._retry_delays):
                    raise DeliveryError(status) from error
                delay = min(retry_after(error) or self._retry_delays[attempt], 30.0)
                log.warning("teams: connector status %s, retry %d in %.1fs", status,
                            attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def replace(self, context: TurnContext, activity: Activity, stale: StaleStream,
                      window: float = STREAM_WINDOW_SECONDS) -> bool:
        """Put ``activity`` in place of a stale stream's message: at once, or, while Teams
        still holds the stream open, once it has closed it (``window`` seconds after it
        opened). False when refused for good: the caller posts a new message instead."""
        activity.id = stale.id
        try:
            await self.update(context, activity)
            return True
        except DeliveryError as error:
            wait = stale.opened_at + window - time.time()
            if error.status == 403 and wait > 0:
                log.info("teams: stale stream still open; replaced in %.0f s", wait)
                await asyncio.sleep(min(wait, window))
                try:
                    await self.update(context, activity)
                    return True
                except DeliveryError as again:
                    error = again
            log.info("teams: stale stream not replaced (%s); a new message instead",
                     error.status)
        activity.id = None
        return False


class Stream:
    """Teams streaming in a personal chat: informative, cumulative chunks (at most one a
    ``interval`` seconds), final. ``on_open`` learns the stream's id when Teams gives it."""

    def __init__(self, connector: Connector, context: TurnContext, interval: float,
                 on_open: Callable[[str], Awaitable[None]] | None = None) -> None:
        self._connector = connector
        self._context = context
        self._interval = interval
        self._on_open = on_open
        self._id: str | None = None
        self._sequence = 0
        self._last = 0.0
        self._refused = False
        self._sent_text = ""

    async def _post(self, text: str, stream_type: str) -> None:
        if self._refused:
            return
        self._sequence += 1
        entity = StreamInfo(stream_type, self._id, self._sequence)
        try:
            response_id = await self._connector.send(self._context, Activity(
                type=ActivityTypes.typing, text=text, entities=[entity]))
        except DeliveryError as error:
            if error.status is not None and 400 <= error.status < 500 and error.status != 429:
                log.info("teams: streaming refused (%s); one message at the end", error.status)
                self._refused = True
            return
        self._last = time.monotonic()
        if self._id is None:
            self._id = response_id
            if response_id is None:
                self._refused = True
            elif self._on_open is not None:
                await self._on_open(response_id)

    async def inform(self, text: str) -> None:
        """An informative update (only before the first chunk)."""
        if not self._sent_text:
            await self._post(inert_text(text), "informative")

    async def chunk(self, text: str) -> None:
        """The cumulative text so far, at most once per ``interval``."""
        if self._refused or time.monotonic() - self._last < self._interval:
            return
        rendered = inert_text(text)
        if len(rendered.encode("utf-8")) > MAX_TEXT_BYTES:
            return  # the final message is split instead
        if self._id is None:
            await self._post(rendered, "informative")
            if self._id is None:
                return
        await self._post(rendered, "streaming")
        self._sent_text = rendered

    def final_entity(self) -> StreamInfo | None:
        """The ``final`` streaminfo for the closing message, if a stream is open."""
        if self._refused or self._id is None:
            return None
        return StreamInfo("final", self._id)


def status_of(error: Exception) -> int | None:
    """The HTTP status of a connector error, if it carries one."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return int(status) if isinstance(status, int) else None


def retry_after(error: Exception) -> float | None:
    """The ``Retry-After`` of a connector error, in seconds."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        return float(headers.get("Retry-After", ""))
    except (TypeError, ValueError):
        return None


__all__ = ["STREAM_WINDOW_SECONDS", "Connector", "DeliveryError", "StaleStream", "Stream",
           "StreamInfo"]

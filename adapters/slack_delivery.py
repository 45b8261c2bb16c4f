"""Slack delivery: answers rendered as Block Kit and sent where they belong.

A *sink* sends one message (in a thread, ephemerally, or through a ``response_url``);
:func:`publish` sends every message of a reply and splits any message Slack refuses as too
long; :class:`Draft` throttles the previews of an answer being streamed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack_render import (
    PREVIEW_SOURCE_CHARS,
    SECTION_LIMIT,
    Block,
    escape,
    fallback_text,
    preview,
    render_reply,
    split_text,
    text,
)
from bot.messages import Locale, Reply

log = logging.getLogger(__name__)

_MIN_SECTION = 200


def error_code(error: SlackApiError) -> str | None:
    """Slack's error code (« msg_too_long »), None when the body was not Slack's JSON (a
    proxy's HTML page)."""
    data = getattr(error.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return str(code) if code else None


class TooLong(Exception):
    """Slack refused a message as too long (``msg_too_long``)."""


Sink = Callable[[list[Block], str, bool], Awaitable[None]]
"""Sends one message (blocks, fallback text, is-first) somewhere in Slack."""


class Draft:
    """The answer streamed so far, throttled: at most one update per ``interval`` seconds,
    and a preview only when what it shows changes (its head, once longer than a section)."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._pieces: list[str] = []
        self._head = ""  # the start of the answer, as much as a preview can show
        self._size = 0
        self._sent = 0  # pieces already given to the streaming API
        self._shown = ""
        self._last = time.monotonic()

    def add(self, piece: str) -> None:
        """One more delta."""
        self._pieces.append(piece)
        self._size += len(piece)
        if len(self._head) < PREVIEW_SOURCE_CHARS:
            self._head = (self._head + piece)[:PREVIEW_SOURCE_CHARS]

    def due(self) -> bool:
        """True when the interval since the last update has passed."""
        return time.monotonic() - self._last >= self._interval

    def take_pending(self) -> str:
        """The text not yet sent to the streaming API (marked as sent)."""
        pending = "".join(self._pieces[self._sent:])
        self._sent = len(self._pieces)
        if pending:
            self._last = time.monotonic()
        return pending

    def preview(self, progress: str) -> str | None:
        """The placeholder's next text, or None when it would not change."""
        if self._head:
            shown = preview(self._head, more=self._size > len(self._head))
        else:
            shown = f"_{escape(progress)}_"
        if not shown.strip("_ ") or shown == self._shown:
            return None
        self._shown = shown
        self._last = time.monotonic()
        return shown


async def publish(reply: Reply, sink: Sink) -> None:
    """Send every message of ``reply``; a message Slack finds too long is split further."""
    messages = render_reply(reply)
    for index, blocks in enumerate(messages):
        await _send_splitting(blocks, sink, index == 0, reply.locale)


async def _send_splitting(blocks: list[Block], sink: Sink, first: bool,
                          locale: Locale, limit: int = SECTION_LIMIT) -> None:
    try:
        await sink(blocks, fallback_text(blocks), first)
        return
    except TooLong:
        if limit <= _MIN_SECTION:
            log.error("Slack refused a message even at %d characters per section", limit)
            await sink([], text("delivery_failed", locale), first)
            return
    limit //= 2
    smaller: list[Block] = []
    for block in blocks:
        section = block.get("text", {}).get("text") if block.get("type") == "section" else None
        if section is None:
            smaller.append(block)
            continue
        smaller.extend({"type": "section", "text": {"type": "mrkdwn", "text": piece}}
                       for piece in split_text(section, limit))
    middle = max(1, len(smaller) // 2)
    for offset, part in enumerate((smaller[:middle], smaller[middle:])):
        if part:
            await _send_splitting(part, sink, first and offset == 0, locale, limit)


def thread_sink(client: AsyncWebClient, channel: str, thread_ts: str,
                placeholder_ts: str | None) -> Sink:
    """Messages in a thread, the first one in place of ``placeholder_ts`` when given."""

    async def send(blocks: list[Block], fallback: str, first: bool) -> None:
        arguments: dict[str, Any] = {"channel": channel, "text": fallback,
                                     "unfurl_links": False, "unfurl_media": False}
        if blocks:
            arguments["blocks"] = blocks
        try:
            if first and placeholder_ts:
                try:
                    await client.chat_update(ts=placeholder_ts, **arguments)
                    return
                except SlackApiError as error:
                    if error_code(error) == "msg_too_long":
                        raise
                    log.warning("chat.update failed (%s); posting instead",
                                error_code(error))
            await client.chat_postMessage(thread_ts=thread_ts, **arguments)
        except SlackApiError as error:
            raise_if_too_long(error)
            log.error("Slack refused an answer message: %s", error_code(error))

    return send


def ephemeral_sink(client: AsyncWebClient, channel: str, user: str,
                   thread_ts: str | None) -> Sink:
    """Messages only ``user`` sees."""

    async def send(blocks: list[Block], fallback: str, _first: bool) -> None:
        try:
            await client.chat_postEphemeral(channel=channel, user=user, text=fallback,
                                            blocks=blocks or None, thread_ts=thread_ts)
        except SlackApiError as error:
            raise_if_too_long(error)
            log.error("Slack refused an ephemeral message: %s", error_code(error))

    return send


def response_url_sink(retry_handlers: Sequence[AsyncRetryHandler], url: str) -> Sink:
    """Ephemeral messages through a command's or action's ``response_url``."""
    webhook = AsyncWebhookClient(url, retry_handlers=list(retry_handlers))

    async def send(blocks: list[Block], fallback: str, first: bool) -> None:
        response = await webhook.send(
            text=fallback, blocks=blocks or None, response_type="ephemeral",
            replace_original=first, unfurl_links=False, unfurl_media=False,
        )
        if response.status_code != 200:
            if "too_long" in (response.body or ""):
                raise TooLong
            log.error("response_url refused an answer: %s %s", response.status_code,
                      response.body)

    return send


def raise_if_too_long(error: SlackApiError) -> None:
    """Turn Slack's ``msg_too_long`` into :class:`TooLong`."""
    if error_code(error) == "msg_too_long":
        raise TooLong from error

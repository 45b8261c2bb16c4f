"""Slack files: downloading what people share (``url_private`` with the bot token) and a job
reporter that shows progress in the thread and posts results with their files (external upload).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_render import card_blocks, fallback_text, pack, split_text, to_mrkdwn
from bot.files.intake import FileRejected, rejected
from bot.files.service import FileIntake
from bot.i18n import Text
from bot.jobs.labels import headline
from bot.jobs.model import Artefact, JobView
from bot.messages import Attachment, Message
from bot.store.files import FileStore

log = logging.getLogger(__name__)

SLACK_FILE_HOSTS = ("slack.com", "slack-edge.com", "slack-gov.com")
_READ = 256 * 1024

_BLOCKED_HOST = Text(
    "Je n'ai pas pu récupérer « {name} » depuis Slack : renvoyez-le dans ce fil.",
    "I could not fetch “{name}” from Slack: send it again in this thread.",
)


def allowed_download(url: str, api_url: str) -> bool:
    """Only Slack's own file hosts (or the configured Web API host) get the bot token."""
    host = (urlsplit(url).hostname or "").lower()
    api_host = (urlsplit(api_url).hostname or "").lower()
    scheme = urlsplit(url).scheme
    if host and host == api_host:
        return scheme in ("https", "http")
    return scheme == "https" and any(host == h or host.endswith("." + h)
                                     for h in SLACK_FILE_HOSTS)


async def receive_files(files: Sequence[Mapping[str, Any]], message: Message,
                        intake: FileIntake, *, token: str, api_url: str,
                        session: aiohttp.ClientSession) -> tuple[Attachment, ...]:
    """Download, check and keep the files of a Slack event; :class:`FileRejected` on the first
    bad one (those already kept stay with their owner until they expire)."""
    intake.check_count(len(files))
    kept = []
    for item in files:
        name = str(item.get("name") or item.get("title") or "fichier")
        url = str(item.get("url_private_download") or item.get("url_private") or "")
        size = item.get("size")
        if isinstance(size, int) and size > intake.settings.max_bytes:
            raise rejected("too_large", name=name, size=f"{size / 1_048_576:.1f}",
                           limit=intake.settings.max_file_mb)
        if not url or not allowed_download(url, api_url):
            raise FileRejected("download", _BLOCKED_HOST, name=name)
        kept.append(await intake.receive(message, name, _download(session, url, token)))
    return tuple(kept)


async def _download(session: aiohttp.ClientSession, url: str, token: str
                    ) -> AsyncIterator[bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    name = urlsplit(url).path.rsplit("/")[-1]
    try:
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            if response.status != 200 or response.content_type == "text/html":
                # Slack answers a login page (HTML) when the token lacks files:read
                raise FileRejected("download", _BLOCKED_HOST, name=name)
            async for piece in response.content.iter_chunked(_READ):
                yield piece
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("slack: file download failed (%s)", type(error).__name__)
        raise FileRejected("download", _BLOCKED_HOST, name=name) from None


class SlackJobReporter:
    """Progress as one message in the thread (updated), the result and its files after it."""

    channel = "slack"

    def __init__(self, client: AsyncWebClient, files: FileStore) -> None:
        self._client = client
        self._files = files

    async def progress(self, job: JobView) -> Mapping[str, Any] | None:
        """Post the progress message once, then update it."""
        target = _target(job)
        if target is None:
            return None
        channel, thread_ts = target
        text = to_mrkdwn(headline(job, job.reply_to.locale))
        notice = job.notice or {}
        if notice.get("ts"):
            await self._client.chat_update(channel=channel, ts=str(notice["ts"]), text=text)
            return notice
        posted = await self._client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                     text=text)
        return {"ts": posted.get("ts")}

    async def deliver(self, job: JobView, artefacts: Sequence[Artefact]) -> None:
        """Close the progress message, post the result and its cards (Block Kit), upload
        the files into the thread."""
        target = _target(job)
        if target is None or job.result is None:
            return
        channel, thread_ts = target
        label = to_mrkdwn(headline(job, job.reply_to.locale))
        notice = job.notice or {}
        if notice.get("ts"):
            await self._client.chat_update(channel=channel, ts=str(notice["ts"]), text=label)
        body = to_mrkdwn(job.result.text)
        for index, part in enumerate(split_text(body)):
            await self._client.chat_postMessage(
                channel=channel, thread_ts=thread_ts,
                text=part if index else f"{label}\n{part}")
        for card in job.result.cards:
            for blocks in pack(card_blocks(card, locale=job.reply_to.locale)):
                await self._client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                    text=fallback_text(blocks), blocks=blocks)
        if artefacts:
            await self._client.files_upload_v2(
                channel=channel, thread_ts=thread_ts,
                file_uploads=[{"content": await self._files.read(artefact.file_id),
                               "filename": artefact.name, "title": artefact.name}
                              for artefact in artefacts])


def _target(job: JobView) -> tuple[str, str] | None:
    reference = job.reply_to.reference
    channel = reference.get("channel")
    if not isinstance(channel, str) or not channel:
        log.warning("job %s has no Slack channel to report to", job.id)
        return None
    thread_ts = reference.get("thread_ts")
    return channel, str(thread_ts) if thread_ts else ""

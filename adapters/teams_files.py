"""Teams files: downloading files sent in personal chats (file download info), telling people
what to do with channel files (SharePoint links only), and a job reporter that posts progress
and results proactively in the conversation, with signed links to Almia's download endpoint.

Why signed links rather than the file consent card: the consent card works only in personal
chats, needs the person to click « Allow » and uploads into their OneDrive through an upload
session; a signed, expiring link to Almia's own endpoint works in every scope, keeps the file
inside the company's Almia deployment (encrypted, retained and purged like the rest) and its
downloads are audited. It needs ``ALMIA_FILES__PUBLIC_URL``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference
from botbuilder.schema import Attachment as CardAttachment

from adapters.teams_cards import CARD_CONTENT_TYPE, adaptive_card
from bot.files.intake import FileRejected
from bot.files.service import FileIntake
from bot.i18n import Text
from bot.jobs.labels import headline
from bot.jobs.model import Artefact, JobView
from bot.messages import Attachment, Locale, Message

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
# parts of an ordinary message (its HTML rendering, cards), not files
_INLINE = frozenset({"text/html", "application/vnd.microsoft.card.adaptive"})
_READ = 256 * 1024

CHANNEL_FILES = Text(
    "Dans un canal ou une conversation de groupe, Teams ne me transmet qu'un lien SharePoint "
    "vers le fichier, que je ne peux pas ouvrir. Envoyez-le-moi en conversation privée avec "
    "Almia (ou dans le chat web d'Almia) : je le lirai là.",
    "In a channel or group chat, Teams only gives me a SharePoint link to the file, which I "
    "cannot open. Send it to me in a personal chat with Almia (or in Almia's web chat): I "
    "will read it there.",
)
_BLOCKED = Text("Je n'ai pas pu récupérer « {name} » depuis Teams : renvoyez-le.",
                "I could not fetch “{name}” from Teams: send it again.")
_FILES = Text("**Fichiers** (liens valables {hours} h) :", "**Files** (links valid {hours} h):")
_NO_PUBLIC_URL = Text(
    "Les fichiers produits sont disponibles dans le chat web d'Almia (l'adresse publique "
    "d'Almia n'est pas configurée pour les liens Teams).",
    "The files produced are available in Almia's web chat (Almia's public address is not "
    "configured for Teams links).",
)


def file_parts(body: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], int]:
    """Attachments Teams lets a bot download (personal chats), and how many others it sent
    (``reference`` links to SharePoint in channels, images…) that cannot be read."""
    downloadable: list[Mapping[str, Any]] = []
    others = 0
    for item in body.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("contentType")
        if kind == FILE_DOWNLOAD_INFO and isinstance(item.get("content"), dict):
            downloadable.append(item)
        elif kind not in _INLINE:
            others += 1
    return downloadable, others


def allowed_host(url: str, hosts: Sequence[str]) -> bool:
    """https on a configured host or its subdomains (plain http on loopback, for tests)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and host in ("127.0.0.1", "localhost") and host in hosts:
        return True
    return parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in hosts)


async def receive_files(items: Sequence[Mapping[str, Any]], message: Message,
                        intake: FileIntake, hosts: Sequence[str],
                        session: aiohttp.ClientSession) -> tuple[Attachment, ...]:
    """Download (pre-authenticated URLs), check and keep the files of a personal message."""
    intake.check_count(len(items))
    kept = []
    for item in items:
        name = str(item.get("name") or "fichier")
        content = item.get("content") or {}
        url = str(content.get("downloadUrl") or "")
        if not url or not allowed_host(url, hosts):
            raise FileRejected("download", _BLOCKED, name=name)
        kept.append(await intake.receive(message, name, download(session, url, name)))
    return tuple(kept)


async def download(session: aiohttp.ClientSession, url: str, name: str) -> AsyncIterator[bytes]:
    """The file at a pre-authenticated URL, piece by piece (no redirect followed)."""
    try:
        async with session.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise FileRejected("download", _BLOCKED, name=name)
            async for piece in response.content.iter_chunked(_READ):
                yield piece
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("teams: file download failed (%s)", type(error).__name__)
        raise FileRejected("download", _BLOCKED, name=name) from None


Continue = Callable[[ConversationReference, Callable[[TurnContext], Awaitable[None]]],
                    Awaitable[None]]


class TeamsJobReporter:
    """Proactive messages in the job's conversation: one progress message updated, then the
    result and signed links to its files."""

    channel = "teams"

    def __init__(self, continue_conversation: Continue, *, absolute_links: bool,
                 link_hours: int) -> None:
        self._continue = continue_conversation
        self._absolute = absolute_links
        self._hours = link_hours

    async def progress(self, job: JobView) -> Mapping[str, Any] | None:
        """Send the progress message once, then update it in place."""
        reference = _reference(job)
        if reference is None:
            return None
        text = headline(job, job.reply_to.locale)
        notice = dict(job.notice or {})

        async def send(context: TurnContext) -> None:
            activity = Activity(type=ActivityTypes.message, text=text, text_format="markdown")
            if notice.get("activity_id"):
                activity.id = notice["activity_id"]
                await context.update_activity(activity)
                return
            sent = await context.send_activity(activity)
            if sent is not None:
                notice["activity_id"] = sent.id

        await self._continue(reference, send)
        return notice or None

    async def deliver(self, job: JobView, artefacts: Sequence[Artefact]) -> None:
        """Close the progress message, then post the result with its links and its cards
        (Adaptive Cards)."""
        reference = _reference(job)
        if reference is None or job.result is None:
            return
        locale: Locale = job.reply_to.locale
        label = headline(job, locale)
        lines = [label, "", job.result.text]
        if artefacts:
            if self._absolute:
                lines += ["", _FILES(locale, hours=self._hours),
                          *(f"- [{a.name}]({a.url}) ({_size(a.size)})" for a in artefacts)]
            else:
                lines += ["", _NO_PUBLIC_URL(locale)]
        notice = job.notice or {}
        cards = [adaptive_card(card) for card in job.result.cards]

        async def send(context: TurnContext) -> None:
            if notice.get("activity_id"):
                closed = Activity(type=ActivityTypes.message, text=label, text_format="markdown",
                                  id=notice["activity_id"])
                await context.update_activity(closed)
            await context.send_activity(Activity(type=ActivityTypes.message,
                                                 text="\n".join(lines), text_format="markdown"))
            for card in cards:
                await context.send_activity(Activity(
                    type=ActivityTypes.message,
                    attachments=[CardAttachment(content_type=CARD_CONTENT_TYPE, content=card)]))

        await self._continue(reference, send)


def message_reference(context: TurnContext) -> dict[str, Any]:
    """The conversation reference of a turn, as stored with a job (no message content)."""
    reference = TurnContext.get_conversation_reference(context.activity)
    serialized: dict[str, Any] = reference.serialize()
    serialized.pop("activityId", None)
    return serialized


def _reference(job: JobView) -> ConversationReference | None:
    stored = dict(job.reply_to.reference)
    if not stored.get("serviceUrl") or not stored.get("conversation"):
        log.warning("job %s has no Teams conversation to report to", job.id)
        return None
    reference: ConversationReference = ConversationReference().deserialize(stored)
    return reference


def _size(size: int) -> str:
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} Mo".replace(".", ",")
    return f"{max(1, size // 1024)} Ko"

"""The question a user asked before accepting the usage charter, answered right after.

One per user and space, for a few minutes, never written to the database or the log; its
files (already in the file store) are remembered by id and name only. With
one process it waits in memory (a bounded number of entries). Behind several replicas the
acceptance may reach another one than the question: with Redis configured, the question
waits there, sealed with its asker's key, under a key that names no one, and the first
replica to see the acceptance takes it (once).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from bot.messages import Attachment, Locale, Message
from bot.store.sealing import OwnerSealer, seal_text, unseal_text

log = logging.getLogger(__name__)


class PendingStore(Protocol):
    """Where questions wait for their asker's acceptance of the charter."""

    async def keep(self, message: Message) -> None:
        """Remember a question or a command, with its files' ids (not a button press)."""
        ...

    async def take(self, acceptance: Message) -> Message | None:
        """The question to answer now, in the acceptance's conversation (once), or None."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def _kept(message: Message) -> bool:
    return message.action is None and (
        bool(message.text.strip()) or bool(message.attachments)
    ) and all(attachment.file_id for attachment in message.attachments)


def _file_refs(message: Message) -> list[tuple[str, str]]:
    """Its files as (id, name): what is kept of them."""
    return [(attachment.file_id or "", attachment.name) for attachment in message.attachments]


def _answerable(text: str, command: str | None, locale: Locale | None,
                acceptance: Message, files: list[tuple[str, str]]) -> Message:
    """The question, asked again in the acceptance's conversation; its files by reference
    (id and name: the assistant reads them back from the file store)."""
    return Message(text=text, user=acceptance.user, space=acceptance.space,
                   channel=acceptance.channel, thread_id=acceptance.thread_id,
                   command=command, locale=acceptance.locale or locale,
                   raw=acceptance.raw, reference=acceptance.reference,
                   attachments=tuple(Attachment(name=name, content_type="", file_id=file_id)
                                     for file_id, name in files))


class PendingQuestions:
    """In this process's memory: at most one question per (user, space), for ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float = 600.0, max_entries: int = 1_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._questions: OrderedDict[tuple[str, str], tuple[float, Message]] = OrderedDict()

    async def keep(self, message: Message) -> None:
        """See :meth:`PendingStore.keep`."""
        if not _kept(message):
            return
        key = (message.user.id, message.space.id)
        self._questions.pop(key, None)
        self._questions[key] = (self._clock() + self._ttl, message)
        while len(self._questions) > self._max:
            self._questions.popitem(last=False)

    async def take(self, acceptance: Message) -> Message | None:
        """See :meth:`PendingStore.take`."""
        entry = self._questions.pop((acceptance.user.id, acceptance.space.id), None)
        if entry is None or entry[0] < self._clock():
            return None
        question = entry[1]
        return _answerable(question.text, question.command, question.locale, acceptance,
                           _file_refs(question))

    async def close(self) -> None:
        """Nothing to release."""


class RedisPendingQuestions:
    """Shared by every replica through Redis (``SET … EX``, then ``GETDEL``: taken once).

    When Redis cannot be reached, this process's memory stands in (logged): the question is
    then answered only if the acceptance reaches the same replica.
    """

    def __init__(self, url: str, sealer: OwnerSealer, ttl_seconds: int = 600) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._sealer = sealer
        self._ttl = ttl_seconds
        self._fallback = PendingQuestions(ttl_seconds=ttl_seconds)

    async def keep(self, message: Message) -> None:
        """See :meth:`PendingStore.keep`."""
        from redis.exceptions import RedisError

        if not _kept(message):
            return
        key = _key(message)
        kept = json.dumps({"text": message.text, "command": message.command,
                           "locale": message.locale, "files": _file_refs(message)},
                          ensure_ascii=False)
        sealed = await seal_text(self._sealer, message.user.id, kept, key)
        try:
            await self._redis.set(key, sealed, ex=self._ttl)
        except (RedisError, OSError) as error:
            log.warning("pending question kept in memory only (Redis: %s)", type(error).__name__)
            await self._fallback.keep(message)

    async def take(self, acceptance: Message) -> Message | None:
        """See :meth:`PendingStore.take`."""
        from redis.exceptions import RedisError

        key = _key(acceptance)
        try:
            stored: Any = await self._redis.getdel(key)
        except (RedisError, OSError) as error:
            log.warning("pending question looked up in memory only (Redis: %s)",
                        type(error).__name__)
            return await self._fallback.take(acceptance)
        if stored is None:
            return await self._fallback.take(acceptance)
        opened = await unseal_text(self._sealer, acceptance.user.id,
                                   stored.decode() if isinstance(stored, bytes) else str(stored),
                                   key)
        if opened is None:  # the asker was erased meanwhile
            return None
        question = json.loads(opened)
        locale = question.get("locale")
        files = [(str(file_id), str(name)) for file_id, name in question.get("files") or ()]
        return _answerable(str(question.get("text") or ""), question.get("command"),
                           locale if locale in ("fr", "en") else None, acceptance, files)

    async def close(self) -> None:
        """Release the connection pool."""
        await self._redis.aclose()


def _key(message: Message) -> str:
    """The Redis key of a user's question in a space: a digest, naming no one."""
    digest = hashlib.sha256(f"{message.user.id}\x1f{message.space.id}".encode()).hexdigest()
    return f"almia:pending:{digest}"


__all__ = ["PendingQuestions", "PendingStore", "RedisPendingQuestions"]

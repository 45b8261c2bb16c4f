"""The question a user asked before accepting the usage charter, answered right after.

Kept in this process's memory only (never written to the database or the log), one per
user and space, for a few minutes, with a bounded number of entries. Behind several
replicas, an acceptance that reaches another replica simply finds nothing to answer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.messages import Message


class PendingQuestions:
    """At most one pending question per (user, space), for ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float = 600.0, max_entries: int = 1_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._questions: OrderedDict[tuple[str, str], tuple[float, Message]] = OrderedDict()

    def keep(self, message: Message) -> None:
        """Remember a plain question (not a button, not a file: those are sent again)."""
        if message.action is not None or message.attachments or not message.text.strip():
            return
        key = (message.user.id, message.space.id)
        self._questions.pop(key, None)
        self._questions[key] = (self._clock() + self._ttl, message)
        while len(self._questions) > self._max:
            self._questions.popitem(last=False)

    def take(self, acceptance: Message) -> Message | None:
        """The question to answer now, in the acceptance's conversation (once), or None."""
        entry = self._questions.pop((acceptance.user.id, acceptance.space.id), None)
        if entry is None or entry[0] < self._clock():
            return None
        question = entry[1]
        return Message(text=question.text, user=acceptance.user, space=acceptance.space,
                       channel=acceptance.channel, thread_id=acceptance.thread_id,
                       command=question.command, locale=acceptance.locale or question.locale,
                       raw=acceptance.raw, reference=acceptance.reference)

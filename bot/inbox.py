"""Chat messages acknowledged to Slack or Teams are kept until answered, so that a replica
that dies between the acknowledgement and the answer does not lose them.

The replica answering a message holds a lease on it and renews it while it works; once
answered, the message is forgotten. Every replica sweeps for messages whose lease ran out
(their replica died, or stopped before finishing) and answers them again, from the start.
A message tried too often, or too old, is not tried again: its asker is told so. Delivery
is at least once: a replica that dies after posting its answer but before forgetting the
message gets it answered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Coroutine, Mapping
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from bot.settings import InboxSettings
from bot.store.inbox import InboxEntry, InboxStore

log = logging.getLogger(__name__)
_T = TypeVar("_T")
Held = str | None | asyncio.Future[str | None]  # an entry id, or the write that gives it


class InboxChannel(Protocol):
    """A channel whose waiting messages can be answered by any replica."""

    def resume(self, entry: InboxEntry) -> None:
        """Answer the message again (in the background, through :meth:`ChatInbox.answering`)."""
        ...

    def give_up(self, entry: InboxEntry) -> None:
        """Tell the asker their message could not be answered (in the background, through
        :meth:`ChatInbox.answering`)."""
        ...


class ChatInbox:
    """This replica's side of the inbox: what it holds, and what it takes up from others."""

    def __init__(self, store: InboxStore, settings: InboxSettings | None = None, *,
                 owner: str | None = None) -> None:
        self._store = store
        self._settings = settings or InboxSettings()
        self._lease = timedelta(seconds=self._settings.lease_seconds)
        self.owner = owner or f"replica-{uuid.uuid4().hex[:12]}"
        self._channels: dict[str, InboxChannel] = {}
        self._held: set[str] = set()
        self._taking = True
        self._writing: set[asyncio.Future[Any]] = set()  # holds and notes under way

    def register(self, name: str, channel: InboxChannel) -> None:
        """Let this replica take up ``name``'s waiting messages."""
        self._channels[name] = channel

    @property
    def channels(self) -> frozenset[str]:
        """The channels whose waiting messages this replica takes up."""
        return frozenset(self._channels)

    @property
    def held(self) -> int:
        """How many messages this replica is answering."""
        return len(self._held)

    async def counts(self) -> dict[str, int]:
        """Kept messages of every replica by state (``answering``, ``orphaned``)."""
        return await self._store.counts()

    async def hold(self, channel: str, user_id: str, payload: Mapping[str, Any]) -> str | None:
        """Keep a message leased to this replica (:meth:`keep` does it beside the answer);
        None when the database cannot (the answer goes ahead without the safety net, and
        the failure is logged)."""
        try:
            entry_id = await self._store.add(channel, user_id, payload, owner=self.owner,
                                             lease=self._lease)
        except Exception:
            log.exception("chat inbox unavailable: answering this %s message without it", channel)
            return None
        self._held.add(entry_id)
        return entry_id

    def keep(self, channel: str, user_id: str,
             payload: Mapping[str, Any]) -> asyncio.Future[str | None]:
        """Start keeping a message beside its answer, which need not wait for the write
        (give the result to :meth:`answering`)."""
        return self._background(self.hold(channel, user_id, payload))

    def _background(self, write: Coroutine[Any, Any, _T]) -> asyncio.Future[_T]:
        """``write`` in a task of its own, awaited by :meth:`close` if still running."""
        task = asyncio.ensure_future(write)
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)
        return task

    async def note(self, entry: Held, user_id: str, payload: Mapping[str, Any], *,
                   wait: float = 2.0) -> None:
        """Replace what is kept of a held message (e.g. with the id of a progress message
        already posted, for whoever takes it up to remove). The write runs in the
        background; the caller waits for it at most ``wait`` seconds, so that the note is
        stored before the long work it is about begins (a few milliseconds), without ever
        being held up by a slow database. Failures are only logged."""
        write = self._background(self._note(entry, user_id, payload))
        await asyncio.wait({write}, timeout=wait)

    async def _note(self, entry: Held, user_id: str, payload: Mapping[str, Any]) -> None:
        entry_id = await _resolved(entry)
        if entry_id is None:
            return
        try:
            await self._store.rewrite(entry_id, user_id, payload, owner=self.owner)
        except Exception:
            log.exception("chat inbox: could not note progress on message %s", entry_id)

    async def answering(self, entry: Held, work: Awaitable[None]) -> None:
        """Run ``work`` (an answer), then forget the message: also after an error, which a
        second attempt would repeat. A cancelled answer (the replica is stopping) stays
        held, to be handed back by :meth:`close`."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            await self.forget(await _resolved(entry))
            raise
        await self.forget(await _resolved(entry))

    def stop_taking(self) -> None:
        """The replica is stopping: keep renewing what it holds, take nothing up."""
        self._taking = False

    async def sweep(self) -> int:
        """Renew this replica's leases, then take up the messages of silent replicas; how
        many were taken up."""
        settings = self._settings
        if self._held:
            await self._store.renew(set(self._held), owner=self.owner, lease=self._lease)
        if not self._taking:
            return 0
        entries = await self._store.take_expired(
            set(self._channels), owner=self.owner, lease=self._lease,
            max_attempts=settings.max_attempts,
            max_age=timedelta(minutes=settings.max_age_minutes))
        taken = 0
        for entry in entries:
            if entry.id in self._held:  # still answered here (its renewal was lost): now renewed
                continue
            taken += 1
            channel = self._channels[entry.channel]
            self._held.add(entry.id)
            if entry.payload is None:  # its asker was erased meanwhile
                await self.forget(entry.id)
            elif entry.exhausted:
                log.warning("chat inbox: %s message %s given up after %d attempt(s)",
                            entry.channel, entry.id, entry.attempts - 1)
                channel.give_up(entry)
            else:
                log.info("chat inbox: %s message %s taken up (attempt %d)", entry.channel,
                         entry.id, entry.attempts)
                channel.resume(entry)
        return taken

    async def forever(self) -> None:
        """Sweep every ``sweep_seconds`` until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("chat inbox sweep failed; next one in %.0f s",
                              self._settings.sweep_seconds)
            await asyncio.sleep(self._settings.sweep_seconds)

    async def close(self) -> None:
        """Hand back the messages still held (answers cut short by a stop): another replica
        takes them up at its next sweep."""
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._store.close()
        if not self._held:
            return
        with contextlib.suppress(Exception):
            handed = await self._store.hand_back(set(self._held), owner=self.owner)
            log.info("chat inbox: %d unanswered message(s) handed back", handed)
        self._held.clear()

    async def forget(self, entry_id: str | None) -> None:
        """Forget a message this replica held (answered, given up, or unanswerable)."""
        if entry_id is None:
            return
        self._held.discard(entry_id)
        try:
            await self._store.remove(entry_id, owner=self.owner)
        except Exception:
            log.exception("chat inbox: message %s answered but not forgotten", entry_id)


async def _resolved(entry: Held) -> str | None:
    """The entry id, once its write finished (None when it failed)."""
    if entry is None or isinstance(entry, str):
        return entry
    return await entry


__all__ = ["ChatInbox", "Held", "InboxChannel"]

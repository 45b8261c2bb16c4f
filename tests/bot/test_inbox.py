"""The chat inbox as replicas use it: hold, answer, renew, stop, take up, give up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.inbox import ChatInbox
from bot.settings import InboxSettings
from bot.store import Store
from bot.store.inbox import InboxEntry, InboxStore
from bot.store.sealing import PlainSealer

PAYLOAD = {"team": "T1", "event": {"channel": "C1", "user": "U1", "ts": "1.2", "text": "Bonjour"}}
SETTINGS = InboxSettings(lease_seconds=60, sweep_seconds=10, max_attempts=2)


class Clock:
    """A clock the test moves by hand (no sleeps, no dependence on machine speed)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Channel:
    """Records what the inbox asks of it, as a channel adapter would receive it."""

    def __init__(self) -> None:
        self.resumed: list[InboxEntry] = []
        self.given_up: list[InboxEntry] = []

    def resume(self, entry: InboxEntry) -> None:
        self.resumed.append(entry)

    def give_up(self, entry: InboxEntry) -> None:
        self.given_up.append(entry)


class ForgettingSealer(PlainSealer):
    """As after a person's erasure: their key is gone, nothing opens."""

    async def unseal_bytes(self, owner: str, stored: bytes, context: str) -> bytes | None:
        return None


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}")
    await opened.migrate()
    yield opened
    await opened.close()


def _replica(store: Store, clock: Clock, name: str) -> tuple[ChatInbox, Channel]:
    inbox = ChatInbox(InboxStore(store.engine, PlainSealer(), clock=clock), SETTINGS, owner=name)
    channel = Channel()
    inbox.register("slack", channel)
    return inbox, channel


async def test_an_answered_message_is_forgotten_even_after_an_error(store: Store) -> None:
    inbox, _ = _replica(store, Clock(), "a")
    entry = await inbox.hold("slack", "slack:T1:U1", PAYLOAD)
    assert entry is not None and inbox.held == 1
    await inbox.answering(entry, asyncio.sleep(0))
    failing = await inbox.hold("slack", "slack:T1:U1", PAYLOAD)

    async def fails() -> None:
        raise RuntimeError("the platform refused the answer")

    with pytest.raises(RuntimeError):
        await inbox.answering(failing, fails())
    assert inbox.held == 0
    assert await InboxStore(store.engine, PlainSealer()).count() == 0


async def test_leases_are_renewed_by_each_sweep_and_taken_up_when_they_stop(store: Store) -> None:
    clock = Clock()
    first, _ = _replica(store, clock, "a")
    second, channel = _replica(store, clock, "b")
    entry = await first.hold("slack", "slack:T1:U1", PAYLOAD)
    for _ in range(3):  # a sweeps every 50 s: its message is never taken from it
        clock.now += timedelta(seconds=50)
        assert await first.sweep() == 0
        assert await second.sweep() == 0
    clock.now += timedelta(seconds=61)  # a died
    assert await second.sweep() == 1
    assert [(item.id, item.payload, item.attempts) for item in channel.resumed] == [
        (entry, PAYLOAD, 2)]
    assert second.held == 1
    await second.answering(entry, asyncio.sleep(0))
    assert await InboxStore(store.engine, PlainSealer()).count() == 0


async def test_a_stopping_replica_hands_back_what_it_could_not_finish(store: Store) -> None:
    clock = Clock()
    first, _ = _replica(store, clock, "a")
    second, channel = _replica(store, clock, "b")
    entry = await first.hold("slack", "slack:T1:U1", PAYLOAD)
    answer = asyncio.create_task(first.answering(entry, asyncio.sleep(3600)))
    await asyncio.sleep(0)
    answer.cancel()  # the stop's grace ran out
    with contextlib.suppress(asyncio.CancelledError):
        await answer
    assert first.held == 1  # cancelled, not answered: still held
    await first.close()
    assert await second.sweep() == 1  # at once, without waiting for the lease
    assert [item.id for item in channel.resumed] == [entry]


async def test_a_message_tried_too_often_is_given_up(store: Store) -> None:
    clock = Clock()
    replicas = [_replica(store, clock, name) for name in ("a", "b", "c")]
    entry = await replicas[0][0].hold("slack", "slack:T1:U1", PAYLOAD)
    clock.now += timedelta(seconds=61)
    await replicas[1][0].sweep()  # attempt 2 of 2
    clock.now += timedelta(seconds=61)  # b died too
    await replicas[2][0].sweep()
    inbox, channel = replicas[2]
    assert channel.resumed == [] and [item.id for item in channel.given_up] == [entry]
    await inbox.answering(entry, asyncio.sleep(0))  # the channel told the asker
    assert await InboxStore(store.engine, PlainSealer()).count() == 0


async def test_a_message_whose_asker_was_erased_is_dropped_unread(store: Store) -> None:
    clock = Clock()
    first, _ = _replica(store, clock, "a")
    entry = await first.hold("slack", "slack:T1:U1", PAYLOAD)
    assert entry is not None
    erased = ChatInbox(InboxStore(store.engine, ForgettingSealer(), clock=clock), SETTINGS,
                       owner="b")
    channel = Channel()
    erased.register("slack", channel)
    clock.now += timedelta(seconds=61)
    assert await erased.sweep() == 1
    assert channel.resumed == [] and channel.given_up == [] and erased.held == 0
    assert await InboxStore(store.engine, PlainSealer()).count() == 0


async def test_without_a_working_database_the_answer_still_goes_ahead(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # no tables
    inbox = ChatInbox(InboxStore(engine, PlainSealer()), SETTINGS)
    try:
        entry = await inbox.hold("slack", "slack:T1:U1", PAYLOAD)
        assert entry is None
        answered: list[bool] = []

        async def answer() -> None:
            answered.append(True)

        await inbox.answering(entry, answer())
        assert answered == [True]
    finally:
        await engine.dispose()


def test_leases_must_outlast_two_sweeps() -> None:
    with pytest.raises(ValueError, match="half of lease_seconds"):
        InboxSettings(lease_seconds=10, sweep_seconds=6)


async def test_a_stopping_replica_renews_what_it_holds_and_takes_nothing_up(
        store: Store) -> None:
    clock = Clock()
    first, _ = _replica(store, clock, "a")
    stopping, channel = _replica(store, clock, "b")
    orphan = await first.hold("slack", "slack:T1:U1", PAYLOAD)
    mine = await stopping.hold("slack", "slack:T1:U2", PAYLOAD)
    stopping.stop_taking()
    clock.now += timedelta(seconds=50)
    assert await stopping.sweep() == 0  # renews its own for its answers in flight
    clock.now += timedelta(seconds=20)  # a's lease ran out, b's (renewed) did not
    assert await stopping.sweep() == 0 and channel.resumed == []
    other, taken = _replica(store, clock, "c")
    assert await other.sweep() == 1
    assert [item.id for item in taken.resumed] == [orphan] and mine != orphan


class LostRenewals(InboxStore):
    """Renewals that never reach the database (it was away while they were sent)."""

    async def renew(self, entry_ids: Collection[str], *, owner: str, lease: timedelta) -> int:
        return 0


async def test_a_message_still_answered_here_is_not_taken_up_again_by_this_replica(
        store: Store) -> None:
    clock = Clock()
    inbox = ChatInbox(LostRenewals(store.engine, PlainSealer(), clock=clock), SETTINGS,
                      owner="a")
    channel = Channel()
    inbox.register("slack", channel)
    entry = await inbox.hold("slack", "slack:T1:U1", PAYLOAD)
    clock.now += timedelta(seconds=61)
    assert await inbox.sweep() == 0  # found expired, but it is this replica's own
    assert channel.resumed == [] and inbox.held == 1
    await inbox.answering(entry, asyncio.sleep(0))
    assert await InboxStore(store.engine, PlainSealer()).count() == 0

"""Chat inbox rows on SQLite and PostgreSQL: leases, one taker, limits, sealing, erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.store import Store
from bot.store.inbox import InboxStore
from bot.store.inbox_tables import InboxRecord
from bot.store.sealing import PlainSealer

LEASE = timedelta(seconds=60)
AGE = timedelta(hours=1)
EVENT = {"team": "T1", "event": {"channel": "C1", "user": "U1", "ts": "1.2",
                                 "text": "Quel délai pour déclarer le sinistre de M. Martin ?"}}


class Clock:
    """A clock the test moves by hand (no sleeps, no dependence on machine speed)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _expired(inbox: InboxStore, owner: str, channels: tuple[str, ...] = ("slack",),
                   max_attempts: int = 3) -> list[str]:
    taken = await inbox.take_expired(channels, owner=owner, lease=LEASE,
                                     max_attempts=max_attempts, max_age=AGE)
    return [entry.id for entry in taken]


async def test_a_held_message_is_taken_up_once_its_lease_runs_out(store: Store) -> None:
    clock = Clock()
    inbox = InboxStore(store.engine, PlainSealer(), clock=clock)
    entry = await inbox.add("slack", "slack:T1:U1", EVENT, owner="a", lease=LEASE)
    assert await _expired(inbox, "b") == []  # a's lease runs
    assert await inbox.counts() == {"answering": 1, "orphaned": 0}
    clock.now += timedelta(seconds=50)
    assert await inbox.renew([entry], owner="a", lease=LEASE) == 1
    clock.now += timedelta(seconds=50)
    assert await _expired(inbox, "b") == []  # renewed 50 s ago
    assert await inbox.renew([entry], owner="b", lease=LEASE) == 0  # not b's to renew
    clock.now += timedelta(seconds=11)  # a went silent
    assert await inbox.counts() == {"answering": 0, "orphaned": 1}
    assert await _expired(inbox, "b", ("teams",)) == []  # b does not serve Slack
    taken = await inbox.take_expired(["slack"], owner="b", lease=LEASE, max_attempts=3,
                                     max_age=AGE)
    assert [(item.id, item.attempts, item.exhausted) for item in taken] == [(entry, 2, False)]
    assert taken[0].payload == EVENT and taken[0].user_id == "slack:T1:U1"
    assert not await inbox.remove(entry, owner="a")  # a's late answer does not forget b's
    assert await inbox.remove(entry, owner="b")
    assert await inbox.count() == 0


async def test_concurrent_sweeps_take_each_message_once(store: Store) -> None:
    clock = Clock()
    inbox = InboxStore(store.engine, PlainSealer(), clock=clock)
    entries = {await inbox.add("slack", f"slack:T1:U{index}", EVENT, owner="dead", lease=LEASE)
               for index in range(8)}
    clock.now += timedelta(seconds=61)
    taken = await asyncio.gather(*(_expired(inbox, f"replica-{index}") for index in range(4)))
    flat = [entry for share in taken for entry in share]
    assert sorted(flat) == sorted(entries)  # every message once, by one replica


async def test_attempts_and_age_are_bounded(store: Store) -> None:
    clock = Clock()
    inbox = InboxStore(store.engine, PlainSealer(), clock=clock)
    entry = await inbox.add("teams", "teams:u1", EVENT, owner="a", lease=LEASE)
    for taker in ("b", "c"):
        clock.now += timedelta(seconds=61)
        taken = await inbox.take_expired(["teams"], owner=taker, lease=LEASE, max_attempts=3,
                                         max_age=AGE)
        assert [item.exhausted for item in taken] == [False]
    clock.now += timedelta(seconds=61)
    taken = await inbox.take_expired(["teams"], owner="d", lease=LEASE, max_attempts=3,
                                     max_age=AGE)
    assert [(item.id, item.attempts, item.exhausted) for item in taken] == [(entry, 4, True)]
    late = await inbox.add("teams", "teams:u2", EVENT, owner="a", lease=LEASE)
    clock.now += AGE + timedelta(seconds=1)  # every replica was down for an hour
    taken = await inbox.take_expired(["teams"], owner="b", lease=LEASE, max_attempts=3,
                                     max_age=AGE)
    assert {(item.id, item.exhausted) for item in taken} == {(entry, True), (late, True)}


async def test_a_stopping_replica_hands_its_messages_back_at_once(store: Store) -> None:
    clock = Clock()
    inbox = InboxStore(store.engine, PlainSealer(), clock=clock)
    entry = await inbox.add("slack", "slack:T1:U1", EVENT, owner="a", lease=LEASE)
    assert await inbox.rewrite(entry, "slack:T1:U1", {**EVENT, "placeholder": "9.9"}, owner="a")
    assert not await inbox.rewrite(entry, "slack:T1:U1", EVENT, owner="b")
    assert await inbox.hand_back([entry], owner="a") == 1
    taken = await inbox.take_expired(["slack"], owner="b", lease=LEASE, max_attempts=3,
                                     max_age=AGE)
    assert taken[0].payload == {**EVENT, "placeholder": "9.9"}


async def test_the_payload_is_sealed_and_erased_with_its_asker(encrypted_store: Store) -> None:
    store = encrypted_store
    inbox = InboxStore(store.engine, store)
    kept = await inbox.add("slack", "slack:T1:U1", EVENT, owner="a", lease=LEASE)
    other = await inbox.add("slack", "slack:T1:U2", EVENT, owner="a", lease=LEASE)
    async with store.engine.connect() as connection:
        stored = (await connection.scalars(select(InboxRecord.payload))).all()
    assert len(stored) == 2 and not any("Martin" in payload for payload in stored)
    counts = await store.purge(user_id="slack:T1:U1")
    assert counts["waiting_messages"] == 1
    assert await inbox.remove(other, owner="a") and not await inbox.remove(kept, owner="a")

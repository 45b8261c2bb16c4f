"""Group commit and group read: many messages' writes in one transaction, the audit chain
intact, a bad write failing alone, a write sealed with a key another replica erased sealed
again; concurrent history reads each answered with their own thread."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.governance.audit import verify_chain
from bot.governance.crypto import LocalKeyFile
from bot.messages import Channel, Message, Reply, Space, User
from bot.store import AuditEntry, Store
from bot.store.group_commit import GroupCommit, PendingWrite


def _message(user: str, text_: str, thread: str) -> Message:
    return Message(text=text_, user=User(user), space=Space("web:team"), channel=Channel.WEB,
                   thread_id=thread)


async def test_concurrent_exchanges_are_all_stored_on_one_chain(encrypted_store: Store) -> None:
    store = encrypted_store
    answers = await asyncio.gather(*(
        store.record_exchange(_message(f"user{index % 7}", f"question {index}", f"t{index % 5}"),
                              Reply(f"réponse {index}", skill="qa"), [],
                              AuditEntry("message", "ok", skill="qa"))
        for index in range(60)))
    assert len(set(answers)) == 60
    counts = await store.counts()
    assert counts["turns"] == 120
    assert counts["conversations"] == 5
    report = verify_chain(await store.audit_records())
    assert report.records == 60
    assert report.problems == ()
    history = await store.history(_message("user0", "", "t0"), 30)
    assert {turn.content for turn in history} >= {"question 0", "réponse 0"}


async def test_a_bad_write_fails_alone_and_the_others_of_its_batch_are_stored(
        store: Store) -> None:
    commits = GroupCommit(store._writing, store._upsert_conversation)

    def write(index: int, turn_id: str) -> PendingWrite:
        now = datetime.now(UTC)
        audit = {"created_at": now, "action": "test", "user_id": "u", "space_id": "s",
                 "channel": "web", "skill": None, "model_alias": None, "data_class": None,
                 "outcome": "ok", "details": f'{{"n": {index}}}'}
        conversation = {"id": "c1", "channel": "web", "space_id": "s", "thread_id": "t",
                        "created_at": now, "updated_at": now}
        turn = {"id": turn_id, "conversation_id": "c1", "role": "user", "text": "x",
                "user_id": "u", "skill": None, "model_alias": None, "citations": None,
                "created_at": now}
        return PendingWrite(audit=audit, conversation=conversation, turns=[turn])

    try:
        await commits.write(write(0, "taken"))
        # queued together: one batch, in which write 3 reuses a turn id (a unique violation)
        results = await asyncio.gather(*(commits.write(write(index, f"turn{index}"))
                                         for index in range(1, 6)),
                                       commits.write(write(6, "taken")),
                                       return_exceptions=True)
    finally:
        await commits.close()
    assert commits.batches == 1
    assert results[:5] == [None] * 5
    assert isinstance(results[5], Exception)
    counts = await store.counts()
    assert counts["turns"] == 6
    report = verify_chain(await store.audit_records())
    assert (report.records, report.problems) == (6, ())


async def test_a_key_erased_by_another_replica_is_not_used_for_new_content(
        encrypted_store: Store, tmp_path: Path) -> None:
    store = encrypted_store
    await store.record_exchange(_message("alice", "première", "t"), Reply("un"), [],
                                AuditEntry("message", "ok"))
    other = Store.open(store.engine.url.render_as_string(hide_password=False),
                       connect_args=await _connect_args(store),
                       key_provider=LocalKeyFile(tmp_path / "keys" / "kek.key"))
    await other.migrate()
    try:
        await other.purge(user_id="alice")  # the erasure, through another replica
    finally:
        await other.close()
    # this process still remembers alice's former key: the write notices and seals again
    await store.record_exchange(_message("alice", "seconde", "t"), Reply("deux"), [],
                                AuditEntry("message", "ok"))
    history = await store.history(_message("alice", "", "t"), 10)
    assert [turn.content for turn in history] == ["seconde", "deux"]
    async with store.engine.connect() as connection:
        keys = (await connection.execute(text(
            "SELECT count(*) FROM data_keys WHERE owner_id = 'alice'"))).scalar_one()
    assert keys == 1
    assert verify_chain(await store.audit_records()).problems == ()


async def _connect_args(store: Store) -> dict[str, Any]:
    if store.dialect != "postgresql":
        return {}
    async with store.engine.connect() as connection:
        schema = str(await connection.scalar(text("SHOW search_path")))
    return {"server_settings": {"search_path": schema}}


async def test_concurrent_history_reads_each_get_their_own_thread(store: Store) -> None:
    for thread in range(3):
        for turn in range(3):
            await store.record_exchange(_message("u", f"q{thread}-{turn}", f"t{thread}"),
                                        Reply(f"r{thread}-{turn}"), [],
                                        AuditEntry("message", "ok"))
    wanted = [("t0", 2), ("t1", 6), ("t2", 3), ("t0", 10), ("empty", 5)]
    histories = await asyncio.gather(*(store.history(_message("u", "", thread), limit)
                                       for thread, limit in wanted))
    contents = [[turn.content for turn in history] for history in histories]
    assert contents == [
        ["q0-2", "r0-2"],
        ["q1-0", "r1-0", "q1-1", "r1-1", "q1-2", "r1-2"],
        ["r2-1", "q2-2", "r2-2"],
        ["q0-0", "r0-0", "q0-1", "r0-1", "q0-2", "r0-2"],
        [],
    ]

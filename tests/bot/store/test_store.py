"""The store on both SQLite and PostgreSQL: migrations, exchanges, history, feedback, atomicity."""

from __future__ import annotations

import pytest

from bot.gateway.llm import UsageRecord
from bot.governance.policy import DataClass
from bot.messages import Attachment, Channel, Citation, Message, Reply, Space, User
from bot.store import AuditEntry, Store


def _message(text_: str = "Comment déclarer un sinistre ?", thread: str = "t1") -> Message:
    return Message(text=text_, user=User("u1"), space=Space("web:default"),
                   channel=Channel.WEB, thread_id=thread)


def _usage() -> UsageRecord:
    return UsageRecord(skill="qa", role="answer", alias="extractive", hosting="internal",
                       data_class=DataClass.INTERNAL, outcome="ok", latency_ms=3.0,
                       prompt_tokens=10, completion_tokens=5)


async def test_migrations_are_idempotent(store: Store) -> None:
    await store.migrate()
    assert (await store.counts())["turns"] == 0


async def test_exchange_is_stored_with_usage_and_audit(store: Store) -> None:
    reply = Reply("Déclarez-le sous 5 jours [1].", skill="qa", model="extractive",
                  citations=(Citation(1, "doc.md", "Guide", "Sous 5 jours."),))
    turn_id = await store.record_exchange(_message(), reply, [_usage()],
                                          AuditEntry(action="message", outcome="ok", skill="qa"))
    counts = await store.counts()
    assert counts == {"conversations": 1, "turns": 2, "usage_events": 1, "audit_events": 1,
                      "feedback": 0, "spaces": 0}
    usage = (await store.usage_events())[0]
    assert (usage.turn_id, usage.model_alias, usage.prompt_tokens) == (turn_id, "extractive", 10)
    audit = (await store.audit_events())[0]
    assert "sinistre" not in audit.details  # the audit trail never holds message content


async def test_history_is_ordered_bounded_and_per_thread(store: Store) -> None:
    for index in range(4):
        await store.record_exchange(_message(f"question {index}"), Reply(f"réponse {index}"), [],
                                    AuditEntry(action="message", outcome="ok"))
    await store.record_exchange(_message("ailleurs", thread="t2"), Reply("autre"), [],
                                AuditEntry(action="message", outcome="ok"))
    history = await store.history(_message(), limit=3)
    assert [turn.content for turn in history] == ["réponse 2", "question 3", "réponse 3"]
    assert [turn.role for turn in history] == ["assistant", "user", "assistant"]
    assert await store.history(_message(), limit=0) == ()


async def test_a_thread_s_files_are_its_author_s_newest_first(store: Store) -> None:
    def sent(thread: str, user: str, *ids: str) -> Message:
        files = tuple(Attachment(f"{i}.pdf", "application/pdf", file_id=i) for i in ids)
        return Message(text="Voici le dossier", user=User(user), space=Space("web:default"),
                       channel=Channel.WEB, thread_id=thread, attachments=files)

    for message in (sent("t1", "u1", "rc", "ccap"), sent("t1", "u1"), sent("t1", "u2", "x"),
                    sent("t2", "u1", "y"), sent("t1", "u1", "bpu", "rc")):
        await store.record_exchange(message, Reply("ok", skill="tenders"), [],
                                    AuditEntry(action="message", outcome="ok"))
    assert await store.thread_files(_message(), limit=5) == ("bpu", "rc", "ccap")
    assert await store.thread_files(_message(), limit=2) == ("bpu", "rc")
    assert await store.thread_files(_message(thread="t3"), limit=5) == ()


async def test_feedback_last_vote_wins_and_unknown_answer_is_refused(store: Store) -> None:
    turn_id = await store.record_exchange(_message(), Reply("ok"), [],
                                          AuditEntry(action="message", outcome="ok"))
    assert await store.record_feedback(turn_id, "u1", 1)
    assert await store.record_feedback(turn_id, "u1", -1, "incomplet")
    assert not await store.record_feedback("missing", "u1", 1)
    assert (await store.counts())["feedback"] == 1
    with pytest.raises(ValueError, match="1 or -1"):
        await store.record_feedback(turn_id, "u1", 5)


async def test_a_failed_exchange_writes_nothing(store: Store) -> None:
    too_long_alias = "x" * 5000  # violates nothing on SQLite, so force a failure on both
    message = _message()
    bad = UsageRecord(skill="qa", role="answer", alias=too_long_alias, hosting="internal",
                      data_class=DataClass.INTERNAL, outcome="ok", latency_ms=1.0)
    await store.record_exchange(message, Reply("first"), [],
                                AuditEntry(action="message", outcome="ok"))
    before = await store.counts()

    class Boom(Exception):
        pass

    class ExplodingRecord:
        def __getattr__(self, name: str) -> object:
            if name == "prompt_tokens":
                raise Boom
            return getattr(bad, name)

    with pytest.raises(Boom):
        await store.record_exchange(message, Reply("second"), [ExplodingRecord()],  # type: ignore[list-item]
                                    AuditEntry(action="message", outcome="ok"))
    assert await store.counts() == before


async def test_joining_a_space_twice_keeps_one_record_and_two_audit_events(store: Store) -> None:
    joined = Message(text="", user=User("teams:manager"), channel=Channel.TEAMS, thread_id="c",
                     space=Space("teams:team-1", kind="channel", name="Sinistres"))
    await store.record_space_joined(joined, {"team": "team-1"})
    renamed = Message(text="", user=User("teams:manager"), channel=Channel.TEAMS, thread_id="c",
                      space=Space("teams:team-1", kind="channel", name="Sinistres IARD"))
    await store.record_space_joined(renamed)
    [space] = await store.spaces()
    assert (space.id, space.name, space.kind, space.joined_by) == (
        "teams:team-1", "Sinistres IARD", "channel", "teams:manager")
    actions = [event.action for event in await store.audit_events()]
    assert actions == ["space_joined", "space_joined"]

"""Erasing a person: nothing of theirs left readable, in the tables or in the database files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from bot.governance.audit import verify_chain
from bot.governance.crypto import LocalKeyFile
from bot.messages import Channel, Message, Reply, Space, User
from bot.store import AuditEntry, Store
from bot.store.store import ERASED_PERSON, feedback_context
from bot.store.tables import DataKey, Feedback, Turn
from bot.store.template_tables import TemplateRecord, TemplateRun, TemplateVersion
from bot.store.templates import Actor, RunRecord, TemplateContent, TemplateStore

TEAM = "web:team"
QUESTION = "Mon numero client est ZX-QUESTION-7731, merci de verifier."
ANSWER = "Le dossier ZX-ANSWER-7731 est complet."
COMMENT = "Reponse ZX-COMMENT-7731 trop longue."
PERSONAL = TemplateContent(title="Relance ZX-TITLE-7731", description="ZX-DESCRIPTION-7731",
                           body="Relance ZX-BODY-7731 sous 8 jours.")
SHARED = TemplateContent(title="Accueil partage", body="Bonjour {{client}}.")
MARKERS = [b"ZX-QUESTION-7731", b"ZX-ANSWER-7731", b"ZX-COMMENT-7731", b"ZX-TITLE-7731",
           b"ZX-DESCRIPTION-7731", b"ZX-BODY-7731", "ZX-QUESTION-7731".encode("utf-16-le")]


def _message(user: str, text_: str, thread: str) -> Message:
    return Message(text=text_, user=User(user), space=Space(TEAM), channel=Channel.WEB,
                   thread_id=thread)


async def _alice_everywhere(store: Store) -> dict[str, str]:
    """Alice's exchange, feedback comment, templates and run; Bob's exchange beside them."""
    answer = await store.record_exchange(_message("alice", QUESTION, "t-alice"), Reply(ANSWER),
                                         [], AuditEntry("message", "ok"))
    assert await store.record_feedback(answer, "alice", -1, COMMENT)
    await store.record_exchange(_message("bob", "Question de Bob", "t-bob"),
                                Reply("Reponse a Bob"), [], AuditEntry("message", "ok"))
    templates = TemplateStore(store.engine, sealer=store)
    personal = await templates.create("relance-alice", PERSONAL, Actor("alice", TEAM))
    await templates.create("accueil", SHARED, Actor("alice", TEAM), scope="team", space_id=TEAM)
    await templates.record_run(RunRecord(
        template=personal, user_id="alice", space_id=TEAM, channel="web",
        conversation_id="c1", skill="templates", model_alias=None, latency_ms=1.0))
    async with store.engine.connect() as connection:
        stored = (await connection.execute(text(
            "SELECT text FROM turns WHERE user_id = 'alice' AND role = 'user'"))).scalar_one()
        wrapped = (await connection.execute(text(
            "SELECT wrapped FROM data_keys WHERE owner_id = 'alice'"))).scalar_one()
    return {"turn": stored, "wrapped": wrapped}


async def test_purge_erases_everything_of_the_person_and_keeps_shared_templates(
        encrypted_store: Store) -> None:
    store = encrypted_store
    await _alice_everywhere(store)
    removed = await store.purge(user_id="alice")
    assert removed == {"turns": 2, "conversations": 1, "feedback": 1, "templates": 1,
                       "template_versions": 1, "template_runs": 1, "keys": 1,
                       "campaigns_anonymised": 0, "campaign_versions_anonymised": 0,
                       "campaign_slots_anonymised": 0, "campaign_decisions_anonymised": 0,
                       "campaign_notices": 0, "campaign_notices_anonymised": 0,
                       "files": 0, "jobs": 0, "waiting_messages": 0}
    columns = (Turn.user_id, Feedback.user_id, TemplateRecord.owner_id,
               TemplateVersion.author_id, TemplateRun.user_id, DataKey.owner_id)
    async with store.engine.connect() as connection:
        left = [(await connection.execute(
            select(func.count()).where(column == "alice"))).scalar_one() for column in columns]
    assert left == [0] * len(columns)
    shared = await TemplateStore(store.engine, sealer=store).find("accueil", Actor("bob", TEAM))
    assert shared.owner_id == ERASED_PERSON and shared.content.body == SHARED.body
    history = await store.history(_message("bob", "suite", "t-bob"), limit=10)
    assert [turn.content for turn in history] == ["Question de Bob", "Reponse a Bob"]
    assert verify_chain(await store.audit_records()).intact


async def test_no_trace_of_the_person_in_the_sqlite_files_after_a_purge(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "kek.key"
    database = tmp_path / "almia.db"
    store = Store.open(f"sqlite+aiosqlite:///{database}", key_provider=LocalKeyFile(key_file))
    await store.migrate()
    try:
        known = await _alice_everywhere(store)
        await store.purge(user_id="alice")
        raw = database.read_bytes()
        wal = Path(f"{database}-wal")
        raw += wal.read_bytes() if wal.exists() else b""
        for marker in [*MARKERS, known["turn"].encode(), known["wrapped"].encode()]:
            assert marker not in raw, marker
    finally:
        await store.close()
    # a copy of the ciphertext kept elsewhere is unreadable, even with the key file
    reopened = Store.open(f"sqlite+aiosqlite:///{database}", key_provider=LocalKeyFile(key_file))
    await reopened.migrate()
    try:
        assert await reopened.unseal_text("alice", known["turn"], "turn:any") is None
    finally:
        await reopened.close()


async def test_feedback_comments_are_sealed_with_the_person_s_key(encrypted_store: Store) -> None:
    store = encrypted_store
    answer = await store.record_exchange(_message("alice", QUESTION, "t1"), Reply(ANSWER), [],
                                         AuditEntry("message", "ok"))
    assert await store.record_feedback(answer, "alice", 1, COMMENT)
    async with store.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT comment FROM feedback"))).scalar_one()
    assert stored.startswith("enc1:") and "ZX-COMMENT" not in stored
    context = feedback_context(answer, "alice")
    assert await store.unseal_text("alice", stored, context) == COMMENT
    assert await store.unseal_text("bob", stored, context) is None  # not Bob's key


async def test_binary_content_is_sealed_per_person_and_shredded_with_them(
        encrypted_store: Store) -> None:
    store = encrypted_store
    data = b"%PDF-1.7 ZX-FILE-7731 \x00\xff"
    sealed = await store.seal_bytes("alice", data, "file:f1:0")
    assert b"ZX-FILE" not in sealed
    assert await store.seal_bytes("alice", data, "file:f1:0") != sealed  # fresh nonce
    assert await store.unseal_bytes("alice", sealed, "file:f1:0") == data
    assert await store.unseal_bytes("alice", sealed, "file:f1:1") is None  # another place
    assert await store.unseal_bytes("bob", sealed, "file:f1:0") is None  # another person
    sealed_text = await store.seal_text("alice", "ZX-TEXT", "job:j1")
    assert await store.unseal_text("alice", sealed_text, "job:j1") == "ZX-TEXT"
    bob = await store.seal_bytes("bob", data, "file:f2:0")
    await store.purge(user_id="alice")
    assert await store.unseal_bytes("alice", sealed, "file:f1:0") is None
    assert await store.unseal_text("alice", sealed_text, "job:j1") is None
    assert await store.unseal_bytes("bob", bob, "file:f2:0") == data
    # the person comes back: a new key, and the old content stays unreadable
    again = await store.seal_bytes("alice", b"new", "file:f3:0")
    assert await store.unseal_bytes("alice", again, "file:f3:0") == b"new"
    assert await store.unseal_bytes("alice", sealed, "file:f1:0") is None


async def test_without_encryption_content_is_kept_as_is(store: Store) -> None:
    assert await store.seal_bytes("alice", b"abc", "file:f1:0") == b"abc"
    assert await store.unseal_bytes("alice", b"abc", "file:f1:0") == b"abc"
    assert await store.seal_text("alice", "abc", "job:j1") == "abc"


async def test_another_process_sees_the_key_a_first_one_created(tmp_path: Path) -> None:
    key_file = tmp_path / "kek.key"
    url = f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}"
    first, second = (Store.open(url, key_provider=LocalKeyFile(key_file)) for _ in range(2))
    await first.migrate()
    await second.migrate()
    try:
        sealed = await first.seal_bytes("alice", b"data", "file:f1:0")
        assert await second.unseal_bytes("alice", sealed, "file:f1:0") == b"data"
        assert await second.seal_bytes("alice", b"x", "c") != sealed
        await second.purge(user_id="alice")  # the other process erases her
        again = await first.seal_bytes("alice", b"later", "file:f2:0")
        assert await second.unseal_bytes("alice", again, "file:f2:0") == b"later"
    finally:
        await first.close()
        await second.close()

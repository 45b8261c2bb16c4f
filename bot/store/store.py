"""Async persistence for conversations, usage, audit and feedback (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, bindparam, delete, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

from bot.gateway.llm import ChatTurn, UsageRecord
from bot.governance.crypto import ContentCipher, KeyProvider, binary_key_id, restrict, text_key_id
from bot.messages import Channel, Message, Reply, Space, User
from bot.store.campaign_purge import purge_campaigns
from bot.store.file_purge import purge_files_and_jobs
from bot.store.group_commit import GroupCommit, PendingWrite, StaleKey, append
from bot.store.group_read import GroupRead
from bot.store.inbox_tables import purge_inbox
from bot.store.keyring import KeyRing
from bot.store.tables import (
    AuditEvent,
    Base,
    CharterAcceptance,
    Conversation,
    DataKey,
    Feedback,
    SpaceRecord,
    Turn,
    UsageEvent,
)
from bot.store.template_tables import TemplateRecord, TemplateRun, TemplateVersion

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK_KEY = 0x616C6D6961  # "almia": one replica migrates at a time on PostgreSQL
_WRITE_TRANSACTION = "almia_write_transaction"
ERASED_PERSON = "erased"  # owner or author of a shared template, once that person is erased
# the statements of every message, built once: SQLAlchemy then finds their compiled form
# without rebuilding a cache key each time (a third of a statement's Python work)
_TURNS = Turn.__table__
_HISTORY = (select(_TURNS.c.id, _TURNS.c.role, _TURNS.c.text, _TURNS.c.user_id, _TURNS.c.skill,
                   _TURNS.c.files)
            .where(_TURNS.c.conversation_id == bindparam("conversation"))
            .order_by(_TURNS.c.created_at.desc(), _TURNS.c.id.desc())
            .limit(bindparam("limit")))


# the files a person attached in a thread, beyond the turns its memory keeps
_THREAD_FILES = (select(_TURNS.c.files)
                 .where(_TURNS.c.conversation_id == bindparam("conversation"),
                        _TURNS.c.role == "user", _TURNS.c.user_id == bindparam("user"),
                        _TURNS.c.files.is_not(None))
                 .order_by(_TURNS.c.created_at.desc(), _TURNS.c.id.desc())
                 .limit(bindparam("turns")))
_THREAD_FILE_TURNS = 50  # of a thread's latest questions with attachments, looked through


def _file_ids(stored: str | None) -> tuple[str, ...]:
    """A turn's attachment ids (none for a turn written before they were kept)."""
    if not stored:
        return ()
    try:
        ids = json.loads(stored)
    except ValueError:
        return ()
    return tuple(str(item) for item in ids) if isinstance(ids, list) else ()


def writer(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for transactions that write: on SQLite they begin with ``BEGIN IMMEDIATE``.

    SQLite's default (``BEGIN`` before the first write) lets another process write between
    this transaction's reads and its first write (the audit chain forked that way); the
    immediate lock is taken before the first read, for every process on the file.
    """
    return engine.execution_options(**{_WRITE_TRANSACTION: True})


def reader(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` for one-statement reads: in autocommit on PostgreSQL, which spares the
    ``BEGIN`` and ``ROLLBACK`` round trips around the ``SELECT`` (two of a message's seven)."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def feedback_context(turn_id: str, user_id: str) -> str:
    """What a feedback comment's ciphertext is bound to."""
    return f"feedback:{turn_id}:{user_id}"


def conversation_key(message: Message) -> str:
    """A stable id for the thread a message belongs to."""
    raw = f"{message.channel.value}\x1f{message.space.id}\x1f{message.thread_id}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit record to append."""

    action: str
    outcome: str
    skill: str | None = None
    model_alias: str | None = None
    data_class: str | None = None
    details: dict[str, Any] | None = None


class Store:
    """The relational store. Create with :meth:`open`, then :meth:`migrate`."""

    def __init__(self, engine: AsyncEngine, key_provider: KeyProvider | None = None) -> None:
        self._engine = engine
        self._reader = reader(engine)
        upsert = self._insert(Conversation)
        self._upsert_conversation = upsert.on_conflict_do_update(
            index_elements=["id"], set_={"updated_at": upsert.excluded.updated_at})
        self._keys = (KeyRing(self._reader, key_provider, self._writing) if key_provider
                      else None)
        self._writer = writer(engine)
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # the messages' writes, many to a transaction and one audit-chain lock per batch
        self._commits = GroupCommit(self._writing, self._upsert_conversation)
        # and their history reads, many to a statement (PostgreSQL)
        self._reads = GroupRead(self._reader) if engine.dialect.name == "postgresql" else None
        # SQLite allows one writer: within the process, writers queue here rather than in
        # SQLite's busy handler (BEGIN IMMEDIATE serialises them across processes)
        self._write_lock = asyncio.Lock()
        # called after each audited event commits (metrics); an observer must not raise
        self.observers: list[Callable[[Message, AuditEntry, Sequence[UsageRecord]], None]] = []

    def _notify(self, message: Message, audit: AuditEntry,
                usage: Sequence[UsageRecord] = ()) -> None:
        for observer in self.observers:
            try:
                observer(message, audit, usage)
            except Exception:
                log.exception("a store observer failed")

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, holding the database's write lock from its start on SQLite."""
        if self._engine.dialect.name != "sqlite":
            async with self._engine.begin() as connection:
                yield connection
            return
        async with self._write_lock, self._writer.begin() as connection:
            yield connection

    @classmethod
    def open(cls, url: str, connect_args: dict[str, Any] | None = None,
             key_provider: KeyProvider | None = None) -> Store:
        """An engine for ``url`` (``sqlite+aiosqlite:///…`` or ``postgresql+asyncpg://…``)."""
        if url.startswith("sqlite"):
            database = url.split("///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # no ping at each check-out (on asyncpg: BEGIN, SELECT, ROLLBACK, half of a message's
        # round trips): a connection the server dropped fails one request, after which
        # SQLAlchemy renews the whole pool; idle connections are renewed after 30 minutes
        # ten connections kept: under load, connections beyond the kept ones are opened and
        # closed for each request (on asyncpg a TLS attempt and start-up each, measured at
        # 5 % of a message's CPU with five kept); twenty at most per process, as before
        pool = {} if url.startswith("sqlite") else {"pool_size": 10, "max_overflow": 10}
        # a logged database error never shows the statement's values (ids, names, sealed text)
        engine = create_async_engine(url, connect_args=connect_args or {}, pool_recycle=1800,
                                     hide_parameters=True, **pool)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return cls(engine, key_provider)

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for stores of other aggregates sharing this database (templates)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    async def migrate(self) -> None:
        """Bring the schema to the latest migration (safe with several replicas)."""
        async with self._writer.begin() as connection:
            if self.dialect == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_upgrade_to_head)
        if self._keys is not None:
            await self._keys.load()

    @property
    def cipher(self) -> ContentCipher | None:
        """Encrypts stored content when encryption at rest is on (after :meth:`migrate`)."""
        return self._keys.cipher if self._keys else None

    def seal(self, text_: str, context: str) -> str:
        """Encrypt service content (no one person's) for storage; as is when encryption is off."""
        return self._keys.cipher.encrypt(text_, context) if self._keys else text_

    def unseal(self, stored: str, context: str) -> str | None:
        """Decrypt service content; None when its key is lost."""
        return self._keys.cipher.decrypt(stored, context) if self._keys else stored

    async def seal_text(self, owner: str, text_: str, context: str) -> str:
        """Encrypt ``owner``'s text with their own key (erased with them); as is when off.

        Call it before opening a write transaction: the owner's first key is written here.
        """
        if self._keys is None:
            return text_
        return self._keys.cipher.encrypt(text_, context, await self._keys.key_for(owner))

    async def unseal_text(self, owner: str, stored: str, context: str) -> str | None:
        """``owner``'s text; None when its key was erased or is lost."""
        if self._keys is None:
            return stored
        key_id = text_key_id(stored)
        if key_id is not None and not await self._keys.readable(key_id, owner):
            return None
        return self._keys.cipher.decrypt(stored, context)

    async def seal_bytes(self, owner: str, data: bytes, context: str) -> bytes:
        """Encrypt ``owner``'s binary content (files, artefacts) with their own key.

        AES-256-GCM bound to ``context``; returned as is when encryption is off. Call it
        before opening a write transaction (see :meth:`seal_text`).
        """
        if self._keys is None:
            return data
        return self._keys.cipher.encrypt_bytes(data, context, await self._keys.key_for(owner))

    async def seal_bytes_quickly(self, owner: str, data: bytes, context: str) -> bytes:
        """:meth:`seal_bytes` with ``owner``'s key as this process last knew it (no round
        trip), for short-lived rows such as the chat inbox's: a key erased meanwhile by
        another replica leaves the row unreadable everywhere once forgotten here, which is
        erasure too."""
        if self._keys is None:
            return data
        return self._keys.cipher.encrypt_bytes(data, context,
                                               await self._keys.current_key(owner))

    async def unseal_bytes(self, owner: str, stored: bytes, context: str) -> bytes | None:
        """``owner``'s binary content; None when its key was erased or is lost."""
        if self._keys is None:
            return stored
        key_id = binary_key_id(stored)
        if key_id is not None and not await self._keys.readable(key_id, owner):
            return None
        return self._keys.cipher.decrypt_bytes(stored, context)

    async def close(self) -> None:
        """Store the writes still queued, then release connections."""
        await self._commits.close()
        if self._reads is not None:
            await self._reads.close()
        await self._engine.dispose()

    async def history(self, message: Message, limit: int) -> tuple[ChatTurn, ...]:
        """The last ``limit`` turns of the message's thread, oldest first."""
        if limit <= 0:
            return ()
        if self._reads is not None:
            rows = await self._reads.latest(conversation_key(message), limit)
        else:
            async with self._reader.connect() as connection:
                rows = list((await connection.execute(
                    _HISTORY, {"conversation": conversation_key(message), "limit": limit})).all())
        history = []
        for row in reversed(rows):
            content = await self.unseal_text(row.user_id, row.text, f"turn:{row.id}")
            if content is not None:  # a turn whose key is lost is left out of the memory
                history.append(ChatTurn(role=row.role, content=content, skill=row.skill,
                                        files=_file_ids(row.files)))
        return tuple(history)

    async def thread_files(self, message: Message, limit: int) -> tuple[str, ...]:
        """The ids of the files the message's author attached to earlier messages of its
        thread, whatever skill answered them, newest first (at most ``limit``)."""
        async with self._reader.connect() as connection:
            rows = (await connection.execute(_THREAD_FILES, {
                "conversation": conversation_key(message), "user": message.user.id,
                "turns": _THREAD_FILE_TURNS})).all()
        ids = dict.fromkeys(file_id for row in rows for file_id in _file_ids(row.files))
        return tuple(ids)[:limit]

    async def record_exchange(
        self,
        message: Message,
        reply: Reply,
        usage: Sequence[UsageRecord],
        audit: AuditEntry,
        answer_id: str | None = None,
    ) -> str:
        """Store a question, its answer, the model calls and the audit event in one transaction.

        Returns the id of the answer's turn (used for feedback): ``answer_id`` when given.
        """
        now = datetime.now(UTC)
        key = conversation_key(message)
        answer_id = answer_id or uuid.uuid4().hex
        conversation = {"id": key, "channel": message.channel.value,
                        "space_id": message.space.id, "thread_id": message.thread_id,
                        "created_at": now, "updated_at": now}
        question_id = uuid.uuid4().hex
        owner = message.user.id
        citations = json.dumps([asdict(citation) for citation in reply.citations],
                               ensure_ascii=False)
        kept = [attachment.file_id for attachment in message.attachments if attachment.file_id]
        files = json.dumps(kept) if kept else None
        for attempt in range(2):
            # the person's key id as this process last knew it: the write checks, in its
            # transaction, that the key is still active (another replica may have erased it)
            key_id = await self._keys.current_key(owner, fresh=attempt > 0) if self._keys \
                else None
            seal = self._sealer(key_id)
            turns = [
                {"id": question_id, "conversation_id": key, "role": "user",
                 "text": seal(message.text, f"turn:{question_id}"),
                 "user_id": owner, "skill": reply.skill,
                 "model_alias": None, "citations": None, "files": files, "created_at": now},
                {"id": answer_id, "conversation_id": key, "role": "assistant",
                 "text": seal(reply.text, f"turn:{answer_id}"),
                 "user_id": owner, "skill": reply.skill, "model_alias": reply.model,
                 "citations": seal(citations, f"citations:{answer_id}"), "files": None,
                 # strictly after the question, whatever the clock resolution
                 "created_at": now + timedelta(microseconds=1)},
            ]
            try:
                await self._commits.write(PendingWrite(
                    audit=_audit_row(message, audit, now), conversation=conversation,
                    turns=turns, usage=_usage_rows(message, usage, answer_id, now),
                    key_ids=(key_id,) if key_id is not None else ()))
            except StaleKey:
                if attempt:
                    raise
                continue
            break
        self._notify(message, audit, usage)
        return answer_id

    def _sealer(self, key_id: str | None) -> Callable[[str, str], str]:
        """``seal(text, context)`` with data key ``key_id`` (as is when encryption is off)."""
        keys = self._keys
        if keys is None or key_id is None:
            return lambda text_, _context: text_
        return lambda text_, context: keys.cipher.encrypt(text_, context, key_id)

    async def record_event(
        self, message: Message, audit: AuditEntry, usage: Sequence[UsageRecord] = ()
    ) -> None:
        """Store an audit event (and any model calls) without conversation content."""
        now = datetime.now(UTC)
        await self._commits.write(PendingWrite(
            audit=_audit_row(message, audit, now), usage=_usage_rows(message, usage, None, now)))
        self._notify(message, audit, usage)

    async def record_space_joined(self, message: Message,
                                  details: dict[str, Any] | None = None) -> None:
        """Remember a space the assistant was added to, with its audit event, in one transaction.

        ``message`` carries the space and who added the assistant (no text). Joining the
        same space again refreshes its name and marks it active.
        """
        now = datetime.now(UTC)
        space = message.space
        statement = self._insert(SpaceRecord).values(
            id=space.id, channel=message.channel.value, kind=space.kind, name=space.name[:256],
            joined_by=message.user.id or None, joined_at=now, active=True,
        ).on_conflict_do_update(
            index_elements=["id"], set_={"name": space.name[:256], "active": True}
        )
        audit = AuditEntry(action="space_joined", outcome="ok", details=details)
        async with self._writing() as connection:
            await connection.execute(statement)
            await self._write_events(connection, message, (), audit, None, now)

    async def spaces(self) -> list[SpaceRecord]:
        """Every space recorded, oldest first."""
        async with self._sessions() as session:
            return list(await session.scalars(select(SpaceRecord).order_by(SpaceRecord.joined_at)))

    def _insert(self, table: type[Base]) -> Any:
        """A dialect-specific INSERT that supports ON CONFLICT."""
        insert_for = postgres_insert if self.dialect == "postgresql" else sqlite_insert
        return insert_for(table)

    async def _write_events(
        self,
        connection: AsyncConnection,
        message: Message,
        usage: Sequence[UsageRecord],
        audit: AuditEntry,
        turn_id: str | None,
        now: datetime,
    ) -> None:
        """Usage rows and the audit record, inside the caller's write transaction."""
        await append(connection, [PendingWrite(
            audit=_audit_row(message, audit, now),
            usage=_usage_rows(message, usage, turn_id, now))], self._upsert_conversation)

    async def record_feedback(
        self, turn_id: str, user_id: str, value: int, comment: str | None = None
    ) -> bool:
        """Record 👍 (+1) or 👎 (-1) on an answer; False if the answer does not exist."""
        if value not in (1, -1):
            raise ValueError("feedback value must be 1 or -1")
        now = datetime.now(UTC)
        turns = Turn.__table__
        if comment is not None:
            comment = await self.seal_text(user_id, comment, feedback_context(turn_id, user_id))
        async with self._writing() as connection:
            if await connection.scalar(select(turns.c.id).where(turns.c.id == turn_id)) is None:
                return False
            values = {"turn_id": turn_id, "user_id": user_id, "value": value,
                      "comment": comment, "created_at": now}
            statement = self._insert(Feedback).values(**values).on_conflict_do_update(
                index_elements=["turn_id", "user_id"],
                set_={"value": value, "comment": comment, "created_at": now},
            )
            await connection.execute(statement)
        return True

    async def charter_accepted(self, user_id: str, version: str) -> bool:
        """True if the user accepted this version of the usage charter."""
        acceptances = CharterAcceptance.__table__
        async with self._reader.connect() as connection:
            found = await connection.scalar(
                select(acceptances.c.user_id).where(acceptances.c.user_id == user_id,
                                                    acceptances.c.version == version)
            )
        return found is not None

    async def accept_charter(self, message: Message, version: str) -> None:
        """Record the acceptance (idempotent) and its audit event, in one transaction."""
        now = datetime.now(UTC)
        statement = self._insert(CharterAcceptance).values(
            user_id=message.user.id, version=version, channel=message.channel.value,
            accepted_at=now,
        ).on_conflict_do_nothing(index_elements=["user_id", "version"])
        audit = AuditEntry(action="charter_accepted", outcome="ok", details={"version": version})
        async with self._writing() as connection:
            await connection.execute(statement)
            await self._write_events(connection, message, (), audit, None, now)
        self._notify(message, audit)

    async def audit_records(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Audit records in chain order (oldest first), as plain mappings."""
        events = AuditEvent.__table__
        query = select(events).order_by(events.c.id)
        if since is not None:
            query = query.where(events.c.created_at >= since)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [dict(row) for row in rows]

    async def purge(self, *, older_than: datetime | None = None,
                    user_id: str | None = None) -> dict[str, int]:
        """Delete conversation content: turns older than a date, or everything of one person.

        Erasing a person (``user_id`` alone) also deletes their feedback, template runs and
        personal templates, replaces them by ``erased`` as owner or author of shared
        templates (kept for their team), and deletes their data keys (crypto-shredding:
        a copy of their content that survives anywhere is unreadable). In marketing
        campaigns they become ``erased`` and their review comments go, the approval record
        stays (:mod:`bot.store.campaign_purge`). On SQLite, deleted
        content is overwritten (``secure_delete``) and the write-ahead log emptied after
        the purge. Usage and audit records hold no message content and stay (the audit
        trail is append-only); the purge itself is audited.
        """
        if older_than is None and user_id is None:
            raise ValueError("purge needs older_than or user_id")
        turns = Turn.__table__
        condition = []
        if older_than is not None:
            condition.append(turns.c.created_at < older_than)
        if user_id is not None:
            condition.append(turns.c.user_id == user_id)
        now = datetime.now(UTC)
        erased_keys: list[str] = []
        async with self._writing() as connection:
            doomed = select(turns.c.id).where(*condition)
            removed_feedback = (await connection.execute(
                delete(Feedback).where(Feedback.turn_id.in_(doomed)))).rowcount
            if user_id is not None:
                removed_feedback += (await connection.execute(
                    delete(Feedback).where(Feedback.user_id == user_id))).rowcount
            removed_turns = (await connection.execute(delete(Turn).where(*condition))).rowcount
            empty = select(turns.c.conversation_id).distinct()
            removed_conversations = (await connection.execute(
                delete(Conversation).where(Conversation.id.not_in(empty)))).rowcount
            counts = {"turns": removed_turns, "conversations": removed_conversations,
                      "feedback": removed_feedback}
            if user_id is not None and older_than is None:
                erased_keys, erased = await _erase_person(connection, user_id)
                counts.update(erased)
                counts.update(await purge_campaigns(connection, user_id, self, ERASED_PERSON))
            counts.update(await purge_files_and_jobs(connection, user_id=user_id,
                                                     older_than=older_than))
            counts["waiting_messages"] = await purge_inbox(connection, user_id=user_id,
                                                           older_than=older_than)
            operator = Message(text="", user=User("system:retention"), space=Space("system"),
                               channel=Channel.CLI, thread_id="purge")
            details: dict[str, Any] = {**counts,
                                       "scope": "user" if user_id is not None else "age"}
            await self._write_events(connection, operator, (), AuditEntry(
                action="purge", outcome="ok", details=details), None, now)
        if self._keys is not None:
            self._keys.forget(erased_keys)
        await self._leave_no_trace()
        return counts

    async def _leave_no_trace(self) -> None:
        """After a purge: no deleted content left in SQLite's files; no erased key row kept
        in PostgreSQL's table (its dead rows are vacuumed)."""
        if self.dialect == "sqlite":
            async with self._engine.connect() as connection:
                busy = (await connection.exec_driver_sql(
                    "PRAGMA wal_checkpoint(TRUNCATE)")).scalar()
            if busy:
                log.warning("the write-ahead log could not be emptied after the purge (a reader "
                            "held it); it will be at the next checkpoint")
            return
        async with self._engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM data_keys")

    async def counts(self) -> dict[str, int]:
        """Row counts per table (for tests and `almia config check`)."""
        result = {}
        async with self._sessions() as session:
            for table in (Conversation, Turn, UsageEvent, AuditEvent, Feedback, SpaceRecord):
                count = await session.scalar(select(func.count()).select_from(table))
                result[table.__tablename__] = int(count or 0)
        return result

    async def usage_events(self, limit: int = 100) -> list[UsageEvent]:
        """The latest usage events, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(UsageEvent).order_by(UsageEvent.id.desc()).limit(limit)
            )
            return list(rows)

    async def audit_events(self, limit: int = 100) -> list[AuditEvent]:
        """The latest audit events, newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            )
            return list(rows)


def _usage_rows(message: Message, usage: Sequence[UsageRecord], turn_id: str | None,
                now: datetime) -> list[dict[str, Any]]:
    return [
        {"created_at": now, "turn_id": turn_id, "user_id": message.user.id,
         "space_id": message.space.id, "channel": message.channel.value,
         "skill": record.skill, "role": record.role, "model_alias": record.alias,
         "hosting": record.hosting, "data_class": record.data_class.label,
         "prompt_tokens": record.prompt_tokens,
         "completion_tokens": record.completion_tokens, "cost": record.cost,
         "latency_ms": record.latency_ms, "outcome": record.outcome,
         "error": record.error[:500] if record.error else None}
        for record in usage
    ]


def _audit_row(message: Message, audit: AuditEntry, now: datetime) -> dict[str, Any]:
    """The audit record's chained fields (its links are added when it is appended)."""
    return {
        "created_at": now, "action": audit.action, "user_id": message.user.id,
        "space_id": message.space.id, "channel": message.channel.value,
        "skill": audit.skill, "model_alias": audit.model_alias,
        "data_class": audit.data_class, "outcome": audit.outcome,
        "details": json.dumps(audit.details or {}, ensure_ascii=False, sort_keys=True),
    }


async def _erase_person(connection: AsyncConnection,
                        user_id: str) -> tuple[list[str], dict[str, int]]:
    """Delete a person's templates, runs and data keys; anonymise them in shared templates.

    Returns the ids of the data keys deleted and counts per kind.
    """
    personal = select(TemplateRecord.id).where(TemplateRecord.owner_id == user_id,
                                               TemplateRecord.scope == "personal")
    versions_removed = (await connection.execute(
        delete(TemplateVersion).where(TemplateVersion.template_id.in_(personal)))).rowcount
    templates_removed = (await connection.execute(
        delete(TemplateRecord).where(TemplateRecord.id.in_(personal)))).rowcount
    await connection.execute(update(TemplateRecord).where(TemplateRecord.owner_id == user_id)
                             .values(owner_id=ERASED_PERSON))
    await connection.execute(update(TemplateVersion).where(TemplateVersion.author_id == user_id)
                             .values(author_id=ERASED_PERSON))
    runs_removed = (await connection.execute(
        delete(TemplateRun).where(TemplateRun.user_id == user_id))).rowcount
    key_ids = list((await connection.execute(
        select(DataKey.id).where(DataKey.owner_id == user_id))).scalars())
    await connection.execute(delete(DataKey).where(DataKey.owner_id == user_id))
    return key_ids, {"templates": templates_removed, "template_versions": versions_removed,
                     "template_runs": runs_removed, "keys": len(key_ids)}


def _upgrade_to_head(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")  # independent branches from one parent apply in any order


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted content is overwritten, not left free
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, no fsync per commit
    # writers of other processes (a purge during `almia serve`) wait for the lock this long
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA database_list")
    files = [Path(row[2]) for row in cursor.fetchall() if row[1] == "main" and row[2]]
    cursor.close()
    for database in files:  # owner-only, also when created before this version
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            restrict(path, 0o600)


def _sqlite_begin(connection: Connection) -> None:
    """Take the write lock first in write transactions (see :func:`writer`)."""
    if connection.get_execution_options().get(_WRITE_TRANSACTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

"""The relational schema. Migrations in ``migrations/versions`` create exactly these tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints alike."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Conversation(Base):
    """A thread of messages in one space of one channel."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(256))
    thread_id: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Turn(Base):
    """One message of a conversation, the user's or the assistant's."""

    __tablename__ = "turns"
    __table_args__ = (Index("ix_turns_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(String(256))
    skill: Mapped[str | None] = mapped_column(String(64))
    model_alias: Mapped[str | None] = mapped_column(String(128))
    citations: Mapped[str | None] = mapped_column(Text)  # JSON
    # a question's attachments: JSON list of file-store ids (not their names or content)
    files: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsageEvent(Base):
    """One model call: who, which skill, which model, tokens, cost, latency, outcome."""

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    turn_id: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(256))
    space_id: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(64))
    model_alias: Mapped[str] = mapped_column(String(128))
    hosting: Mapped[str] = mapped_column(String(16))
    data_class: Mapped[str] = mapped_column(String(16))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    cost: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(512))


class AuditEvent(Base):
    """What happened, for governance: never the raw content of a message."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(256))
    space_id: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str | None] = mapped_column(String(64))
    model_alias: Mapped[str | None] = mapped_column(String(128))
    data_class: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text)  # JSON
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class Feedback(Base):
    """A user's 👍/👎 on an answer; one per user and answer, the last one wins."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("turn_id", "user_id", name="uq_feedback_turn_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[str] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(256))
    value: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpaceRecord(Base):
    """A space the assistant was added to: a Teams team or channel, a Slack channel."""

    __tablename__ = "spaces"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256))
    joined_by: Mapped[str | None] = mapped_column(String(256))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean)


class CharterAcceptance(Base):
    """A user's acceptance of one version of the usage charter."""

    __tablename__ = "charter_acceptances"

    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DataKey(Base):
    """A data key for encryption at rest, wrapped by the key-encryption key.

    ``owner_id`` is None for a service key; else the key is that person's own (one active
    at a time), and erasing the person deletes it: their content becomes unreadable
    wherever a copy survives.
    """

    __tablename__ = "data_keys"
    __table_args__ = (Index("ix_data_keys_owner", "owner_id", unique=True,
                            sqlite_where=text("active"), postgresql_where=text("active")),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kek_id: Mapped[str] = mapped_column(String(128))
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean)
    owner_id: Mapped[str | None] = mapped_column(String(256))

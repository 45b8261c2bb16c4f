"""Tables of prompt templates, their versions and their runs (migrations 0003 and 0013)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.tables import Base


class TemplateRecord(Base):
    """A template's identity and current state; its content lives in its versions."""

    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Since migration 0013 a name is unique within its scope only (Alice's and Bob's personal
    # « relance », a team's own « relance » beside the company's). SQLite cannot drop the unique
    # constraint of the column named "name" without rebuilding a table other tables refer to,
    # so that column holds the scoped key (see ``bot.store.templates.name_key``) and the name
    # people type lives in "label".
    key: Mapped[str] = mapped_column("name", String(64), unique=True)
    name: Mapped[str] = mapped_column("label", String(64), index=True, nullable=True)
    scope: Mapped[str] = mapped_column(String(16))  # personal | team | company
    space_id: Mapped[str | None] = mapped_column(String(256))  # the team's space
    owner_id: Mapped[str] = mapped_column(String(256))
    version: Mapped[int] = mapped_column(Integer)  # the latest version (optimistic lock)
    archived: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TemplateVersion(Base):
    """One immutable version of a template: every edit, share or archive adds one."""

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "version", name="uq_template_versions_template_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    skill: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(64))
    tags: Mapped[str] = mapped_column(Text)  # JSON list
    scope: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str | None] = mapped_column(String(256))
    archived: Mapped[bool] = mapped_column(Boolean)
    author_id: Mapped[str] = mapped_column(String(256))
    change: Mapped[str] = mapped_column(String(32))  # create | edit | share | archive | import
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TemplateRun(Base):
    """One use of a template, denormalised for analytics (one table, no join but feedback)."""

    __tablename__ = "template_runs"
    __table_args__ = (
        Index("ix_template_runs_created", "created_at"),
        Index("ix_template_runs_turn", "turn_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    week: Mapped[date] = mapped_column(Date)  # Monday of the run's week (UTC)
    template_id: Mapped[str] = mapped_column(String(32))
    template_name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    use_case: Mapped[str] = mapped_column(String(64))  # the template's first tag
    user_id: Mapped[str] = mapped_column(String(256))
    space_id: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(64))
    model_alias: Mapped[str | None] = mapped_column(String(128))
    latency_ms: Mapped[float] = mapped_column(Float)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    conversation_id: Mapped[str] = mapped_column(String(64))
    turn_id: Mapped[str | None] = mapped_column(String(64))  # the answer, once stored

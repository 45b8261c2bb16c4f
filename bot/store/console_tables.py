"""Tables of the governance console: sign-in state and daily summaries.

Only hashes of the secrets are stored: a copy of the database opens no session. The
summaries (``console_*_daily``) hold counts per day and dimension, never content; they
are rebuilt from the events (see :mod:`bot.store.console_rollups`). The
``console_*_department_daily`` twins add the department the person has now (``""`` when
unknown), first in their key: a department's rows are one range of the index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.tables import Base


class ConsoleSession(Base):
    """A signed-in console user; ``id`` is the SHA-256 of the cookie's value."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(256))
    roles: Mapped[str] = mapped_column(String(128))  # comma-separated console roles
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsoleLink(Base):
    """A one-time local admin sign-in link; ``id`` is the SHA-256 of its token."""

    __tablename__ = "console_links"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleLogin(Base):
    """An OpenID Connect sign-in under way; ``id`` is the SHA-256 of the browser's cookie.

    ``flow`` is MSAL's auth-code flow (state, nonce, PKCE verifier) as JSON, deleted when
    the identity provider calls back or ten minutes later.
    """

    __tablename__ = "console_logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RollupState(Base):
    """How far the console's daily summaries go: every event before ``upto`` is counted."""

    __tablename__ = "console_rollup_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    upto: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsageDaily(Base):
    """Model calls per day and channel, skill, model, data class and outcome."""

    __tablename__ = "console_usage_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    hosting: Mapped[str] = mapped_column(String(16), primary_key=True)
    data_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float] = mapped_column(Float)


class LatencyDaily(Base):
    """Successful model calls per day, skill, model and latency bucket (a histogram)."""

    __tablename__ = "console_latency_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger)


class PeopleDaily(Base):
    """Requests per day, person, channel and skill (``answered``: those answered)."""

    __tablename__ = "console_people_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    messages: Mapped[int] = mapped_column(BigInteger)
    answered: Mapped[int] = mapped_column(BigInteger)


class OutcomesDaily(Base):
    """Audit records per day, channel, skill, action and outcome."""

    __tablename__ = "console_outcomes_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    action: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger)


class FindingsDaily(Base):
    """Values pseudonymised before external calls, per day, channel, skill and kind."""

    __tablename__ = "console_findings_daily"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    found: Mapped[int] = mapped_column(BigInteger)


def _department_first(*keys: str) -> tuple[PrimaryKeyConstraint]:
    """A twin's primary key: department, day, then the summary's other keys."""
    return (PrimaryKeyConstraint("department", "day", *keys),)


class UsageDepartmentDaily(Base):
    """:class:`UsageDaily` per department."""

    __tablename__ = "console_usage_department_daily"
    __table_args__ = _department_first("channel", "skill", "model_alias", "hosting",
                                       "data_class", "outcome")

    department: Mapped[str] = mapped_column(String(128))
    day: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(64))
    model_alias: Mapped[str] = mapped_column(String(128))
    hosting: Mapped[str] = mapped_column(String(16))
    data_class: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    calls: Mapped[int] = mapped_column(BigInteger)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cost: Mapped[float] = mapped_column(Float)


class LatencyDepartmentDaily(Base):
    """:class:`LatencyDaily` per department."""

    __tablename__ = "console_latency_department_daily"
    __table_args__ = _department_first("channel", "skill", "model_alias", "bucket")

    department: Mapped[str] = mapped_column(String(128))
    day: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(64))
    model_alias: Mapped[str] = mapped_column(String(128))
    bucket: Mapped[int] = mapped_column(Integer)
    calls: Mapped[int] = mapped_column(BigInteger)


class OutcomesDepartmentDaily(Base):
    """:class:`OutcomesDaily` per department."""

    __tablename__ = "console_outcomes_department_daily"
    __table_args__ = _department_first("channel", "skill", "action", "outcome")

    department: Mapped[str] = mapped_column(String(128))
    day: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    events: Mapped[int] = mapped_column(BigInteger)


class FindingsDepartmentDaily(Base):
    """:class:`FindingsDaily` per department."""

    __tablename__ = "console_findings_department_daily"
    __table_args__ = _department_first("channel", "skill", "kind")

    department: Mapped[str] = mapped_column(String(128))
    day: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    skill: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    found: Mapped[int] = mapped_column(BigInteger)


class ConsoleDepartment(Base):
    """A person's department as the directory gave it (None: the directory has none)."""

    __tablename__ = "console_departments"

    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    department: Mapped[str | None] = mapped_column(String(128))
    looked_up_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

"""Tables of the governance console: sign-in sessions and one-time admin links.

Only hashes of the secrets are stored: a copy of the database opens no session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
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

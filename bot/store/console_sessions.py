"""Console sign-in state: one-time admin links and sessions with an idle timeout.

Cookies and links carry random tokens; the database keeps only their SHA-256, so a
stolen copy of it opens nothing. A session ends after ``idle`` without a request or
after its absolute lifetime, whichever comes first.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.console_tables import ConsoleLink, ConsoleLogin, ConsoleSession
from bot.store.store import writer

Clock = Callable[[], datetime]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone: they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SessionView:
    """A live session, as the console's pages see it."""

    user_id: str
    name: str
    roles: frozenset[str]
    csrf: str


class ConsoleSessionStore:
    """Links and sessions in the relational store (every replica sees the same)."""

    def __init__(self, engine: AsyncEngine, clock: Clock = _now) -> None:
        self._engine = writer(engine)  # SQLite: the write lock first (no upgrade deadlock)
        self._clock = clock

    async def create_link(self, ttl: timedelta) -> str:
        """A new one-time sign-in token, valid ``ttl``."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._engine.begin() as connection:
            await connection.execute(insert(ConsoleLink).values(
                id=_digest(token), created_at=now, expires_at=now + ttl, used_at=None))
        return token

    async def redeem_link(self, token: str) -> bool:
        """True once for a valid, unexpired token; every later attempt is refused."""
        now = self._clock()
        async with self._engine.begin() as connection:
            used = await connection.execute(
                update(ConsoleLink).where(ConsoleLink.id == _digest(token),
                                          ConsoleLink.used_at.is_(None),
                                          ConsoleLink.expires_at > now).values(used_at=now))
        return used.rowcount == 1

    async def begin_login(self, flow: dict[str, Any], ttl: timedelta) -> str:
        """Keep an OpenID flow server-side; the browser's cookie token for it."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._engine.begin() as connection:
            await connection.execute(delete(ConsoleLogin).where(ConsoleLogin.expires_at <= now))
            await connection.execute(insert(ConsoleLogin).values(
                id=_digest(token), flow=json.dumps(flow), expires_at=now + ttl))
        return token

    async def finish_login(self, token: str) -> dict[str, Any] | None:
        """The flow of ``token``, once (it is deleted); None if unknown or expired."""
        now = self._clock()
        async with self._engine.begin() as connection:
            row = (await connection.execute(
                select(ConsoleLogin.flow, ConsoleLogin.expires_at)
                .where(ConsoleLogin.id == _digest(token)))).first()
            await connection.execute(delete(ConsoleLogin).where(ConsoleLogin.id == _digest(token)))
        if row is None or _utc(row[1]) <= now:
            return None
        flow = json.loads(row[0])
        return flow if isinstance(flow, dict) else None

    async def open(self, user_id: str, name: str, roles: frozenset[str],
                   lifetime: timedelta) -> tuple[str, SessionView]:
        """A new session: the cookie's token and the session."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        view = SessionView(user_id=user_id, name=name[:256], roles=roles,
                           csrf=secrets.token_urlsafe(32))
        sessions = ConsoleSession
        async with self._engine.begin() as connection:
            await connection.execute(delete(sessions).where(sessions.expires_at <= now))
            await connection.execute(insert(ConsoleSession).values(
                id=_digest(token), user_id=user_id, name=view.name,
                roles=",".join(sorted(roles)), csrf=view.csrf, created_at=now,
                last_seen_at=now, expires_at=now + lifetime))
        return token, view

    async def touch(self, token: str, idle: timedelta) -> SessionView | None:
        """The session of ``token`` if still live (its idle clock restarts); else None."""
        now = self._clock()
        sessions = ConsoleSession
        key = _digest(token)
        async with self._engine.begin() as connection:
            row = (await connection.execute(
                select(ConsoleSession.__table__).where(sessions.id == key))).mappings().first()
            if row is None:
                return None
            if (_utc(row["expires_at"]) <= now or _utc(row["last_seen_at"]) + idle <= now):
                await connection.execute(delete(sessions).where(sessions.id == key))
                return None
            await connection.execute(
                update(sessions).where(sessions.id == key).values(last_seen_at=now))
        roles = frozenset(role for role in row["roles"].split(",") if role)
        return SessionView(user_id=row["user_id"], name=row["name"], roles=roles,
                           csrf=row["csrf"])

    async def close(self, token: str) -> None:
        """Sign out: the session is deleted."""
        sessions = ConsoleSession
        async with self._engine.begin() as connection:
            await connection.execute(delete(sessions).where(sessions.id == _digest(token)))

    async def close_user(self, user_id: str) -> int:
        """End every session of a person (erasure); returns how many ended."""
        sessions = ConsoleSession
        now = self._clock()
        async with self._engine.begin() as connection:
            ended = await connection.execute(delete(sessions).where(
                or_(sessions.user_id == user_id, sessions.expires_at <= now)))
        return int(ended.rowcount)

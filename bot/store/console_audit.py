"""Audit searches for the console: filtered pages of records and one record's chain links."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.governance.audit import GENESIS, ChainReport, ChainWalk, record_hash
from bot.store.tables import AuditEvent

PAGE_SIZE = 50
COUNT_LIMIT = 10_000
KNOWN_ACTIONS = ("message", "charter_accepted", "space_joined", "file_received", "file_refused",
                 "file_download", "job_queued", "job_refused", "job_cancel", "purge",
                 "console_link", "console_sign_in", "console_view", "console_export", "console_verify",
                 "console_purge")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Who, what, which skill, over which period (every field optional)."""

    user: str | None = None
    action: str | None = None
    skill: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of this query."""
        events = AuditEvent.__table__
        found: list[ColumnElement[bool]] = []
        for column, value in (("user_id", self.user), ("action", self.action),
                              ("skill", self.skill), ("outcome", self.outcome)):
            if value:
                found.append(events.c[column] == value)
        if self.since is not None:
            found.append(events.c.created_at >= self.since)
        if self.until is not None:
            found.append(events.c.created_at < self.until)
        return found


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """Whether one record is intact and follows the record before it."""

    record_id: int
    content_intact: bool
    follows_previous: bool
    chained: bool  # False for records written before the chain existed

    @property
    def intact(self) -> bool:
        """Both checks pass (or the record predates the chain)."""
        return not self.chained or (self.content_intact and self.follows_previous)


class ConsoleAudit:
    """Read-only audit searches."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def search(self, query: AuditQuery, *, before: int | None = None,
                     limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """The newest matching records (ids below ``before``), newest first."""
        events = AuditEvent.__table__
        where = query.conditions()
        if before is not None:
            where.append(events.c.id < before)
        statement = select(events).where(*where).order_by(events.c.id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(statement)).mappings()]

    async def count(self, query: AuditQuery, at_most: int = COUNT_LIMIT) -> int:
        """How many records match, counted up to ``at_most`` (a wide search stays fast)."""
        events = AuditEvent.__table__
        matching = select(events.c.id).where(*query.conditions()).limit(at_most).subquery()
        async with self._engine.connect() as connection:
            found = await connection.scalar(select(func.count()).select_from(matching))
        return int(found or 0)

    async def stream(self, query: AuditQuery) -> AsyncIterator[dict[str, Any]]:
        """Every matching record, oldest first, without loading them all (exports)."""
        events = AuditEvent.__table__
        statement = select(events).where(*query.conditions()).order_by(events.c.id)
        async with self._engine.connect() as connection:
            result = await connection.stream(statement.execution_options(yield_per=2000))
            async for row in result.mappings():
                yield dict(row)

    async def link_status(self, record_id: int) -> LinkStatus | None:
        """Recompute one record's hash and check it follows the previous chained record."""
        events = AuditEvent.__table__
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(events).where(events.c.id == record_id))).mappings().first()
            if row is None:
                return None
            if row["hash"] is None:
                return LinkStatus(record_id, True, True, chained=False)
            previous = await connection.scalar(
                select(events.c.hash).where(events.c.id < record_id, events.c.hash.is_not(None))
                .order_by(events.c.id.desc()).limit(1))
        return LinkStatus(
            record_id,
            content_intact=record_hash(row["prev_hash"], dict(row)) == row["hash"],
            follows_previous=row["prev_hash"] == (previous or GENESIS),
            chained=True)

    async def verify(self) -> ChainReport:
        """Recompute every link of the chain, streaming (as :func:`bot.governance.audit.verify_chain`)."""
        walk = ChainWalk()
        async for record in self.stream(AuditQuery()):
            walk.add(record)
        return walk.report()

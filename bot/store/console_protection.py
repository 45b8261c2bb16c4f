"""Data-protection figures: DLP findings, refusals, data classes per model, charter, quotas.

Read from the daily summaries (:mod:`bot.store.console_rollups`, department included)
unless a space is chosen. Filters behind fewer people than the minimum group size give
a withheld report without any figure (:mod:`bot.store.console_groups`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.console_filters import ConsoleFilters, day_of
from bot.store.console_groups import people_behind, withheld
from bot.store.console_rollups import (
    ConsoleRollups,
    Dimensions,
    finding_rows,
    outcome_rows,
    usage_rows,
)
from bot.store.console_tables import FindingsDaily, OutcomesDaily, UsageDaily
from bot.store.tables import AuditEvent, CharterAcceptance, UsageEvent

# outcomes of ``message`` records that mean the request was refused, and why
REFUSALS = ("rejected", "role_refused", "charter_required", "quota_exceeded",
            "quota_unavailable", "unknown_command")
REFUSED_ACTIONS = ("file_refused", "job_refused")


@dataclass(frozen=True, slots=True)
class ClassRow:
    """Model calls carrying one data class to one model."""

    data_class: str
    hosting: str
    alias: str
    calls: int

    @property
    def breach(self) -> bool:
        """Confidential or secret data sent outside the company (should never happen)."""
        return self.hosting == "external" and self.data_class in {"confidential", "secret"}


@dataclass(frozen=True, slots=True)
class ProtectionReport:
    """Everything the data-protection page shows."""

    findings: dict[str, dict[str, int]]  # kind → day → values pseudonymised
    finding_totals: dict[str, int]
    refusals: list[tuple[str, str, int]]  # action, outcome, count
    classes: list[ClassRow]
    charter: list[tuple[str, int]]  # version, people
    quota_days: list[tuple[str, int]]  # day, refusals
    withheld: bool = False  # fewer people than the minimum behind the filters: no figure

    @classmethod
    def hidden(cls) -> ProtectionReport:
        """The report of filters behind too few people: no figure at all."""
        return cls({}, {}, [], [], [], [], withheld=True)


class ConsoleProtection:
    """Read-only data-protection queries (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, rollups: ConsoleRollups | None = None) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._rollups = rollups or ConsoleRollups(engine)

    async def report(self, filters: ConsoleFilters, min_group: int = 1) -> ProtectionReport:
        """The whole data-protection page; withheld when narrowing filters leave fewer than
        ``min_group`` people behind the figures."""
        if min_group > 1 and filters.narrowed:
            async with self._rollups.reading() as (connection, mark):
                people = await people_behind(connection, self._rollups, filters, mark)
            if withheld(filters, people, min_group):
                return ProtectionReport.hidden()
        if not filters.space:  # the summaries carry channel, skill and department
            return await self._summarised(filters)
        async with self._engine.connect() as connection:
            findings = await self._findings(connection, filters)
            refusals = await self._refusals(connection, filters)
            classes = await self._classes(connection, filters)
            charter = await self._charter(connection)
            quota_days = await self._quota_days(connection, filters)
        totals: dict[str, int] = {kind: sum(days.values()) for kind, days in findings.items()}
        return ProtectionReport(findings, totals, refusals, classes, charter, quota_days)

    async def _summarised(self, filters: ConsoleFilters) -> ProtectionReport:
        """The page from the daily summaries and the events after their watermark."""
        dims = Dimensions(filters.channel, filters.skill, filters.department)
        rollups = self._rollups
        async with rollups.reading() as (connection, mark):
            found = rollups.combined(FindingsDaily, finding_rows, filters.since, mark, dims)
            findings: dict[str, dict[str, int]] = {}
            for kind, day, total in (await connection.execute(
                    select(found.c.kind, found.c.day, func.sum(found.c.found))
                    .group_by(found.c.kind, found.c.day))).all():
                findings.setdefault(str(kind), {})[str(day)] = int(total or 0)
            outcomes = rollups.combined(OutcomesDaily, outcome_rows, filters.since, mark, dims)
            refused = ((outcomes.c.action == "message") & outcomes.c.outcome.in_(REFUSALS)) | (
                outcomes.c.action.in_(REFUSED_ACTIONS))
            refusals = sorted(((str(a), str(o), int(n)) for a, o, n in (
                await connection.execute(
                    select(outcomes.c.action, outcomes.c.outcome, func.sum(outcomes.c.events))
                    .where(refused).group_by(outcomes.c.action, outcomes.c.outcome))).all()),
                key=lambda row: -row[2])
            quota_days = [(str(day), int(count)) for day, count in (await connection.execute(
                select(outcomes.c.day, func.sum(outcomes.c.events))
                .where(outcomes.c.action == "message", outcomes.c.outcome == "quota_exceeded")
                .group_by(outcomes.c.day).order_by(outcomes.c.day))).all()]
            calls = rollups.combined(UsageDaily, usage_rows, filters.since, mark, dims)
            classes = [ClassRow(str(c), str(h), str(a), int(n)) for c, h, a, n in (
                await connection.execute(
                    select(calls.c.data_class, calls.c.hosting, calls.c.model_alias,
                           func.sum(calls.c.calls))
                    .where(calls.c.outcome == "ok")
                    .group_by(calls.c.data_class, calls.c.hosting, calls.c.model_alias))).all()]
            charter = await self._charter(connection)
        totals = {kind: sum(days.values()) for kind, days in findings.items()}
        order = {"public": 0, "internal": 1, "confidential": 2, "secret": 3}
        classes.sort(key=lambda row: (order.get(row.data_class, 9), row.alias))
        return ProtectionReport(findings, totals, refusals, classes, charter, quota_days)

    async def _findings(self, connection: Any,
                        filters: ConsoleFilters) -> dict[str, dict[str, int]]:
        """Values pseudonymised before external calls, per kind and day (the message records'
        ``details.redactions``: kinds and counts, never values)."""
        events = AuditEvent.__table__
        where = [events.c.action == "message", *filters.conditions(events)]
        day = day_of(events.c.created_at, self._dialect)
        where.append(events.c.details.like('%"redactions": {"%'))  # skip those without
        count: Any
        if self._dialect == "postgresql":
            pairs = func.jsonb_each_text(cast(events.c.details, JSONB)["redactions"]
                                         ).table_valued("key", "value").lateral("pairs")
            count = cast(pairs.c.value, Integer)
        else:
            pairs = func.json_each(events.c.details, "$.redactions").table_valued(
                "key", "value", name="pairs")  # SQLite: no LATERAL, left columns visible
            count = pairs.c.value
        statement = (select(pairs.c.key, day.label("day"), func.sum(count))
                     .select_from(events.join(pairs, literal_column("true")))
                     .where(*where).group_by(pairs.c.key, "day"))
        found: dict[str, dict[str, int]] = {}
        for kind, moment, total in (await connection.execute(statement)).all():
            found.setdefault(str(kind), {})[str(moment)] = int(total or 0)
        return found

    async def _refusals(self, connection: Any,
                        filters: ConsoleFilters) -> list[tuple[str, str, int]]:
        events = AuditEvent.__table__
        refused = ((events.c.action == "message") & events.c.outcome.in_(REFUSALS)) | (
            events.c.action.in_(REFUSED_ACTIONS))
        rows = (await connection.execute(
            select(events.c.action, events.c.outcome, func.count())
            .where(refused, *filters.conditions(events))
            .group_by(events.c.action, events.c.outcome))).all()
        return sorted(((str(a), str(o), int(n)) for a, o, n in rows), key=lambda r: -r[2])

    async def _classes(self, connection: Any, filters: ConsoleFilters) -> list[ClassRow]:
        usage = UsageEvent.__table__
        rows = (await connection.execute(
            select(usage.c.data_class, usage.c.hosting, usage.c.model_alias, func.count())
            .where(usage.c.outcome == "ok", *filters.conditions(usage))
            .group_by(usage.c.data_class, usage.c.hosting, usage.c.model_alias))).all()
        order = {"public": 0, "internal": 1, "confidential": 2, "secret": 3}
        return sorted((ClassRow(str(c), str(h), str(a), int(n)) for c, h, a, n in rows),
                      key=lambda row: (order.get(row.data_class, 9), row.alias))

    async def _charter(self, connection: Any) -> list[tuple[str, int]]:
        accepted = CharterAcceptance.__table__
        rows = (await connection.execute(
            select(accepted.c.version, func.count()).group_by(accepted.c.version)
            .order_by(accepted.c.version.desc()))).all()
        return [(str(version), int(count)) for version, count in rows]

    async def _quota_days(self, connection: Any,
                          filters: ConsoleFilters) -> list[tuple[str, int]]:
        events = AuditEvent.__table__
        day = day_of(events.c.created_at, self._dialect).label("day")
        rows = (await connection.execute(
            select(day, func.count())
            .where(events.c.action == "message", events.c.outcome == "quota_exceeded",
                   *filters.conditions(events))
            .group_by(day).order_by(day))).all()
        return [(str(moment), int(count)) for moment, count in rows]

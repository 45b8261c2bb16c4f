"""Usage figures of the governance console: activity, use cases, feedback, models, latency.

Messages and active people come from the audit trail (one ``message`` record per
request, refusals included); model calls, tokens, cost and latency from usage events,
through the daily summaries (:mod:`bot.store.console_rollups`, which carry the
department) unless a space is chosen.
Filters behind fewer people than the minimum group size give a withheld report, without
any figure (:mod:`bot.store.console_groups`); the rows per use case and per feedback row
carry their own number of people, shown as « < N » below the minimum.
Latency percentiles are given as the upper bound of their histogram bucket (25 % wide).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.console_filters import ConsoleFilters, day_of, percentile
from bot.store.console_groups import withheld
from bot.store.console_rollups import (
    BOUNDS,
    ConsoleRollups,
    Dimensions,
    latency_bound,
    latency_rows,
    people_rows,
    usage_rows,
)
from bot.store.console_tables import ConsoleDepartment, LatencyDaily, PeopleDaily, UsageDaily
from bot.store.file_tables import JobRecord
from bot.store.tables import AuditEvent, Conversation, Feedback, Turn, UsageEvent
from bot.store.template_tables import TemplateRecord, TemplateRun

PERCENTILES = (0.5, 0.9, 0.99)
UNKNOWN = "__unknown__"  # people the directory gives no department


@dataclass(frozen=True, slots=True)
class DayActivity:
    """Requests and distinct people of one day."""

    day: str
    messages: int
    people: int


@dataclass(frozen=True, slots=True)
class Ranked:
    """A use case and how often it was used."""

    kind: str  # skill | template | process
    name: str
    uses: int
    people: int
    scope: str = ""  # a template's: personal, team, company (names repeat across scopes)


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """👍 and 👎 on the answers of one skill or template."""

    kind: str  # skill | template
    name: str
    up: int
    down: int
    people: int  # distinct people who voted
    scope: str = ""  # a template's: personal, team, company

    @property
    def ratio(self) -> float:
        """Share of 👍 among the votes (0 without votes)."""
        votes = self.up + self.down
        return self.up / votes if votes else 0.0


@dataclass(frozen=True, slots=True)
class ModelRow:
    """Calls, tokens, cost and latency percentiles of one model alias."""

    hosting: str
    alias: str
    calls: int
    failures: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency: tuple[float, ...]  # milliseconds at PERCENTILES


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Everything the usage page shows for one set of filters."""

    days: list[DayActivity]
    messages: int
    people: int
    use_cases: list[Ranked]
    feedback: list[FeedbackRow]
    models: list[ModelRow]
    departments: list[tuple[str, int, int]]  # department (or UNKNOWN), people, messages
    withheld: bool = False  # fewer people than the minimum behind the filters: no figure

    @classmethod
    def hidden(cls) -> UsageReport:
        """The report of filters behind too few people: no figure at all."""
        return cls(days=[], messages=0, people=0, use_cases=[], feedback=[], models=[],
                   departments=[], withheld=True)


class ConsoleUsage:
    """Read-only usage queries (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, rollups: ConsoleRollups | None = None) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._rollups = rollups or ConsoleRollups(engine)

    async def report(self, filters: ConsoleFilters, min_group: int = 1) -> UsageReport:
        """The whole usage page; withheld when narrowing filters leave fewer than
        ``min_group`` people behind the figures."""
        if not filters.space:  # the summaries know people, so departments too
            return await self._summarised(filters, min_group)
        async with self._engine.connect() as connection:
            days, totals = await self._activity(connection, filters)
            if withheld(filters, totals[1], min_group):
                return UsageReport.hidden()
            use_cases = await self._use_cases(connection, filters)
            feedback = await self._feedback(connection, filters)
            models = await self._models(connection, filters)
            events = AuditEvent.__table__
            departments = await self._departments(connection, select(
                events.c.user_id, func.count().label("messages"))
                .where(events.c.action == "message", *filters.conditions(events))
                .group_by(events.c.user_id).subquery("per_person"))
        return UsageReport(days=days, messages=totals[0], people=totals[1],
                           use_cases=use_cases, feedback=feedback, models=models,
                           departments=departments)

    @staticmethod
    async def _departments(connection: Any, per_person: Any) -> list[tuple[str, int, int]]:
        """People and messages per department (each person counted once, in one)."""
        known = ConsoleDepartment.__table__
        name = func.coalesce(known.c.department, UNKNOWN)
        rows = (await connection.execute(
            select(name, func.count(), func.sum(per_person.c.messages))
            .select_from(per_person.outerjoin(known, known.c.user_id == per_person.c.user_id))
            .group_by(name))).all()
        return [(str(row[0]), int(row[1]), int(row[2] or 0)) for row in rows]

    async def _summarised(self, filters: ConsoleFilters, min_group: int) -> UsageReport:
        """The page from the daily summaries and the events after their watermark."""
        dims = Dimensions(filters.channel, filters.skill, filters.department)
        rollups = self._rollups
        async with rollups.reading() as (connection, mark):
            # the people summary has the person: their department is joined when read
            people = rollups.combined(PeopleDaily, people_rows, filters.since, mark,
                                      Dimensions(filters.channel, filters.skill))
            if filters.department:
                people = select(people).where(
                    filters.in_department(people.c.user_id)).subquery("in_department")
            # distinct people through DISTINCT subqueries: hashed, where count(DISTINCT) sorts
            daily = select(people.c.day, people.c.user_id,
                           func.sum(people.c.messages).label("messages")).group_by(
                people.c.day, people.c.user_id).subquery("daily")
            rows = (await connection.execute(
                select(daily.c.day, func.sum(daily.c.messages), func.count())
                .group_by(daily.c.day).order_by(daily.c.day))).all()
            departments = await self._departments(connection, select(
                people.c.user_id, func.sum(people.c.messages).label("messages"))
                .group_by(people.c.user_id).subquery("per_person"))
            total = (sum(int(row[1]) for row in rows), sum(row[1] for row in departments))
            if withheld(filters, int(total[1]), min_group):  # each person is in one department
                return UsageReport.hidden()
            answered = select(people.c.skill, people.c.user_id,
                              func.sum(people.c.answered).label("answered")).where(
                people.c.skill != "").group_by(people.c.skill, people.c.user_id).subquery("per")
            skills = [Ranked("skill", str(row[0]), int(row[1]), int(row[2])) for row in (
                await connection.execute(
                    select(answered.c.skill, func.sum(answered.c.answered),
                           func.count().filter(answered.c.answered > 0))
                    .group_by(answered.c.skill)
                    .having(func.sum(answered.c.answered) > 0))).all()]
            others = await self._templates_and_processes(connection, filters)
            feedback = await self._feedback(connection, filters)
            models = await self._summed_models(connection, filters, mark, dims)
        return UsageReport(
            days=[DayActivity(str(row[0]), int(row[1]), int(row[2])) for row in rows],
            messages=int(total[0]), people=int(total[1]),
            use_cases=sorted(skills + others, key=lambda item: (-item.uses, item.kind, item.name)),
            feedback=feedback, departments=departments, models=models)

    async def _summed_models(self, connection: Any, filters: ConsoleFilters, mark: Any,
                             dims: Dimensions) -> list[ModelRow]:
        """Calls, tokens, cost and latency per model from the daily summaries."""
        rollups = self._rollups
        calls = rollups.combined(UsageDaily, usage_rows, filters.since, mark, dims)
        failures = func.sum(case((calls.c.outcome != "ok", calls.c.calls), else_=0))
        models = (await connection.execute(
            select(calls.c.hosting, calls.c.model_alias, func.sum(calls.c.calls), failures,
                   func.sum(calls.c.prompt_tokens), func.sum(calls.c.completion_tokens),
                   func.sum(calls.c.cost))
            .group_by(calls.c.hosting, calls.c.model_alias))).all()
        buckets = rollups.combined(LatencyDaily, latency_rows, filters.since, mark, dims)
        histogram: dict[str, list[tuple[int, int]]] = {}
        for alias, bucket, count in (await connection.execute(
                select(buckets.c.model_alias, buckets.c.bucket, func.sum(buckets.c.calls))
                .group_by(buckets.c.model_alias, buckets.c.bucket)
                .order_by(buckets.c.model_alias, buckets.c.bucket))).all():
            histogram.setdefault(str(alias), []).append((int(bucket), int(count)))
        latency = {alias: _histogram_percentiles(found) for alias, found in histogram.items()}
        return sorted((ModelRow(str(row[0]), str(row[1]), int(row[2]), int(row[3] or 0),
                                int(row[4] or 0), int(row[5] or 0), float(row[6] or 0),
                                latency.get(str(row[1]), (0.0,) * len(PERCENTILES)))
                       for row in models), key=lambda row: (-row.calls, row.alias))

    async def _activity(self, connection: Any,
                        filters: ConsoleFilters) -> tuple[list[DayActivity], tuple[int, int]]:
        events = AuditEvent.__table__
        where = [events.c.action == "message", *filters.conditions(events)]
        day = day_of(events.c.created_at, self._dialect).label("day")
        rows = (await connection.execute(
            select(day, func.count(), func.count(distinct(events.c.user_id)))
            .where(*where).group_by(day).order_by(day))).all()
        total = (await connection.execute(
            select(func.count(), func.count(distinct(events.c.user_id))).where(*where))).one()
        return ([DayActivity(str(row[0]), int(row[1]), int(row[2])) for row in rows],
                (int(total[0]), int(total[1])))

    async def _use_cases(self, connection: Any, filters: ConsoleFilters) -> list[Ranked]:
        events = AuditEvent.__table__
        found = [Ranked("skill", str(row[0]), int(row[1]), int(row[2])) for row in (
            await connection.execute(
                select(events.c.skill, func.count(), func.count(distinct(events.c.user_id)))
                .where(events.c.action == "message", events.c.outcome == "ok",
                       events.c.skill.is_not(None), *filters.conditions(events))
                .group_by(events.c.skill))).all()]
        found += await self._templates_and_processes(connection, filters)
        return sorted(found, key=lambda item: (-item.uses, item.kind, item.name))

    async def _templates_and_processes(self, connection: Any,
                                       filters: ConsoleFilters) -> list[Ranked]:
        """Prompt templates run and jobs queued (processes such as verbatim analysis)."""
        runs = TemplateRun.__table__
        templates = TemplateRecord.__table__
        by_scope = runs.outerjoin(templates, templates.c.id == runs.c.template_id)
        found = [Ranked("template", str(row[0]), int(row[2]), int(row[3]), str(row[1] or ""))
                 for row in (await connection.execute(
                     select(runs.c.template_name, templates.c.scope, func.count(),
                            func.count(distinct(runs.c.user_id)))
                     .select_from(by_scope).where(*filters.conditions(runs))
                     .group_by(runs.c.template_name, templates.c.scope))).all()]
        jobs = JobRecord.__table__
        found += [Ranked("process", f"{row[0]} · {row[1]}", int(row[2]), int(row[3])) for row in (
            await connection.execute(
                select(jobs.c.skill, jobs.c.task, func.count(),
                       func.count(distinct(jobs.c.user_id)))
                .where(*filters.conditions(jobs)).group_by(jobs.c.skill, jobs.c.task))).all()]
        return found

    async def _feedback(self, connection: Any, filters: ConsoleFilters) -> list[FeedbackRow]:
        votes = Feedback.__table__
        turns = Turn.__table__
        conversations = Conversation.__table__
        up = func.sum(case((votes.c.value > 0, 1), else_=0))
        down = func.sum(case((votes.c.value < 0, 1), else_=0))
        voters = func.count(distinct(votes.c.user_id))
        where = [votes.c.created_at >= filters.since]
        if filters.skill:
            where.append(turns.c.skill == filters.skill)
        if filters.channel:
            where.append(conversations.c.channel == filters.channel)
        if filters.space:
            where.append(conversations.c.space_id == filters.space)
        if filters.department:
            where.append(filters.in_department(votes.c.user_id))
        joined = votes.join(turns, turns.c.id == votes.c.turn_id).join(
            conversations, conversations.c.id == turns.c.conversation_id)
        rows = [FeedbackRow("skill", str(row[0] or "—"), int(row[1]), int(row[2]), int(row[3]))
                for row in (await connection.execute(
                    select(turns.c.skill, up, down, voters).select_from(joined)
                    .where(*where).group_by(turns.c.skill))).all()]
        runs = TemplateRun.__table__
        templates = TemplateRecord.__table__
        by_template = votes.join(runs, and_(runs.c.turn_id == votes.c.turn_id)).outerjoin(
            templates, templates.c.id == runs.c.template_id)
        where_runs = [votes.c.created_at >= filters.since,
                      *filters.conditions(runs)[1:]]  # the run's channel, space, skill
        rows += [FeedbackRow("template", str(row[0]), int(row[2]), int(row[3]), int(row[4]),
                             str(row[1] or ""))
                 for row in (await connection.execute(
                     select(runs.c.template_name, templates.c.scope, up, down, voters)
                     .select_from(by_template).where(*where_runs)
                     .group_by(runs.c.template_name, templates.c.scope))).all()]
        return sorted(rows, key=lambda row: (row.kind, -(row.up + row.down), row.name))

    async def _models(self, connection: Any, filters: ConsoleFilters) -> list[ModelRow]:
        usage = UsageEvent.__table__
        where = filters.conditions(usage)
        failures = func.sum(case((usage.c.outcome != "ok", 1), else_=0))
        rows = (await connection.execute(
            select(usage.c.hosting, usage.c.model_alias, func.count(), failures,
                   func.coalesce(func.sum(usage.c.prompt_tokens), 0),
                   func.coalesce(func.sum(usage.c.completion_tokens), 0),
                   func.coalesce(func.sum(usage.c.cost), 0.0))
            .where(*where).group_by(usage.c.hosting, usage.c.model_alias))).all()
        latency = await self._latency(connection, where)
        return sorted((ModelRow(str(row[0]), str(row[1]), int(row[2]), int(row[3] or 0),
                                int(row[4]), int(row[5]), float(row[6]),
                                latency.get(str(row[1]), (0.0,) * len(PERCENTILES)))
                       for row in rows), key=lambda row: (-row.calls, row.alias))

    async def _latency(self, connection: Any, where: list[Any]) -> dict[str, tuple[float, ...]]:
        usage = UsageEvent.__table__
        where = [*where, usage.c.outcome == "ok"]
        if self._dialect == "postgresql":
            columns = [func.percentile_disc(fraction).within_group(usage.c.latency_ms)
                       for fraction in PERCENTILES]
            rows = (await connection.execute(
                select(usage.c.model_alias, *columns).where(*where)
                .group_by(usage.c.model_alias))).all()
            return {str(row[0]): tuple(_bounded(float(value or 0)) for value in row[1:])
                    for row in rows}
        values: dict[str, list[float]] = {}
        result = await connection.stream(
            select(usage.c.model_alias, usage.c.latency_ms).where(*where)
            .order_by(usage.c.model_alias, usage.c.latency_ms))
        async for alias, latency in result:
            values.setdefault(str(alias), []).append(float(latency))
        return {alias: tuple(_bounded(percentile(found, fraction)) for fraction in PERCENTILES)
                for alias, found in values.items()}


def _bounded(latency: float) -> float:
    """The upper bound of the histogram bucket holding ``latency`` (as the summaries give)."""
    return latency_bound(bisect.bisect_right(BOUNDS, latency))


def _histogram_percentiles(buckets: list[tuple[int, int]]) -> tuple[float, ...]:
    """Nearest-rank percentiles of a latency histogram (sorted buckets), as bucket bounds."""
    total = sum(count for _, count in buckets)
    found = []
    for fraction in PERCENTILES:
        rank = max(1, math.ceil(fraction * total))
        seen = 0
        for bucket, count in buckets:
            seen += count
            if seen >= rank:
                found.append(latency_bound(bucket))
                break
    return tuple(found) if total else (0.0,) * len(PERCENTILES)

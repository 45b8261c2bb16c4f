"""Daily summaries behind the console's charts, kept up to date incrementally.

Each summary counts the events of a range of time per day and dimension. ``refresh``
adds the events written since the last refresh (up to ``settle`` ago, so that a
transaction still open is not skipped) in one write transaction; pages read the
summaries plus the few events after the watermark, aggregated the same way. A year
of history is then a few hundred thousand summary rows instead of millions of events.

Departments: the usage, latency, outcome and finding summaries each have a twin per
department (``console_*_department_daily``, department first in the key, read only when a
department is chosen, so the pages for everyone keep their small tables); the people
summary has the person, joined to their department when read. The department is the one of
the person behind each event, ``""`` when the directory gives none or has not been asked
yet. It is the department the person has *now*, like a filter on the events themselves: when a person's department is recorded,
changes or is erased, :meth:`ConsoleRollups.restate` takes their summed events out of the
old department and adds them to the new one, in the transaction that changes it and under
the refresher's lock (so a refresh sums the next events with the department in force).
A person who moves thus takes their history along: a department's chart shows what its
present members did. Only departments of at least the minimum group size are offered as
a filter (:meth:`bot.store.console_departments.ConsoleDepartments.choices`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.console_filters import day_of
from bot.store.console_tables import (
    ConsoleDepartment,
    FindingsDaily,
    FindingsDepartmentDaily,
    LatencyDaily,
    LatencyDepartmentDaily,
    OutcomesDaily,
    OutcomesDepartmentDaily,
    PeopleDaily,
    RollupState,
    UsageDaily,
    UsageDepartmentDaily,
)
from bot.store.store import writer
from bot.store.tables import AuditEvent, UsageEvent

_LOCK_KEY = 0x616C6D6963  # one refresher at a time on PostgreSQL
_STATE = "console"
_CHUNK = timedelta(days=7)  # events summed per transaction
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# latency histogram: bucket i holds calls under BOUNDS[i] ms (the last one: anything longer)
BOUNDS = tuple(round(10 * 1.25 ** index) for index in range(40))  # 10 ms … 59 s

Builder = Callable[[str, datetime, "datetime | None", "Dimensions"], Select[Any]]


@dataclass(frozen=True, slots=True)
class Dimensions:
    """The filters a summary can answer (a space filter reads the events); ``users``
    restricts the events to some people (restating their department)."""

    channel: str | None = None
    skill: str | None = None
    department: str | None = None
    users: tuple[str, ...] = ()
    by_department: bool = False  # rows per department too (implied by ``department``)


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone: they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def latency_bound(bucket: int) -> float:
    """The upper bound in milliseconds of a latency bucket (∞ for the last one)."""
    return float(BOUNDS[bucket]) if bucket < len(BOUNDS) else float("inf")


def _bucket(latency: Any) -> Any:
    return case(*((latency < bound, index) for index, bound in enumerate(BOUNDS)),
                else_=len(BOUNDS))


def _department() -> Any:
    """The department of the person behind an event (``""`` when unknown)."""
    return func.coalesce(ConsoleDepartment.__table__.c.department, "")


def _with_department(table: Any) -> Any:
    """The events joined to their person's department, if known."""
    known = ConsoleDepartment.__table__
    return table.outerjoin(known, known.c.user_id == table.c.user_id)


def _department_keys(table: Any, dims: Dimensions) -> tuple[list[Any], Any]:
    """The department column to group by (summing per department) and the FROM clause."""
    if not (dims.by_department or dims.department):
        return [], table
    return [_department().label("department")], _with_department(table)


def _where(table: Any, low: datetime, high: datetime | None,
           dims: Dimensions) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [table.c.created_at >= low]
    if high is not None:
        found.append(table.c.created_at < high)
    if dims.channel:
        found.append(table.c.channel == dims.channel)
    if dims.skill:
        found.append(table.c.skill == dims.skill)
    if dims.department:
        found.append(_department() == dims.department)
    if dims.users:
        found.append(table.c.user_id.in_(dims.users))
    return found


def usage_rows(dialect: str, low: datetime, high: datetime | None,
               dims: Dimensions) -> Select[Any]:
    """Model calls of ``[low, high)`` per day and dimension (``UsageDaily``'s columns)."""
    events = UsageEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    keys = (events.c.channel, events.c.skill, events.c.model_alias, events.c.hosting,
            events.c.data_class, events.c.outcome)
    extra, source = _department_keys(events, dims)
    return (select(day, *keys, *extra, func.count().label("calls"),
                   func.sum(events.c.prompt_tokens).label("prompt_tokens"),
                   func.sum(events.c.completion_tokens).label("completion_tokens"),
                   func.sum(events.c.cost).label("cost"))
            .select_from(source)
            .where(*_where(events, low, high, dims)).group_by(day, *keys, *extra))


def latency_rows(dialect: str, low: datetime, high: datetime | None,
                 dims: Dimensions) -> Select[Any]:
    """Successful calls of ``[low, high)`` per day, dimension and latency bucket."""
    events = UsageEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    bucket = _bucket(events.c.latency_ms).label("bucket")
    keys = (events.c.channel, events.c.skill, events.c.model_alias)
    extra, source = _department_keys(events, dims)
    return (select(day, *keys, bucket, *extra, func.count().label("calls"))
            .select_from(source)
            .where(events.c.outcome == "ok", *_where(events, low, high, dims))
            .group_by(day, *keys, bucket, *extra))


def people_rows(dialect: str, low: datetime, high: datetime | None,
                dims: Dimensions) -> Select[Any]:
    """``message`` records of ``[low, high)`` per day, person, channel and skill."""
    events = AuditEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    skill = func.coalesce(events.c.skill, "").label("skill")
    return (select(day, events.c.user_id, events.c.channel, skill,
                   func.count().label("messages"),
                   func.sum(case((events.c.outcome == "ok", 1), else_=0)).label("answered"))
            .where(events.c.action == "message", *_where(events, low, high, dims))
            .group_by(day, events.c.user_id, events.c.channel, skill))


def outcome_rows(dialect: str, low: datetime, high: datetime | None,
                 dims: Dimensions) -> Select[Any]:
    """Audit records of ``[low, high)`` per day, channel, skill, action and outcome."""
    events = AuditEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    skill = func.coalesce(events.c.skill, "").label("skill")
    extra, source = _department_keys(events, dims)
    return (select(day, events.c.channel, skill, events.c.action, events.c.outcome,
                   *extra, func.count().label("events"))
            .select_from(source)
            .where(*_where(events, low, high, dims))
            .group_by(day, events.c.channel, skill, events.c.action, events.c.outcome,
                      *extra))


def finding_rows(dialect: str, low: datetime, high: datetime | None,
                 dims: Dimensions) -> Select[Any]:
    """Values pseudonymised in ``[low, high)`` per day, channel, skill and kind (the
    ``message`` records' ``details.redactions``: kinds and counts, never values)."""
    events = AuditEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    skill = func.coalesce(events.c.skill, "").label("skill")
    count: Any
    if dialect == "postgresql":
        pairs = func.jsonb_each_text(cast(events.c.details, JSONB)["redactions"]
                                     ).table_valued("key", "value").lateral("pairs")
        count = cast(pairs.c.value, Integer)
    else:
        pairs = func.json_each(events.c.details, "$.redactions").table_valued(
            "key", "value", name="pairs")  # SQLite: no LATERAL, left columns visible
        count = pairs.c.value
    kind = cast(pairs.c.key, String).label("kind")
    extra, source = _department_keys(events, dims)
    return (select(day, events.c.channel, skill, kind, *extra,
                   func.sum(count).label("found"))
            .select_from(source.join(pairs, literal(True)))
            .where(events.c.action == "message",
                   events.c.details.like('%"redactions": {"%'),  # skip those without
                   *_where(events, low, high, dims))
            .group_by(day, events.c.channel, skill, kind, *extra))


_USAGE = ("calls", "prompt_tokens", "completion_tokens", "cost")
# summary, its rows from the events, its counts, per department
SUMMARIES: tuple[tuple[Any, Builder, tuple[str, ...], bool], ...] = (
    (UsageDaily, usage_rows, _USAGE, False),
    (LatencyDaily, latency_rows, ("calls",), False),
    (PeopleDaily, people_rows, ("messages", "answered"), False),
    (OutcomesDaily, outcome_rows, ("events",), False),
    (FindingsDaily, finding_rows, ("found",), False),
    (UsageDepartmentDaily, usage_rows, _USAGE, True),
    (LatencyDepartmentDaily, latency_rows, ("calls",), True),
    (OutcomesDepartmentDaily, outcome_rows, ("events",), True),
    (FindingsDepartmentDaily, finding_rows, ("found",), True),
)
PER_DEPARTMENT = {UsageDaily: UsageDepartmentDaily, LatencyDaily: LatencyDepartmentDaily,
                  OutcomesDaily: OutcomesDepartmentDaily, FindingsDaily: FindingsDepartmentDaily}


class ConsoleRollups:
    """Refreshes the summaries and reads them together with the events not yet summed."""

    def __init__(self, engine: AsyncEngine, settle: timedelta = timedelta(seconds=60)) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._settle = settle
        self.dialect = engine.dialect.name

    async def watermark(self, connection: AsyncConnection) -> datetime:
        """Every event before this moment is in the summaries."""
        upto = await connection.scalar(
            select(RollupState.upto).where(RollupState.name == _STATE))
        return EPOCH if upto is None else _utc(upto)

    async def refresh(self) -> datetime:
        """Add the events written since the last refresh; the new watermark.

        A week at a time, each in its own transaction: a first refresh over a long history
        never holds the database's write lock for long (SQLite has one writer).
        """
        final = datetime.now(UTC) - self._settle
        async with self._engine.connect() as connection:
            low = await self.watermark(connection)
            if low == EPOCH:  # never refreshed: start at the oldest event
                oldest = [await connection.scalar(select(func.min(table.c.created_at)))
                          for table in (UsageEvent.__table__, AuditEvent.__table__)]
                found = [_utc(moment) for moment in oldest if moment is not None]
                low = min(found, default=final)
        while low < final:
            low = await self._refresh_until(min(low + _CHUNK, final))
        return low

    async def _refresh_until(self, high: datetime) -> datetime:
        """One transaction: the events from the watermark to ``high``; the new watermark."""
        async with self._writer.begin() as connection:
            await self.lock(connection)
            low = await self.watermark(connection)
            if high <= low:  # another replica went further meanwhile
                return low
            if low == EPOCH:
                low = datetime.min.replace(tzinfo=UTC)
            for table, build, values, by_department in SUMMARIES:
                rows = build(self.dialect, low, high, Dimensions(by_department=by_department))
                await connection.execute(self._add(table, rows, values))
            state = self.insert(RollupState).values(name=_STATE, upto=high)
            await connection.execute(state.on_conflict_do_update(
                index_elements=["name"], set_={"upto": high}))
        return high

    async def lock(self, connection: AsyncConnection) -> None:
        """Wait for the other writers of the summaries (PostgreSQL; SQLite has one writer)."""
        if self.dialect == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": _LOCK_KEY})

    async def restate(self, connection: AsyncConnection, users: tuple[str, ...],
                      sign: int) -> None:
        """Take out (``sign`` -1) or put back (+1) the summed events of ``users`` under the
        department they have in ``connection``'s transaction; call under :meth:`lock`,
        before and after changing their departments. Summary rows emptied are deleted."""
        mark = await self.watermark(connection)
        if not users or mark == EPOCH:
            return
        dims = Dimensions(users=users, by_department=True)
        known = ConsoleDepartment.__table__
        departments = [""] + [str(name) for (name,) in (await connection.execute(
            select(known.c.department).distinct().where(
                known.c.user_id.in_(users), known.c.department.is_not(None)))).all()]
        for table, build, values, by_department in SUMMARIES:
            if not by_department:
                continue
            columns = table.__table__.c
            rows = build(self.dialect, datetime.min.replace(tzinfo=UTC), mark, dims)
            if sign < 0:
                summed = rows.subquery("moved")
                rows = select(*((-summed.c[column.name]).label(column.name)
                                if column.name in values else summed.c[column.name]
                                for column in columns)).where(true())  # SQLite's upsert
            await connection.execute(self._add(table, rows, values))
            if sign < 0:  # their departments' rows (an index range) left at zero
                await connection.execute(table.__table__.delete().where(
                    columns.department.in_(departments), columns[values[0]] == 0))

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[tuple[AsyncConnection, datetime]]:
        """A connection and the watermark its reads go with."""
        async with self._engine.connect() as connection:
            yield connection, await self.watermark(connection)

    def combined(self, table: Any, build: Builder, since: datetime, watermark: datetime,
                 dims: Dimensions) -> Any:
        """The summary's rows from ``since``'s day on, and the events after the watermark
        aggregated alike, as one subquery with the summary's columns (the summary's twin
        per department when ``dims`` chooses one)."""
        if dims.department:
            table = PER_DEPARTMENT[table]
        columns = table.__table__.c
        where: list[ColumnElement[bool]] = [columns.day >= since.astimezone(UTC).date().isoformat()]
        if dims.channel:
            where.append(columns.channel == dims.channel)
        if dims.skill:
            where.append(columns.skill == dims.skill)
        if dims.department:
            where.append(columns.department == dims.department)
        tail = build(self.dialect, max(watermark, since), None, dims)
        summed = select(*(columns[column.name] for column in tail.selected_columns)).where(*where)
        return union_all(summed, tail).subquery("rows")

    def insert(self, table: Any) -> Any:
        """A dialect-specific INSERT that supports ON CONFLICT."""
        insert_for = postgres_insert if self.dialect == "postgresql" else sqlite_insert
        return insert_for(table)

    def _add(self, table: Any, rows: Select[Any], values: tuple[str, ...]) -> Any:
        """INSERT … SELECT that adds to the counts of rows already there."""
        columns = table.__table__.c
        names = list(rows.selected_columns.keys())  # the table's key order may differ
        statement = self.insert(table).from_select(names, rows)
        keys = [column.name for column in columns if column.primary_key]
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: columns[name] + statement.excluded[name] for name in values})



"""Daily summaries behind the console's charts, kept up to date incrementally.

Each summary counts the events of a range of time per day and dimension. ``refresh``
adds the events written since the last refresh (up to ``settle`` ago, so that a
transaction still open is not skipped) in one write transaction; pages read the
summaries plus the few events after the watermark, aggregated the same way. A year
of history is then a few hundred thousand summary rows instead of millions of events.
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
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.console_filters import day_of
from bot.store.console_tables import (
    FindingsDaily,
    LatencyDaily,
    OutcomesDaily,
    PeopleDaily,
    RollupState,
    UsageDaily,
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
    """The filters a summary can answer (a space filter reads the events)."""

    channel: str | None = None
    skill: str | None = None


def _utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone: they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def latency_bound(bucket: int) -> float:
    """The upper bound in milliseconds of a latency bucket (∞ for the last one)."""
    return float(BOUNDS[bucket]) if bucket < len(BOUNDS) else float("inf")


def _bucket(latency: Any) -> Any:
    return case(*((latency < bound, index) for index, bound in enumerate(BOUNDS)),
                else_=len(BOUNDS))


def _where(table: Any, low: datetime, high: datetime | None,
           dims: Dimensions) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [table.c.created_at >= low]
    if high is not None:
        found.append(table.c.created_at < high)
    if dims.channel:
        found.append(table.c.channel == dims.channel)
    if dims.skill:
        found.append(table.c.skill == dims.skill)
    return found


def usage_rows(dialect: str, low: datetime, high: datetime | None,
               dims: Dimensions) -> Select[Any]:
    """Model calls of ``[low, high)`` per day and dimension (``UsageDaily``'s columns)."""
    events = UsageEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    keys = (events.c.channel, events.c.skill, events.c.model_alias, events.c.hosting,
            events.c.data_class, events.c.outcome)
    return (select(day, *keys, func.count().label("calls"),
                   func.sum(events.c.prompt_tokens).label("prompt_tokens"),
                   func.sum(events.c.completion_tokens).label("completion_tokens"),
                   func.sum(events.c.cost).label("cost"))
            .where(*_where(events, low, high, dims)).group_by(day, *keys))


def latency_rows(dialect: str, low: datetime, high: datetime | None,
                 dims: Dimensions) -> Select[Any]:
    """Successful calls of ``[low, high)`` per day, dimension and latency bucket."""
    events = UsageEvent.__table__
    day = day_of(events.c.created_at, dialect).label("day")
    bucket = _bucket(events.c.latency_ms).label("bucket")
    keys = (events.c.channel, events.c.skill, events.c.model_alias)
    return (select(day, *keys, bucket, func.count().label("calls"))
            .where(events.c.outcome == "ok", *_where(events, low, high, dims))
            .group_by(day, *keys, bucket))


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
    return (select(day, events.c.channel, skill, events.c.action, events.c.outcome,
                   func.count().label("events"))
            .where(*_where(events, low, high, dims))
            .group_by(day, events.c.channel, skill, events.c.action, events.c.outcome))


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
    return (select(day, events.c.channel, skill, kind, func.sum(count).label("found"))
            .select_from(events.join(pairs, literal(True)))
            .where(events.c.action == "message",
                   events.c.details.like('%"redactions": {"%'),  # skip those without
                   *_where(events, low, high, dims))
            .group_by(day, events.c.channel, skill, kind))


SUMMARIES: tuple[tuple[Any, Builder, tuple[str, ...]], ...] = (
    (UsageDaily, usage_rows, ("calls", "prompt_tokens", "completion_tokens", "cost")),
    (LatencyDaily, latency_rows, ("calls",)),
    (PeopleDaily, people_rows, ("messages", "answered")),
    (OutcomesDaily, outcome_rows, ("events",)),
    (FindingsDaily, finding_rows, ("found",)),
)


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
            if self.dialect == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": _LOCK_KEY})
            low = await self.watermark(connection)
            if high <= low:  # another replica went further meanwhile
                return low
            if low == EPOCH:
                low = datetime.min.replace(tzinfo=UTC)
            for table, build, values in SUMMARIES:
                rows = build(self.dialect, low, high, Dimensions())
                await connection.execute(self._add(table, rows, values))
            state = self.insert(RollupState).values(name=_STATE, upto=high)
            await connection.execute(state.on_conflict_do_update(
                index_elements=["name"], set_={"upto": high}))
        return high

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[tuple[AsyncConnection, datetime]]:
        """A connection and the watermark its reads go with."""
        async with self._engine.connect() as connection:
            yield connection, await self.watermark(connection)

    def combined(self, table: Any, build: Builder, since: datetime, watermark: datetime,
                 dims: Dimensions) -> Any:
        """The summary's rows from ``since``'s day on, and the events after the watermark
        aggregated alike, as one subquery with the summary's columns."""
        columns = table.__table__.c
        where: list[ColumnElement[bool]] = [columns.day >= since.astimezone(UTC).date().isoformat()]
        if dims.channel:
            where.append(columns.channel == dims.channel)
        if dims.skill:
            where.append(columns.skill == dims.skill)
        summed = select(*columns).where(*where)
        tail = build(self.dialect, max(watermark, since), None, dims)
        return union_all(summed, tail).subquery("rows")

    def insert(self, table: Any) -> Any:
        """A dialect-specific INSERT that supports ON CONFLICT."""
        insert_for = postgres_insert if self.dialect == "postgresql" else sqlite_insert
        return insert_for(table)

    def _add(self, table: Any, rows: Select[Any], values: tuple[str, ...]) -> Any:
        """INSERT … SELECT that adds to the counts of rows already there."""
        columns = table.__table__.c
        names = [column.name for column in columns]
        statement = self.insert(table).from_select(names, rows)
        keys = [column.name for column in columns if column.primary_key]
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: columns[name] + statement.excluded[name] for name in values})



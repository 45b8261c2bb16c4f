"""What every console query shares: the period and the filters, days as text, dialects."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from bot.store.console_tables import ConsoleDepartment

PERIODS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}


@dataclass(frozen=True, slots=True)
class ConsoleFilters:
    """A period (``since`` inclusive) and optional channel, skill, space and department."""

    since: datetime
    channel: str | None = None
    skill: str | None = None
    space: str | None = None
    department: str | None = None

    @property
    def narrowed(self) -> bool:
        """A channel, skill, space or department is chosen: the figures may come from a few
        people only, so they are shown only for at least the minimum group size."""
        return bool(self.channel or self.skill or self.space or self.department)

    def in_department(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        """``column`` (a user id) belongs to a person of the chosen department."""
        return column.in_(select(ConsoleDepartment.user_id)
                          .where(ConsoleDepartment.department == self.department))

    @classmethod
    def last(cls, period: str, **chosen: str | None) -> ConsoleFilters:
        """The filters for ``7d``, ``30d``, ``90d`` or ``365d``: that many whole UTC days,
        today included (30 if unknown)."""
        days = PERIODS.get(period, 30)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        since = today - timedelta(days=days - 1)
        return cls(since=since, **{name: value or None for name, value in chosen.items()})

    def conditions(self, table: Any, *, skill: bool = True) -> list[ColumnElement[bool]]:
        """WHERE clauses for a table with created_at, channel, space_id (and skill)."""
        found: list[ColumnElement[bool]] = [table.c.created_at >= self.since]
        if self.channel:
            found.append(table.c.channel == self.channel)
        if self.space:
            found.append(table.c.space_id == self.space)
        if skill and self.skill:
            found.append(table.c.skill == self.skill)
        if self.department:
            found.append(self.in_department(table.c.user_id))
        return found


def day_of(column: Any, dialect: str) -> Any:
    """``YYYY-MM-DD`` (UTC) of a timestamp column."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps UTC ISO text


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted ``values`` (PostgreSQL's percentile_disc)."""
    if not values:
        return 0.0
    rank = max(1, min(len(values), math.ceil(fraction * len(values))))
    return values[rank - 1]

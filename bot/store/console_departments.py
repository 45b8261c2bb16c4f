"""Adoption per department: people's departments from the directory, small groups merged.

No figure ever counts fewer than ``min_group`` people: smaller departments are merged
into one « other departments » group, itself hidden when still too small.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.console_rollups import ConsoleRollups
from bot.store.console_tables import ConsoleDepartment, PeopleDaily
from bot.store.store import writer

OTHER = "__other__"


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    """Active people and messages of one department (or of the merged small ones)."""

    department: str  # a name, OTHER or UNKNOWN
    people: int
    messages: int
    merged: int = 0  # how many small departments OTHER holds
    hidden: bool = False  # OTHER still below the minimum: its figures are not shown


class ConsoleDepartments:
    """Departments of people who used Almia, and adoption per department."""

    def __init__(self, engine: AsyncEngine, rollups: ConsoleRollups | None = None) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._rollups = rollups or ConsoleRollups(engine)

    async def pending(self, stale_before: datetime, limit: int,
                      prefixes: tuple[str, ...] = ("teams:",)) -> list[str]:
        """People seen in the summaries (ids starting with one of ``prefixes``) whose
        department is unknown or stale."""
        if not prefixes:
            return []
        people = PeopleDaily.__table__
        known = select(ConsoleDepartment.user_id).where(
            ConsoleDepartment.looked_up_at >= stale_before)
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(people.c.user_id).distinct()
                .where(or_(*(people.c.user_id.startswith(prefix, autoescape=True)
                             for prefix in prefixes)), people.c.user_id.not_in(known))
                .order_by(people.c.user_id).limit(limit))
        return [str(row[0]) for row in rows]

    async def choices(self, min_group: int) -> list[str]:
        """Departments known for at least ``min_group`` people (a filter on a smaller one
        would point to individuals)."""
        known = ConsoleDepartment.__table__
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(known.c.department).where(known.c.department.is_not(None))
                .group_by(known.c.department).having(func.count() >= min_group)
                .order_by(known.c.department))
        return [str(row[0]) for row in rows]

    async def forget(self, user_id: str) -> int:
        """Erase a person's department (right to erasure); how many rows went. Their
        counts in the summaries move to the unknown department (a purge keeps the usage
        and audit records, which hold no content)."""
        rollups = self._rollups
        async with self._writer.begin() as connection:
            await rollups.lock(connection)
            moved = await self._changed(connection, {user_id: None})
            await rollups.restate(connection, moved, -1)
            gone = await connection.execute(
                delete(ConsoleDepartment).where(ConsoleDepartment.user_id == user_id))
            await rollups.restate(connection, moved, 1)
        return int(gone.rowcount)

    async def save(self, departments: Mapping[str, str | None]) -> None:
        """Record departments looked up now (None: the directory has none for that person);
        the summed events of people whose department changed move with them."""
        if not departments:
            return
        now = datetime.now(UTC)
        rollups = self._rollups
        cleaned = {user_id: (department or None) and department[:128]
                   for user_id, department in departments.items()}
        async with self._writer.begin() as connection:
            await rollups.lock(connection)
            moved = await self._changed(connection, cleaned)
            await rollups.restate(connection, moved, -1)
            for user_id, department in cleaned.items():
                statement = rollups.insert(ConsoleDepartment).values(
                    user_id=user_id, department=department, looked_up_at=now)
                await connection.execute(statement.on_conflict_do_update(
                    index_elements=["user_id"],
                    set_={"department": statement.excluded.department, "looked_up_at": now}))
            await rollups.restate(connection, moved, 1)

    @staticmethod
    async def _changed(connection: AsyncConnection,
                       departments: Mapping[str, str | None]) -> tuple[str, ...]:
        """The people whose department differs from the one recorded (none: unknown)."""
        known = ConsoleDepartment.__table__
        recorded = {str(user_id): department for user_id, department in (
            await connection.execute(select(known.c.user_id, known.c.department)
                                     .where(known.c.user_id.in_(list(departments))))).all()}
        return tuple(sorted(user_id for user_id, department in departments.items()
                            if (recorded.get(user_id) or "") != (department or "")))


def merge_small(rows: list[tuple[str, int, int]], min_group: int) -> list[DepartmentRow]:
    """Departments with fewer than ``min_group`` people merged into OTHER (hidden if small)."""
    shown = [DepartmentRow(name, people, messages) for name, people, messages in rows
             if people >= min_group]
    small = [(people, messages) for _, people, messages in rows if people < min_group]
    shown.sort(key=lambda row: (-row.people, row.department))
    if small:
        people = sum(item[0] for item in small)
        shown.append(DepartmentRow(OTHER, people, sum(item[1] for item in small),
                                   merged=len(small), hidden=people < min_group))
    return shown

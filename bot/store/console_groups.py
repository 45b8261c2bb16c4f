"""The minimum group size: how many distinct people stand behind filtered figures.

A page narrowed by a channel, skill, space or department shows no figure when fewer than
the console's ``min_group_size`` people sent the requests it counts (a figure of one or
two people identifies them). People are those of the ``message`` audit records under the
same filters: from the per-day people summary (a year is one index range, each person
counted once through a DISTINCT subquery), or from the records themselves for a space.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.console_filters import ConsoleFilters
from bot.store.console_rollups import ConsoleRollups, Dimensions, people_rows
from bot.store.console_tables import PeopleDaily
from bot.store.tables import AuditEvent


def withheld(filters: ConsoleFilters, people: int, min_group: int) -> bool:
    """Whether figures behind ``people`` distinct people must not be shown."""
    return min_group > 1 and filters.narrowed and people < min_group


async def people_behind(connection: AsyncConnection, rollups: ConsoleRollups,
                        filters: ConsoleFilters, watermark: datetime) -> int:
    """Distinct people who sent requests under ``filters`` (summaries + recent events)."""
    people: Any
    if filters.space:
        events = AuditEvent.__table__
        people = select(events.c.user_id).where(
            events.c.action == "message", *filters.conditions(events)).distinct()
    else:
        rows = rollups.combined(PeopleDaily, people_rows, filters.since, watermark,
                                Dimensions(filters.channel, filters.skill))
        people = select(rows.c.user_id).distinct()
        if filters.department:
            people = people.where(filters.in_department(rows.c.user_id))
    found = await connection.scalar(select(func.count()).select_from(people.subquery("who")))
    return int(found or 0)

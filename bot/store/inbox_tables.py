"""The chat inbox table (migration 0011): messages acknowledged but not yet answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.tables import Base


class InboxRecord(Base):
    """A Slack or Teams message being answered, kept until its answer is posted.

    ``payload`` (the platform's event, with its text) is sealed with the asker's key. The
    replica answering holds a lease (``lease_owner``, ``lease_until``) and renews it; a
    message whose lease ran out (its replica died) is taken up by another replica.
    """

    __tablename__ = "chat_inbox"
    __table_args__ = (Index("ix_chat_inbox_lease", "lease_until"),
                      Index("ix_chat_inbox_user", "user_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(256))
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    lease_owner: Mapped[str] = mapped_column(String(128))
    lease_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def purge_inbox(connection: AsyncConnection, *, user_id: str | None,
                      older_than: datetime | None) -> int:
    """Inside a purge transaction: a person's waiting messages, or those older than a date."""
    table = InboxRecord.__table__
    condition = []
    if user_id is not None:
        condition.append(table.c.user_id == user_id)
    if older_than is not None:
        condition.append(table.c.created_at < older_than)
    removed = (await connection.execute(delete(InboxRecord).where(*condition))).rowcount
    return int(removed or 0)

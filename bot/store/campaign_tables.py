"""Tables of marketing campaigns, their versions, review decisions, notices and reviewers'
conversation routes (migration 0009)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.tables import Base


class CampaignRecord(Base):
    """A campaign's identity, brief and review state; its texts live in its versions."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_updated", "updated_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[str] = mapped_column(String(256))
    space_id: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))
    thread_id: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(Text)  # JSON: the author's conversation routing
    locale: Mapped[str] = mapped_column(String(2))
    brief: Mapped[str] = mapped_column(Text)  # JSON
    approval: Mapped[str] = mapped_column(String(8))  # all | any
    reviewers: Mapped[str] = mapped_column(Text)  # JSON list of slots (user ids, groups, roles)
    status: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)  # the current version
    revision: Mapped[int] = mapped_column(Integer)  # bumped by every change (optimistic lock)
    deadline: Mapped[date | None] = mapped_column(Date)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignVersion(Base):
    """One immutable version of a campaign's texts, with the checks it was given."""

    __tablename__ = "campaign_versions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number", name="uq_campaign_versions_campaign_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(String(160))  # library | model:<alias> | edit
    text: Mapped[str] = mapped_column(Text)  # the pieces as sections (skills.campaigns.pieces)
    checks: Mapped[str] = mapped_column(Text)  # JSON list
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignDecision(Base):
    """A reviewer's decision on one version, for one reviewer slot (one per slot)."""

    __tablename__ = "campaign_decisions"
    __table_args__ = (
        UniqueConstraint("campaign_id", "version", "slot",
                         name="uq_campaign_decisions_campaign_version_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    slot: Mapped[str] = mapped_column(String(256))
    user_id: Mapped[str] = mapped_column(String(256))
    decision: Mapped[str] = mapped_column(String(16))  # approve | changes | reject
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignNotice(Base):
    """Something a person should be told about a campaign (decision, submission, reminder)."""

    __tablename__ = "campaign_notices"
    __table_args__ = (Index("ix_campaign_notices_user", "user_id", "seen"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(256))  # a user id or a reviewer slot
    kind: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[str] = mapped_column(String(256))
    comment: Mapped[str] = mapped_column(Text)
    seen: Mapped[int] = mapped_column(Integer)  # 0 | 1
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignRoute(Base):
    """Where Almia may write to a person by itself: their last personal chat with the bot
    (Teams), so review cards reach them; routing data only, sealed, erased with them."""

    __tablename__ = "campaign_routes"

    user_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(Text)  # sealed JSON conversation reference
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

"""Marketing campaigns: briefs, versions, review decisions, notices, reviewers' routes.

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def _campaign_id(table: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("campaign_id", sa.String(32),
                     sa.ForeignKey("campaigns.id", ondelete="CASCADE",
                                   name=f"fk_{table}_campaign_id_campaigns"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author_id", sa.String(256), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("thread_id", sa.String(256), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("brief", sa.Text, nullable=False),
        sa.Column("approval", sa.String(8), nullable=False),
        sa.Column("reviewers", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("reminded_at", _WHEN),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_index("ix_campaigns_updated", "campaigns", ["updated_at"])
    op.create_table(
        "campaign_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _campaign_id("campaign_versions"),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("author_id", sa.String(256), nullable=False),
        sa.Column("source", sa.String(160), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("checks", sa.Text, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("campaign_id", "number", name="uq_campaign_versions_campaign_number"),
    )
    op.create_table(
        "campaign_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _campaign_id("campaign_decisions"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("slot", sa.String(256), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("campaign_id", "version", "slot",
                            name="uq_campaign_decisions_campaign_version_slot"),
    )
    op.create_table(
        "campaign_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _campaign_id("campaign_notices"),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("actor_id", sa.String(256), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("seen", sa.Integer, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_index("ix_campaign_notices_user", "campaign_notices", ["user_id", "seen"])
    op.create_table(
        "campaign_routes",
        sa.Column("user_id", sa.String(256), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_routes")
    op.drop_index("ix_campaign_notices_user", table_name="campaign_notices")
    op.drop_table("campaign_notices")
    op.drop_table("campaign_decisions")
    op.drop_table("campaign_versions")
    op.drop_index("ix_campaigns_updated", table_name="campaigns")
    op.drop_table("campaigns")

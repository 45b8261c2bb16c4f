"""Conversations, turns, usage events, audit events, feedback.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("thread_id", sa.String(512), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_table(
        "turns",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(64),
            sa.ForeignKey("conversations.id", ondelete="CASCADE",
                          name="fk_turns_conversation_id_conversations"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("skill", sa.String(64)),
        sa.Column("model_alias", sa.String(128)),
        sa.Column("citations", sa.Text),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_index("ix_turns_conversation_created", "turns", ["conversation_id", "created_at"])
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("turn_id", sa.String(64)),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("model_alias", sa.String(128), nullable=False),
        sa.Column("hosting", sa.String(16), nullable=False),
        sa.Column("data_class", sa.String(16), nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.String(512)),
    )
    op.create_index("ix_usage_events_created", "usage_events", ["created_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("skill", sa.String(64)),
        sa.Column("model_alias", sa.String(128)),
        sa.Column("data_class", sa.String(16)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_events_created", "audit_events", ["created_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "turn_id",
            sa.String(64),
            sa.ForeignKey("turns.id", ondelete="CASCADE", name="fk_feedback_turn_id_turns"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("turn_id", "user_id", name="uq_feedback_turn_user"),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_index("ix_audit_events_created", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_usage_events_created", table_name="usage_events")
    op.drop_table("usage_events")
    op.drop_index("ix_turns_conversation_created", table_name="turns")
    op.drop_table("turns")
    op.drop_table("conversations")

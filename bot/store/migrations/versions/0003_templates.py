"""Prompt templates, their versions and their runs.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("space_id", sa.String(256)),
        sa.Column("owner_id", sa.String(256), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.UniqueConstraint("name", name="uq_templates_name"),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("template_id", sa.String(32),
                  sa.ForeignKey("templates.id", ondelete="CASCADE",
                                name="fk_template_versions_template_id_templates"),
                  nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("space_id", sa.String(256)),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("author_id", sa.String(256), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("template_id", "version",
                            name="uq_template_versions_template_version"),
    )
    op.create_table(
        "template_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("week", sa.Date, nullable=False),
        sa.Column("template_id", sa.String(32), nullable=False),
        sa.Column("template_name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("use_case", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("model_alias", sa.String(128)),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("turn_id", sa.String(64)),
    )
    op.create_index("ix_template_runs_created", "template_runs", ["created_at"])
    op.create_index("ix_template_runs_turn", "template_runs", ["turn_id"])


def downgrade() -> None:
    op.drop_index("ix_template_runs_turn", table_name="template_runs")
    op.drop_index("ix_template_runs_created", table_name="template_runs")
    op.drop_table("template_runs")
    op.drop_table("template_versions")
    op.drop_table("templates")

"""Governance console: sessions, one-time admin links, sign-ins under way, daily summaries,
indexes for its searches.

Revision ID: 0010
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("roles", sa.String(128), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("last_seen_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
    )
    op.create_index("ix_console_sessions_expires", "console_sessions", ["expires_at"])
    op.create_table(
        "console_links",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN),
    )
    op.create_table(  # an OpenID sign-in under way: its PKCE verifier, state and nonce
        "console_logins",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("flow", sa.Text, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
    )
    op.create_table("console_rollup_state",
                    sa.Column("name", sa.String(32), primary_key=True),
                    sa.Column("upto", _WHEN, nullable=False))
    _daily("console_usage_daily",
           [_key("channel", 16), _key("skill", 64), _key("model_alias", 128),
            _key("hosting", 16), _key("data_class", 16), _key("outcome", 16)],
           [_count("calls"), _count("prompt_tokens"), _count("completion_tokens"),
            sa.Column("cost", sa.Float, nullable=False)])
    _daily("console_latency_daily",
           [_key("channel", 16), _key("skill", 64), _key("model_alias", 128),
            sa.Column("bucket", sa.Integer, primary_key=True)], [_count("calls")])
    _daily("console_people_daily",
           [_key("user_id", 256), _key("channel", 16), _key("skill", 64)],
           [_count("messages"), _count("answered")])
    _daily("console_outcomes_daily",
           [_key("channel", 16), _key("skill", 64), _key("action", 64), _key("outcome", 32)],
           [_count("events")])
    _daily("console_findings_daily",
           [_key("channel", 16), _key("skill", 64), _key("kind", 64)], [_count("found")])
    # the same per department (the person's current one, "" unknown), department first
    _daily("console_usage_department_daily",
           [_key("channel", 16), _key("skill", 64), _key("model_alias", 128),
            _key("hosting", 16), _key("data_class", 16), _key("outcome", 16)],
           [_count("calls"), _count("prompt_tokens"), _count("completion_tokens"),
            sa.Column("cost", sa.Float, nullable=False)], per_department=True)
    _daily("console_latency_department_daily",
           [_key("channel", 16), _key("skill", 64), _key("model_alias", 128),
            sa.Column("bucket", sa.Integer, primary_key=True)], [_count("calls")],
           per_department=True)
    _daily("console_outcomes_department_daily",
           [_key("channel", 16), _key("skill", 64), _key("action", 64), _key("outcome", 32)],
           [_count("events")], per_department=True)
    _daily("console_findings_department_daily",
           [_key("channel", 16), _key("skill", 64), _key("kind", 64)], [_count("found")],
           per_department=True)
    op.create_table(  # people's departments from the directory (adoption per department)
        "console_departments",
        sa.Column("user_id", sa.String(256), primary_key=True),
        sa.Column("department", sa.String(128)),
        sa.Column("looked_up_at", _WHEN, nullable=False),
    )
    # the console's audit searches and activity charts: by action or person, over a period
    op.create_index("ix_audit_events_action_created", "audit_events", ["action", "created_at"])
    op.create_index("ix_audit_events_user", "audit_events", ["user_id", "id"])
    # a space filter reads the events themselves (the summaries have no space)
    op.create_index("ix_audit_events_space", "audit_events", ["space_id", "created_at"])
    op.create_index("ix_usage_events_space", "usage_events", ["space_id", "created_at"])
    # a person's events, summed again when their department changes
    op.create_index("ix_usage_events_user", "usage_events", ["user_id", "created_at"])


def _key(name: str, size: int) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(size), primary_key=True)


def _count(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, nullable=False)


def _daily(name: str, keys: list[sa.Column], values: list[sa.Column],  # type: ignore[type-arg]
           per_department: bool = False) -> None:
    """A daily summary: ``day`` first in the primary key (periods are ranges of days), after
    ``department`` in a summary per department (a department's rows are one range)."""
    if not per_department:
        op.create_table(name, sa.Column("day", sa.String(10), primary_key=True), *keys, *values)
        return
    names = ["department", "day", *(key.name for key in keys)]
    op.create_table(name, sa.Column("department", sa.String(128), nullable=False),
                    sa.Column("day", sa.String(10), nullable=False),
                    *(sa.Column(key.name, key.type, nullable=False) for key in keys), *values,
                    sa.PrimaryKeyConstraint(*names))


def downgrade() -> None:
    for name in ("console_findings_department_daily", "console_outcomes_department_daily",
                 "console_latency_department_daily", "console_usage_department_daily",
                 "console_departments", "console_findings_daily", "console_outcomes_daily", "console_people_daily",
                 "console_latency_daily", "console_usage_daily", "console_rollup_state"):
        op.drop_table(name)
    op.drop_index("ix_usage_events_user", table_name="usage_events")
    op.drop_index("ix_usage_events_space", table_name="usage_events")
    op.drop_index("ix_audit_events_space", table_name="audit_events")
    op.drop_index("ix_audit_events_user", table_name="audit_events")
    op.drop_index("ix_audit_events_action_created", table_name="audit_events")
    op.drop_table("console_logins")
    op.drop_table("console_links")
    op.drop_index("ix_console_sessions_expires", table_name="console_sessions")
    op.drop_table("console_sessions")

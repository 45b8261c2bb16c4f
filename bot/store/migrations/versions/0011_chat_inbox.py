"""Chat inbox: Slack and Teams messages acknowledged and not yet answered, leased to the
replica answering them.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_inbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=False),
        sa.Column("lease_until", _WHEN, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
    )
    op.create_index("ix_chat_inbox_lease", "chat_inbox", ["lease_until"])
    op.create_index("ix_chat_inbox_user", "chat_inbox", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_inbox_user", table_name="chat_inbox")
    op.drop_index("ix_chat_inbox_lease", table_name="chat_inbox")
    op.drop_table("chat_inbox")

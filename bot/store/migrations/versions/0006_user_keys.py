"""Per-user data keys (crypto-shredding: erasing a user destroys their key).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: a service key (template bodies, content written before 0006); else a key of
    # that person's content, one active at a time
    op.add_column("data_keys", sa.Column("owner_id", sa.String(256)))
    op.create_index("ix_data_keys_owner", "data_keys", ["owner_id"], unique=True,
                    sqlite_where=sa.text("active"), postgresql_where=sa.text("active"))


def downgrade() -> None:
    op.drop_index("ix_data_keys_owner", table_name="data_keys")
    op.drop_column("data_keys", "owner_id")

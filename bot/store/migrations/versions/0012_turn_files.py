"""Turns remember the files their message carried, so that a thread's later questions can be
answered from them.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("turns", sa.Column("files", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("turns", "files")

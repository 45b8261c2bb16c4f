"""Stored files (uploads, artefacts) in sealed chunks, and durable jobs.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.String(256), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(32)),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data_class", sa.String(16)),
        sa.Column("findings", sa.Text, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
    )
    op.create_index("ix_files_owner", "files", ["owner_id"])
    op.create_index("ix_files_expires", "files", ["expires_at"])
    op.create_index("ix_files_job", "files", ["job_id"])
    op.create_table(
        "file_chunks",
        sa.Column("file_id", sa.String(32),
                  sa.ForeignKey("files.id", ondelete="CASCADE",
                                name="fk_file_chunks_file_id_files"),
                  primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("task", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("space_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("progress_text", sa.Text),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("checkpoint", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("error", sa.String(64)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", _WHEN),
        sa.Column("notice", sa.Text),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("started_at", _WHEN),
        sa.Column("finished_at", _WHEN),
        sa.Column("deadline_at", _WHEN),
        sa.Column("delivered_at", _WHEN),
        sa.Column("delivery_until", _WHEN),
    )
    op.create_index("ix_jobs_user_state", "jobs", ["user_id", "state"])
    op.create_index("ix_jobs_state_lease", "jobs", ["state", "lease_until"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("file_chunks")
    op.drop_table("files")

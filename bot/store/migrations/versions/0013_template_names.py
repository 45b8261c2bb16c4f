"""Template names unique within their scope, not company-wide: the "name" column holds each
template's scoped key (its unique constraint cannot be dropped on SQLite without rebuilding a
table that template_versions refers to), the name people type moves to "label".

Revision ID: 0013
Revises: 0012
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _key(scope: str, owner_id: str, space_id: str | None, name: str) -> str:
    """As ``bot.store.templates.name_key`` computes it (kept here: a migration does not
    change with the code)."""
    holder = owner_id if scope == "personal" else (space_id or "") if scope == "team" else ""
    return hashlib.sha256(f"{scope}\0{holder}\0{name}".encode()).hexdigest()


def upgrade() -> None:
    op.add_column("templates", sa.Column("label", sa.String(64), nullable=True))
    templates = sa.table("templates", sa.column("id", sa.String), sa.column("name", sa.String),
                         sa.column("label", sa.String), sa.column("scope", sa.String),
                         sa.column("owner_id", sa.String), sa.column("space_id", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(templates.c.id, templates.c.name, templates.c.scope,
                                        templates.c.owner_id, templates.c.space_id)).all()
    for row in rows:
        connection.execute(sa.update(templates).where(templates.c.id == row.id).values(
            label=row.name, name=_key(row.scope, row.owner_id, row.space_id, row.name)))
    op.create_index("ix_templates_label", "templates", ["label"])


def downgrade() -> None:
    # fails (unique constraint) once two templates share a name, as it must: nothing is lost;
    # "label" stays (dropping a column rebuilds the table on SQLite)
    op.drop_index("ix_templates_label", "templates")
    op.execute("UPDATE templates SET name = label")

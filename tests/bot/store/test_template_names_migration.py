"""Migration 0013 on a database holding templates: names move to their scope, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from bot.store import Store
from bot.store.templates import Actor, TemplateContent, TemplateStore

_MIGRATIONS = Path(__file__).resolve().parents[3] / "bot" / "store" / "migrations"


def _upgrade(connection: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_templates_of_an_older_database_keep_their_versions_and_names(
        tmp_path: Path) -> None:
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}")
    try:
        async with store.engine.begin() as connection:
            await connection.run_sync(_upgrade, "0012")
            now = datetime.now(UTC)
            for template_id, name, scope, owner, space in (
                    ("t1", "relance", "personal", "alice", None),
                    ("t2", "resume-appel", "company", "system", None),
                    ("t3", "sinistre", "team", "chloe", "teams:sinistres")):
                await connection.execute(text(
                    "INSERT INTO templates (id, name, scope, space_id, owner_id, version, "
                    "archived, created_at, updated_at) VALUES (:id, :name, :scope, :space, "
                    ":owner, 1, false, :now, :now)"), {"id": template_id, "name": name,
                                                      "scope": scope, "space": space,
                                                      "owner": owner, "now": now})
                await connection.execute(text(
                    "INSERT INTO template_versions (template_id, version, title, description, "
                    "body, skill, role, tags, scope, space_id, archived, author_id, change, "
                    "created_at) VALUES (:id, 1, :name, '', 'Bonjour {{client}}', 'templates', "
                    "'generate', '[]', :scope, :space, false, :owner, 'create', :now)"),
                    {"id": template_id, "name": name, "scope": scope, "space": space,
                     "owner": owner, "now": now})
        await store.migrate()
        templates = TemplateStore(store.engine)
        alice, bob = Actor("alice", "teams:sinistres"), Actor("bob", "teams:sinistres")
        assert (await templates.find("relance", alice)).content.body == "Bonjour {{client}}"
        assert (await templates.find("resume-appel", bob)).scope == "company"
        assert [t.name for t in await templates.visible(bob)] == ["resume-appel", "sinistre"]
        # Bob may now have a « relance » of his own
        content = TemplateContent(title="Relance", body="Relance {{x}}")
        assert (await templates.create("relance", content, bob)).owner_id == "bob"
        assert len(await templates.history("relance", alice)) == 1
    finally:
        await store.close()

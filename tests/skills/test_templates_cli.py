"""``almia templates list|import|export`` and ``almia stats templates`` on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli.templates import register_commands
from bot.settings import Settings
from tests.conftest import FakeSearch


def _app(settings: Settings) -> typer.Typer:
    app = typer.Typer()
    register_commands(app, lambda: build_runtime(settings, knowledge=FakeSearch()))  # type: ignore[arg-type]
    return app


def test_import_export_list_and_stats(settings: Settings, tmp_path: Path) -> None:
    app, runner = _app(settings), CliRunner()
    source = tmp_path / "in.yaml"
    source.write_text("name: note-interne\ntitle: Note\nscope: company\ntags: [rh]\n"
                      "body: Note sur {{sujet}}.\n", encoding="utf-8")
    imported = runner.invoke(app, ["templates", "import", str(source)])
    assert imported.exit_code == 0, imported.output
    assert "1 template(s) created" in imported.output
    listed = json.loads(runner.invoke(app, ["templates", "list", "--json"]).output)
    assert {"note-interne", "resume-appel"} <= {t["name"] for t in listed}
    source.write_text(source.read_text(encoding="utf-8").replace("Note sur", "Note à propos de"),
                      encoding="utf-8")
    assert "1 updated" in runner.invoke(app, ["templates", "import", str(source)]).output
    out = tmp_path / "out.yaml"
    assert runner.invoke(app, ["templates", "export", str(out)]).exit_code == 0
    assert "Note à propos de {{sujet}}" in out.read_text(encoding="utf-8")
    stats = runner.invoke(app, ["stats", "templates", "--since", "30d", "--json"])
    assert stats.exit_code == 0 and json.loads(stats.output)["runs"] == 0
    assert runner.invoke(app, ["stats", "templates", "--since", "x"]).exit_code == 2


def test_bad_yaml_is_refused(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text("name: casse\nbody: Bonjour {{client\n", encoding="utf-8")
    result = CliRunner().invoke(_app(settings), ["templates", "import", str(source)])
    assert result.exit_code == 2


def test_templates_sharing_a_name_in_several_scopes_round_trip(settings: Settings,
                                                               tmp_path: Path) -> None:
    app, runner = _app(settings), CliRunner()
    source = tmp_path / "in.yaml"
    source.write_text(
        "- {name: relance, scope: personal, owner: alice, body: 'Alice {{x}}'}\n"
        "- {name: relance, scope: personal, owner: bob, body: 'Bob {{x}}'}\n"
        "- {name: relance, scope: team, space: 'web:sinistres', owner: chloe, "
        "body: 'Équipe {{x}}'}\n"
        "- {name: relance, scope: company, body: 'Groupe {{x}}'}\n", encoding="utf-8")
    imported = runner.invoke(app, ["templates", "import", str(source)])
    assert "4 template(s) created, 0 updated" in imported.output, imported.output
    source.write_text(source.read_text(encoding="utf-8").replace("Bob {{x}}", "Bob 2 {{x}}"),
                      encoding="utf-8")
    again = runner.invoke(app, ["templates", "import", str(source)])
    assert "0 template(s) created, 1 updated" in again.output, again.output
    listed = json.loads(runner.invoke(app, ["templates", "list", "--json"]).output)
    assert sorted((t["scope"], t["owner"], t["version"]) for t in listed
                  if t["name"] == "relance") == [
        ("company", "system", 1), ("personal", "alice", 1), ("personal", "bob", 2),
        ("team", "chloe", 1)]

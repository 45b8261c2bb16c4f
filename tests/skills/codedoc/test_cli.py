"""``almia code document PATH|ZIP``: outputs written offline, comments in the code's language."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from bot.cli.code import register_commands
from tests.cli_app import app_with
from tests.skills.codedoc.helpers import FIXTURES


def _app() -> typer.Typer:
    return app_with(register_commands)


def test_a_folder_is_documented_with_comments_in_its_own_language(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["code", "document", str(FIXTURES), "--out",
                                         str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    assert "14 files, 273 lines" in result.output
    patch = (tmp_path / "out" / "documentation.patch").read_text(encoding="utf-8")
    assert "+      * PROCESS-PARA: Performs `WRITE-SLIP`" in patch  # English comments
    assert "la langue des commentaires existants (`--lang fr` pour les écrire" in result.output
    assert (tmp_path / "out" / "docs" / "index.md").read_text(
        encoding="utf-8").startswith("# Documentation de référence")


def test_a_language_asked_for_sets_the_comments_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["code", "document", str(FIXTURES), "--out",
                                         str(tmp_path / "out"), "--lang", "fr"])

    assert result.exit_code == 0, result.output
    patch = (tmp_path / "out" / "documentation.patch").read_text(encoding="utf-8")
    assert "+      * PROCESS-PARA: Exécute `WRITE-SLIP`" in patch

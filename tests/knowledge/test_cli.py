from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.cli import register_commands
from tests.knowledge.helpers import HashingEmbedder


@pytest.fixture
def app(tmp_path: Path, settings: KnowledgeSettings) -> typer.Typer:
    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """Almia (test)."""

    def open_knowledge() -> KnowledgeBase:
        return KnowledgeBase.open(tmp_path / "data", settings, embedder=HashingEmbedder())

    register_commands(application, open_knowledge)
    return application


def test_ingest_search_and_collections(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sinistre.md").write_text("# Sinistre\n\nDéclarer un vol sous 2 jours ouvrés.\n")
    (docs / "conges.txt").write_text(
        "Congés\nLes congés se posent dans l'outil RH un mois avant.\n"
    )
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 broken")

    result = runner.invoke(
        app, ["ingest", str(docs), "--collection", "rh", "--data-class", "internal"]
    )
    assert result.exit_code == 1, result.output
    assert "broken.pdf" in result.output and "PDF" in result.output

    (docs / "broken.pdf").unlink()
    result = runner.invoke(app, ["ingest", str(docs), "--collection", "rh"])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output

    result = runner.invoke(
        app, ["search", "déclarer un vol", "--collection", "rh", "--k", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits[0]["document"] == "sinistre.md"
    assert {"document", "path", "score", "text"} <= set(hits[0])

    result = runner.invoke(app, ["search", "congés", "--space", "teams:rh", "--json"])
    assert json.loads(result.stdout) == []
    assert runner.invoke(app, ["collections", "attach", "rh", "teams:rh"]).exit_code == 0
    queries = tmp_path / "queries.txt"
    queries.write_text("congés outil RH\ndéclarer un vol\n")
    result = runner.invoke(
        app, ["search", "--queries", str(queries), "--space", "teams:rh", "--k", "1"]
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line[0]["document"] for line in lines] == ["conges.txt", "sinistre.md"]

    result = runner.invoke(app, ["search", "congés", "--space", "teams:rh"])
    assert result.exit_code == 0 and "conges.txt" in result.output

    result = runner.invoke(app, ["collections", "list", "--json"])
    (listed,) = json.loads(result.stdout)
    assert (listed["name"], listed["spaces"], listed["chunks"]) == ("rh", ["teams:rh"], 2)
    assert runner.invoke(app, ["collections", "detach", "rh", "teams:rh"]).exit_code == 0
    assert runner.invoke(app, ["collections", "set", "rh", "--company-wide"]).exit_code == 0
    result = runner.invoke(app, ["search", "congés", "--space", "web:default", "--json"])
    assert json.loads(result.stdout)[0]["document"] == "conges.txt"
    assert runner.invoke(app, ["collections", "list"]).exit_code == 0
    assert runner.invoke(app, ["collections", "delete", "rh", "--yes"]).exit_code == 0
    result = runner.invoke(app, ["search", "congés", "--collection", "rh"])
    assert result.exit_code == 1 and "introuvable" in result.output


def test_unknown_space_and_missing_query(app: typer.Typer) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["collections", "attach", "nope", "web:default"]).exit_code == 1
    assert runner.invoke(app, ["search"]).exit_code == 2


def test_ingest_through_a_runner_prints_its_report(tmp_path: Path) -> None:
    from knowledge.records import FileOutcome, IngestReport, KnowledgeError, Outcome

    asked: list[tuple[object, ...]] = []

    def run_ingest(paths: list[Path], collection: str, data_class: str | None,
                   company_wide: bool | None, title: str | None,
                   progress: object) -> IngestReport | None:
        asked.append((paths, collection, data_class, company_wide, title))
        if collection == "refusee":
            raise KnowledgeError("trop de tâches en cours")
        if collection == "ici":
            return None  # the runner cannot run: this process ingests
        return IngestReport(collection, [FileOutcome("a.md", Outcome.ADDED, 3),
                                         FileOutcome("b.pdf", Outcome.FAILED, message="illisible")])

    application = typer.Typer()

    @application.callback()
    def main() -> None:
        """Almia (test)."""

    opened: list[Path] = []

    def open_knowledge() -> KnowledgeBase:
        opened.append(tmp_path)
        return KnowledgeBase.open(tmp_path / "data", KnowledgeSettings(),
                                  embedder=HashingEmbedder())

    register_commands(application, open_knowledge, run_ingest)
    runner = CliRunner()
    result = runner.invoke(application, ["ingest", str(tmp_path), "-c", "rh", "--company-wide"])
    assert result.exit_code == 1 and "b.pdf : illisible" in result.output, result.output
    assert asked[0] == ([tmp_path], "rh", None, True, None) and not opened
    result = runner.invoke(application, ["ingest", str(tmp_path), "-c", "refusee"])
    assert result.exit_code == 1 and "trop de tâches" in result.output, result.output
    (tmp_path / "note.md").write_text("# Note\n\nUne note.\n")
    result = runner.invoke(application, ["ingest", str(tmp_path / "note.md"), "-c", "ici"])
    assert result.exit_code == 0 and opened, result.output

"""``almia tenders screen DIR|ZIP --json``: one JSON object; outputs written with ``--out``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli.tenders import FILES, register_commands
from tests.cli_app import app_with
from tests.skills.tenders.dossiers import CRITERIA, hospital_dossier, zipped


def _app() -> typer.Typer:
    return app_with(register_commands)


def test_screen_a_zip_as_json_then_from_the_cache(tmp_path: Path) -> None:
    archive = tmp_path / "dce.zip"
    archive.write_bytes(zipped(hospital_dossier()))
    criteria = tmp_path / "criteria.yaml"
    criteria.write_text(CRITERIA, encoding="utf-8")
    arguments = ["tenders", "screen", str(archive), "--criteria", str(criteria), "--today",
                 "2027-01-15", "--json", "--cache", str(tmp_path / "cache")]
    first = CliRunner().invoke(_app(), arguments)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["facts"]["date_limite_offres"]["value"] == "2027-01-22T12:00:00+01:00"
    assert [lot["decision"] for lot in data["lots"]] == ["no-go", "no-go"]
    assert data["contradictions"][0]["topic"] == "date limite de remise des offres"
    assert not data["facts_from_cache"]
    again = CliRunner().invoke(_app(), arguments)
    assert json.loads(again.stdout)["facts_from_cache"] is True


def test_outputs_and_readable_errors(tmp_path: Path) -> None:
    folder = tmp_path / "dce"
    folder.mkdir()
    for name, data in hospital_dossier().items():
        (folder / name).write_bytes(data)
    out = tmp_path / "out"
    result = CliRunner().invoke(_app(), ["tenders", "screen", str(folder), "--today",
                                         "2027-01-15", "--out", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "NO-GO" in result.stdout and "J-7" in result.stdout
    book = load_workbook(io.BytesIO((out / FILES["grid"]).read_bytes()), read_only=True)
    assert book.sheetnames == ["Faits", "Critères", "Contradictions", "Checklist"]
    rows = list(book["Critères"].iter_rows(values_only=True))
    assert rows[0][:6] == ("Lot", "Intitulé", "Décision", "Critère", "Bloquant", "Verdict")
    book.close()
    outline = docx.Document(io.BytesIO((out / FILES["outline"]).read_bytes()))
    texts = [paragraph.text for paragraph in outline.paragraphs]
    assert "Plan du mémoire technique" in texts and any(t.startswith("Valeur technique (40")
                                                         for t in texts)
    bad = CliRunner().invoke(_app(), ["tenders", "screen", str(folder), "--today", "15/01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output

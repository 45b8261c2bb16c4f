"""The outputs: workbook sheets, a self-contained escaped HTML report, rows.csv, stored state."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

from openpyxl import load_workbook

from skills.verbatims.analysis import notes
from skills.verbatims.model import Analysis
from skills.verbatims.reader import Survey, read_survey
from skills.verbatims.report import score_change, summary_data
from skills.verbatims.report_outputs import render
from skills.verbatims.report_state import dump_analysis, load_analysis, merge, rename
from tests.knowledge.helpers import HashingEmbedder
from tests.skills.verbatims.standin import standin_analyse

HOSTILE = '<script>alert("x")</script> Attente au téléphone =1+1'
CSV = "\n".join([
    "id;date;produit;note;verbatim",
    "A1;2024-01-03;auto;1;\"Attente au téléphone interminable, personne ne répond jamais\"",
    "A2;2024-01-09;santé;5;Remboursement rapide, merci beaucoup",
    "A3;2024-02-11;auto;2;\"L'appli plante depuis la mise à jour <b>gras</b>\"",
    "A4;2024-02-15;santé;1;Les cotisations augmentent encore, trop cher",
    "A5;2024-03-02;auto;4;RAS",
    "A2;2024-01-09;santé;5;Remboursement rapide, merci beaucoup",
    "A7;2024-03-20;vie;2;=HYPERLINK(\"http://x\") attente au telephone pas normale",
]).encode()


async def _analysed() -> tuple[Analysis, Survey]:
    survey = read_survey(CSV)
    analysis = await standin_analyse(survey.verbatims, counts=survey.counts,
                                     embedder=HashingEmbedder(),
                                     score_kind=survey.columns.score_kind)
    analysis.themes[0].label = HOSTILE
    analysis.themes[0].examples.append("<img src=x onerror=alert(1)>")
    return analysis, survey


async def test_workbook_has_every_view_and_every_row() -> None:
    analysis, survey = await _analysed()
    outputs = render(analysis, survey, "fr", "export.csv")
    book = load_workbook(io.BytesIO(outputs.workbook), read_only=True)
    assert book.sheetnames == ["Synthèse", "Thèmes", "Tendances", "Moteurs", "Évolutions",
                               "Répartitions", "Verbatims"]
    rows = [list(row) for row in book["Verbatims"].iter_rows(values_only=True)]
    assert rows[0] == ["ligne", "id", "date", "note", "produit", "verbatim", "thèmes",
                       "sentiment", "statut"]
    assert len(rows) == 1 + 7
    assert rows[5][-1] == "sans contenu" and rows[5][5] == "RAS"
    assert rows[6][-1] == "doublon" and rows[6][6] == rows[2][6]
    hyperlink = rows[7]
    assert str(hyperlink[5]).startswith("=HYPERLINK") and hyperlink[6] == HOSTILE  # not a formula
    trends = [list(row) for row in book["Tendances"].iter_rows(values_only=True)]
    assert [row[0] for row in trends[1:]] == ["2024-01", "2024-02", "2024-03"]
    themes = [list(row) for row in book["Thèmes"].iter_rows(values_only=True)]
    assert HOSTILE in [row[1] for row in themes]
    book.close()


async def test_html_report_is_self_contained_and_escaped() -> None:
    analysis, survey = await _analysed()
    page = render(analysis, survey, "fr", "<b>export</b>.csv").html.decode()
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;export&lt;/b&gt;.csv" in page
    external = re.findall(r'(?:src|href)="(?!data:)[^"]*"', page)
    assert external == []  # nothing to fetch: opens offline
    images = re.findall(r'src="data:image/png;base64,', page)
    assert len(images) == 4  # themes, sentiment by theme, monthly trends, drivers
    assert "default-src 'none'" in page


async def test_html_report_shows_improvement_axes_only_when_written() -> None:
    analysis, survey = await _analysed()
    analysis.themes[0].axis = "Rappeler sous 48 h"
    with_axes = render(analysis, survey, "fr").html.decode()
    assert "<th>axe d&#x27;amélioration</th>" in with_axes and "Rappeler sous 48 h" in with_axes
    for theme in analysis.themes:
        theme.axis = None  # offline: no model wrote any
    offline = render(analysis, survey, "fr").html.decode()
    assert "amélioration</th>" not in offline and "<th>mots-clés</th>" in offline


async def test_rows_csv_lists_every_input_row() -> None:
    analysis, survey = await _analysed()
    text = render(analysis, survey, "fr").rows_csv.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["row", "id", "themes", "sentiment", "status"]
    assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4", "5", "6", "7"]
    assert rows[1][1] == "A1" and rows[1][2] == HOSTILE and rows[1][3] == "negative"
    assert rows[5][2:] == ["", "", "no_content"]
    assert rows[6][2:4] == rows[2][2:4] and rows[6][4] == "duplicate"
    both = next(row for row in rows if row[1] == "A7")
    assert set(both[2].split("|")) == {HOSTILE}
    assert all(row[3] in ("negative", "neutral", "positive", "") for row in rows[1:])


async def test_summary_json_and_text() -> None:
    analysis, survey = await _analysed()
    data = summary_data(analysis, survey, "export.csv")
    json.dumps(data)
    assert data["counts"] == {"rows": 7, "analysed": 5, "empty": 0, "no_content": 1,
                              "duplicates": 1, "not_french": 0}
    assert data["columns"]["score_kind"] == "stars5"
    assert data["themes"][0]["count"] >= data["themes"][-1]["count"]
    assert data["emerging"] and data["drivers"]
    english = render(analysis, survey, "en").summary
    assert "Top themes" in english and "set aside" in english
    noted = dataclasses.replace(analysis, notes=[notes.FEW.fr, notes.NO_DATE.fr])
    english = render(noted, survey, "en").summary
    assert "_Few verbatims: take the themes and trends with caution._" in english
    assert "_No date column: no trends._" in english
    assert "_Peu de verbatims : thèmes et tendances" in render(noted, survey, "fr").summary


async def test_rename_and_merge_without_recomputing() -> None:
    analysis, survey = await _analysed()
    stored = load_analysis(dump_analysis(analysis))
    assert stored.assignments == analysis.assignments
    assert stored.sentiments == analysis.sentiments
    ids = [theme.id for theme in stored.themes]
    merged = merge(stored, survey.verbatims, ids[0], ids[1:], detractor=2.0)
    assert [theme.id for theme in merged.themes] == [ids[0]]
    assert merged.themes[0].size == sum(1 for a in stored.assignments if a)
    renamed = rename(merged, {ids[0]: "Tout"})
    rows = render(renamed, survey, "fr").rows_csv.decode()
    assert "Tout" in rows and HOSTILE not in rows


def test_a_drivers_effect_on_the_score_reads_as_a_sentence() -> None:


    assert score_change(-1.3, "fr") == "plus basse de 1,3 point"
    assert score_change(-2.0, "fr") == "plus basse de 2,0 points"
    assert score_change(0.4, "fr") == "plus haute de 0,4 point"
    assert score_change(-1.3, "en") == "1.3 points lower" and score_change(1.0, "en") == "1.0 point higher"

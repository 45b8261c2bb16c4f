"""A table's profile as the reader reads it, in French and English."""

from __future__ import annotations

from datetime import date

from knowledge.table_profile import ColumnProfile, SheetProfile, TableProfile
from skills.table_overview import tables_text

_SHEET = SheetProfile("Lot 1", 250_000, (
    ColumnProfile("Garantie", "category", 3, 0, 3, top=(("Décès", 1), ("Invalidité", 1))),
    ColumnProfile("Taux", "category", 3, 0, 1, top=(("à compléter", 3),)),
    ColumnProfile("Assiette (€)", "number", 2, 1, 2, minimum=46_500_000, maximum=51_000_000,
                  mean=48_750_000.5),
    ColumnProfile("Effet", "date", 3, 0, 1, first=date(2027, 1, 1), last=date(2027, 1, 1)),
    ColumnProfile("Cotisation", "empty", 0, 3, 0),
), truncated=True)


def test_a_workbook_reads_sheet_by_sheet_in_french() -> None:
    text = tables_text([TableProfile("BPU.xlsx", (_SHEET,))], "fr")

    assert text.startswith("« BPU.xlsx » : classeur de 1 feuille.\n\n**Feuille « Lot 1 »** : "
                           "au moins 250\u202f000 lignes, 5 colonnes.")
    assert "- **Garantie** : 3 valeurs : « Décès », « Invalidité »…" in text
    assert "- **Taux** : toujours « à compléter »" in text
    assert ("- **Assiette (€)** : nombres de 46\u202f500\u202f000 à 51\u202f000\u202f000, "
            "moyenne 48\u202f750\u202f000,50 ; 1 cellule vide") in text
    assert "- **Effet** : dates du 01/01/2027 au 01/01/2027" in text
    assert "- **Cotisation** : vide" in text
    assert "/almia verbatims" not in text  # no free text


def test_a_csv_reads_in_english_and_points_free_text_to_the_verbatims_analysis() -> None:
    sheet = SheetProfile("", 40, (ColumnProfile("comment", "text", 40, 0, 40, mean_length=90),),
                         truncated=False)
    text = tables_text([TableProfile("survey.csv", (sheet,))], "en")

    assert text.startswith("“survey.csv”: a table of 40 rows and 1 column.\n"
                           "- **comment**: free text (90 characters on average)")
    assert "Free-text comments (“comment”): `/almia verbatims` with this file" in text

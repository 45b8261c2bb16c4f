"""A table's profile, computed from its cells: each column's kind and what sums it up."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from knowledge.records import KnowledgeError
from knowledge.table_profile import is_table, profile_table

_SURVEY = "\n".join([
    "id;date;produit;note;montant;verbatim;vide",
    *[f"V{n:03d};{1 + n % 28:02d}/0{1 + n % 9}/2024;{'auto' if n % 3 else 'santé'};{1 + n % 5};"
      f"1 250,{n % 10};Le conseiller a été très aimable mais l'attente au téléphone dure {n} "
      "minutes;" for n in range(40)],
]).encode("utf-8")


def test_each_column_of_a_csv_gets_its_kind_and_summary() -> None:
    profile = profile_table("enquete.csv", _SURVEY)

    (sheet,) = profile.sheets
    assert sheet.rows == 40 and not sheet.truncated
    columns = {column.name: column for column in sheet.columns}
    assert columns["id"].kind == "identifier"
    assert (columns["date"].kind, columns["date"].first, columns["date"].last) == (
        "date", date(2024, 1, 1), date(2024, 9, 27))
    assert columns["produit"].kind == "category"
    assert columns["produit"].top == (("auto", 26), ("santé", 14))
    assert (columns["note"].kind, columns["note"].minimum, columns["note"].maximum) == (
        "number", 1.0, 5.0)
    assert columns["montant"].kind == "number" and columns["montant"].maximum == 1250.9
    assert columns["verbatim"].kind == "text" and columns["verbatim"].mean_length > 40
    assert columns["vide"].kind == "empty" and columns["vide"].empty == 40


def test_each_sheet_of_a_workbook_is_a_table_under_its_title_line() -> None:
    workbook = Workbook()
    prices = workbook.active
    prices.title = "Lot 1"
    prices.append(["Bordereau des prix"])  # a title line above the table
    prices.append(["Garantie", "Taux proposé", "Effectif"])
    prices.append(["Décès", "à compléter", 520])
    prices.append(["Invalidité", "à compléter", 140])
    workbook.create_sheet("Notes").append(["rien qu'une phrase"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    profile = profile_table("BPU.xlsx", buffer.getvalue())

    (sheet,) = profile.sheets  # a sheet without a header row holds no table
    assert (sheet.title, sheet.rows) == ("Lot 1", 2)
    columns = {column.name: column for column in sheet.columns}
    assert columns["Taux proposé"].top == (("à compléter", 2),)
    assert (columns["Effectif"].minimum, columns["Effectif"].mean) == (140.0, 330.0)


def test_only_tables_are_profiled() -> None:
    assert is_table("a.CSV") and is_table("b.xlsx") and not is_table("c.pdf")
    with pytest.raises(KnowledgeError):
        profile_table("c.pdf", b"%PDF-1.7")
    with pytest.raises(KnowledgeError):
        profile_table("d.xlsx", b"not a workbook")


def test_a_workbook_that_unpacks_to_too_much_is_refused_before_it_is_opened() -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        block = b"0" * 1_048_576
        for number in range(260):  # 260 MB unpacked, a few hundred kB packed
            archive.writestr(f"xl/worksheets/sheet{number}.xml", block)
    with pytest.raises(KnowledgeError, match="trop volumineux une fois décompressé"):
        profile_table("bomb.xlsx", buffer.getvalue())

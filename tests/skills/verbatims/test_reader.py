"""The survey reader: CSV variants, XLSX, header not on row 1, encodings, counts, overrides."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from skills.verbatims.reader import (
    ANALYSED,
    DUPLICATE,
    NO_CONTENT,
    NOT_FRENCH,
    ReaderError,
    inspect,
    is_french,
    is_no_content,
    read_survey,
)

ROWS = [
    ("R1", "12/01/2024", "auto", "agence", "Bretagne", "2", "3",
     "Attente interminable au téléphone ; personne ne rappelle, c'est inadmissible."),
    ("R2", "15/01/2024", "santé", "web", "Occitanie", "5", "10",
     "Remboursement reçu en deux jours, \"parfait\", merci à la conseillère."),
    ("R3", "03/02/2024", "auto", "téléphone", "Bretagne", "3", "6", "RAS"),
    ("R4", "04/02/2024", "habitation", "agence", "Normandie", "1", "0",
     "Depuis la mise à jour l'appli plante\nà chaque connexion."),
    ("R5", "05/02/2024", "auto", "agence", "Bretagne", "4", "8", ""),
    ("R6", "06/02/2024", "santé", "email", "Occitanie", "2", "4",
     "The app keeps crashing and nobody answers the phone, this is the worst service."),
    ("R2", "15/01/2024", "santé", "web", "Occitanie", "5", "10",
     "Remboursement reçu en deux jours, \"parfait\", merci à la conseillère."),
    ("R8", "07/02/2024", "vie", "courrier", "Corse", "2", "5",
     "Les cotisations augmentent tous les ans sans explication, je vais partir."),
]
HEADER = ("Identifiant", "Date de réponse", "Produit", "Canal", "Région", "Note", "NPS",
          "Commentaire")


def _csv(sep: str = ";", title: bool = False, crlf: bool = False) -> str:
    out = io.StringIO()
    import csv

    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n" if crlf else "\n")
    if title:
        out.write("Enquête satisfaction 2024\n\nExport du 01/03/2024\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return out.getvalue()


def _check(survey_source: bytes | Path) -> None:
    survey = read_survey(survey_source)
    columns = survey.columns
    assert columns.text == "Commentaire"
    assert (columns.score, columns.score_kind) == ("NPS", "nps")
    assert (columns.date, columns.id) == ("Date de réponse", "Identifiant")
    assert (columns.product, columns.channel, columns.region) == ("Produit", "Canal", "Région")
    counts = survey.counts
    assert (counts.rows, counts.analysed, counts.empty, counts.no_content, counts.duplicates,
            counts.not_french) == (8, 4, 1, 1, 1, 1)
    first = survey.verbatims[0]
    assert first.row == 1 and first.id == "R1" and first.date == date(2024, 1, 12)
    assert first.score == 3.0 and first.product == "auto" and first.region == "Bretagne"
    assert "inadmissible" in first.text and ";" in first.text
    app = next(v for v in survey.verbatims if v.id == "R4")
    assert app.text == "Depuis la mise à jour l'appli plante\nà chaque connexion."
    assert app.row == 4 and app.score == 0.0
    rows = survey.rows
    assert list(rows.status) == [ANALYSED, ANALYSED, NO_CONTENT, ANALYSED, 2, NOT_FRENCH,
                                 DUPLICATE, ANALYSED]
    assert rows.target[6] == rows.target[1] == 1  # the duplicate points at its original
    assert rows.ids is not None and rows.ids[2] == "R3"
    assert rows.texts[3] == "RAS" and rows.texts[6].startswith("The app")


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_separators_are_sniffed(sep: str) -> None:
    _check(_csv(sep).encode("utf-8"))


def test_utf8_with_bom_crlf_and_a_title_above_the_header() -> None:
    data = ("\ufeff" + _csv(",", title=True, crlf=True)).encode("utf-8")
    assert inspect(data).header_row == 4
    _check(data)


def test_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(_csv(";", title=True).encode("cp1252"))
    _check(path)


def test_xlsx_streamed_with_real_dates_and_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Baromètre clients T1"])
    sheet.append([])
    sheet.append(list(HEADER))
    for row in ROWS:
        day, month, year = (int(part) for part in row[1].split("/"))
        sheet.append([row[0], datetime(year, month, day), row[2], row[3], row[4],
                      int(row[5]), int(row[6]), row[7] or None])
    path = tmp_path / "export.xlsx"
    book.save(path)
    assert inspect(path).header_row == 3
    _check(path)
    _check(path.read_bytes())


def test_overrides_by_name_number_or_letter_and_score_kind() -> None:
    data = _csv().encode()
    survey = read_survey(data, {"score": "Note", "region": "aucune", "product": "D"})
    assert (survey.columns.score, survey.columns.score_kind) == ("Note", "stars5")
    assert survey.columns.region is None and survey.columns.product == "Canal"
    assert survey.columns.channel is None  # a column serves one purpose
    assert survey.detected.region == "Région"
    assert read_survey(data, {"score_kind": "satisfaction"}).columns.score_kind == "sat10"
    with pytest.raises(ReaderError) as error:
        read_survey(data, {"text": "Verbatim client"})
    assert "Commentaire" in error.value.message_for("fr")


def test_no_header_and_no_text_column() -> None:
    headless = "\n".join(f"{n};Le conseiller a été très aimable, merci encore {n} fois"
                         for n in range(5)).encode()
    survey = read_survey(headless)
    assert survey.columns.text == "colonne 2" and survey.counts.analysed == 5
    with pytest.raises(ReaderError):
        read_survey(b"a;b\n1;2\n3;4\n")


def test_a_named_text_column_whose_answers_repeat_and_files_without_answers() -> None:
    repeated = "\n".join(["id;Commentaire client;Note"] + [
        f"{n};{('Conseiller aimable mais attente trop longue au téléphone', 'Tarif en hausse')[n % 2]};{n % 10}"
        for n in range(60)]).encode()
    survey = read_survey(repeated, {"texte": "Commentaire client"})
    assert survey.columns.text == "Commentaire client" and survey.counts.rows == 60
    with pytest.raises(ReaderError) as only_header:
        read_survey(b"id;verbatim;note\n")
    assert "n'a que sa ligne d'en-tête" in only_header.value.message_for("fr")
    with pytest.raises(ReaderError) as empty:
        read_survey(b"id;verbatim;note\n1;;3\n2;;4\n")
    assert "La colonne « verbatim » est vide" in empty.value.message_for("fr")


def test_english_answers_are_counted_before_any_analysis() -> None:
    english = "\n".join(["id;comment;score"] + [
        f"{n};The app keeps crashing and nobody answers the phone, again {n};2"
        for n in range(30)] + ["31;Le conseiller a été très aimable;5"]).encode()
    layout = inspect(english)
    assert (layout.sampled, layout.not_french) == (31, 30)


def test_content_and_language_checks() -> None:
    for empty in ("RAS", "R.A.S.", ".", "-", "Rien à dire", "nsp", "N/A", "???", "Pas d'avis"):
        assert is_no_content(empty), empty
    for real in ("Rien à redire, tout est parfait.", "Trop cher", "Appli nulle"):
        assert not is_no_content(real), real
    assert is_french("Honestly, le service client est nul depuis des mois")
    assert is_french("pr moi c tjrs pb avc l'appli")
    assert not is_french("The app keeps crashing and nobody answers the phone")
    assert not is_french("El servicio es muy malo y nadie contesta el teléfono")


def test_big_file_is_read_in_bounded_pieces(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id;verbatim;note\n")
        for n in range(20_000):
            handle.write(f"V{n};\"Le délai de remboursement n°{n} était trop long\";{n % 5 + 1}\n")
    survey = read_survey(path)
    assert survey.counts.analysed == 20_000 and survey.verbatims[-1].row == 20_000
    assert survey.columns.score_kind == "stars5"

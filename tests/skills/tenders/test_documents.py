"""Reading a dossier: pages and articles, running lines dropped, DOCX headings, XLSX cells, ZIP."""

from __future__ import annotations

from pathlib import Path

import pytest

from skills.tenders.documents import (
    DossierError,
    document_kind,
    heading_article,
    load_files,
    load_path,
)
from tests.skills.tenders.dossiers import hospital_dossier, pdf, town_dossier, zipped


def test_pdf_pages_and_articles_without_running_footers() -> None:
    dossier = load_files(list(hospital_dossier().items()), "chk")
    rc = dossier.documents[0]
    assert rc.kind == "RC" and rc.pages == 3
    places = [(section.page, section.article) for section in rc.sections]
    assert places[0] == (1, "page de garde")
    assert (2, "Article 3.1") in places and (3, "Article 4.2") in places
    assert not any("Pied de page" in line for section in rc.sections for line in section.lines)


def test_docx_headings_open_articles_and_xlsx_cells_are_kept() -> None:
    dossier = load_files(list(town_dossier().items()), "ville")
    kinds = {document.name: document.kind for document in dossier.documents}
    assert kinds == {"RC_sante_2027.docx": "RC", "CCAP_sante_2027.docx": "CCAP",
                     "BPU_sante_2027.xlsx": "BPU"}
    ccap = next(d for d in dossier.documents if d.kind == "CCAP")
    assert [s.article for s in ccap.sections][:3] == ["page de garde", "Article 1", "Article 2"]
    assert all(section.page is None for section in ccap.sections)
    bpu = next(d for d in dossier.documents if d.kind == "BPU")
    assert bpu.sections[0].article == "BPU" and bpu.sections[0].cells[1] == "A2"


def test_a_zip_with_a_top_folder_is_one_dossier_and_the_digest_ignores_packaging(
        tmp_path: Path) -> None:
    files = hospital_dossier()
    archive = tmp_path / "dce.zip"
    archive.write_bytes(zipped(files, "DCE/") + b"")
    from_zip = load_path(archive)
    loose = tmp_path / "loose"
    loose.mkdir()
    for name, data in files.items():
        (loose / name).write_bytes(data)
    assert {d.name for d in from_zip.documents} == set(files)
    assert from_zip.digest == load_path(loose).digest


def test_unreadable_dossiers_are_refused() -> None:
    with pytest.raises(DossierError):
        load_files([("scan.pdf", b"%PDF-1.4 broken"), ("notes.exe", b"MZ")])


@pytest.mark.parametrize(("line", "current", "expected"), [
    ("ARTICLE 6 – DATE LIMITE", None, "Article 6"),
    ("Article 12 : Pénalités", "Article 11", "Article 12"),
    ("6.1 – Date limite", "Article 6", "Article 6.1"),
    ("7.1 – Hors sujet", "Article 6", None),
    ("\x01B4 – Engagement", "B3", "B4"),
    ("1.1 Niveau des garanties et conformité au CCTP", "Article 7.2", None),
    ("1. Valeur technique", "Article 7.2", None),
])
def test_headings(line: str, current: str | None, expected: str | None) -> None:
    assert heading_article(line, current) == expected


def test_kind_from_name_then_title() -> None:
    assert document_kind("CCTP_lot2.docx", "") == "CCTP"
    assert document_kind("piece3.pdf", "ACTE D'ENGAGEMENT\nLot 1") == "AE"
    assert document_kind("annexe.pdf", "Données démographiques") == ""


def test_plain_numbered_capital_titles_and_unnumbered_styled_headings() -> None:
    assert heading_article("3. DURÉE DU MARCHÉ", None) == "Article 3"
    assert heading_article("1. Valeur technique", None) is None
    assert heading_article("\x01Objet de la consultation", None) == "Objet de la consultation"


def test_an_opendocument_text_is_read_with_its_headings_and_tables() -> None:
    import io
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body>'
        '<office:text><text:p>CAHIER DES CLAUSES ADMINISTRATIVES PARTICULIÈRES</text:p>'
        '<text:h text:outline-level="1">ARTICLE 4 – PÉNALITÉS</text:h>'
        '<text:p>Pénalité de 100 € par jour de retard.</text:p><table:table><table:table-row>'
        '<table:table-cell><text:p>Lot 1</text:p></table:table-cell><table:table-cell>'
        '<text:p>12 000 €</text:p></table:table-cell></table:table-row></table:table>'
        '</office:text></office:body></office:document-content>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
    dossier = load_files([("CCAP.odt", buffer.getvalue())])
    [document] = dossier.documents
    assert document.kind == "CCAP"
    article = document.sections[1]
    assert article.article == "Article 4"
    assert article.lines[1:] == ("Pénalité de 100 € par jour de retard.", "Lot 1 | 12 000 €")


def test_a_pdf_printed_by_a_browser_loses_its_margins() -> None:
    printed = pdf([["12/6/26, 6:28 AM", "RÈGLEMENT DE LA CONSULTATION",
                    "ARTICLE 1 – OBJET", "Le marché porte sur l'assurance flotte.",
                    "file:///tmp/rc.html 1/2"],
                   ["12/6/26, 6:28 AM", "ARTICLE 2 – DURÉE", "Quatre ans.",
                    "file:///tmp/rc.html 2/2"]])
    [document] = load_files([("RC_p.pdf", printed)]).documents
    lines = [line for section in document.sections for line in section.lines]
    assert "Le marché porte sur l'assurance flotte." in lines
    assert not any("file:" in line or "6:28" in line for line in lines), lines

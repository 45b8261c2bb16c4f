"""File classification: the text of every accepted kind is read, bounded, and classified."""

from __future__ import annotations

import io
import zipfile

from docx import Document
from openpyxl import Workbook

from bot.files.intake import check_file
from bot.files.service import FileClassifier
from bot.files.settings import FileSettings
from bot.files.sniff import FileKind
from bot.files.text import file_text
from bot.governance.dlp import DlpSettings

IBAN = "FR76 3000 6000 0112 3456 7890 189"


def _xlsx(rows: list[list[object]]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def _classify(name: str, stream: io.BytesIO) -> tuple[str, dict[str, int]]:
    checked = check_file(name, stream, FileSettings())
    result = FileClassifier(DlpSettings(ner=False)).classify(checked, stream)
    return result.data_class, dict(result.findings)


def test_a_spreadsheet_is_read_cell_by_cell_shared_strings_and_numbers() -> None:
    stream = _xlsx([["client", "iban", "montant"], ["Durand", IBAN, 1250.5]])
    text = file_text(FileKind.XLSX, stream, 10_000)
    assert "Durand" in text and IBAN in text and "1250.5" in text
    assert stream.tell() == 0  # left where the next reader expects it
    data_class, findings = _classify("export.xlsx", stream)
    assert findings.get("IBAN") == 1 and data_class == "internal"


def test_text_is_bounded_and_every_kind_is_read() -> None:
    big = _xlsx([[f"verbatim {i} " * 20] for i in range(2000)])
    assert len(file_text(FileKind.XLSX, big, 5_000)) == 5_000
    document = Document()
    document.add_paragraph(f"Rembourser sur {IBAN}")
    buffer = io.BytesIO()
    document.save(buffer)
    assert IBAN in file_text(FileKind.DOCX, buffer.getvalue(), 10_000)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a/note.txt", f"IBAN {IBAN}".encode("cp1252"))
        zipped.writestr("b/image.png", b"\x89PNG")
    assert IBAN in file_text(FileKind.ZIP, archive.getvalue(), 10_000)


def test_a_secret_in_a_file_raises_its_data_class() -> None:
    stream = io.BytesIO(b"config: password=Sup3rS3cret!2026 token=ghp_" + b"a1" * 18)
    data_class, findings = _classify("config.txt", stream)
    assert data_class == "secret" and findings.get("SECRET", 0) >= 1


def test_malformed_spreadsheet_xml_gives_no_text_and_no_error() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("xl/sharedStrings.xml", "<sst><si><t>début</t></si><si><t>coupé")
        zipped.writestr("xl/worksheets/sheet1.xml", "<!DOCTYPE x [<!ENTITY e SYSTEM "
                        "'file:///etc/passwd'>]><worksheet>&e;</worksheet>")
    text = file_text(FileKind.XLSX, archive, 1000)
    assert "root:" not in text  # no external entity is ever resolved


def test_a_document_s_text_keeps_its_headings() -> None:
    from tests.knowledge.helpers import make_pdf

    pages = [f"ARTICLE {n} – {name}\n{n}.1 – Détail\nLe texte s'applique.\nPage {n} / 3"
             for n, name in ((1, "OBJET"), (2, "DURÉE"), (3, "PRIX"))]
    text = file_text(FileKind.PDF, make_pdf(pages), 10_000)
    assert text.splitlines()[:4] == ["ARTICLE 1 – OBJET", "1.1 – Détail",
                                     "Le texte s'applique.", "ARTICLE 2 – DURÉE"]
    assert "Page" not in text  # a running footer is not the document's text

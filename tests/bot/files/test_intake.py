"""Every file is checked before anything of it is kept: type from content, sizes, archives."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document

from bot.files.intake import FileRejected, check_count, check_file, safe_name
from bot.files.settings import FileSettings
from bot.files.sniff import FileKind

SETTINGS = FileSettings(max_file_mb=2, max_files=3, zip_max_entries=40, zip_max_total_mb=4,
                        zip_max_ratio=50)


def _zip(entries: dict[str, bytes], *, encrypted: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    raw = bytearray(buffer.getvalue())
    if encrypted is not None:  # zipfile cannot write encrypted entries: set the flag bits
        local, central = raw.find(b"PK\x03\x04"), raw.find(b"PK\x01\x02")
        raw[local + 6] |= 0x1
        raw[central + 8] |= 0x1
    return bytes(raw)


def _docx() -> bytes:
    document = Document()
    document.add_paragraph("Contrat multirisque habitation")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _check(name: str, data: bytes) -> FileKind:
    return check_file(name, io.BytesIO(data), SETTINGS).kind


def _refusal(name: str, data: bytes) -> FileRejected:
    with pytest.raises(FileRejected) as raised:
        check_file(name, io.BytesIO(data), SETTINGS)
    return raised.value


def test_accepted_kinds_are_sniffed_from_content() -> None:
    assert _check("note.txt", "Dégât des eaux déclaré le 3 mars.".encode()) is FileKind.TXT
    assert _check("export.csv", "id;verbatim\n1;Très satisfait\n".encode("cp1252")) is FileKind.CSV
    assert _check("lisez-moi.md", b"# Titre\n\nTexte") is FileKind.MD
    assert _check("contrat.docx", _docx()) is FileKind.DOCX
    assert _check("dossier.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") is FileKind.PDF
    checked = check_file("dce.zip", io.BytesIO(_zip({"rc.txt": b"Reglement",
                                                     "annexes/cctp.txt": b"CCTP"})), SETTINGS)
    assert checked.kind is FileKind.ZIP
    assert [entry.path for entry in checked.entries] == ["rc.txt", "annexes/cctp.txt"]
    assert len(checked.sha256) == 64 and checked.media_type == "application/zip"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("vide.txt", b"", "empty"),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "unsupported"),
    ("sans-extension", b"texte", "unsupported"),
    ("faux.pdf", b"ceci n'est pas un PDF", "mismatch"),
    ("image.txt", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "mismatch"),
    ("tableur.xlsx", b"%PDF-1.4 plutot un pdf", "mismatch"),
    ("ancien.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "unsupported"),
    ("ancien.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "legacy_office"),
    ("gros.txt", b"a" * (2 * 1_048_576 + 1), "too_large"),
    ("casse.zip", _zip({"a.txt": b"bonjour" * 100})[:-30], "corrupt"),
    ("tronque.docx", _docx()[:-200], "corrupt"),
    ("evasion.zip", _zip({"../../etc/cron.d/x.txt": b"x"}), "zip_path"),
    ("absolu.zip", _zip({"/etc/passwd.txt": b"x"}), "zip_path"),
    ("windows.zip", _zip({"..\\..\\boot.txt": b"x"}), "zip_path"),
    ("chiffre.zip", _zip({"secret.txt": b"x"}, encrypted="secret.txt"), "encrypted"),
    ("bombe.zip", _zip({"zeros.txt": b"\0" * (3 * 1_048_576)}), "zip_bomb"),
    ("enorme.zip", _zip({f"f{i}.txt": bytes(900_000) + bytes([i]) for i in range(5)}),
     "zip_bomb"),
    ("beaucoup.zip", _zip({f"f{i}.txt": b"x" for i in range(41)}), "zip_entries"),
    ("gigogne.zip", _zip({"autre.zip": _zip({"a.txt": b"a"})}), "zip_nested"),
])
def test_bad_files_are_refused_with_a_reason(name: str, data: bytes, code: str) -> None:
    refusal = _refusal(name, data)
    assert refusal.code == code
    french, english = refusal.message_for("fr"), refusal.message_for("en")
    assert french and english and french != english
    assert "Traceback" not in french


def test_what_a_mismatched_file_holds_is_said_in_the_reader_s_language() -> None:
    refusal = _refusal("x.pdf", b"\x00\x01\x02binary")
    assert "(binaire au lieu de PDF)" in refusal.message_for("fr")
    assert "(binary instead of PDF)" in refusal.message_for("en")
    assert str(refusal) == refusal.message_for("fr")


def test_a_symlink_in_an_archive_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("lien.txt")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/shadow")
    assert _refusal("liens.zip", buffer.getvalue()).code == "zip_path"


def test_too_many_files_in_one_message() -> None:
    check_count(3, SETTINGS)
    with pytest.raises(FileRejected) as raised:
        check_count(4, SETTINGS)
    assert "3" in raised.value.message_for("fr")


def test_names_are_made_safe_for_display_and_download() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\Relevé: mars?.pdf") == "Relevé_ mars_.pdf"
    assert safe_name("\x00\x1f") == "fichier"

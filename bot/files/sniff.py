"""What a file really is, from its bytes: never trust the extension or the declared type."""

from __future__ import annotations

import zipfile
from enum import StrEnum
from typing import IO

import filetype  # type: ignore[import-untyped]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc / .xls / .ppt
_SNIFF_BYTES = 65_536


class FileKind(StrEnum):
    """The file types Almia accepts."""

    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    CSV = "csv"
    TXT = "txt"
    MD = "md"
    ZIP = "zip"

    @property
    def is_text(self) -> bool:
        """Plain text kinds, interchangeable with each other (a CSV saved as .txt is fine)."""
        return self in (FileKind.CSV, FileKind.TXT, FileKind.MD)

    @property
    def is_zip(self) -> bool:
        """Kinds stored as a ZIP container (checked against zip bombs)."""
        return self in (FileKind.DOCX, FileKind.XLSX, FileKind.ZIP)

    @property
    def media_type(self) -> str:
        """The IANA media type."""
        return MEDIA_TYPES[self]


MEDIA_TYPES: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.CSV: "text/csv",
    FileKind.TXT: "text/plain",
    FileKind.MD: "text/markdown",
    FileKind.ZIP: "application/zip",
}

EXTENSIONS: dict[str, FileKind] = {
    ".pdf": FileKind.PDF,
    ".docx": FileKind.DOCX,
    ".xlsx": FileKind.XLSX,
    ".csv": FileKind.CSV,
    ".txt": FileKind.TXT,
    ".text": FileKind.TXT,
    ".md": FileKind.MD,
    ".markdown": FileKind.MD,
    ".zip": FileKind.ZIP,
    # source code is plain text to the intake (sniffed as text, never run): a developer may
    # send one program rather than a ZIP (code documentation)
    **dict.fromkeys((".py", ".java", ".js", ".mjs", ".jsx", ".ts", ".cs", ".sql", ".cbl",
                     ".cob", ".cpy", ".jcl", ".sh"), FileKind.TXT),
}


class Sniffed(StrEnum):
    """What the content turned out to be when it is not an accepted kind."""

    LEGACY_OFFICE = "legacy-office"
    OTHER_OFFICE = "other-office"  # .pptx, .odt… (a ZIP with an unsupported layout)
    BINARY = "binary"
    EMPTY = "empty"
    BROKEN_ZIP = "broken-zip"  # starts like a ZIP but cannot be opened


def sniff(stream: IO[bytes]) -> FileKind | Sniffed:
    """The kind of the content of ``stream`` (seekable; left at position 0).

    A ZIP is looked into: Office Open XML documents are ZIPs with a ``[Content_Types].xml``.
    Text is anything without NUL bytes that decodes as UTF-8 or Windows-1252; which text
    kind it is (CSV, Markdown, text) is the extension's business.
    """
    stream.seek(0)
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    if not head:
        return Sniffed.EMPTY
    if b"%PDF-" in head[:1024]:
        return FileKind.PDF
    if head.startswith(_OLE2):
        return Sniffed.LEGACY_OFFICE
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_layout(stream)
    if filetype.guess(head) is not None or b"\x00" in head:
        return Sniffed.BINARY
    return FileKind.TXT if _decodes(head) else Sniffed.BINARY


def _zip_layout(stream: IO[bytes]) -> FileKind | Sniffed:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return Sniffed.BROKEN_ZIP
    finally:
        stream.seek(0)
    if "[Content_Types].xml" not in names:
        if "mimetype" in names:  # OpenDocument
            return Sniffed.OTHER_OFFICE
        return FileKind.ZIP
    if "word/document.xml" in names:
        return FileKind.DOCX
    if "xl/workbook.xml" in names:
        return FileKind.XLSX
    return Sniffed.OTHER_OFFICE


def _decodes(head: bytes) -> bool:
    """UTF-8 (a multi-byte sequence may be cut at the end of the sample) or Windows-1252."""
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and error.reason == "unexpected end of data":
            return True
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True

"""The text inside an accepted file, bounded, for classification and for skills that read it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO

from bot.files.sniff import EXTENSIONS, FileKind


def file_text(kind: FileKind, source: bytes | IO[bytes], limit: int) -> str:
    """Up to ``limit`` characters of the file's text ('' when it has none, e.g. a scan).

    ``source`` may be a seekable stream: a spreadsheet is then read row by row from it.
    """
    if kind is FileKind.XLSX and not isinstance(source, bytes):
        return _joined(_sheet_text(source), limit)
    data = source if isinstance(source, bytes) else _read(source)
    return _joined(_pieces(kind, data, limit), limit)


def _read(stream: IO[bytes]) -> bytes:
    stream.seek(0)
    data = stream.read()
    stream.seek(0)
    return data


def _joined(pieces: Iterator[str], limit: int) -> str:
    parts: list[str] = []
    total = 0
    for piece in pieces:
        parts.append(piece)
        total += len(piece) + 1
        if total >= limit:
            break
    return "\n".join(parts)[:limit]


def _pieces(kind: FileKind, data: bytes, limit: int) -> Iterator[str]:
    if kind is FileKind.ZIP:
        yield from _archive_text(data, limit)
    elif kind is FileKind.XLSX:
        yield from _sheet_text(io.BytesIO(data))
    elif kind.is_text:
        yield decode_text(data)
    else:
        yield from _document_text(kind, data)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _document_text(kind: FileKind, data: bytes) -> Iterator[str]:
    from knowledge.loaders import load_bytes
    from knowledge.records import KnowledgeError

    try:
        document = load_bytes(data, f".{kind.value}", "document")
    except (KnowledgeError, ValueError, KeyError, OSError):
        return
    for block in document.blocks:
        yield block.text


def _sheet_text(stream: IO[bytes]) -> Iterator[str]:
    """Rows of every sheet as « cell ; cell » lines (calamine: a Rust reader, ~4× openpyxl)."""
    from python_calamine import CalamineError, CalamineWorkbook

    stream.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(stream)
        for name in workbook.sheet_names:
            for row in workbook.get_sheet_by_name(name).iter_rows():
                cells = [str(value) for value in row if value not in ("", None)]
                if cells:
                    yield " ; ".join(cells)
    except (CalamineError, ValueError, OSError, zipfile.BadZipFile):
        return
    finally:
        stream.seek(0)


def _archive_text(data: bytes, limit: int) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            kind = EXTENSIONS.get(PurePosixPath(info.filename.lower()).suffix)
            if info.is_dir() or kind is None or kind is FileKind.ZIP:
                continue
            yield file_text(kind, archive.read(info), limit)

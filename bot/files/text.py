"""The text inside an accepted file, bounded, for classification and for skills that read it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO

from lxml import etree  # type: ignore[import-untyped]

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
    section: str | None = None
    for block in document.blocks:
        if block.section and block.section != section:  # its headings, as the reader saw them
            opened = block.section.split(" > ")
            kept = (section or "").split(" > ")
            yield from (heading for depth, heading in enumerate(opened)
                        if depth >= len(kept) or kept[depth] != heading)
        section = block.section
        yield block.text


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet_text(stream: IO[bytes]) -> Iterator[str]:
    """A spreadsheet's text, streamed: shared strings, then other cell values of each sheet.

    Order is not the rows' (classification needs the values, not their layout); memory
    stays bounded whatever the size of the workbook (an XML event parser, elements freed).
    """
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "xl/sharedStrings.xml" in names:
                yield from _xml_values(archive, "xl/sharedStrings.xml", "si", shared=True)
            sheets = sorted(name for name in names if name.startswith("xl/worksheets/sheet")
                            and name.endswith(".xml"))
            for sheet in sheets:
                yield from _xml_values(archive, sheet, "c", shared=False)
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, OSError, ValueError):
        return
    finally:
        stream.seek(0)


def _xml_values(archive: zipfile.ZipFile, name: str, tag: str, *, shared: bool
                ) -> Iterator[str]:
    with archive.open(name) as part:
        events = etree.iterparse(part, events=("end",), tag=_SHEET_NS + tag,
                                 resolve_entities=False, no_network=True, huge_tree=False)
        for _event, element in events:
            if shared:
                value = "".join(element.itertext())
            elif element.get("t") == "s":  # a reference into the shared strings
                value = ""
            else:
                value = "".join(element.itertext())
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
            if value.strip():
                yield value


def _archive_text(data: bytes, limit: int) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            kind = EXTENSIONS.get(PurePosixPath(info.filename.lower()).suffix)
            if info.is_dir() or kind is None or kind is FileKind.ZIP:
                continue
            yield file_text(kind, archive.read(info), limit)

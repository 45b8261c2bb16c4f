"""A dossier (folder, ZIP or attached files) read into sections with page and article.

PDFs are read page by page (running headers and footers dropped), DOCX paragraph by
paragraph with their tables, XLSX sheet by sheet with cell references. A heading
« ARTICLE 6 – … », « 6.1 – … » or « B4 – … » opens a new article; on the first page,
what comes before any heading is the « page de garde ».
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath

from bot.text import fold
from knowledge.loaders import LIGATURES, PRINTED_ADDRESS
from skills.tenders.model import Document, Dossier, Section

COVER = "page de garde"
PREAMBLE = "préambule"
READABLE = (".pdf", ".docx", ".xlsx", ".odt", ".txt", ".md")
MAX_FILES = 60
MAX_BYTES = 80 * 1024 * 1024  # a whole dossier, unpacked
_ARTICLE = re.compile(r"^(?:ARTICLE|Article|ART\.?|Art\.)\s+(\d{1,2}(?:\.\d{1,2}){0,3})\b"
                      r"(?:\s*(?:[–—:.-]|er\b)\s*(.*))?$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s*[–—:-]\s+(\S.*)$")
_CAPITAL_NUMBERED = re.compile(r"^(\d{1,2})[.)]?\s*[–—:-]?\s+([^a-z]{4,100})$")
_LETTERED = re.compile(r"^([A-H]\d{0,2})\s*[–—:-]\s+(\S.*)$")
_PAGE_MARK = re.compile(r"^(?:page\s*)?\d{1,3}\s*(?:/|sur)\s*\d{1,3}$", re.IGNORECASE)
_KINDS = (("RC", ("reglement de la consultation", "reglement_consultation", "_rc_", "_rc-",
                  "reglement-consultation", "reglement de consultation",
                  "dossier de consultation unique")),
          ("CCAP", ("ccap_", "ccap-", "clauses administratives particulieres")),
          ("CCTP", ("cctp_", "cctp-", "clauses techniques particulieres")),
          ("AE", ("acte d'engagement", "acte_engagement", "_ae_", "_ae-", "acte-engagement")),
          ("BPU", ("bpu_", "bpu-", "bordereau des prix")),
          ("DPGF", ("dpgf_", "dpgf-", "decomposition du prix global")),
          ("DQE", ("dqe_", "dqe-", "detail quantitatif")),
          ("AAPC", ("aapc", "avis d'appel", "avis de marche", "avis_marche")))
_ORDER = ("RC", "AAPC", "CCAP", "CCTP", "AE", "BPU", "DPGF", "DQE", "")


class DossierError(Exception):
    """A dossier that cannot be read (nothing readable, too big)."""


def load_path(path: Path) -> Dossier:
    """A folder of documents or one ZIP (``gold.json`` and hidden files are ignored)."""
    if path.is_dir():
        files = [(item.relative_to(path).as_posix(), item.read_bytes())
                 for item in sorted(path.rglob("*"))
                 if item.is_file() and not item.name.startswith(".")
                 and item.suffix.lower() != ".json"]
        return load_files(files, path.name)
    return load_files([(path.name, path.read_bytes())], path.stem)


def load_files(files: Sequence[tuple[str, bytes]], name: str = "dossier") -> Dossier:
    """Read named files (ZIPs unpacked) into a :class:`Dossier`."""
    entries = list(_unpacked(files))
    if not entries:
        raise DossierError("empty")
    if len(entries) > MAX_FILES or sum(len(data) for _, data in entries) > MAX_BYTES:
        raise DossierError("dossier too large")
    digest = hashlib.sha256()
    documents: list[Document] = []
    skipped: list[str] = []
    for file_name, data in sorted(entries):
        digest.update(file_name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
        document = read_document(file_name, data)
        if document is None or not document.sections:
            skipped.append(file_name)
        else:
            documents.append(document)
    if not documents:
        raise DossierError("no readable document")
    documents.sort(key=lambda doc: (_ORDER.index(doc.kind) if doc.kind in _ORDER else 99,
                                    doc.name))
    return Dossier(name, digest.hexdigest(), tuple(documents), tuple(skipped))


def _unpacked(files: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    for file_name, data in files:
        if file_name.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                total = 0
                for info in archive.infolist():
                    total += info.file_size
                    if total > MAX_BYTES:
                        raise DossierError("archive too large")
                    inner = PurePosixPath(info.filename)
                    if info.is_dir() or any(part.startswith((".", "__MACOSX"))
                                            for part in inner.parts):
                        continue
                    if inner.suffix.lower() in READABLE:
                        yield inner.name, archive.read(info)
        else:
            yield PurePosixPath(file_name).name, data


def document_kind(name: str, first_text: str) -> str:
    """RC, CCAP, CCTP, AE, BPU… from the file name, else from the title on the first page."""
    folded_name = "_" + fold(PurePosixPath(name).stem).replace(" ", "_") + "_"
    for kind, keys in _KINDS:
        if any(key in folded_name for key in keys):
            return kind
    folded_text = fold(first_text[:600])
    for kind, keys in _KINDS:
        if any(key in folded_text for key in keys if " " in key):
            return kind
    return ""


def read_document(name: str, data: bytes) -> Document | None:
    """One file into sections (None for a type it cannot read)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".pdf":
        pages = _pdf_pages(data)
        return _from_pages(name, pages, len(pages))
    if suffix == ".docx":
        return _from_pages(name, [_docx_lines(data)], None)
    if suffix == ".xlsx":
        return _from_sheets(name, data)
    if suffix == ".odt":
        return _from_pages(name, [_odt_lines(data)], None)
    if suffix in (".txt", ".md"):
        text = data.decode("utf-8-sig", errors="replace")
        return _from_pages(name, [[line for line in text.splitlines()]], None)
    return None


def _pdf_pages(data: bytes) -> list[list[str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return []
        pages = [[line.strip().translate(LIGATURES)
                  for line in (page.extract_text() or "").splitlines()]
                 for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        return []
    return _without_running_lines([_without_printed_margins(page) for page in pages])


# a browser's printed date in a page's margin (« 12/6/26, 6:28 AM »; its address and page
# number, « file:///…/rc.html 2/3 », as the knowledge loaders read it)
_PRINTED_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4},\s+\d{1,2}:\d{2}\s?[AaPp]\.?[Mm]\.?\b")


def _without_printed_margins(lines: list[str]) -> list[str]:
    """A page's lines less the margins a browser printed on it (first and last lines)."""
    filled = [index for index, line in enumerate(lines) if line]
    edges = set(filled[:2] + filled[-2:])
    return [line for index, line in enumerate(lines)
            if index not in edges or not (PRINTED_ADDRESS.match(line)
                                          or _PRINTED_DATE.match(line))]


def _without_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop headers and footers: lines repeated on most pages, page numbers."""
    if len(pages) < 2:
        return [[line for line in page if line] for page in pages]
    counts = Counter(line for page in pages for line in set(page) if line)
    running = {line for line, count in counts.items() if count >= max(2, len(pages) // 2 + 1)}
    return [[line for line in page if line and line not in running
             and not _PAGE_MARK.match(line)] for page in pages]


def _docx_lines(data: bytes) -> list[str]:
    """Paragraphs and table rows in body order; headings marked with a leading ``\\x01``."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (ValueError, KeyError, zipfile.BadZipFile, OSError):
        return []
    lines: list[str] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text = paragraph.text.strip()
            if not text:
                continue
            style = fold(paragraph.style.name if paragraph.style is not None else "")
            heading = style.startswith(("heading", "titre", "title"))
            lines.append(("\x01" if heading else "") + text)
        elif tag == "tbl":
            for row in Table(element, document).rows:
                # a merged cell comes once per column it spans, as the same XML cell
                every = list(row.cells)
                cells = [cell.text.strip() for index, cell in enumerate(every)
                         if index == 0 or cell._tc is not every[index - 1]._tc]
                if any(cells):
                    lines.append(" | ".join(cells))
    return lines


_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _odt_lines(data: bytes) -> list[str]:
    """An OpenDocument text: headings (marked), paragraphs and table rows in body order."""
    from lxml import etree  # type: ignore[import-untyped]

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            content = archive.read("content.xml")
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False,
                                                         no_network=True))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError):
        return []
    lines: list[str] = []
    heading, paragraph = f"{{{_ODF_TEXT}}}h", f"{{{_ODF_TEXT}}}p"
    row, cell = f"{{{_ODF_TABLE}}}table-row", f"{{{_ODF_TABLE}}}table-cell"
    for element in root.iter(heading, paragraph, row):
        if element.tag == row:
            cells = [" ".join("".join(c.itertext()).split()) for c in element.iter(cell)]
            if any(cells):
                lines.append(" | ".join(cells))
            continue
        if any(parent.tag == cell for parent in element.iterancestors()):
            continue  # read with its row
        text = " ".join("".join(element.itertext()).split())
        if text:
            lines.append(("\x01" if element.tag == heading else "") + text)
    return lines


def heading_article(line: str, current: str | None) -> str | None:
    """The article a heading line opens (« Article 6 », « Article 6.1 », « B4 »), else None."""
    text = line.lstrip("\x01").strip()
    if len(text) > 160:
        return None
    match = _ARTICLE.match(text)
    if match:
        return f"Article {match.group(1)}"
    match = _NUMBERED.match(text)
    if match and len(match.group(2)) <= 120 and not match.group(2).rstrip().endswith("%"):
        number = match.group(1)
        parent = (current or "").removeprefix("Article ")
        if current is None or not parent or number.split(".")[0] == parent.split(".")[0] \
                or line.startswith("\x01"):
            return f"Article {number}"
    match = _LETTERED.match(text)
    if match and (line.startswith("\x01") or match.group(2).isupper()):
        return match.group(1)
    match = _CAPITAL_NUMBERED.match(text)
    if match and match.group(2).strip().isupper():
        return f"Article {match.group(1)}"
    if line.startswith("\x01") and 2 < len(text) <= 90:
        return text  # a styled heading without a number names its own part
    return None


def _from_pages(name: str, pages: list[list[str]], page_count: int | None) -> Document:
    sections: list[Section] = []
    kind = document_kind(name, "\n".join(pages[0]) if pages else "")
    article: str | None = None
    heading = ""
    tops: dict[str, str] = {}  # « Article 4 » → its heading, for the parts numbered 4.x
    for number, page in enumerate(pages, start=1):
        buffer: list[str] = []
        for line in page:
            opened = heading_article(line, article)
            if opened is not None:
                if buffer:
                    sections.append(_section(name, kind, number, page_count, article, heading,
                                             buffer, tops))
                article, heading, buffer = opened, line.lstrip("\x01").strip(), []
                if "." not in opened:
                    tops[opened] = heading
            buffer.append(line.lstrip("\x01").strip())
        if buffer:
            sections.append(_section(name, kind, number, page_count, article, heading, buffer,
                                     tops))
    return Document(name, kind, tuple(sections), page_count)


def _section(name: str, kind: str, number: int, page_count: int | None, article: str | None,
             heading: str, lines: list[str], tops: dict[str, str] | None = None) -> Section:
    label = article or (COVER if number == 1 else PREAMBLE)
    parent = (tops or {}).get(label.split(".")[0], "") if "." in label else ""
    return Section(name, kind, number if page_count is not None else None, label, heading,
                   tuple(lines), parent=parent)


def _from_sheets(name: str, data: bytes) -> Document | None:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (ValueError, KeyError, zipfile.BadZipFile, OSError):
        return None
    sections: list[Section] = []
    try:
        for sheet in workbook.worksheets:
            lines: list[str] = []
            cells: list[str] = []
            for row in sheet.iter_rows():
                values = [(cell.coordinate, cell.value) for cell in row
                          if getattr(cell, "coordinate", None) and cell.value is not None
                          and not str(cell.value).startswith("=")]
                if values:
                    lines.append(" | ".join(_cell_text(value) for _, value in values))
                    cells.append(str(values[0][0]))
            if lines:
                sections.append(Section(name, document_kind(name, ""), None, sheet.title,
                                        sheet.title, tuple(lines), tuple(cells)))
    finally:
        workbook.close()
    return Document(name, document_kind(name, ""), tuple(sections))


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()

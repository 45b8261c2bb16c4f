"""Read PDF, Word, Excel, HTML, Markdown, text and CSV files into titled, sectioned blocks.

Every loader is offline and keeps what a citation needs: the document title,
the heading path of each block and, for PDF, the page number. A file that
cannot be read raises :class:`~knowledge.records.KnowledgeError` with a message
fit for the admin who ingested it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.records import KnowledgeError

SUPPORTED_SUFFIXES = frozenset(
    {".pdf", ".docx", ".xlsx", ".html", ".htm", ".md", ".markdown", ".txt", ".text", ".csv"}
)
_MAX_UNZIPPED_BYTES = 256 * 1024 * 1024  # a Word or Excel file's parts, unpacked
_MAX_SHEET_ROWS = 200_000  # non-empty rows of a workbook


@dataclass(frozen=True)
class Block:
    """A paragraph-like run of text with its heading path and page."""

    text: str
    section: str | None = None
    page: int | None = None


@dataclass
class LoadedDocument:
    """A document's text as blocks, with its title and optional source url."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    url: str | None = None
    # headings marked as such by the format (Markdown, HTML, Word styles), not guessed
    marked_headings: bool = True

    @property
    def text_length(self) -> int:
        """Total characters of text."""
        return sum(len(block.text) for block in self.blocks)


class _HeadingPath:
    """Tracks the current heading path (``H1 > H2 > H3``) while reading a document."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []

    def enter(self, level: int, heading: str) -> None:
        self._levels = [(lvl, text) for lvl, text in self._levels if lvl < level]
        self._levels.append((level, heading))

    @property
    def current(self) -> str | None:
        return " > ".join(text for _, text in self._levels) or None


# typographic ligatures PDF text often keeps (« ﬁchier » is « fichier » to a search)
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl",
                            "ﬅ": "st", "ﬆ": "st"})


_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]{0,300})?/?>")


def _clean(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u00ad", "").translate(LIGATURES)
    return re.sub(r"[ \t\f\v]+", " ", text).strip()


def _table_row(cells: list[str], header: list[str] | None,
               merged: list[bool] | None = None) -> str:
    """A table row as « column : value ; … » under its header row (as CSV rows are), else
    its cells « | »-joined. A cell merged over several columns (``merged[i]``: cell ``i``
    goes on with the one before it) is said once; two cells that only hold the same value
    (« 60 € | 60 € ») are both said."""
    values = [_clean(cell) for cell in cells]
    kept = [index for index, value in enumerate(values)
            if value and not (merged is not None and index < len(merged) and merged[index])]
    if header is None or values == header:
        return " | ".join(values[index] for index in kept)
    pairs: list[str] = []
    for index in kept:
        end = index + 1
        while merged is not None and end < len(merged) and merged[end]:
            end += 1
        names = [header[column] for column in range(index, min(end, len(header)))
                 if header[column]]
        name = ", ".join(dict.fromkeys(names))  # the columns a merged cell spans
        pairs.append(f"{name or f'colonne {index + 1}'} : {values[index]}")
    return " ; ".join(pairs)


_FIGURE = re.compile(r"(?<![^\W\d_])\d")  # a digit that does not go on a word (« CO2 » does)


def _header_like(cells: list[str]) -> bool:
    """A row that names columns: short cells without figures (a digit inside a word, as in
    « Émissions CO2 », is no figure)."""
    return len(cells) >= 2 and all(
        cell and len(cell) <= _HEADER_CELL_CHARS and not _FIGURE.search(cell)
        for cell in cells)


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8, else the detected charset (cp1252 fallback); refuse binary data."""
    if b"\x00" in data[:8192]:
        raise KnowledgeError("fichier binaire (octets nuls) : pas un texte lisible")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        return str(best)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise KnowledgeError("encodage du texte non reconnu (ni UTF-8 ni Windows-1252)") from error


# ---------------------------------------------------------------- plain text

_TERMINAL_PUNCTUATION = tuple(".,;:!?…)»\"'")


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    """A short line, capitalised, without final punctuation, followed by a longer paragraph."""
    if not (3 <= len(line) <= 80) or line.endswith(_TERMINAL_PUNCTUATION):
        return False
    if not line[0].isupper() or sum(ch.isdigit() for ch in line) > len(line) // 3:
        return False
    return next_line is not None and len(next_line) > max(80, 2 * len(line))


def load_text(data: bytes, stem: str) -> LoadedDocument:
    """Plain text: a short first line is the title; short lines before paragraphs are headings."""
    lines = [_clean(line) for line in decode_text(data).splitlines()]
    lines = [line for line in lines if line]
    title = stem
    if lines and len(lines[0]) <= 120 and not lines[0].endswith((".", ",", ";")) and len(lines) > 1:
        title = lines.pop(0)
    heading: str | None = None
    blocks: list[Block] = []
    for index, line in enumerate(lines):
        next_line = lines[index + 1] if index + 1 < len(lines) else None
        if _looks_like_heading(line, next_line):
            heading = line
            continue
        blocks.append(Block(line, heading))
    return LoadedDocument(title, blocks, marked_headings=False)


# ---------------------------------------------------------------- CSV


def load_csv(data: bytes, stem: str) -> LoadedDocument:
    """CSV: each row becomes ``column : value ; ...`` so a chunk keeps its meaning."""
    text = decode_text(data)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [
        row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)
    ]
    if not rows:
        return LoadedDocument(stem)
    header = [_clean(cell) or f"colonne {index + 1}" for index, cell in enumerate(rows[0])]
    blocks = []
    for row in rows[1:]:
        pairs = [
            f"{name} : {_clean(value)}"
            for name, value in zip(header, row, strict=False)
            if value.strip()
        ]
        if pairs:
            blocks.append(Block(" ; ".join(pairs)))
    if len(rows) == 1:
        blocks.append(Block(" ; ".join(header)))
    return LoadedDocument(stem, blocks)


# ---------------------------------------------------------------- Markdown


def load_markdown(data: bytes, stem: str) -> LoadedDocument:
    """Markdown via markdown-it-py: headings make the section path, the first H1 the title."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(decode_text(data))
    path = _HeadingPath()
    title: str | None = None
    blocks: list[Block] = []
    heading_level = 0
    cell: list[str] | None = None  # the table cell being read
    row: list[str] = []
    header: list[str] | None = None
    in_head = False
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            cell = []
        elif token.type in ("th_close", "td_close"):
            row.append(" ".join(cell or []))
            cell = None
        elif token.type in ("thead_open", "thead_close"):
            in_head = token.type == "thead_open"
        elif token.type == "table_open":
            header = None
        elif token.type == "heading_open":
            heading_level = int(token.tag[1:])
        elif token.type == "heading_close":
            heading_level = 0
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and any(row):
            header = [_clean(name) for name in row] if in_head else header
            blocks.append(Block(_table_row(row, None if in_head else header), path.current))
        elif token.type == "inline":
            # inline HTML in Markdown (« <b>après</b> ») is markup, not words to quote
            content = _clean(_INLINE_TAG.sub("", token.content))
            if not content:
                continue
            if heading_level:
                if title is None and heading_level == 1:
                    title = content
                path.enter(heading_level, content)
            elif cell is not None:
                cell.append(content)
            else:
                blocks.append(Block(content, path.current))
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(token.content.strip(), path.current))
    return LoadedDocument(title or stem, blocks)


# ---------------------------------------------------------------- HTML

_HTML_BLOCKS = ("p", "li", "td", "th", "pre", "blockquote", "dt", "dd", "figcaption", "caption")
_HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HTML_DROP = ("script", "style", "nav", "footer", "header", "noscript", "template", "svg", "form")


def load_html(data: bytes, stem: str) -> LoadedDocument:
    """HTML via lxml: ``<h1>``/``<title>`` give the title, ``<h1..h6>`` the sections."""
    import lxml.html  # type: ignore[import-untyped]

    try:
        root = lxml.html.document_fromstring(decode_text(data))
    except Exception as error:  # lxml raises several unrelated types on garbage
        raise KnowledgeError(f"HTML illisible : {error}") from error
    url = None
    for link in root.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        url = str(link)
        break
    page_title = _clean(root.findtext(".//title") or "")
    for element in root.xpath("|".join(f"//{tag}" for tag in _HTML_DROP)):
        element.drop_tree()
    body = root.find("body")
    if body is None:
        body = root
    wanted = {*_HTML_BLOCKS, *_HTML_HEADINGS, "tr"}
    path = _HeadingPath()
    first_h1: str | None = None
    blocks: list[Block] = []
    headers: dict[Any, list[str]] = {}  # table element → its header row
    for element in body.iter(*wanted):
        if any(ancestor.tag in wanted for ancestor in element.iterancestors()):
            continue
        if element.tag == "tr":
            row = _html_row(element, headers)
            if row:
                blocks.append(Block(row, path.current))
            continue
        text = _clean(element.text_content())
        if not text:
            continue
        if element.tag in _HTML_HEADINGS:
            if element.tag == "h1" and first_h1 is None:
                first_h1 = text
            path.enter(int(element.tag[1]), text)
        else:
            blocks.append(Block(text, path.current))
    if not blocks:
        loose = _clean(body.text_content())
        if loose:
            blocks.append(Block(loose))
    return LoadedDocument(first_h1 or page_title or stem, blocks, url)


def _html_row(row: Any, headers: dict[Any, list[str]]) -> str:
    """A ``<tr>`` as text: a row of ``<th>`` (or the first row of a ``<thead>``) is its
    table's header, the rows under it « column : value ; … »."""
    cells = [cell for cell in row if cell.tag in ("td", "th")]
    texts: list[str] = []
    merged: list[bool] = []
    for cell in cells:  # a cell spanning columns stands in each of them, said once
        text = _clean(cell.text_content())
        span = int(cell.get("colspan", "1")) if cell.get("colspan", "1").isdigit() else 1
        for column in range(max(1, min(span, 50))):
            texts.append(text)
            merged.append(column > 0)
    table = next(row.iterancestors("table"), None)
    in_head = any(ancestor.tag == "thead" for ancestor in row.iterancestors())
    if table is not None and table not in headers and (
            in_head or (cells and all(cell.tag == "th" for cell in cells))):
        headers[table] = texts
        return _table_row(texts, None, merged)
    return _table_row(texts, headers.get(table), merged) if any(texts) else ""


# ---------------------------------------------------------------- Word


def load_docx(data: bytes, stem: str) -> LoadedDocument:
    """Word .docx via python-docx: Heading/Titre styles make sections, tables become rows."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_unzipped(data, "document Word")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises zip, xml and value errors on bad files
        raise KnowledgeError(f"document Word illisible : {error}") from error
    title = _clean(document.core_properties.title or "")
    path = _HeadingPath()
    blocks: list[Block] = []
    items = list(document.iter_inner_content())
    styled = any(isinstance(item, Paragraph) and item.style is not None
                 and _heading_level(item.style.name or "") for item in items)
    texts = [_clean(item.text) if isinstance(item, Paragraph) else "" for item in items]
    for index, item in enumerate(items):
        if isinstance(item, Paragraph):
            text = texts[index]
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            following = next((later for later in texts[index + 1:] if later), None)
            level = _heading_level(style) or (
                0 if styled else _written_heading_level(text, following))
            if style.lower() in ("title", "titre"):
                title = title or text
            elif level:
                path.enter(level, text)
            else:
                blocks.append(Block(text, path.current))
        elif isinstance(item, Table):
            grid = [list(table_row.cells) for table_row in item.rows]
            table = [[_clean(cell.text) for cell in row] for row in grid]
            # python-docx gives a merged cell once per column it spans: the same XML cell
            spans = [[index > 0 and row[index]._tc is row[index - 1]._tc
                      for index in range(len(row))] for row in grid]
            header = table[0] if len(table) >= 2 and _docx_header(item, table[0]) else None
            for cells, merged in zip(table, spans, strict=True):
                if any(cells):
                    blocks.append(Block(_table_row(cells, header, merged), path.current))
    return LoadedDocument(title or stem, blocks)


# ---------------------------------------------------------------- Excel


def load_xlsx(data: bytes, stem: str) -> LoadedDocument:
    """Excel .xlsx via openpyxl (cached values, no formula run): each sheet is a section,
    each row ``column : value ; ...`` under the sheet's header row, as for CSV; hidden
    sheets are left out."""
    import openpyxl

    check_unzipped(data, "classeur Excel")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, xml, key and value errors on bad files
        raise KnowledgeError(f"classeur Excel illisible : {error}") from error
    try:
        title = _clean(workbook.properties.title or "")
        blocks: list[Block] = []
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            sheet_title, rows = _sheet_rows(sheet, len(blocks))
            title = title or sheet_title
            blocks.extend(Block(row, sheet.title) for row in rows)
    finally:
        workbook.close()
    return LoadedDocument(title or stem, blocks, marked_headings=False)


def _sheet_rows(sheet: Any, rows_before: int) -> tuple[str, list[str]]:
    """A sheet's title line (a lone text cell above its table, or "") and its rows as
    ``header : value`` pairs (columns without a header are « colonne N »)."""
    header: list[str] | None = None
    title = ""
    rows: list[str] = []
    for row in sheet.iter_rows():
        raw = [getattr(cell, "value", None) for cell in row]
        cells = [_cell_text(getattr(cell, "value", None), getattr(cell, "number_format", ""))
                 for cell in row]
        filled = [cell for cell in cells if cell]
        if not filled:
            continue
        if rows_before + len(rows) >= _MAX_SHEET_ROWS:
            raise KnowledgeError(f"classeur trop grand (plus de {_MAX_SHEET_ROWS} lignes)")
        if header is None:
            texts = all(isinstance(value, str) for value in raw if value is not None)
            if len(filled) == 1 and texts and not rows:
                title = title or filled[0]
                continue
            if len(filled) >= 2 and texts:
                header = [cell or f"colonne {index + 1}" for index, cell in enumerate(cells)]
                continue
        names = header or [f"colonne {index + 1}" for index in range(len(cells))]
        pairs = [f"{names[index] if index < len(names) else f'colonne {index + 1}'} : {cell}"
                 for index, cell in enumerate(cells) if cell]
        rows.append(" ; ".join(pairs) if len(filled) > 1 or header else filled[0])
    if header is not None and not rows:
        rows.append(" ; ".join(cell for cell in header if cell))
    return title, rows


def _cell_text(value: object, number_format: str = "") -> str:
    """A cell as a reader sees it: dates day first, whole numbers without « .0 », a
    percentage as one (0.15 shown « 15 % »), an amount in euros with its sign."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = number_format.replace('"', "")
        if "%" in shown:
            return f"{_cell_text(round(float(value) * 100, 6))} %"
        if "€" in shown:
            return f"{_cell_text(float(value), shown.replace('€', ''))} €"
        if "#,##" in shown and abs(value) >= 1000:  # grouped as shown: « 51 000 000 »
            whole, _, decimals = _cell_text(float(value)).partition(".")
            grouped = f"{int(whole):,}".replace(",", " ")
            return f"{grouped},{decimals}" if decimals else grouped
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y" if value.time() == dt.time() else "%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    return _clean(str(value))


def check_unzipped(data: bytes, kind: str) -> None:
    """Refuse an Office file whose parts unpack to more than a reader could need."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise KnowledgeError(f"{kind} illisible (archive endommagée)") from error
    if unpacked > _MAX_UNZIPPED_BYTES:
        raise KnowledgeError(f"{kind} trop volumineux une fois décompressé "
                             f"({unpacked // 1_048_576} Mo)")


def _written_heading_level(line: str, following: str | None) -> int:
    """1 for a named heading (« ARTICLE 6 – … », « Chapitre II »), 2 and deeper for a
    numbered one by its dots (« 6.1 – Date limite »); 0 for text. A heading is followed by a
    sentence, a list or a deeper heading: a numbered line followed by its sibling (« 1. … »
    then « 2. … ») is a list item, one going on in lower case a wrapped item, one followed by
    figures (« 50 % ») a table's row."""
    if len(line) > _PDF_HEADING_CHARS or line.endswith((".", ",", ";", ":")):
        return 0
    if _PDF_NAMED_HEADING.match(line):
        return 1
    numbered = _PDF_NUMBERED_HEADING.match(line)
    if numbered is None:
        return 0
    depth = numbered.group(1).count(".")
    after = _PDF_NUMBERED_HEADING.match(following) if following else None
    # « 3. Étapes du traitement » then « 1. Ouvrir le dossier »: a heading, then its list
    restarts = after is not None and after.group(1).count(".") == depth and (
        after.group(1).rsplit(".", 1)[-1] == "1")
    if after is not None and after.group(1).count(".") <= depth and not restarts:
        return 0
    if following is not None and (
            following[:1].isupper() or following[:1] in "«\"" or _PDF_BULLET.match(following)
            or _PDF_NAMED_HEADING.match(following) or after):
        return 2 + depth
    return 0


def _docx_header(table: Any, first: list[str]) -> bool:
    """Whether a Word table's first row names its columns: marked to repeat as a header
    row, or all in bold above rows that are not; not when only the first column is in bold
    (a table of « label | value » rows: « Référence | 2027-PSC-01 »); else as it reads
    (:func:`_header_like`)."""
    from docx.oxml.ns import qn

    rows = list(table.rows)
    properties = rows[0]._tr.trPr  # the row's XML: python-docx has no property for it
    if properties is not None and properties.find(qn("w:tblHeader")) is not None:
        return True
    bold = [[_bold(cell) for cell in row.cells] for row in rows]
    if all(bold[0]) and not all(all(row) for row in bold[1:]):
        return True
    if len(bold[0]) >= 2 and all(row[0] for row in bold) and not any(bold[0][1:]):
        return False
    return _header_like(first)


def _bold(cell: Any) -> bool:
    """Every run of text in a Word table cell is set in bold (directly or by its style)."""
    runs = [run for paragraph in cell.paragraphs for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(
        run.bold or (run.bold is None and run.style is not None and run.style.font.bold)
        for run in runs)


def _heading_level(style: str) -> int:
    match = re.fullmatch(r"(?:heading|titre)\s*(\d)", style.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else 0


# ---------------------------------------------------------------- PDF


def load_pdf(data: bytes, stem: str) -> LoadedDocument:
    """PDF via pypdf: paragraphs with their 1-based page, under the numbered headings the
    text shows (« ARTICLE 6 – … », « 6.1 – Date limite »); running headers and footers
    (« Page 3 / 5 ») left out; a list's items kept on lines of their own."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise KnowledgeError("PDF chiffré : impossible de l'indexer")
        title = (
            _clean(str(reader.metadata.title)) if reader.metadata and reader.metadata.title else ""
        )
        pages = [_page_text(page) for page in reader.pages]
    except KnowledgeError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise KnowledgeError(f"PDF illisible ou corrompu : {error}") from error
    blocks = _pdf_blocks(pages, title)
    if blocks and not title:
        first = blocks[0].text.split("\n", 1)[0]
        title = first if len(first) <= 120 else stem
    return LoadedDocument(title or stem, blocks)


# « ARTICLE 6 – Conditions », « Chapitre II », « Annexe 1 » (level 1), « 6.1 – Date limite »,
# « 2. Objet » (deeper by their dots): short, opening a capitalised title, no final stop
_PDF_NAMED_HEADING = re.compile(
    r"^(?:ARTICLE|Article|CHAPITRE|Chapitre|TITRE|Titre|SECTION|Section|ANNEXE|Annexe|"
    r"PARTIE|Partie)\s+(?:\d{1,3}|[IVXLC]{1,6}|premier|PREMIER|unique|UNIQUE)\b")
_PDF_NUMBERED_HEADING = re.compile(
    r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?(?:\s*[–—-]|\s*\))?\s+[A-ZÀ-ÖØ-Þ«\"]")
_PDF_BULLET = re.compile(r"^(?:[-–—•*·▪◦‣●○■□➢►✓✔]\s|[a-z]\)\s|\d{1,2}[.)]\s)")
_PDF_HEADING_CHARS = 100
_PDF_EDGE_LINES = 3  # lines at the top and bottom of a page a running header may take


def _page_text(page: Any) -> str:
    """A page's text laid out as printed (columns of a table apart), else in reading order."""
    from pypdf.errors import PdfReadError

    try:
        laid_out = str(page.extract_text(extraction_mode="layout") or "")
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            ZeroDivisionError):  # layout mode fails on some fonts: the plain text is enough
        laid_out = ""
    if laid_out.strip() and not _in_columns(laid_out):
        return laid_out
    return str(page.extract_text() or "")


def _in_columns(text: str) -> bool:
    """Whether a laid-out page is set in columns of prose (a newsletter, a two-column
    contract), which the plain text reads one column after the other: most of its lines hold
    two long runs of words side by side, where a table's cells are mostly short."""
    filled = [line for line in text.splitlines() if line.strip()]
    split = [runs for runs in (_CELL.findall(line) for line in filled) if len(runs) >= 2]
    long_pairs = sum(1 for runs in split if sum(len(run) >= 30 for run in runs) >= 2)
    return bool(filled) and 2 * long_pairs >= len(filled)


_CELL = re.compile(r"\S+(?: {1,3}\S+)*")  # words; four spaces or more part two cells
_HEADER_CELL_CHARS = 40  # a column's name is short (« Pondération », « Code(s) CPV »)


@dataclass
class _Cell:
    """A table cell of a laid-out page: where it starts on the line, and its text."""

    column: int
    text: str


def _page_lines(raw_lines: list[str]) -> tuple[list[str], set[int]]:
    """A page's lines (blank ones kept, as "") and which of them are table rows: a line of
    cells four spaces or more apart, under the table's header row when it has one
    (« Critère : 2. Prix ; Pondération : 40 % »), a line continuing a cell added to it."""
    lines: list[str] = []
    rows: set[int] = set()
    header: list[_Cell] | None = None
    last: list[_Cell] | None = None  # the table's last row
    left = 0  # where the table's first column starts
    for raw in raw_lines:
        cells = [_Cell(match.start(), match.group()) for match in _CELL.finditer(raw)]
        if last is not None and _continues(cells, last, left):
            for cell in cells:  # cells' text going on under them (« invalidité, ⏎ décès) »)
                nearest = min(last, key=lambda above: abs(above.column - cell.column))
                nearest.text += " " + cell.text
            lines[-1] = _row_text(last, header)
            continue
        if len(cells) >= 2:
            if last is None:
                left = cells[0].column
                if header is None and all(
                        len(cell.text) <= _HEADER_CELL_CHARS
                        and not any(char.isdigit() for char in cell.text) for cell in cells):
                    header = [_Cell(cell.column, _clean(cell.text)) for cell in cells]
            left = min(left, cells[0].column)
            last = cells
            rows.add(len(lines))
            lines.append(_row_text(cells, header))
            continue
        if cells:  # a line of text: the table, if any, is over
            last = header = None
        lines.append(_clean(raw))
    return lines, rows


def _indented(raw_lines: list[str], lines: list[str]) -> set[int]:
    """Which of a page's text lines stand in from its leftmost text by three columns or
    more (a list's items whose bullets were drawn, not written)."""
    starts = {_clean(raw): len(raw) - len(raw.lstrip()) for raw in raw_lines if raw.strip()}
    left = min(starts.values(), default=0)
    return {index for index, line in enumerate(lines)
            if line and starts.get(line, left) - left >= 3}


def _continues(cells: list[_Cell], last: list[_Cell], left: int) -> bool:
    """Whether a laid-out line goes on with the table's last row: its first column is empty
    and it is one cell, or each of its cells goes on with the cell above it (it opens in
    lower case, or that cell has a parenthesis open). A line opening a new row under a
    merged first cell (« 1.1 Garanties », « 40 % ») is a row of its own."""
    if not cells or cells[0].column <= left + 2:
        return False
    if len(cells) == 1:
        return True
    aboves = [min(last, key=lambda candidate: abs(candidate.column - cell.column))
              for cell in cells]
    return len({id(above) for above in aboves}) == len(cells) and all(
        cell.text[:1].islower() or above.text.count("(") > above.text.count(")")
        for cell, above in zip(cells, aboves, strict=True))


def _row_text(cells: list[_Cell], header: list[_Cell] | None) -> str:
    """A table row as « column : value ; … » under its header, else its cells « | »-joined
    (the header row itself too)."""
    values = [_clean(cell.text) for cell in cells]
    if header is None or values == [head.text for head in header]:
        return " | ".join(values)
    return " ; ".join(
        f"{min(header, key=lambda head: abs(head.column - cell.column)).text} : {value}"
        for cell, value in zip(cells, values, strict=True))


def _pdf_blocks(pages: list[str], title: str = "") -> list[Block]:
    """Paragraphs of the pages' text, each with the heading path it stands under."""
    raw_pages = [text.splitlines() for text in pages]
    running = _running_lines([[_clean(line) for line in raw] for raw in raw_pages])
    kept = [_without_running(raw, number, running, title)
            for number, raw in enumerate(raw_pages, start=1)]
    laid_out = [_page_lines(raw) for raw in kept]
    indented = [_indented(raw, lines) for raw, (lines, _) in zip(kept, laid_out, strict=True)]
    path = _HeadingPath()
    blocks: list[Block] = []
    paragraph: list[str] = []
    numbers: dict[int, str] = {}  # level → number of the numbered headings open
    start = 1

    def flush() -> None:
        text = "\n".join(paragraph).strip()
        if text:
            blocks.append(Block(text, path.current, start))
        paragraph.clear()

    row_before = False
    for number, (lines, rows) in enumerate(laid_out, start=1):
        if paragraph and paragraph[-1].endswith((".", "!", "?", "…", "»")):
            flush()  # a sentence going on over the page break stays whole
        filled = [index for index, line in enumerate(lines) if line]
        for index, line in enumerate(lines):
            if not line:
                if filled and filled[0] < index < filled[-1]:
                    flush()  # a blank line inside the page, not its margin
                continue
            following = next((later for later in lines[index + 1:] if later), None) or next(
                (later for page_lines, _ in laid_out[number:] for later in page_lines if later),
                None)  # a heading at the foot of a page heads the next one's text
            level = 0 if index in rows else _pdf_heading_level(line, following)
            if level:
                flush()
                numbered = _PDF_NUMBERED_HEADING.match(line)
                if numbered:
                    level = _numbered_level(numbered.group(1), numbers)
                numbers = {deeper: n for deeper, n in numbers.items() if deeper < level}
                if numbered:
                    numbers[level] = numbered.group(1)
                path.enter(level, line)
                continue
            if not paragraph:
                start = number
            row = index in rows
            if (not paragraph or row or row_before or _PDF_BULLET.match(line)
                    or (paragraph[-1].endswith(":") and not line[:1].islower())
                    or (paragraph[-1].endswith((";", ":")) and index in indented[number - 1])):
                # a lead-in's list below it (its items standing in when their bullets were
                # drawn); a value wrapped after « Courriel : » goes on
                paragraph.append(line)
            elif paragraph[-1].endswith("-") and line[:1].islower():
                paragraph[-1] = paragraph[-1][:-1] + line  # a word cut at the line's end
            else:
                paragraph[-1] += " " + line
            row_before = row
    flush()
    return blocks


def _pdf_heading_level(line: str, following: str | None) -> int:
    """A heading numbered by hand (:func:`_written_heading_level`), or 1 for a short line in
    capitals; 0 for text (a list item, a sentence)."""
    level = _written_heading_level(line, following)
    letters = [char for char in line if char.isalpha()]
    if (not level and len(line) <= _PDF_HEADING_CHARS and len(letters) >= 6 and " " in line
            and all(char.isupper() for char in letters) and not line.endswith((":", ".", ","))):
        return 1
    return level


def _numbered_level(number: str, open_numbers: dict[int, str]) -> int:
    """« 6.1 » under « 6 », a level deeper; « 7.3 » after a « 3. » that is not its
    parent (a numbered table row) takes that row's level instead of going under it."""
    level = 1 + len(number.split("."))
    while level > 2 and open_numbers.get(level - 1) not in (None, number.rsplit(".", 1)[0]):
        level -= 1
    return level


def _without_running(raw: list[str], page: int, running: frozenset[str],
                     title: str = "") -> list[str]:
    """A page's lines less its running header and footer lines, and the margins a browser
    prints (the date and the page's title, its address and « 1/3 »)."""
    filled = [index for index, line in enumerate(raw) if line.strip()]
    count = min(_PDF_EDGE_LINES, len(filled) // 3)
    edges = {*filled[:count], *filled[len(filled) - count:]} if count else set()
    edges |= {index for index in (filled[:1] + filled[-1:])
              if _browser_margin(_clean(raw[index]), page, title)}
    return [line for index, line in enumerate(raw)
            if index not in edges or not (_clean(line) in running
                                          or _page_masked(_clean(line), page) in running
                                          or _browser_margin(_clean(line), page, title))]


# a browser's printed address and page number (« file:///…/rc.html 2/3 »), a page's margin
PRINTED_ADDRESS = re.compile(r"^(?:file|https?)://\S+\s+(\d{1,4})\s*/\s*\d{1,4}$")
_PRINTED_DATE = re.compile(
    r"^\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}(?:\s?[AaPp]\.?[Mm]\.?)?(?:\s+(.*))?$")


def _browser_margin(line: str, page: int, title: str) -> bool:
    """A margin a browser prints on a page: « file:///…/rc.html 2/3 » (this page's number),
    « 12/6/26, 6:28 AM » alone or before the page's title."""
    address = PRINTED_ADDRESS.match(line)
    if address is not None:
        return int(address.group(1)) == page
    date = _PRINTED_DATE.match(line)
    return date is not None and (not date.group(1) or date.group(1).strip() == title)


def _running_lines(pages: list[list[str]]) -> frozenset[str]:
    """Lines at the top or bottom of most pages (« CCAP – Consultation n° 2027-PSC-01 »,
    « Page 3 / 5 »), the page's number masked: running headers and footers, not the text."""
    if len(pages) < 3:
        return frozenset()
    seen: dict[str, int] = {}
    for number, lines in enumerate(pages, start=1):
        edges = _edges([line for line in lines if line])
        # as written (« Guide – version 2 »), or with the page's number masked (« Page 3 »)
        for key in {*edges, *(_page_masked(line, number) for line in edges)}:
            seen[key] = seen.get(key, 0) + 1
    needed = max(3, -(-3 * len(pages) // 5))  # three in five pages, at least three
    return frozenset(key for key, count in seen.items() if count >= needed)


def _edges(filled: list[str]) -> list[str]:
    """A page's first and last lines, where running headers and footers stand: up to three
    each, a third of a short page at most."""
    count = min(_PDF_EDGE_LINES, len(filled) // 3)
    return [*filled[:count], *filled[len(filled) - count:]] if count else []


def _page_masked(line: str, page: int) -> str:
    """The line with its page's number masked (« Page 3 / 5 » → « Page # / 5 »)."""
    return re.sub(rf"(?<!\d){page}(?!\d)", "#", line, count=1)


# ---------------------------------------------------------------- dispatch

_LOADERS: dict[str, Callable[[bytes, str], LoadedDocument]] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".xlsx": load_xlsx,
    ".html": load_html,
    ".htm": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".text": load_text,
    ".csv": load_csv,
}


def load_bytes(data: bytes, suffix: str, stem: str) -> LoadedDocument:
    """Parse already-read file content; refuses empty or text-less documents."""
    loader = _LOADERS.get(suffix.lower())
    if loader is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise KnowledgeError(
            f"extension « {suffix or '(aucune)'} » non prise en charge (formats : {supported})"
        )
    if not data.strip():
        raise KnowledgeError("fichier vide")
    document = loader(data, stem)
    if document.text_length == 0:
        raise KnowledgeError(
            "aucun texte extractible (document scanné ? l'OCR n'est pas pris en charge)"
        )
    return document


def load_document(path: Path, max_bytes: int) -> LoadedDocument:
    """Read and parse one file, refusing files larger than ``max_bytes``."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise KnowledgeError(
                f"fichier trop volumineux ({size / 1_048_576:.1f} Mo > "
                f"{max_bytes / 1_048_576:.0f} Mo autorisés)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise KnowledgeError(f"lecture impossible : {error.strerror or error}") from error
    return load_bytes(data, path.suffix, path.stem)

"""Read PDF, Word, HTML, Markdown, text and CSV files into titled, sectioned blocks.

Every loader is offline and keeps what a citation needs: the document title,
the heading path of each block and, for PDF, the page number. A file that
cannot be read raises :class:`~knowledge.records.KnowledgeError` with a message
fit for the admin who ingested it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.records import KnowledgeError

SUPPORTED_SUFFIXES = frozenset(
    {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".text", ".csv"}
)


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


def _clean(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u00ad", "")
    return re.sub(r"[ \t\f\v]+", " ", text).strip()


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
    in_cell = False
    row: list[str] = []
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            in_cell = True
        elif token.type in ("th_close", "td_close"):
            in_cell = False
        elif token.type == "heading_open":
            heading_level = int(token.tag[1:])
        elif token.type == "heading_close":
            heading_level = 0
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row:
            blocks.append(Block(" | ".join(row), path.current))
        elif token.type == "inline":
            content = _clean(token.content)
            if not content:
                continue
            if heading_level:
                if title is None and heading_level == 1:
                    title = content
                path.enter(heading_level, content)
            elif in_cell:
                row.append(content)
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
    wanted = set(_HTML_BLOCKS) | set(_HTML_HEADINGS)
    path = _HeadingPath()
    first_h1: str | None = None
    blocks: list[Block] = []
    for element in body.iter(*wanted):
        if any(ancestor.tag in wanted for ancestor in element.iterancestors()):
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


# ---------------------------------------------------------------- Word


def load_docx(data: bytes, stem: str) -> LoadedDocument:
    """Word .docx via python-docx: Heading/Titre styles make sections, tables become rows."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises zip, xml and value errors on bad files
        raise KnowledgeError(f"document Word illisible : {error}") from error
    title = _clean(document.core_properties.title or "")
    path = _HeadingPath()
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = _clean(item.text)
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            level = _heading_level(style)
            if style.lower() in ("title", "titre"):
                title = title or text
            elif level:
                path.enter(level, text)
            else:
                blocks.append(Block(text, path.current))
        elif isinstance(item, Table):
            for table_row in item.rows:
                cells = [_clean(cell.text) for cell in table_row.cells]
                unique = list(dict.fromkeys(cell for cell in cells if cell))
                if unique:
                    blocks.append(Block(" | ".join(unique), path.current))
    return LoadedDocument(title or stem, blocks)


def _heading_level(style: str) -> int:
    match = re.fullmatch(r"(?:heading|titre)\s*(\d)", style.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else 0


# ---------------------------------------------------------------- PDF


def load_pdf(data: bytes, stem: str) -> LoadedDocument:
    """PDF via pypdf: one block per non-empty line group, with its 1-based page number."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise KnowledgeError("PDF chiffré : impossible de l'indexer")
        title = (
            _clean(str(reader.metadata.title)) if reader.metadata and reader.metadata.title else ""
        )
        blocks = [
            Block(paragraph, None, number)
            for number, page in enumerate(reader.pages, start=1)
            for paragraph in _paragraphs(page.extract_text() or "")
        ]
    except KnowledgeError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise KnowledgeError(f"PDF illisible ou corrompu : {error}") from error
    if blocks and not title:
        first = blocks[0].text
        title = first if len(first) <= 120 else stem
    return LoadedDocument(title or stem, blocks)


def _paragraphs(text: str) -> Iterator[str]:
    for paragraph in re.split(r"\n\s*\n", text):
        joined = _clean(re.sub(r"-\n(?=\w)", "", paragraph).replace("\n", " "))
        if joined:
            yield joined


# ---------------------------------------------------------------- dispatch

_LOADERS: dict[str, Callable[[bytes, str], LoadedDocument]] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
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

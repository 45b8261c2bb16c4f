"""Split loaded documents into overlapping, heading-aware chunks with stable ids.

Chunks are packed from whole paragraphs, then whole sentences (French-aware
sentence ends, common abbreviations kept), then words, so a procedure step is
never cut mid-sentence unless a sentence alone exceeds the chunk size. A chunk
prefers to end where a section ends; the heading path travels with each chunk
(``Chunk.section``) and is prepended to the text that is embedded and indexed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from knowledge.loaders import Block, LoadedDocument

CHUNKER_VERSION = "2"
# formats whose headings are marked (Markdown, HTML, Word) or numbered (PDF: « ARTICLE 6 – … »,
# « 6.1 – Date limite »): cut since version 3 (PDF: 4) with a section's heading line where it
# opens; the others' chunks are those of version 2
_HEADING_FORMATS = frozenset({".md", ".markdown", ".html", ".htm", ".docx", ".pdf"})
_REREAD_FORMATS = frozenset({".docx", ".pdf", ".xlsx"})  # whose loader changed since


def keeps_heading_lines(name: str) -> bool:
    """Whether the chunks of this file (by its name's extension) hold its headings as lines
    of their own (Markdown, HTML, Word, PDF), which a reader of the passage may show as such."""
    return Path(name).suffix.lower() in _HEADING_FORMATS


def chunker_version(suffix: str) -> str:
    """The chunker (and loader) version a file of this type is cut with. It is part of the
    file's content hash, so an upgrade re-embeds only the files whose chunks changed, not a
    corpus of text files: version 4 (December 2026) reads tables' rows under their header
    (« Lieu : domicile ») in Markdown, HTML and Word files, and PDFs' numbered headings,
    lists and tables; version 5 (Word, PDF, Excel) finds Word tables' header rows by their
    bold, PDF table cells wrapped over several lines, and groups Excel figures as their
    format shows them (« 51 000 000 »)."""
    lowered = suffix.lower()
    if lowered in _REREAD_FORMATS:
        return "5"
    return "4" if lowered in _HEADING_FORMATS else CHUNKER_VERSION

# Sentence end: . ! ? … ; followed by space and a capital, digit, quote or bullet.
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+(?=[«\"(\[A-ZÀ-ÖØ-Þ0-9•\-–])")
# A piece ending with one of these is not a sentence end (« M. Dupont », « art. 3 »).
_ABBREVIATION = re.compile(
    r"(?:\b(?:M|Mme|Mlle|Dr|Me|p|n|no|cf|art|al|etc|ex|av|bd|St|min|max|env"
    r"|Mr|Mrs|Ms|Prof|Jr|Sr|vs|approx|e\.g|i\.e)\.|\b[A-Z]\.)$"
)


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: its text, main heading path, first page and position."""

    ordinal: int
    text: str
    section: str | None
    page: int | None
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Unit:
    text: str
    section: str | None
    page: int | None


def split_sentences(text: str) -> list[str]:
    """Split French prose into sentences (keeps abbreviations such as « M. » or « art. »)."""
    sentences: list[str] = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        if not part:
            continue
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {part}"
        else:
            sentences.append(part)
    return sentences


def _split_words(text: str, limit: int) -> Iterator[str]:
    words = text.split()
    current: list[str] = []
    length = 0
    for word in words:
        if current and length + len(word) + 1 > limit:
            yield " ".join(current)
            current, length = [], 0
        current.append(word)
        length += len(word) + 1
    if current:
        yield " ".join(current)


def _new_headings(previous: str | None, section: str | None) -> list[str]:
    """The headings a block's section path opens after the previous block's (« A > B » then
    « A > C »: « C »)."""
    if section is None or section == previous:
        return []
    before = previous.split(" > ") if previous else []
    after = section.split(" > ")
    shared = 0
    while shared < min(len(before), len(after)) and before[shared] == after[shared]:
        shared += 1
    return after[shared:]


def _units(blocks: list[Block], limit: int, with_headings: bool) -> Iterator[_Unit]:
    """Blocks as units of at most ``limit`` characters. With ``with_headings``, a block that
    opens a section carries its heading as a line of its own, so that a chunk holding
    several sections (the questions of a FAQ page) still says, in its text, what each part
    is about. (Not for headings guessed in plain text: on the dev pages, cut as text files,
    English questions lost 2 of 45 right pages and French ones 1 of 137.)"""
    previous: str | None = None
    for block in blocks:
        headings = [heading for heading in _new_headings(previous, block.section)
                    if with_headings and len(heading) < limit // 2]
        previous = block.section
        text = "\n".join((*headings, block.text))
        if len(text) <= limit:
            yield _Unit(text, block.section, block.page)
            continue
        first = True
        for sentence in split_sentences(block.text):
            pieces = [sentence] if len(sentence) <= limit else list(_split_words(sentence, limit))
            for piece in pieces:
                if first and len("\n".join((*headings, piece))) <= limit:
                    piece = "\n".join((*headings, piece))
                first = False
                yield _Unit(piece, block.section, block.page)


def _main_section(units: list[_Unit]) -> str | None:
    """The heading path holding most of a chunk's text (what a citation should name)."""
    weights: dict[str | None, int] = {}
    for unit in units:
        weights[unit.section] = weights.get(unit.section, 0) + len(unit.text)
    return max(weights, key=lambda section: weights[section])


def chunk_document(
    document: LoadedDocument, chunk_size: int = 1000, overlap: int = 150
) -> list[Chunk]:
    """Pack a document's blocks into chunks of about ``chunk_size`` characters."""
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    min_size = chunk_size * 3 // 10

    def length(units: list[_Unit]) -> int:
        return sum(len(unit.text) + 1 for unit in units)

    def flush() -> None:
        if not current:
            return
        sections = tuple(dict.fromkeys(unit.section for unit in current if unit.section))
        chunks.append(
            Chunk(
                ordinal=len(chunks),
                text="\n".join(unit.text for unit in current),
                section=_main_section(current),
                page=current[0].page,
                sections=sections,
            )
        )

    for unit in _units(document.blocks, chunk_size, document.marked_headings):
        section_changed = bool(current) and unit.section != current[-1].section
        if section_changed and length(current) >= min_size:
            flush()
            current = []
        elif current and length(current) + len(unit.text) + 1 > chunk_size:
            flush()
            tail: list[_Unit] = []
            for previous in reversed(current):
                if (
                    previous.section != unit.section
                    or length(tail) + len(previous.text) + 1 > overlap
                ):
                    break
                tail.insert(0, previous)
            current = tail if length(tail) + len(unit.text) + 1 <= chunk_size else []
        current.append(unit)
    flush()
    return chunks


def indexed_text(title: str, sections: tuple[str, ...], text: str) -> str:
    """The text that is embedded and lexically indexed: title, headings, then the passage."""
    header = " — ".join([title, *sections]) if title else " — ".join(sections)
    return f"{header}\n{text}" if header else text


def chunk_id(source: str, content_hash: str, ordinal: int) -> str:
    """Stable id: the same file content at the same source always gives the same ids."""
    source_key = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    return f"{source_key}-{content_hash[:12]}-{ordinal:05d}"


# a list item: marked (« – », « 1. », « a) »), or unmarked in lower case as the loaders leave
# a Markdown or Word list's items
_ITEM = re.compile(r"^\s*(?:(?:[-*•–—·▪]|\d{1,2}[.)]|[a-z][.)])\s+\S|[a-zàâçéèêëîïôûùüÿœ])")
_MAX_CONTINUED_ITEMS = 12


def list_cut_at_end(text: str) -> bool:
    """Whether a chunk ends inside a list: an item ending in « ; » or « , », or a lead-in
    ending in « : »."""
    last = next((line.rstrip() for line in reversed(text.splitlines()) if line.strip()), "")
    return (_ITEM.match(last) is not None and last.endswith((";", ","))) or last.endswith(":")


def continued_list(text: str, following: str) -> str:
    """A passage whose list a chunk's end cut (its last line an item ending in « ; » or
    « , », or a lead-in ending in « : »), with the items the next chunk of the same part
    opens on: « 5.1 – Pièces de la candidature » of a tender's rules was quoted with 5 of
    its 10 items. Lines the two chunks share (their overlap) are not repeated."""
    if not list_cut_at_end(text):
        return text
    known = {line.strip() for line in text.splitlines() if line.strip()}
    added: list[str] = []
    for line in following.splitlines():
        if not line.strip() or line.strip() in known:
            continue
        if _ITEM.match(line) is None or len(added) == _MAX_CONTINUED_ITEMS:
            break
        added.append(line)
    return "\n".join([text.rstrip(), *added]) if added else text


def next_chunk_id(chunk_id: str) -> str | None:
    """The id of the chunk that follows in the same file (ids end in the chunk's ordinal)."""
    head, _, ordinal = chunk_id.rpartition("-")
    return f"{head}-{int(ordinal) + 1:05d}" if ordinal.isdigit() and head else None

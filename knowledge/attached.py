"""Files attached to a message, searched in memory: « Quelle est la date limite ? » with the
tender's PDF attached is answered from that PDF, cited by page and heading.

Nothing is written: an attachment is read with the same loaders and chunker as an ingested
file, its chunks are embedded with the same model, and a question is scored on the same
scale (dense relevance and a BM25 index of the file's own chunks, fused with the same
weights) so that :class:`~knowledge.relevance.RelevanceJudge` decides as it does for the
collections. A long file is not embedded whole for one question: its chunks are first
ranked by BM25 and only the best ``max_embedded`` (plus those already embedded) are
embedded; a prepared file is remembered in memory, by content hash, for the next question.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath

import numpy as np

from knowledge.chunking import (
    Chunk,
    chunk_document,
    chunker_version,
    continued_list,
    indexed_text,
)
from knowledge.embeddings import Vectors
from knowledge.index import StoredChunk
from knowledge.language import Language, detect_language
from knowledge.lexical import LexicalIndex, LexicalMatch
from knowledge.loaders import SUPPORTED_SUFFIXES, LoadedDocument, load_bytes
from knowledge.records import (
    ATTACHED_COLLECTION,
    CollectionInfo,
    DataClass,
    KnowledgeError,
    Passage,
)
from knowledge.search import (
    Candidate,
    RankingWeights,
    dense_relevance,
    fused_score,
    rank,
    to_passage,
)

Analyser = Callable[[str], list[str]]  # text → lexical terms (``FrenchAnalyzer``)
_LANGUAGE_SAMPLE = 3_000  # characters a file's language is told from
_OUTLINE_ENTRIES = 15  # parts of a document its outline shows
_OPENING_CHARS = 220  # of a part's opening shown
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-Ý«\"(])")


@dataclass(frozen=True)
class AttachedFile:
    """A file sent with a message: its shown name, its bytes and its data class."""

    name: str
    data: bytes
    data_class: str = DataClass.INTERNAL.value


@dataclass(frozen=True)
class OutlineEntry:
    """A part of an attached document: its heading path, first page and opening text."""

    section: str | None
    heading: str
    page: int | None
    opening: str


@dataclass(frozen=True)
class FileOutline:
    """What an attached document holds, part by part (« Résume ce document »)."""

    name: str
    title: str
    data_class: str
    pages: int | None
    entries: tuple[OutlineEntry, ...]
    more: int  # parts left out past the first ``max_entries``

    def passages(self, key: str) -> list[Passage]:
        """Each part's opening as a citable passage."""
        collection = _collection(self.data_class)
        return [Passage(f"{key[:16]}-part{number:03d}", self.name, "", self.title,
                        entry.section, entry.page, None, entry.opening, 1.0, collection.name,
                        collection.data_class.value)
                for number, entry in enumerate(self.entries)]


@dataclass
class PreparedFile:
    """An attachment read, cut and indexed; its chunks' vectors filled in as they are needed."""

    name: str
    title: str
    data_class: str
    chunks: list[Chunk]
    texts: list[str]  # what is embedded and indexed (title and headings, then the passage)
    ids: list[str]
    lexical: LexicalIndex
    language: Language = "fr"  # told from its first chunks: an English file is not translated
    outline: FileOutline | None = None
    vectors: dict[str, Vectors] = field(default_factory=dict)

    @property
    def chars(self) -> int:
        """Characters of its chunks (what it costs to keep it)."""
        return sum(len(text) for text in self.texts)


def readable(name: str) -> bool:
    """Whether an attachment of this name can be read as a document (PDF, Word, Excel,
    HTML, Markdown, text, CSV)."""
    return PurePosixPath(name).suffix.lower() in SUPPORTED_SUFFIXES


def prepare(attached: AttachedFile, analyse: Analyser, *, chunk_size: int,
            overlap: int) -> PreparedFile:
    """Blocking: load, chunk and lexically index one attachment (KnowledgeError if it
    cannot be read)."""
    path = PurePosixPath(attached.name)
    document = load_bytes(attached.data, path.suffix.lower(), path.stem)
    chunks = chunk_document(document, chunk_size, overlap)
    if not chunks:
        raise KnowledgeError("aucun texte lisible")
    digest = file_key(attached)
    ids = [f"{digest[:16]}-{chunk.ordinal:05d}" for chunk in chunks]
    texts = [indexed_text(document.title, chunk.sections, chunk.text) for chunk in chunks]
    lexical = LexicalIndex()
    lexical.add(ids, [analyse(text) for text in texts])
    language = detect_language(" ".join(chunk.text for chunk in chunks)[:_LANGUAGE_SAMPLE])
    return PreparedFile(attached.name, document.title, attached.data_class, chunks, texts, ids,
                        lexical, language, outline_of(attached, document))


def outline_of(attached: AttachedFile, document: LoadedDocument,
               max_entries: int = _OUTLINE_ENTRIES) -> FileOutline:
    """The document's parts: its headings one level under what they all share (a Markdown
    file's title, a PDF's running « ARTICLE » tree: each article), each with its first page
    and the start of its first paragraph."""
    paths = [tuple(block.section.split(" > ")) if block.section else () for block in
             document.blocks]
    shared = _shared_prefix([path for path in paths if path])
    entries: list[OutlineEntry] = []
    seen: set[str] = set()
    blocks = document.blocks
    for index, (block, path) in enumerate(zip(blocks, paths, strict=True)):
        heading = path[len(shared)] if len(path) > len(shared) else None
        if heading is None or heading in seen:
            continue
        seen.add(heading)
        # a table's header row (« Équipement | Plafond ») opens nothing: its first row does
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        opening = (following if following is not None and following.section == block.section
                   and _header_row(block.text, following.text) else block)
        entries.append(OutlineEntry(block.section, heading, block.page, _opening(opening.text)))
    if not entries and document.blocks:  # no headings: the document's opening
        first = document.blocks[0]
        entries.append(OutlineEntry(first.section, document.title, first.page,
                                    _opening(first.text)))
    pages = max((block.page for block in document.blocks if block.page), default=None)
    return FileOutline(attached.name, document.title, attached.data_class, pages,
                       tuple(entries[:max_entries]), max(0, len(entries) - max_entries))


def _shared_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The heading path every part lies under (one heading over all: the title)."""
    if len({path[:1] for path in paths}) != 1:
        return ()
    shared = paths[0]
    for path in paths[1:]:
        length = 0
        while length < min(len(shared), len(path)) and shared[length] == path[length]:
            length += 1
        shared = shared[:length]
    # one section only: it is the part
    return shared[:-1] if all(len(path) == len(shared) for path in paths) else shared


def _header_row(text: str, following: str) -> bool:
    """A table's header row as the loaders write it, over its first row « Équipement :
    Lentilles ; Plafond : 150 € »."""
    first = text.split(" | ", 1)[0].strip()
    return " | " in text and bool(first) and following.startswith(f"{first} : ")


def _opening(text: str) -> str:
    """The first sentence of a paragraph, or its first ``_OPENING_CHARS`` characters."""
    line = " ".join(text.split())
    end = _SENTENCE_END.search(line)
    sentence = line[:end.end()].strip() if end else line
    if len(sentence) <= _OPENING_CHARS:
        return sentence
    return line[:_OPENING_CHARS].rsplit(" ", 1)[0] + "…"


def file_key(attached: AttachedFile) -> str:
    """The attachment's identity for the in-memory cache: its content, type and reader."""
    suffix = PurePosixPath(attached.name).suffix.lower()
    digest = hashlib.sha256(attached.data)
    digest.update(f"|{suffix}|{chunker_version(suffix)}|{attached.data_class}".encode())
    return digest.hexdigest()


def to_embed(prepared: PreparedFile, match: LexicalMatch, limit: int) -> list[int]:
    """Positions of the chunks still to embed for a question: all of a short file, else
    the ``limit`` best by BM25 (the file's first chunks when none matches) not yet embedded."""
    if len(prepared.chunks) <= limit:
        order = list(range(len(prepared.chunks)))
    else:
        positions = {chunk_id: position for position, chunk_id in enumerate(prepared.ids)}
        best = [positions[chunk_id] for chunk_id, _ in match.best(limit)]
        order = best or list(range(limit))
    return [position for position in order if prepared.ids[position] not in prepared.vectors]


def ranked_passages(
    files: Sequence[PreparedFile], matches: Sequence[LexicalMatch], vector: Vectors,
    ranking_vector: Vectors, weights: RankingWeights, floor: float, k: int,
) -> list[Passage]:
    """The ``k`` best embedded chunks of the files, as citable passages: ranked with
    ``ranking_vector`` (an English question's, lifted by its French renderings), scored
    with the question's own ``vector`` as collection passages are."""
    query = np.asarray(vector, dtype=np.float32)
    ranking = np.asarray(ranking_vector, dtype=np.float32)
    candidates: list[Candidate] = []
    evidence: dict[str, float] = {}
    after: dict[str, str] = {}  # a chunk's next one in the same part (a list it cuts goes on)
    for prepared, match in zip(files, matches, strict=True):
        collection = _collection(prepared.data_class)
        for position, chunk_id in enumerate(prepared.ids):
            stored = prepared.vectors.get(chunk_id)
            if stored is None:
                continue
            chunk = prepared.chunks[position]
            metadata = {"document": prepared.name, "path": "", "title": prepared.title,
                        "section": chunk.section or "", "page": chunk.page}
            row = np.asarray(stored, dtype=np.float32)
            following = (prepared.chunks[position + 1]
                         if position + 1 < len(prepared.chunks) else None)
            if following is not None and following.section == chunk.section:
                after[chunk_id] = following.text
            candidates.append(Candidate(
                StoredChunk(chunk_id, chunk.text, metadata), collection,
                dense=dense_relevance(float(row @ ranking), floor),
                lexical=match.score(chunk_id)))
            evidence[chunk_id] = dense_relevance(float(row @ query), floor)
    ranked = rank(candidates, weights)[:k]
    passages = []
    for candidate in ranked:  # the evidence is the question's own vector's
        kept = candidate.chunk
        if kept.chunk_id in after:
            candidate.chunk = StoredChunk(kept.chunk_id, continued_list(
                kept.text, after[kept.chunk_id]), kept.metadata, kept.similarity)
        candidate.dense = evidence[candidate.chunk.chunk_id]
        candidate.score = fused_score(candidate.dense, candidate.lexical, weights.evidence)
        passages.append(to_passage(candidate))
    return passages


def _collection(data_class_name: str) -> CollectionInfo:
    """The collection attached passages say they come from, with the file's data class."""
    try:
        data_class = DataClass(data_class_name)
    except ValueError:
        data_class = DataClass.CONFIDENTIAL  # unknown: the stricter reading
    return CollectionInfo(ATTACHED_COLLECTION, ATTACHED_COLLECTION, (), False, data_class,
                          datetime.now(UTC), "", "")


class PreparedFiles:
    """The last few attachments prepared, by content (an LRU in memory, never on disk):
    at most ``size`` files and ``max_chars`` characters of their chunks (a 100,000-row survey
    export alone is ~20 million)."""

    def __init__(self, size: int = 8, max_chars: int = 40_000_000) -> None:
        self._size = size
        self._max_chars = max_chars
        self._kept: OrderedDict[str, PreparedFile] = OrderedDict()

    def get(self, key: str) -> PreparedFile | None:
        """The prepared file, now the most recently used."""
        prepared = self._kept.get(key)
        if prepared is not None:
            self._kept.move_to_end(key)
        return prepared

    def put(self, key: str, prepared: PreparedFile) -> None:
        """Remember a prepared file, forgetting the least recently used past the size."""
        self._kept[key] = prepared
        self._kept.move_to_end(key)
        while len(self._kept) > 1 and (len(self._kept) > self._size or sum(
                item.chars for item in self._kept.values()) > self._max_chars):
            self._kept.popitem(last=False)

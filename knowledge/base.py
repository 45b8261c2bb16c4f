"""``KnowledgeBase``: ingest files into collections and search what a space may see."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from knowledge.attached import (
    AttachedFile,
    FileOutline,
    PreparedFile,
    PreparedFiles,
    file_key,
    prepare,
    ranked_passages,
    to_embed,
)
from knowledge.chunking import Chunk, chunk_document, chunk_id, chunker_version, indexed_text
from knowledge.collections import (
    from_metadata,
    new_collection_info,
    parse_data_class,
    to_metadata,
    validate_name,
    validate_space,
)
from knowledge.embeddings import Embedder, Vectors, build_embedder, normalise
from knowledge.english import french_search_words, french_term_groups
from knowledge.french import FrenchAnalyzer
from knowledge.index import ChromaIndex, Metadata
from knowledge.language import detect_language, is_other_language
from knowledge.lexical_sync import LexicalIndexes
from knowledge.loaders import SUPPORTED_SUFFIXES, LoadedDocument, load_bytes
from knowledge.records import (
    CollectionInfo,
    DataClass,
    FileOutcome,
    IngestReport,
    KnowledgeError,
    Outcome,
    Passage,
)
from knowledge.rerank import HttpReranker, Reranker
from knowledge.retrieval import HybridRetriever, LexicalSide
from knowledge.search import Candidate, RankingWeights, to_passage, truncate_query
from knowledge.settings import KnowledgeSettings

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[FileOutcome], None]
_FEEDBACK_DEPTH = 3  # nearest passages a cross-lingual query vector is moved towards
_RECENT_QUERIES = 4096  # query embeddings remembered (1.5 KB each with e5-small)


def iter_files(paths: Sequence[Path]) -> Iterator[tuple[Path, str, bool]]:
    """``(file, source key, named explicitly)`` for files and, recursively, folder contents.

    The source key identifies a document inside its collection: the file name for
    a file given directly, ``folder/relative/path`` for a file found in a folder.
    Hidden files and folders are skipped.
    """
    for path in paths:
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                if found.is_file() and not any(part.startswith(".") for part in relative.parts):
                    yield found, f"{path.resolve().name}/{relative.as_posix()}", False
        else:
            yield path, path.name, True


@dataclass(frozen=True)
class _PendingFile:
    """A parsed, chunked file waiting for its embeddings."""

    index: int
    path: Path
    source: str
    content_hash: str
    replaces: bool
    document: LoadedDocument
    chunks: list[Chunk]
    shown_path: str  # the ``path`` metadata: the file's path, or its source key


_Stored = tuple[_PendingFile, FileOutcome]


class KnowledgeBase:
    """Collections of documents, searched with dense + lexical retrieval, scoped by space."""

    def __init__(
        self,
        index: ChromaIndex,
        embedder: Embedder,
        settings: KnowledgeSettings,
        reranker: Reranker | None = None,
        lexical_dir: Path | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._settings = settings
        self._reranker = reranker
        self._analyzer = FrenchAnalyzer()
        self._recent_queries: OrderedDict[bytes, Vectors] = OrderedDict()
        self._attached = PreparedFiles()
        self._registry: tuple[float, dict[str, CollectionInfo]] | None = None
        self._seen_revisions: dict[str, str] = {}  # collection -> revision last seen or written
        self._lexical = LexicalIndexes(index, self._analyzer, lexical_dir)
        self._retriever = HybridRetriever(
            index,
            self._lexical,
            similarity_floor=embedder.similarity_floor,
            candidates=settings.candidates,
        )

    @classmethod
    def open(
        cls,
        data_dir: Path,
        settings: KnowledgeSettings,
        chroma_url: str | None = None,
        *,
        embedder: Embedder | None = None,
        reranker: Reranker | None = None,
    ) -> KnowledgeBase:
        """Connect to Chroma (embedded in ``data_dir`` or at ``chroma_url``).

        Cheap: the embedding model loads on first use. Lexical indexes are saved in
        ``data_dir/lexical`` (a cache of what Chroma holds, reloaded at start-up).
        """
        embedder = embedder or build_embedder(settings)
        if reranker is None and settings.rerank_url:
            reranker = HttpReranker(settings.rerank_url, settings.rerank_model)
        index = ChromaIndex.open(data_dir, embedder, chroma_url)
        return cls(index, embedder, settings, reranker, lexical_dir=data_dir / "lexical")

    @property
    def dense_weight(self) -> float:
        """Weight of the dense score in the fused score (setting, else the embedder's tuned value)."""
        if self._settings.dense_weight is not None:
            return self._settings.dense_weight
        return float(getattr(self._embedder, "default_dense_weight", 0.5))

    @property
    def lexical_indexes(self) -> LexicalIndexes:
        """The per-collection lexical indexes of this process."""
        return self._lexical

    @property
    def embedder(self) -> Embedder:
        """The embedder used for new chunks and queries."""
        return self._embedder

    def close(self) -> None:
        """Release caches and Chroma handles."""
        self._lexical.close()
        self._index.close()
        self._registry = None

    # ------------------------------------------------------------ registry

    def _load_registry(self) -> dict[str, CollectionInfo]:
        registry = {}
        for name, metadata in self._index.list_collections():
            info = from_metadata(name, metadata)
            if info is not None:
                registry[info.name] = info
        return registry

    async def _registry_now(self, fresh: bool = False) -> dict[str, CollectionInfo]:
        cached = self._registry
        if (
            not fresh
            and cached is not None
            and time.monotonic() - cached[0] < self._settings.registry_ttl_s
        ):
            return cached[1]
        registry = await asyncio.to_thread(self._load_registry)
        if self._changed_elsewhere(registry):
            await asyncio.to_thread(self._index.reopen)
        self._registry = (time.monotonic(), registry)
        return registry

    def _changed_elsewhere(self, registry: dict[str, CollectionInfo]) -> bool:
        """Whether another process wrote to a collection this one has seen (new revision or
        gone); remembers the revisions now seen."""
        seen = self._seen_revisions
        changed = any(
            name not in registry or registry[name].revision != revision
            for name, revision in seen.items()
        )
        self._seen_revisions = {name: info.revision for name, info in registry.items()}
        return changed

    async def _get(self, name: str) -> CollectionInfo:
        registry = await self._registry_now(fresh=True)
        if name not in registry:
            raise KnowledgeError(f"collection « {name} » introuvable")
        return registry[name]

    async def _save(self, info: CollectionInfo) -> CollectionInfo:
        await asyncio.to_thread(self._index.set_metadata, info.name, to_metadata(info))
        self._registry = None
        return info

    async def list_collections(self, *, with_counts: bool = False) -> list[CollectionInfo]:
        """All knowledge collections, by name (optionally with their chunk counts)."""
        registry = await self._registry_now(fresh=True)
        infos = sorted(registry.values(), key=lambda info: info.name)
        if with_counts:
            counts = await asyncio.to_thread(
                lambda: [self._index.count(info.name) for info in infos]
            )
            infos = [
                replace(info, chunk_count=count) for info, count in zip(infos, counts, strict=True)
            ]
        return infos

    async def create_collection(
        self,
        name: str,
        *,
        title: str | None = None,
        data_class: DataClass | str = DataClass.INTERNAL,
        company_wide: bool = False,
    ) -> CollectionInfo:
        """Create an empty collection (error if it exists)."""
        registry = await self._registry_now(fresh=True)
        if validate_name(name) in registry:
            raise KnowledgeError(f"la collection « {name} » existe déjà")
        data_class = (
            data_class if isinstance(data_class, DataClass) else parse_data_class(data_class)
        )
        info = new_collection_info(
            name,
            title=title,
            data_class=data_class,
            company_wide=company_wide,
            embedder=self._embedder.name,
        )
        await asyncio.to_thread(self._index.create_collection, name, to_metadata(info))
        self._registry = None
        return info

    async def update_collection(
        self,
        name: str,
        *,
        title: str | None = None,
        data_class: DataClass | str | None = None,
        company_wide: bool | None = None,
    ) -> CollectionInfo:
        """Change a collection's title, data class or company-wide flag."""
        info = await self._get(name)
        if title is not None:
            info = replace(info, title=title)
        if data_class is not None:
            info = replace(
                info,
                data_class=data_class
                if isinstance(data_class, DataClass)
                else parse_data_class(data_class),
            )
        if company_wide is not None:
            info = replace(info, company_wide=company_wide)
        return await self._save(info)

    async def attach(self, name: str, space: str) -> CollectionInfo:
        """Let searches from ``space`` read collection ``name``."""
        info = await self._get(name)
        spaces = tuple(sorted({*info.spaces, validate_space(space)}))
        return await self._save(replace(info, spaces=spaces))

    async def detach(self, name: str, space: str) -> CollectionInfo:
        """Stop searches from ``space`` reading collection ``name``."""
        info = await self._get(name)
        if space not in info.spaces:
            raise KnowledgeError(f"la collection « {name} » n'est pas rattachée à {space}")
        return await self._save(
            replace(info, spaces=tuple(item for item in info.spaces if item != space))
        )

    async def delete_collection(self, name: str) -> None:
        """Delete a collection and every chunk in it."""
        await self._get(name)
        await asyncio.to_thread(self._index.delete_collection, name)
        self._seen_revisions.pop(name, None)
        await asyncio.to_thread(self._lexical.forget, name)
        self._registry = None

    async def _touch(self, name: str) -> None:
        """New revision token: every replica brings its lexical index of ``name`` up to date
        (this process before returning, so its next search sees the change)."""
        current = await self._get(name)
        revision = uuid.uuid4().hex
        self._seen_revisions[name] = revision  # this process's own write, known before it lands
        info = await self._save(replace(current, revision=revision))
        if self._lexical.holds(name):
            await asyncio.to_thread(self._lexical.update, info)

    # ------------------------------------------------------------ documents

    async def documents(self, collection: str) -> list[str]:
        """The documents of a collection (their source keys), sorted."""
        await self._get(collection)
        hashes = await asyncio.to_thread(self._index.document_hashes, collection)
        return sorted(hashes)

    async def delete_document(self, collection: str, document: str) -> int:
        """Remove a document's chunks; returns how many.

        ``document`` is the source key (see :func:`iter_files`) or, if unique, the file name.
        """
        await self._get(collection)

        def work() -> int:
            removed = self._index.delete_source(collection, document)
            if removed:
                return removed
            sources = self._index.sources_named(collection, document)
            if len(sources) > 1:
                raise KnowledgeError(
                    f"plusieurs documents s'appellent {document} : "
                    f"donnez le chemin ({sorted(sources)})"
                )
            return sum(self._index.delete_source(collection, source) for source in sources)

        removed = await asyncio.to_thread(work)
        if removed:
            await self._touch(collection)
        return removed

    async def ingest(
        self,
        paths: Sequence[Path],
        collection: str,
        *,
        data_class: DataClass | str | None = None,
        company_wide: bool | None = None,
        title: str | None = None,
        progress: ProgressCallback | None = None,
        keep_paths: bool = True,
    ) -> IngestReport:
        """Ingest files and folders (recursively) into ``collection``, creating it if needed.

        Each file is added, updated (all old chunks replaced), left unchanged (same
        content hash) or failed with a message; a failure never stops the batch.
        Folder entries with an unsupported extension are skipped. ``keep_paths=False``
        (files copied to a temporary folder by a job) records the source key as the
        chunks' ``path`` instead of the file's path.
        """
        started = time.perf_counter()
        registry = await self._registry_now(fresh=True)
        if validate_name(collection) not in registry:
            await self.create_collection(
                collection,
                title=title,
                data_class=data_class or DataClass.INTERNAL,
                company_wide=bool(company_wide),
            )
        elif data_class is not None or company_wide is not None or title is not None:
            await self.update_collection(
                collection, title=title, data_class=data_class, company_wide=company_wide
            )
        info = await self._get(collection)
        if info.embedder != self._embedder.name:
            raise KnowledgeError(
                f"la collection « {collection} » a été indexée avec {info.embedder}, "
                f"pas {self._embedder.name} : "
                "supprimez-la et réindexez, ou changez knowledge.embedder"
            )
        report = IngestReport(collection)
        slots: list[FileOutcome | None] = []
        pending: list[_PendingFile] = []
        known = await asyncio.to_thread(self._index.document_hashes, collection)
        # Storing batch N (Chroma, in a thread) overlaps embedding batch N + 1.
        store: asyncio.Task[list[_Stored]] | None = None

        def record(index: int, outcome: FileOutcome) -> None:
            slots[index] = outcome
            if progress is not None:
                progress(outcome)

        for path, source, explicit in iter_files(paths):
            slots.append(None)
            index = len(slots) - 1
            if not explicit and path.suffix.lower() not in SUPPORTED_SUFFIXES:
                message = f"extension {path.suffix or '(aucune)'} ignorée"
                record(index, FileOutcome(str(path), Outcome.SKIPPED, message=message))
                continue
            prepared = await self._prepare_file(
                index, path, source, known, str(path) if keep_paths else source
            )
            if isinstance(prepared, FileOutcome):
                record(index, prepared)
                continue
            pending.append(prepared)
            if sum(len(item.chunks) for item in pending) >= self._settings.embedder_batch_size:
                store = await self._dispatch(pending, store, collection, record)
                pending = []
        store = await self._dispatch(pending, store, collection, record)
        if store is not None:
            for item, outcome in await store:
                record(item.index, outcome)
        report.files = [outcome for outcome in slots if outcome is not None]
        if any(item.outcome in (Outcome.ADDED, Outcome.UPDATED) for item in report.files):
            await self._touch(collection)
        report.seconds = time.perf_counter() - started
        return report

    def _fingerprint(self, data: bytes, suffix: str) -> str:
        settings = self._settings
        digest = hashlib.sha256(data)
        digest.update(f"|{chunker_version(suffix)}|{settings.chunk_size}|"
                      f"{settings.chunk_overlap}".encode())
        return digest.hexdigest()

    def _prepare(
        self, path: Path, source: str, known: dict[str, str]
    ) -> tuple[str, str | None, LoadedDocument | None]:
        """Blocking part before embedding: read, hash, compare with the stored hash, parse."""
        max_bytes = self._settings.max_file_mb * 1_048_576
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise KnowledgeError(
                    f"fichier trop volumineux ({size / 1_048_576:.1f} Mo > "
                    f"{self._settings.max_file_mb} Mo autorisés)"
                )
            data = path.read_bytes()
        except OSError as error:
            raise KnowledgeError(f"lecture impossible : {error.strerror or error}") from error
        content_hash = self._fingerprint(data, path.suffix)
        stored = known.get(source)
        if stored == content_hash:
            return content_hash, stored, None
        return content_hash, stored, load_bytes(data, path.suffix, path.stem)

    async def _dispatch(
        self,
        pending: Sequence[_PendingFile],
        previous: asyncio.Task[list[_Stored]] | None,
        collection: str,
        record: Callable[[int, FileOutcome], None],
    ) -> asyncio.Task[list[_Stored]] | None:
        """Embed a batch, wait for the previous batch's store, start storing this one."""
        embedded = await self._embed(pending) if pending else []
        if previous is not None:
            for item, outcome in await previous:
                record(item.index, outcome)
        if isinstance(embedded, list):
            for item, outcome in embedded:
                record(item.index, outcome)
            return None
        return asyncio.create_task(
            asyncio.to_thread(self._store_batch, list(pending), embedded, collection)
        )

    async def _prepare_file(
        self, index: int, path: Path, source: str, known: dict[str, str], shown_path: str
    ) -> _PendingFile | FileOutcome:
        """Read, compare hashes, parse and chunk one file; an outcome if nothing is to embed."""
        try:
            content_hash, stored, document = await asyncio.to_thread(
                self._prepare, path, source, known
            )
            if document is None:
                return FileOutcome(str(path), Outcome.UNCHANGED)
            settings = self._settings
            chunks = chunk_document(document, settings.chunk_size, settings.chunk_overlap)
        except KnowledgeError as error:
            return FileOutcome(str(path), Outcome.FAILED, message=str(error))
        except Exception as error:  # a library choking on one file must not stop the batch
            logger.warning("ingest %s failed", path, exc_info=True)
            return FileOutcome(
                str(path), Outcome.FAILED, message=f"{type(error).__name__}: {error}"
            )
        return _PendingFile(
            index, path, source, content_hash, stored is not None, document, chunks, shown_path
        )

    async def _embed(self, pending: Sequence[_PendingFile]) -> Vectors | list[_Stored]:
        """Embed the chunks of several files in one call; on failure, a failed outcome per file."""
        texts = [
            indexed_text(item.document.title, chunk.sections, chunk.text)
            for item in pending
            for chunk in item.chunks
        ]
        try:
            return await self._embedder.embed_documents(texts)
        except Exception as error:  # embedding failure fails these files, not the run
            logger.warning("embedding %d chunks failed", len(texts), exc_info=True)
            message = str(error) if isinstance(error, KnowledgeError) else repr(error)
            return [
                (
                    item,
                    FileOutcome(str(item.path), Outcome.FAILED, message=f"embedding : {message}"),
                )
                for item in pending
            ]

    def _store_batch(
        self, pending: Sequence[_PendingFile], vectors: Vectors, collection: str
    ) -> list[_Stored]:
        """Blocking: one upsert for the whole batch (file by file if it fails), then old chunks out."""
        rows = [
            (
                chunk_id(item.source, item.content_hash, chunk.ordinal),
                chunk.text,
                self._chunk_metadata(item, chunk),
            )
            for item in pending
            for chunk in item.chunks
        ]
        try:
            self._index.add(
                collection,
                [row[0] for row in rows],
                vectors,
                [row[1] for row in rows],
                [row[2] for row in rows],
            )
        except Exception:  # retry file by file so one bad file fails alone
            logger.warning("batch upsert failed, retrying file by file", exc_info=True)
            return self._store_files(pending, vectors, collection)
        return [(item, self._replace_old(item, collection)) for item in pending]

    def _store_files(
        self, pending: Sequence[_PendingFile], vectors: Vectors, collection: str
    ) -> list[_Stored]:
        results: list[_Stored] = []
        offset = 0
        for item in pending:
            count = len(item.chunks)
            rows = vectors[offset : offset + count]
            offset += count
            ids = [chunk_id(item.source, item.content_hash, chunk.ordinal) for chunk in item.chunks]
            metadatas = [
                self._chunk_metadata(item, chunk)
                for chunk in item.chunks
            ]
            try:
                texts = [chunk.text for chunk in item.chunks]
                self._index.add(collection, ids, rows, texts, metadatas)
            except Exception as error:  # one store failure fails one file
                logger.warning("storing %s failed", item.path, exc_info=True)
                failed = FileOutcome(str(item.path), Outcome.FAILED, message=repr(error))
                results.append((item, failed))
                continue
            results.append((item, self._replace_old(item, collection)))
        return results

    def _replace_old(self, item: _PendingFile, collection: str) -> FileOutcome:
        """Delete a replaced file's chunks of older content; the file's outcome."""
        if item.replaces:
            self._index.delete_source(collection, item.source, keep_hash=item.content_hash)
            return FileOutcome(str(item.path), Outcome.UPDATED, chunks=len(item.chunks))
        return FileOutcome(str(item.path), Outcome.ADDED, chunks=len(item.chunks))

    @staticmethod
    def _chunk_metadata(item: _PendingFile, chunk: Chunk) -> Metadata:
        document = item.document
        metadata: dict[str, str | int | float | bool] = {
            "source": item.source,
            "document": item.path.name,
            "path": item.shown_path,
            "title": document.title,
            "content_hash": item.content_hash,
            "ordinal": chunk.ordinal,
        }
        if chunk.section:
            metadata["section"] = chunk.section
        if chunk.sections:
            metadata["sections"] = " — ".join(chunk.sections)
        if chunk.page is not None:
            metadata["page"] = chunk.page
        if document.url:
            metadata["url"] = document.url
        return metadata

    # ------------------------------------------------------------ search

    async def search(
        self,
        query: str,
        *,
        space: str | None = None,
        collections: Sequence[str] | None = None,
        k: int = 5,
        dense_weight: float | None = None,
    ) -> list[Passage]:
        """Best ``k`` passages for ``query``.

        With ``collections``, searches exactly those (admin use, no space check).
        Otherwise searches the collections attached to ``space`` plus company-wide
        ones (only company-wide ones when ``space`` is None). Collections outside
        that set are never queried. ``dense_weight`` overrides the setting and the
        query-aware weight of English questions (1.0: dense ranking only, 0.0:
        lexical only), for benchmarks and tuning.
        """
        text = truncate_query(query, self._settings.max_query_chars)
        if not text or k <= 0:
            return []
        registry = await self._registry_now()
        if collections is not None:
            missing = [name for name in collections if name not in registry]
            if missing:
                registry = await self._registry_now(fresh=True)
                missing = [name for name in collections if name not in registry]
            if missing:
                raise KnowledgeError(f"collection(s) introuvable(s) : {', '.join(missing)}")
            targets = [registry[name] for name in dict.fromkeys(collections)]
        else:
            targets = [info for info in registry.values() if info.visible_from(space)]
        targets = [info for info in targets if self._usable(info)]
        if not targets:
            return []
        english = detect_language(text) == "en"
        cross_lingual = english or is_other_language(text)
        weight = (
            self._query_weights(cross_lingual)
            if dense_weight is None
            else RankingWeights.fixed(dense_weight)
        )
        keep = max(k, 20) if self._reranker is not None else k
        # the lexical side (BM25, its candidates' stored vectors) needs no query vector: it
        # runs on the other core while the question is embedded (one thread)
        lexical = asyncio.to_thread(self._lexical_sides, targets, text, english)
        if english:  # ranked with its French renderings too (the lexicon is English only)
            (vector, ranking_vector), sides = await asyncio.gather(
                self._cross_lingual_vectors(text), lexical
            )
        else:
            vector, sides = await asyncio.gather(self._query_vector(text), lexical)
            ranking_vector = None
        ranked = await asyncio.to_thread(
            self._retrieve, targets, sides, vector, weight, keep, ranking_vector
        )
        if self._reranker is not None and ranked:
            ranked = await self._rerank(text, ranked)
        return [to_passage(candidate) for candidate in ranked[:k]]

    async def search_files(
        self, files: Sequence[AttachedFile], query: str, *, k: int = 5
    ) -> list[Passage]:
        """Best ``k`` passages of files attached to a message (:mod:`knowledge.attached`),
        scored as collection passages are; nothing is stored. Raises KnowledgeError naming
        the first file that cannot be read."""
        text = truncate_query(query, self._settings.max_query_chars)
        if not text or k <= 0 or not files:
            return []
        prepared = [await self._prepared(attached) for attached in files]
        # an English question over English files is matched as a French one over French text
        english = detect_language(text) == "en" and any(
            item.language != "en" for item in prepared)
        cross_lingual = english or (is_other_language(text) and any(
            item.language != "en" for item in prepared))
        groups = self._query_groups(text, english)
        matches = [item.lexical.match_groups(groups) for item in prepared]
        limit = self._settings.attached_max_embedded
        for item, match in zip(prepared, matches, strict=True):
            positions = to_embed(item, match, limit)
            if positions:
                vectors = await self._embedder.embed_documents(
                    [item.texts[position] for position in positions])
                for position, row in zip(positions, vectors, strict=True):
                    item.vectors[item.ids[position]] = row
        if english:
            vector, ranking_vector = await self._cross_lingual_vectors(text)
        else:
            vector = ranking_vector = await self._query_vector(text)
        weights = self._query_weights(cross_lingual)
        return ranked_passages(prepared, matches, vector, ranking_vector, weights,
                               self._embedder.similarity_floor, k)

    async def outline_files(self, files: Sequence[AttachedFile]) -> list[FileOutline]:
        """Each attached file's parts (:func:`knowledge.attached.outline_of`), read as
        :meth:`search_files` reads them (and remembered with them)."""
        outlines = []
        for attached in files:
            prepared = await self._prepared(attached)
            if prepared.outline is not None:
                outlines.append(prepared.outline)
        return outlines

    async def _prepared(self, attached: AttachedFile) -> PreparedFile:
        key = file_key(attached)
        known = self._attached.get(key)
        if known is not None:
            return known
        settings = self._settings
        try:
            prepared = await asyncio.to_thread(
                prepare, attached, self._analyzer, chunk_size=settings.chunk_size,
                overlap=settings.chunk_overlap)
        except KnowledgeError as error:
            raise KnowledgeError(f"« {attached.name} » : {error}") from error
        except Exception as error:  # a library choking on one file: said, not raised raw
            logger.warning("reading an attached file failed", exc_info=True)
            raise KnowledgeError(f"« {attached.name} » : illisible "
                                 f"({type(error).__name__})") from error
        self._attached.put(key, prepared)
        return prepared

    def _query_groups(self, text: str, english: bool) -> list[tuple[str, ...]]:
        """The lexical query: one term per French word, or each English word's French
        renderings as one group (``cross_lingual_structured``)."""
        if english and self._settings.cross_lingual_structured:
            groups = [tuple(dict.fromkeys(self._analyzer(" ".join(words))))
                      for words in french_term_groups(text)]
            return [group for group in groups if group]
        return [(term,) for term in self._analyzer(text)]

    def _query_weights(self, cross_lingual: bool) -> RankingWeights:
        """Query-aware fusion: an English question over French text shares few words with it,
        so its dense side weighs more (``cross_lingual_dense_weight``); a French question
        is ranked with the embedder's query-aware weights (``query_aware_fusion``)."""
        if cross_lingual:
            return RankingWeights.fixed(
                max(self.dense_weight, self._settings.cross_lingual_dense_weight)
            )
        tuned = getattr(self._embedder, "query_aware_weights", None)
        if tuned is None or not self._settings.query_aware_fusion or (
            self._settings.dense_weight is not None
        ):
            return RankingWeights.fixed(self.dense_weight)
        confident, weak, confident_lexical = tuned
        return RankingWeights(self.dense_weight, confident, weak, confident_lexical)

    async def _query_vector(self, text: str) -> Vectors:
        """The query's embedding, remembered for the last ``_RECENT_QUERIES`` distinct queries
        (keyed by their SHA-256: no question text is kept). The embedding is most of a
        search's CPU time (``bench/query_latency.py``); people ask the same questions."""
        key = hashlib.sha256(text.encode("utf-8")).digest()
        recent = self._recent_queries
        vector = recent.get(key)
        if vector is not None:
            recent.move_to_end(key)
            return vector
        vector = await self._embedder.embed_query(text)
        recent[key] = vector
        while len(recent) > _RECENT_QUERIES:
            recent.popitem(last=False)
        return vector

    async def _cross_lingual_vectors(self, text: str) -> tuple[Vectors, Vectors]:
        """An English question's own vector, and its ranking vector: its own plus a share of
        the embedding of its French renderings (``cross_lingual_lexicon``; dev English
        translations, right page first: spf-dev 0.844 → 0.889, cnil-dev 0.400 → 0.600).
        The two embeddings run side by side (one thread each)."""
        share = self._settings.cross_lingual_lexicon
        french = french_search_words(text) if share > 0 else ""
        if not french:
            vector = await self._query_vector(text)
            return vector, vector
        vector, rendered = await asyncio.gather(
            self._query_vector(text), self._query_vector(french)
        )
        mixed: Vectors = normalise(np.asarray(vector) + share * np.asarray(rendered))[0]
        return vector, mixed

    def _lexical_sides(
        self, targets: Sequence[CollectionInfo], text: str, english: bool = False
    ) -> list[LexicalSide]:
        """Blocking: each collection's lexical candidates and their stored vectors. An
        English question is matched on its French renderings, each English word's
        renderings counting as one term (``cross_lingual_structured``; English questions
        answered from the right page: 117 → 123 of 160, a plain bag of renderings 120)."""
        return self._retriever.lexical_side(targets, self._query_groups(text, english))

    def _retrieve(
        self, targets: Sequence[CollectionInfo], sides: list[LexicalSide], vector: Vectors,
        weight: RankingWeights, keep: int, ranking_vector: Vectors | None,
    ) -> list[Candidate]:
        """Blocking: hybrid retrieval; an English question (``ranking_vector`` given) is
        ranked with that vector moved towards its nearest French passages
        (``cross_lingual_feedback``) but scored with its own, so that relevance decisions
        see neither lift."""
        share = self._settings.cross_lingual_feedback
        if ranking_vector is None:
            return self._retriever.retrieve(sides, vector, weight, keep)
        moved = (
            self._retriever.with_feedback(targets, ranking_vector, _FEEDBACK_DEPTH, share)
            if share > 0
            else ranking_vector
        )
        ranked = self._retriever.retrieve(sides, moved, weight, keep)
        # the moved vector ranks; the evidence (scores) stays the question's own
        self._retriever.rescore(ranked, vector, weight.evidence)
        return ranked

    def _usable(self, info: CollectionInfo) -> bool:
        if info.embedder == self._embedder.name:
            return True
        logger.warning(
            "collection %s skipped: indexed with %s, not %s",
            info.name,
            info.embedder,
            self._embedder.name,
        )
        return False

    async def _rerank(self, query: str, ranked: list[Candidate]) -> list[Candidate]:
        scores = await self._reranker.rerank(query, [item.chunk.text for item in ranked])  # type: ignore[union-attr]
        for candidate, score in zip(ranked, scores, strict=True):
            candidate.score = score
        return sorted(ranked, key=lambda item: -item.score)

    async def warm_up(self) -> None:
        """Load (or build) every collection's lexical index, and the embedding model, now,
        so that the first question after a start does not wait for them (~1-2 s)."""
        registry = await self._registry_now(fresh=True)
        usable = [info for info in registry.values() if info.embedder == self._embedder.name]
        await asyncio.to_thread(self._lexical.warm, usable)
        if usable:
            await self._embedder.embed_query("échauffement")

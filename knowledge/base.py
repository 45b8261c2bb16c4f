"""``KnowledgeBase``: ingest files into collections and search what a space may see."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from knowledge.chunking import CHUNKER_VERSION, chunk_document, chunk_id, indexed_text
from knowledge.collections import (
    from_metadata,
    new_collection_info,
    parse_data_class,
    to_metadata,
    validate_name,
    validate_space,
)
from knowledge.embeddings import Embedder, build_embedder
from knowledge.index import ChromaIndex, Metadata, StoredChunk
from knowledge.lexical import FrenchAnalyzer, LexicalIndex
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
from knowledge.search import Candidate, dense_relevance, rank, to_passage, truncate_query
from knowledge.settings import KnowledgeSettings

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[FileOutcome], None]


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


class KnowledgeBase:
    """Collections of documents, searched with dense + lexical retrieval, scoped by space."""

    def __init__(
        self,
        index: ChromaIndex,
        embedder: Embedder,
        settings: KnowledgeSettings,
        reranker: Reranker | None = None,
    ) -> None:
        self._index = index
        self._embedder = embedder
        self._settings = settings
        self._reranker = reranker
        self._analyzer = FrenchAnalyzer()
        self._registry: tuple[float, dict[str, CollectionInfo]] | None = None
        self._lexical: dict[str, tuple[str, LexicalIndex]] = {}
        self._lexical_lock = threading.Lock()

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

        Cheap: the embedding model loads on first use.
        """
        embedder = embedder or build_embedder(settings)
        if reranker is None and settings.rerank_url:
            reranker = HttpReranker(settings.rerank_url, settings.rerank_model)
        return cls(ChromaIndex.open(data_dir, embedder, chroma_url), embedder, settings, reranker)

    @property
    def embedder(self) -> Embedder:
        """The embedder used for new chunks and queries."""
        return self._embedder

    def close(self) -> None:
        """Release caches and Chroma handles."""
        self._index.close()
        self._lexical.clear()
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
        self._registry = (time.monotonic(), registry)
        return registry

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
        self._lexical.pop(name, None)
        self._registry = None

    async def _touch(self, name: str) -> None:
        """New revision token: every replica's lexical index for ``name`` rebuilds."""
        info = await self._get(name)
        await self._save(replace(info, revision=uuid.uuid4().hex))

    # ------------------------------------------------------------ documents

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
    ) -> IngestReport:
        """Ingest files and folders (recursively) into ``collection``, creating it if needed.

        Each file is added, updated (all old chunks replaced), left unchanged (same
        content hash) or failed with a message; a failure never stops the batch.
        Folder entries with an unsupported extension are skipped.
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
        for path, source, explicit in iter_files(paths):
            if not explicit and path.suffix.lower() not in SUPPORTED_SUFFIXES:
                outcome = FileOutcome(
                    str(path),
                    Outcome.SKIPPED,
                    message=f"extension {path.suffix or '(aucune)'} ignorée",
                )
            else:
                outcome = await self._ingest_file(path, source, collection)
            report.files.append(outcome)
            if progress is not None:
                progress(outcome)
        if any(item.outcome in (Outcome.ADDED, Outcome.UPDATED) for item in report.files):
            await self._touch(collection)
        report.seconds = time.perf_counter() - started
        return report

    def _fingerprint(self, data: bytes) -> str:
        settings = self._settings
        digest = hashlib.sha256(data)
        digest.update(f"|{CHUNKER_VERSION}|{settings.chunk_size}|{settings.chunk_overlap}".encode())
        return digest.hexdigest()

    def _prepare(
        self, path: Path, source: str, collection: str
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
        content_hash = self._fingerprint(data)
        stored = self._index.source_hash(collection, source)
        if stored == content_hash:
            return content_hash, stored, None
        return content_hash, stored, load_bytes(data, path.suffix, path.stem)

    async def _ingest_file(self, path: Path, source: str, collection: str) -> FileOutcome:
        try:
            content_hash, stored, document = await asyncio.to_thread(
                self._prepare, path, source, collection
            )
            if document is None:
                return FileOutcome(str(path), Outcome.UNCHANGED)
            chunks = chunk_document(
                document, self._settings.chunk_size, self._settings.chunk_overlap
            )
            texts = [indexed_text(document.title, chunk.sections, chunk.text) for chunk in chunks]
            vectors = await self._embedder.embed_documents(texts)
            ids = [chunk_id(source, content_hash, chunk.ordinal) for chunk in chunks]
            metadatas = [
                self._chunk_metadata(path, source, content_hash, document, chunk)
                for chunk in chunks
            ]

            def store() -> None:
                self._index.add(
                    collection, ids, vectors, [chunk.text for chunk in chunks], metadatas
                )
                self._index.delete_source(collection, source, keep_hash=content_hash)

            await asyncio.to_thread(store)
        except KnowledgeError as error:
            return FileOutcome(str(path), Outcome.FAILED, message=str(error))
        except (
            Exception
        ) as error:  # a loader library choking on a malformed file must not stop the batch
            logger.warning("ingest %s failed", path, exc_info=True)
            return FileOutcome(
                str(path), Outcome.FAILED, message=f"{type(error).__name__}: {error}"
            )
        return FileOutcome(
            str(path), Outcome.UPDATED if stored else Outcome.ADDED, chunks=len(chunks)
        )

    @staticmethod
    def _chunk_metadata(
        path: Path, source: str, content_hash: str, document: LoadedDocument, chunk: object
    ) -> Metadata:
        from knowledge.chunking import Chunk

        assert isinstance(chunk, Chunk)
        metadata: dict[str, str | int | float | bool] = {
            "source": source,
            "document": path.name,
            "path": str(path),
            "title": document.title,
            "content_hash": content_hash,
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
    ) -> list[Passage]:
        """Best ``k`` passages for ``query``.

        With ``collections``, searches exactly those (admin use, no space check).
        Otherwise searches the collections attached to ``space`` plus company-wide
        ones (only company-wide ones when ``space`` is None). Collections outside
        that set are never queried.
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
        vector = await self._embedder.embed_query(text)
        terms = self._analyzer(text)
        candidates = await asyncio.to_thread(self._candidates, targets, vector, terms)
        ranked = rank(candidates, self._settings.dense_weight)
        if self._reranker is not None and ranked:
            ranked = await self._rerank(text, ranked[: max(k, 20)])
        return [to_passage(candidate) for candidate in ranked[:k]]

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

    def _lexical_index(self, info: CollectionInfo) -> LexicalIndex:
        with self._lexical_lock:
            cached = self._lexical.get(info.name)
            if cached is not None and cached[0] == info.revision:
                return cached[1]
            chunks = self._index.all_chunks(info.name)
            tokens = [self._analyzer(self._lexical_text(chunk)) for chunk in chunks]
            lexical = LexicalIndex([chunk.chunk_id for chunk in chunks], tokens)
            self._lexical[info.name] = (info.revision, lexical)
            return lexical

    @staticmethod
    def _lexical_text(chunk: StoredChunk) -> str:
        metadata = chunk.metadata
        return f"{metadata.get('title', '')}\n{metadata.get('sections', '')}\n{chunk.text}"

    def _candidates(
        self, targets: Sequence[CollectionInfo], vector: object, terms: list[str]
    ) -> list[Candidate]:
        """Blocking: dense and lexical candidates of each collection, each with both scores."""
        import numpy as np

        query_vector = np.asarray(vector, dtype=np.float32)
        floor = self._embedder.similarity_floor
        wanted = self._settings.candidates
        found: list[Candidate] = []
        for info in targets:
            lexical = self._lexical_index(info)
            if not len(lexical):
                continue
            dense_hits = self._index.query(info.name, query_vector, min(wanted, len(lexical)))
            lexical_scores = lexical.scores(terms)
            positions = {chunk_id: position for position, chunk_id in enumerate(lexical.ids)}
            by_id: dict[str, Candidate] = {}
            for hit in dense_hits:
                position = positions.get(hit.chunk_id)
                by_id[hit.chunk_id] = Candidate(
                    hit,
                    info,
                    dense=dense_relevance(hit.similarity or 0.0, floor),
                    lexical=float(lexical_scores[position]) if position is not None else 0.0,
                )
            lexical_only = {
                hit_id: score for hit_id, score in lexical.top(terms, wanted) if hit_id not in by_id
            }
            fetched = self._index.similarities(info.name, list(lexical_only), query_vector)
            for hit_id, stored in fetched.items():
                dense = dense_relevance(stored.similarity or 0.0, floor)
                by_id[hit_id] = Candidate(stored, info, dense=dense, lexical=lexical_only[hit_id])
            found.extend(by_id.values())
        return found

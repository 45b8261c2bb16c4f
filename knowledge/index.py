"""Blocking access to Chroma: one Chroma collection per knowledge collection.

``import chromadb`` happens only in this module. Every method blocks: the
:class:`~knowledge.base.KnowledgeBase` calls them from worker threads.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

import numpy as np

from knowledge.collections import CHROMA_PREFIX, chroma_name
from knowledge.embeddings import Embedder, Vectors
from knowledge.records import KnowledgeError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

Metadata = Mapping[str, str | int | float | bool]
P = ParamSpec("P")
R = TypeVar("R")
_PAGE = 5000


def _embedding_function_class() -> type:
    """Chroma ``EmbeddingFunction`` adapter, defined lazily so chromadb loads only when used."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    class AlmiaEmbeddingFunction(EmbeddingFunction[Documents]):
        """Gives Chroma our embedder, so Chroma never loads (or downloads) its default model."""

        def __init__(self, embedder: Embedder | None = None, embedder_name: str = "") -> None:
            self._embedder = embedder
            self._embedder_name = embedder.name if embedder is not None else embedder_name

        def __call__(self, input: Documents) -> Embeddings:
            if self._embedder is None:
                raise KnowledgeError(
                    f"embedder {self._embedder_name} is not loaded in this process"
                )
            vectors = asyncio.run(self._embedder.embed_documents(list(input)))
            return [np.asarray(row, dtype=np.float32) for row in vectors]

        @staticmethod
        def name() -> str:
            return "almia-knowledge"

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self._embedder_name}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> AlmiaEmbeddingFunction:
            return AlmiaEmbeddingFunction(None, str(config.get("embedder", "")))

        def default_space(self) -> Any:
            return "cosine"

    # Known by name, so a process that opens an existing collection rebuilds this stand-in
    # instead of warning "Could not reconstruct embedding function almia-knowledge".
    register_embedding_function(AlmiaEmbeddingFunction)  # type: ignore[no-untyped-call]
    return AlmiaEmbeddingFunction


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from Chroma."""

    chunk_id: str
    text: str
    metadata: Mapping[str, Any]
    similarity: float | None = None


def _shared(method: Callable[Concatenate[ChromaIndex, P], R]) -> Callable[Concatenate[ChromaIndex, P], R]:
    """Run a method as one of the calls that :meth:`ChromaIndex.reopen` waits for."""

    @functools.wraps(method)
    def call(self: ChromaIndex, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._use.shared():
            return method(self, *args, **kwargs)

    return call


def _vectors_of(handle: Collection, ids: Sequence[str]) -> dict[str, Vectors]:
    found = handle.get(ids=list(ids), include=["embeddings"])
    embeddings = found.get("embeddings")
    matrix = np.asarray(embeddings if embeddings is not None else [], dtype=np.float32)
    return dict(zip(found["ids"], matrix, strict=False))


def _release(client: ClientAPI) -> None:
    """Close a Chroma client (its SQLite files, for an embedded one)."""
    close = getattr(client, "close", None)  # not in the ClientAPI protocol's type
    if callable(close):
        close()


class _SharedUse:
    """Many calls at once, or one exclusive user once the calls in flight are done."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._calls = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._calls += 1
        try:
            yield
        finally:
            with self._condition:
                self._calls -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._exclusive = True  # new calls wait from now on
            while self._calls:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


@contextmanager
def _opening_lock(lock_file: Path) -> Iterator[None]:
    """An exclusive lock between processes (``flock``) held while the store opens."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class ChromaIndex:
    """The vector store: create/modify/delete Chroma collections, add, delete and query chunks.

    An embedded (``PersistentClient``) store keeps each collection's vector index in
    memory: vectors that another process (``almia ingest`` next to ``almia serve``)
    adds stay invisible to it until :meth:`reopen`, which waits for the calls in
    flight and reloads the store from disk.
    """

    def __init__(
        self, connect: Callable[[], ClientAPI], embedder: Embedder, *, embedded: bool
    ) -> None:
        self._connect = connect
        self._client = connect()
        self.embedded = embedded
        self._embedding_function = _embedding_function_class()(embedder)
        self._handles: dict[str, Collection] = {}
        self._use = _SharedUse()

    @classmethod
    def open(cls, data_dir: Path, embedder: Embedder, chroma_url: str | None = None) -> ChromaIndex:
        """Embedded client in ``data_dir/chroma``, or ``HttpClient`` to ``chroma_url``."""
        import chromadb
        from chromadb.config import Settings

        chroma_settings = Settings(anonymized_telemetry=False)
        if chroma_url:
            parts = urlsplit(chroma_url)
            return cls(
                lambda: chromadb.HttpClient(
                    host=parts.hostname or "localhost",
                    port=parts.port or (443 if parts.scheme == "https" else 8000),
                    ssl=parts.scheme == "https",
                    settings=chroma_settings,
                ),
                embedder,
                embedded=False,
            )
        path = data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)

        def connect() -> ClientAPI:
            # two processes opening a new store at once both create its tables, and one
            # fails (« table collections already exists »): opening is one at a time
            with _opening_lock(path / ".almia-open.lock"):
                return chromadb.PersistentClient(path=str(path), settings=chroma_settings)

        return cls(connect, embedder, embedded=True)

    def reopen(self) -> None:
        """See what other processes changed: forget collection handles and, for an embedded
        store, reload it from disk (after the calls in flight)."""
        with self._use.exclusive():
            self._handles.clear()
            if self.embedded:
                _release(self._client)
                self._client = self._connect()

    # ------------------------------------------------------------ collections

    @_shared
    def list_collections(self) -> list[tuple[str, Metadata | None]]:
        """``(chroma name, metadata)`` of every Chroma collection that may be ours."""
        return [
            (collection.name, collection.metadata)
            for collection in self._client.list_collections()
            if collection.name.startswith(CHROMA_PREFIX)
        ]

    @_shared
    def create_collection(self, name: str, metadata: Metadata) -> None:
        """Create the Chroma collection for knowledge collection ``name`` (cosine space)."""
        from chromadb.errors import InternalError

        try:
            handle = self._client.create_collection(
                chroma_name(name),
                metadata=dict(metadata),
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=self._embedding_function,
            )
        except (InternalError, ValueError) as error:
            raise KnowledgeError(
                f"collection « {name} » : création impossible ({error})"
            ) from error
        self._handles[name] = handle

    def _collection(self, name: str) -> Collection:
        """Handle of an existing collection (cached)."""
        from chromadb.errors import NotFoundError

        handle = self._handles.get(name)
        if handle is None:
            try:
                handle = self._client.get_collection(
                    chroma_name(name), embedding_function=self._embedding_function
                )
            except (NotFoundError, ValueError) as error:
                raise KnowledgeError(f"collection « {name} » introuvable") from error
            self._handles[name] = handle
        return handle

    @_shared
    def set_metadata(self, name: str, metadata: Metadata) -> None:
        """Replace the registry metadata of a collection."""
        self._collection(name).modify(metadata=dict(metadata))

    @_shared
    def delete_collection(self, name: str) -> None:
        """Drop a collection and all its chunks."""
        self._handles.pop(name, None)
        try:
            self._client.delete_collection(chroma_name(name))
        except Exception as error:  # Chroma raises NotFoundError or ValueError by version
            raise KnowledgeError(f"collection « {name} » introuvable") from error

    @_shared
    def count(self, name: str) -> int:
        """Number of chunks in a collection."""
        return self._collection(name).count()

    # ------------------------------------------------------------ chunks

    @_shared
    def document_hashes(self, name: str) -> dict[str, str]:
        """``{source: content hash}`` of every indexed document (reads one chunk per document)."""
        found = self._collection(name).get(where={"ordinal": 0}, include=["metadatas"])
        return {
            str(metadata.get("source")): str(metadata.get("content_hash"))
            for metadata in found.get("metadatas") or []
        }

    @_shared
    def add(
        self,
        name: str,
        ids: Sequence[str],
        vectors: Vectors,
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        """Upsert chunks with precomputed vectors."""
        handle = self._collection(name)
        for start in range(0, len(ids), _PAGE):
            end = start + _PAGE
            handle.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                documents=list(texts[start:end]),
                metadatas=[dict(item) for item in metadatas[start:end]],
            )

    @_shared
    def delete_source(self, name: str, source: str, keep_hash: str | None = None) -> int:
        """Delete a document's chunks (all, or all but those of content ``keep_hash``)."""
        handle = self._collection(name)
        found = handle.get(where={"source": source}, include=["metadatas"])
        doomed = [
            chunk_id
            for chunk_id, metadata in zip(found["ids"], found.get("metadatas") or [], strict=False)
            if keep_hash is None or metadata.get("content_hash") != keep_hash
        ]
        if doomed:
            handle.delete(ids=doomed)
        return len(doomed)

    @_shared
    def sources_named(self, name: str, document: str) -> set[str]:
        """Sources whose file name is ``document``."""
        found = self._collection(name).get(where={"document": document}, include=["metadatas"])
        return {str(metadata.get("source")) for metadata in found.get("metadatas") or []}

    @_shared
    def chunk_ids(self, name: str) -> list[str]:
        """Ids of every chunk of a collection (no content; ~0.2 s for 100,000)."""
        handle = self._collection(name)
        ids: list[str] = []
        page_size = 4 * _PAGE
        while True:
            page = handle.get(include=[], limit=page_size, offset=len(ids))["ids"]
            ids.extend(page)
            if len(page) < page_size:
                return ids

    def chunk_pages(self, name: str, size: int = _PAGE) -> Iterator[list[StoredChunk]]:
        """Every chunk of a collection with its text and metadata, ``size`` at a time."""
        offset = 0
        while True:
            with self._use.shared():  # per page: a reopen may come between two pages
                page = self._collection(name).get(
                    include=["documents", "metadatas"], limit=size, offset=offset
                )
            ids = page["ids"]
            yield [
                StoredChunk(chunk_id, text or "", metadata or {})
                for chunk_id, text, metadata in zip(
                    ids, page.get("documents") or [], page.get("metadatas") or [], strict=False
                )
            ]
            if len(ids) < size:
                return
            offset += size

    @_shared
    def query(self, name: str, vector: Vectors, n: int) -> list[StoredChunk]:
        """The ``n`` nearest chunk ids with their cosine similarity (no text: see :meth:`chunks`).

        Reading texts and metadata for every candidate doubled the query time at 100,000
        chunks; only the few passages finally returned are read.
        """
        result = self._collection(name).query(
            query_embeddings=[vector.tolist()], n_results=n, include=["distances"]
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [
            StoredChunk(chunk_id, "", {}, 1.0 - float(distance))
            for chunk_id, distance in zip(ids, distances, strict=False)
        ]

    @_shared
    def vectors(self, name: str, ids: Sequence[str]) -> dict[str, Vectors]:
        """Stored vectors of chunks given by id (ids without a vector here are left out)."""
        from chromadb.errors import InternalError

        if not ids:
            return {}
        handle = self._collection(name)
        try:
            return _vectors_of(handle, ids)
        except InternalError:  # a chunk another process wrote after this one loaded the index
            found: dict[str, Vectors] = {}
            for chunk_id in ids:
                with suppress(InternalError):
                    found.update(_vectors_of(handle, [chunk_id]))
            return found

    @_shared
    def chunks(self, name: str, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Texts and metadata of chunks given by id."""
        if not ids:
            return {}
        found = self._collection(name).get(ids=list(ids), include=["documents", "metadatas"])
        return {
            chunk_id: StoredChunk(chunk_id, text or "", metadata or {})
            for chunk_id, text, metadata in zip(
                found["ids"], found.get("documents") or [], found.get("metadatas") or [],
                strict=False,
            )
        }

    def close(self) -> None:
        """Forget collection handles and release the client (its SQLite files, for embedded)."""
        with self._use.exclusive():
            self._handles.clear()
            _release(self._client)

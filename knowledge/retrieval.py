"""The blocking part of a hybrid search: lexical and dense candidates, fusion, content.

The lexical side (analysis, BM25, its candidates' stored vectors) runs in a worker
thread while the question is embedded; the rest once the query vector is known. The
overlap paid off once the embedding ran on one thread (ONNX Runtime): with the C
engine's two OpenMP threads splitting each layer, a third busy thread on two cores
delayed the whole embedding (p95 +2 ms). Not kept: the Chroma query and the lexical
side in two threads (p50 -1 ms, p95/p99 no better).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import continued_list, list_cut_at_end, next_chunk_id
from knowledge.embeddings import Vectors, normalise
from knowledge.index import ChromaIndex, StoredChunk
from knowledge.lexical import LexicalMatch
from knowledge.lexical_sync import LexicalIndexes
from knowledge.records import CollectionInfo
from knowledge.search import Candidate, RankingWeights, dense_relevance, fused_score, rank


@dataclass(frozen=True)
class LexicalSide:
    """One collection's lexical match, its best candidates and their stored vectors."""

    collection: CollectionInfo
    match: LexicalMatch
    best: list[tuple[str, float]]
    vectors: dict[str, Vectors]


class HybridRetriever:
    """Dense + lexical candidates of each searched collection, fused and ranked."""

    def __init__(
        self,
        chroma: ChromaIndex,
        lexical: LexicalIndexes,
        *,
        similarity_floor: float,
        candidates: int,
    ) -> None:
        self._chroma = chroma
        self._lexical = lexical
        self._floor = similarity_floor
        self._candidates = candidates

    def lexical_side(
        self, targets: Sequence[CollectionInfo], groups: Sequence[Sequence[str]]
    ) -> list[LexicalSide]:
        """Each collection's lexical candidates for a query of synonym groups (one term
        each for a French question; see ``LexicalIndex.match_groups``); empty collections
        are left out."""
        sides = []
        for info in targets:
            index = self._lexical.get(info)
            if not len(index):  # an empty collection (a large stale index is never empty)
                continue
            match = index.match_groups(groups)
            best = match.best(self._candidates)
            vectors = self._chroma.vectors(info.name, [chunk_id for chunk_id, _ in best])
            sides.append(LexicalSide(info, match, best, vectors))
        return sides

    def retrieve(
        self,
        sides: Sequence[LexicalSide],
        vector: Vectors,
        weights: RankingWeights | float,
        keep: int,
    ) -> list[Candidate]:
        """The ``keep`` best candidates of the collections of ``sides`` (see
        :meth:`lexical_side`), dense and lexical, with their content."""
        query_vector = np.asarray(vector, dtype=np.float32)
        found: list[Candidate] = []
        for side in sides:
            found.extend(self._fused(side, query_vector))
        return self._with_content(rank(found, weights)[:keep])

    def with_feedback(
        self, targets: Sequence[CollectionInfo], vector: Vectors, depth: int, share: float
    ) -> Vectors:
        """The query vector moved towards the mean vector of its ``depth`` nearest passages.

        Used for a question in another language than the documents': its nearest
        passages are in the documents' language, so the moved vector sits closer to
        how they word the subject (English dev translations: right page first +1
        question on each dev set; French questions: no gain, so not used for them).
        """
        query_vector = np.asarray(vector, dtype=np.float32)
        nearest: list[tuple[float, str, str]] = []
        for info in targets:
            for hit in self._chroma.query(info.name, query_vector, depth):
                nearest.append((hit.similarity or 0.0, info.name, hit.chunk_id))
        nearest = sorted(nearest, reverse=True)[:depth]
        rows: list[Vectors] = []
        for name in dict.fromkeys(name for _, name, _ in nearest):
            ids = [chunk_id for _, owner, chunk_id in nearest if owner == name]
            rows.extend(self._chroma.vectors(name, ids).values())
        if not rows:
            return query_vector
        moved: Vectors = normalise(query_vector + share * np.mean(rows, axis=0))[0]
        return moved

    def rescore(self, ranked: Sequence[Candidate], vector: Vectors, dense_weight: float) -> None:
        """Dense and fused scores of ranked candidates recomputed for ``vector`` (order kept)."""
        query_vector = np.asarray(vector, dtype=np.float32)
        by_collection: dict[str, list[Candidate]] = {}
        for candidate in ranked:
            by_collection.setdefault(candidate.collection.name, []).append(candidate)
        for name, candidates in by_collection.items():
            stored = self._chroma.vectors(name, [item.chunk.chunk_id for item in candidates])
            for candidate in candidates:
                row = stored.get(candidate.chunk.chunk_id)
                if row is None:
                    continue
                candidate.dense = dense_relevance(float(row @ query_vector), self._floor)
                candidate.score = fused_score(candidate.dense, candidate.lexical, dense_weight)

    def _fused(self, side: LexicalSide, vector: Vectors) -> list[Candidate]:
        by_id: dict[str, Candidate] = {}
        for hit in self._chroma.query(side.collection.name, vector, self._candidates):
            by_id[hit.chunk_id] = Candidate(
                hit,
                side.collection,
                dense=dense_relevance(hit.similarity or 0.0, self._floor),
                lexical=side.match.score(hit.chunk_id),
            )
        for chunk_id, lexical in side.best:
            stored_vector = side.vectors.get(chunk_id)
            if chunk_id in by_id or stored_vector is None:  # None: deleted meanwhile
                continue
            similarity = float(stored_vector @ vector)
            by_id[chunk_id] = Candidate(
                StoredChunk(chunk_id, "", {}, similarity),
                side.collection,
                dense=dense_relevance(similarity, self._floor),
                lexical=lexical,
            )
        return list(by_id.values())

    def _continued(self, name: str, chunks: dict[str, StoredChunk]) -> dict[str, StoredChunk]:
        """The chunks whose list their end cut, with the items the next chunk of the same
        part opens on (``continued_list``; one read for all of them)."""
        following = {chunk_id: next_id for chunk_id, chunk in chunks.items()
                     if (next_id := next_chunk_id(chunk_id)) is not None
                     and list_cut_at_end(chunk.text)}
        if not following:
            return chunks
        read = self._chroma.chunks(name, list(following.values()))
        extended = dict(chunks)
        for chunk_id, next_id in following.items():
            chunk, after = chunks[chunk_id], read.get(next_id)
            if after is None or after.metadata.get("section") != chunk.metadata.get("section") \
                    or after.metadata.get("source") != chunk.metadata.get("source"):
                continue
            extended[chunk_id] = StoredChunk(chunk_id, continued_list(chunk.text, after.text),
                                             chunk.metadata, chunk.similarity)
        return extended

    def _with_content(self, ranked: list[Candidate]) -> list[Candidate]:
        """Read texts and metadata of the retained candidates only."""
        by_collection: dict[str, list[str]] = {}
        for candidate in ranked:
            by_collection.setdefault(candidate.collection.name, []).append(
                candidate.chunk.chunk_id
            )
        contents = {name: self._chroma.chunks(name, ids) for name, ids in by_collection.items()}
        contents = {name: self._continued(name, chunks) for name, chunks in contents.items()}
        kept = []
        for candidate in ranked:
            stored = contents[candidate.collection.name].get(candidate.chunk.chunk_id)
            if stored is None:  # deleted between the two reads
                continue
            candidate.chunk = StoredChunk(
                stored.chunk_id, stored.text, stored.metadata, candidate.chunk.similarity
            )
            kept.append(candidate)
        return kept

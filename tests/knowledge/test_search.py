"""Query-aware fusion: the lexical evidence picks the ranking weight, scores stay calibrated."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.collections import new_collection_info
from knowledge.index import StoredChunk
from knowledge.records import CollectionInfo, DataClass
from knowledge.search import Candidate, RankingWeights, fused_score, rank
from tests.knowledge.helpers import HashingEmbedder

WEIGHTS = RankingWeights(evidence=0.6, confident=0.65, weak=0.8, confident_lexical=0.4)


def _collection() -> CollectionInfo:
    return new_collection_info("c", title=None, data_class=DataClass.INTERNAL, company_wide=True,
                               embedder="test")


def _candidate(chunk_id: str, dense: float, lexical: float) -> Candidate:
    return Candidate(StoredChunk(chunk_id, "", {}), _collection(), dense=dense, lexical=lexical)


def test_weak_lexical_evidence_lets_the_dense_side_rank() -> None:
    # best lexical 0.3 < 0.4: dense weight 0.8 ranks; with 0.6 the lexical match would win
    common_words = _candidate("a", dense=0.40, lexical=0.30)
    meaning = _candidate("b", dense=0.55, lexical=0.0)
    assert fused_score(0.40, 0.30, 0.6) > fused_score(0.55, 0.0, 0.6)
    ranked = rank([common_words, meaning], WEIGHTS)
    assert [item.chunk.chunk_id for item in ranked] == ["b", "a"]
    # the reported scores keep the calibrated weight (relevance decisions read them)
    assert ranked[0].score == pytest.approx(0.6 * 0.55)
    assert ranked[1].score == pytest.approx(0.6 * 0.40 + 0.4 * 0.30)


def test_strong_lexical_evidence_keeps_both_sides() -> None:
    exact_words = _candidate("a", dense=0.40, lexical=0.90)
    meaning = _candidate("b", dense=0.70, lexical=0.0)
    ranked = rank([meaning, exact_words], WEIGHTS)
    assert [item.chunk.chunk_id for item in ranked] == ["a", "b"]  # 0.65 x 0.4 + 0.35 x 0.9


def test_a_fixed_weight_ranks_and_scores_alike() -> None:
    ranked = rank([_candidate("a", 0.2, 0.9), _candidate("b", 0.9, 0.1)], 1.0)
    assert [item.chunk.chunk_id for item in ranked] == ["b", "a"]
    assert [item.score for item in ranked] == [pytest.approx(0.9), pytest.approx(0.2)]
    assert RankingWeights.fixed(0.3).ranking(0.0) == RankingWeights.fixed(0.3).ranking(1.0) == 0.3


async def test_a_repeated_question_is_not_embedded_again(
    tmp_path: Path, settings: KnowledgeSettings
) -> None:
    embedder = HashingEmbedder()  # counts the queries it embeds
    kb = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    try:
        document = tmp_path / "guide.md"
        document.write_text("# Sinistres\n\nUn dégât des eaux se déclare sous cinq jours.\n")
        await kb.ingest([document], "docs")
        first = await kb.search("Délai pour un dégât des eaux ?", collections=["docs"], k=1)
        again = await kb.search("Délai pour un dégât des eaux ?", collections=["docs"], k=1)
        assert embedder.queries == 1 and first == again
        await kb.search("Délai pour un vol ?", collections=["docs"], k=1)
        assert embedder.queries == 2
    finally:
        kb.close()

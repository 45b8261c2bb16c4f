from __future__ import annotations

from knowledge.lexical import FrenchAnalyzer, LexicalIndex, strip_accents


def test_analyzer_handles_elision_accents_stopwords_and_stems() -> None:
    analyzer = FrenchAnalyzer()
    assert analyzer("L'assurée déclare qu'il a eu un sinistre d'habitation") == analyzer(
        "assurées déclarer il sinistres habitations"
    )
    assert analyzer("réclamation") == analyzer("reclamation")
    assert "le" not in analyzer("le la les de du")
    assert strip_accents("Œuvre réclamée") == "OEuvre reclamee"


def test_scores_are_normalised_and_rank_matches_first() -> None:
    analyzer = FrenchAnalyzer()
    texts = [
        "déclaration de sinistre habitation",
        "politique de télétravail",
        "sinistre automobile",
    ]
    index = LexicalIndex(["a", "b", "c"], [analyzer(text) for text in texts])

    top = index.top(analyzer("Comment déclarer un sinistre habitation ?"), 3)

    assert [chunk_id for chunk_id, _ in top] == ["a", "c"]
    assert 0.9 < top[0][1] <= 1.0 and 0 < top[1][1] < top[0][1]
    assert index.top(analyzer("inconnu"), 3) == []
    unknown_half = dict(index.top(analyzer("sinistre zzzz"), 3))
    assert unknown_half["a"] <= 0.5

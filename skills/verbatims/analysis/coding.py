"""Clauses → codebook themes, then discovery of the themes the codebook does not hold.

Keyword hits only seed the codes: a clause whose keywords point to one code more than to
any other is an example of it. Two classifiers learn each code from those examples on the
file being analysed (word and letter n-grams, and the clause embedding that carries
wordings without a keyword), twice more with their own confident guesses (self-training),
and every clause goes to the code they agree on when they are confident enough. What stays
uncoded is clustered as usual (``themes.cluster_clauses``): a subject the codebook lacks,
mentioned often enough, as tight as a code and not filler, becomes a discovered theme.

Measured on the synthetic set with the default codebook (10k rows, seeds 1 / 2 / held-out
3): theme macro-F1 0.799 / 0.803 / 0.802 (100k, seed 1: 0.806), against 0.599 / 0.625 /
0.561 (0.585) for discovery alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.embeddings import Vectors
from skills.verbatims.analysis.clauses import contact_only, fold
from skills.verbatims.analysis.themes import Clusters, cluster_clauses, unit_rows
from skills.verbatims.codebook import Codebook, KeywordMatcher

Labels = npt.NDArray[np.int64]
Probabilities = npt.NDArray[np.float64]
_MIN_SEEDS = 5  # a code with fewer keyword examples is not learnt (no clause goes to it)
_TRAIN_CAP = 40_000  # examples per training round (a random sample above that)
_ROUNDS = 2  # self-training rounds after the keyword one
_SELF_TRAIN = 0.9  # confident guesses added as examples for the next round
_ASSIGN = 0.5  # a clause goes to a code at this mean probability
_MERGE_COSINE = 0.8  # a discovered cluster this close to a code joins it
_MIN_DISCOVERED = 0.01  # a discovered theme is mentioned by this share of the answers
_FILLER_RATIO = 0.4  # ... and its clauses stand alone at least this share as often as a code's


@dataclass(frozen=True, slots=True)
class Coded:
    """``clusters``: codes first (index = position in the codebook), discovered after;
    ``names``: the codebook label of each coded theme, None for discovered ones."""

    clusters: Clusters
    names: tuple[str | None, ...]
    seeded: int  # clauses that had keyword examples
    coded: int  # clauses given a code


def _hits(matcher: KeywordMatcher, texts: list[str]) -> npt.NDArray[np.float64]:
    """Per text and code, the weight of its keywords found (an expression counts 2).

    Weighting rare keywords up (inverse document frequency) was tried: it breaks the ties
    between a specific and a generic keyword but seeds more wrongly (macro-F1 −0.01 to
    −0.03 on the synthetic set); ties simply leave the clause to the classifiers.
    """
    hits = np.zeros((len(texts), matcher.code_count))
    for row, text in enumerate(texts):
        hits[row] = matcher.hits(text)
    return hits


def _seeds(hits: npt.NDArray[np.float64]) -> Labels:
    """Per clause, the code its keywords point to most (-1: none, or a tie)."""
    order = np.sort(hits, axis=1)
    best = order[:, -1]
    second = order[:, -2] if hits.shape[1] > 1 else np.zeros(len(hits))
    found = np.argmax(hits, axis=1).astype(np.int64)
    return np.where((best > 0) & (best > second), found, -1)


class _Learner:
    """Word n-grams and embeddings → code probabilities (two logistic regressions, mean)."""

    def __init__(self, texts: Sequence[str], vectors: Vectors, seed: int) -> None:
        from scipy.sparse import hstack  # type: ignore[import-untyped]
        from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

        folded = [fold(text) for text in texts]
        words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                max_features=200_000).fit_transform(folded)
        # Letter trigrams to 5-grams read typos and SMS spellings (« rembourssement », « tjrs »).
        letters = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3,
                                  sublinear_tf=True, max_features=200_000).fit_transform(folded)
        self._words = hstack([words, letters]).tocsr()
        self._vectors = vectors
        self._seed = seed

    def fit_predict(self, rows: Labels, targets: Labels, codes: int) -> Probabilities:
        """Probabilities per clause and code, learnt from ``rows`` labelled ``targets``."""
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        if len(rows) > _TRAIN_CAP:
            keep = np.random.default_rng(self._seed).choice(len(rows), _TRAIN_CAP, replace=False)
            rows, targets = rows[keep], targets[keep]
        learnt = np.unique(targets)
        mean = np.zeros((self._words.shape[0], codes))
        for features in (self._words, self._vectors):
            model = LogisticRegression(C=4.0, max_iter=300)
            model.fit(features[rows], targets)
            mean[:, learnt] += model.predict_proba(features)
        return mean / 2.0


def code_clauses(texts: Sequence[str], vectors: Vectors, verbatim_of: Sequence[int],
                 codebook: Codebook, *, seed: int = 0) -> Coded:
    """Codebook theme per clause (self-trained from keyword seeds), then discovered themes."""
    codes = len(codebook.codes)
    count = len(texts)
    if count == 0:
        empty = Clusters(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), 0)
        return Coded(empty, (), 0, 0)
    matcher = KeywordMatcher(codebook)
    unique = {text: index for index, text in enumerate(dict.fromkeys(texts))}
    hits = _hits(matcher, list(unique))[[unique[text] for text in texts]]
    seeds = _seeds(hits)
    sizes = np.bincount(seeds[seeds >= 0], minlength=codes)
    usable = np.isin(seeds, np.flatnonzero(sizes >= _MIN_SEEDS))
    labels = np.full(count, -1, dtype=np.int64)
    contact = np.asarray([contact_only(text) for text in texts], dtype=np.bool_)
    if np.unique(seeds[usable]).size < 2:
        return _with_discovered(labels, vectors, verbatim_of, codebook, 0, seed)
    learner = _Learner(texts, vectors, seed)
    rows = np.flatnonzero(usable)
    targets = seeds[rows]
    probabilities = learner.fit_predict(rows, targets, codes)
    for _ in range(_ROUNDS):
        guess = np.argmax(probabilities, axis=1)
        confident = np.flatnonzero((probabilities.max(axis=1) >= _SELF_TRAIN) & ~usable)
        rows = np.concatenate([np.flatnonzero(usable), confident])
        targets = np.concatenate([seeds[usable], guess[confident]])
        probabilities = learner.fit_predict(rows, targets, codes)
    labels = _decide(probabilities, seeds, usable)
    labels[contact] = -2
    coded = _with_discovered(labels, vectors, verbatim_of, codebook, int(usable.sum()), seed)
    found = np.flatnonzero(coded.clusters.labels >= codes)
    if not len(found):
        return coded
    # The classifiers learnt codes only, so they gave some clauses of a subject the codebook
    # lacks to the nearest code; taught the discovered themes too, they take them back.
    themes = len(coded.names)
    probabilities = learner.fit_predict(np.concatenate([rows, found]),
                                        np.concatenate([targets, coded.clusters.labels[found]]),
                                        themes)
    labels = _decide(probabilities, seeds, usable)
    labels[contact] = -1
    return Coded(Clusters(labels, _centres(labels, vectors, themes), coded.clusters.fillers),
                 coded.names, coded.seeded, int(((labels >= 0) & (labels < codes)).sum()))


def _decide(probabilities: Probabilities, seeds: Labels, usable: npt.NDArray[np.bool_]
            ) -> Labels:
    """The theme the classifiers give ≥ ``_ASSIGN``; else a keyword example keeps its code
    (few examples per code in a small file leave them unsure of most clauses); else none."""
    best = np.argmax(probabilities, axis=1)
    decided: Labels = np.where(probabilities.max(axis=1) >= _ASSIGN, best,
                               np.where(usable, seeds, -1)).astype(np.int64)
    return decided


def _centres(labels: Labels, vectors: Vectors, themes: int) -> Vectors:
    """Unit mean vector per theme (zeros for a theme without clauses)."""
    centres = np.zeros((themes, vectors.shape[1]), dtype=np.float32)
    for theme in range(themes):
        members = labels == theme
        if members.any():
            centres[theme] = vectors[members].mean(axis=0)
    return unit_rows(centres)


def _with_discovered(labels: Labels, vectors: Vectors, verbatim_of: Sequence[int],
                     codebook: Codebook, seeded: int, seed: int) -> Coded:
    """Uncoded clauses clustered. A cluster near a code joins it; one mentioned by too few
    answers, looser than a typical code or made of filler stays uncoded; the others are new
    themes. (Giving a cluster to the code the classifiers lean to was tried: 100k macro-F1
    0.806 → 0.796.)"""
    codes = len(codebook.codes)
    centres = _centres(labels, vectors, codes)
    left = np.flatnonzero(labels == -1)
    names: list[str | None] = [code.label for code in codebook.codes]
    fillers = 0
    if len(left) >= 8:
        owners = np.asarray(verbatim_of, dtype=np.int64)[left]
        found = cluster_clauses(vectors[left], owners.tolist(), seed=seed)
        fillers = found.fillers
        extra: list[Vectors] = []
        answers = len(set(verbatim_of))
        # Filler (« Je n'ai jamais vu ça ») rides along with a subject: its clauses are the
        # only clause of their answer far less often than a code's.
        everyone = np.asarray(verbatim_of, dtype=np.int64)
        alone = np.bincount(everyone)[everyone] == 1
        rates = [float(alone[labels == code].mean()) for code in range(codes)
                 if (labels == code).any()]
        typical_alone = float(np.median(rates)) if rates else 0.0
        # A catch-all gathers what nothing else took: looser than a typical code.
        tightness = [float((vectors[labels == code] @ centres[code]).mean())
                     for code in range(codes) if (labels == code).any()]
        typical_tight = float(np.median(tightness)) if tightness else 0.0
        for cluster in range(len(found.centroids)):
            members = left[found.labels == cluster]
            closeness = centres @ found.centroids[cluster]
            nearest = int(np.argmax(closeness))
            if closeness[nearest] >= _MERGE_COSINE:
                labels[members] = nearest
                continue
            if len(set(owners[found.labels == cluster].tolist())) < _MIN_DISCOVERED * answers \
                    or alone[members].mean() < _FILLER_RATIO * typical_alone \
                    or float((vectors[members] @ found.centroids[cluster]).mean()) < typical_tight:
                continue
            labels[members] = codes + len(extra)
            extra.append(found.centroids[cluster])
            names.append(None)
        if extra:
            centres = np.vstack([centres, np.stack(extra)]).astype(np.float32)
    labels[labels < 0] = -1
    coded = int(((labels >= 0) & (labels < codes)).sum())
    return Coded(Clusters(labels, centres, fillers), tuple(names), seeded, coded)

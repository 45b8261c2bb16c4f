"""Themes from clause embeddings: fine k-means, filler and catch-all clusters set aside, near
twins merged, then clusters that keep turning up in the same answers merged.

Filler clusters (« Je n'ai jamais vu ça », « C'est épuisant ») group clauses that never make
an answer on their own: they ride along with an aspect. A cluster whose clauses are the only
clause of their verbatim far less often than the typical cluster is such filler.

An answer dwells on one or two subjects across its clauses (« impossible de joindre
quelqu'un » … « 40 minutes d'attente »): two fine clusters whose clauses meet in the same
answers far more often than chance (lift) are two wordings of one theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans  # type: ignore[import-untyped]

from knowledge.embeddings import Vectors

Labels = npt.NDArray[np.int64]
_FILLER_RATIO = 0.4  # a cluster alone less than this share of the median cluster is filler
_TWIN_COSINE = 0.92  # centroids this close are one theme
_MIN_SHARE = 0.003  # smaller clusters are not themes
# Catch-alls: k-means leaves some centres between subjects, gathering unrelated clauses
# (seed 1, 100k: 17 % of the answers under one label, purity 0.18). Their members sit far
# from their centre: mean cosine 0.32 against a median of 0.71 over the clusters. At 0.65
# (and 0.75) mixed but partly meaningful clusters went too (10k seed 1 macro-F1 −0.017).
_LOOSE = 0.6  # clusters less cohesive than this share of the median one are catch-alls...
_CATCH_ALL_SIZE = 1.5  # ... and larger than this many times the median cluster
_FIT_SAMPLE = 50_000  # clauses k-means is fitted on (all are then assigned)
# Measured on the synthetic set (seeds 1 and 2 at 10k, two k-means seeds; seed 1 at 100k):
# lift 4–6 help alike, 2–3 chain unrelated themes; a pair must also meet in enough answers.
_COOCCURRENCE_LIFT = 5.0
_COOCCURRENCE_MIN = 0.002


@dataclass(frozen=True, slots=True)
class Clusters:
    """``labels``: per clause, its theme index (-1: none); ``centroids``: one unit row per theme."""

    labels: Labels
    centroids: Vectors
    fillers: int  # clusters set aside as filler


def cluster_count(clauses: int) -> int:
    """How many fine clusters for this many clauses (merged and filtered afterwards)."""
    return int(min(60, max(4, round((clauses / 4) ** 0.5))))


def _kmeans(vectors: Vectors, k: int, seed: int) -> tuple[Labels, Vectors]:
    """Lloyd k-means; above ``_FIT_SAMPLE`` clauses it is fitted on a random sample of that
    many and every clause goes to its nearest centre.

    Mini-batch k-means was tried at 100k rows (257k clauses): one of its 60 centres settled
    between subjects and gathered 22k unrelated clauses (19 % of the answers, labelled
    « Numéro »). A full fit on a 50k sample does better (seed 1, 100k: theme macro-F1
    0.550 → 0.585) in similar time, but still leaves catch-alls: see ``_LOOSE``.
    """
    fitted = vectors
    if len(vectors) > _FIT_SAMPLE:
        chosen = np.random.default_rng(seed).choice(len(vectors), _FIT_SAMPLE, replace=False)
        fitted = vectors[np.sort(chosen)]
    distinct = len({row.tobytes() for row in fitted})  # repeated answers: fewer centres
    model = KMeans(n_clusters=max(1, min(k, distinct)), random_state=seed, n_init=2).fit(fitted)
    labels = np.asarray(model.predict(vectors), dtype=np.int64)
    return labels, np.asarray(model.cluster_centers_, dtype=np.float32)


def unit_rows(rows: npt.NDArray[np.float32]) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: Vectors = (rows / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    return unit


def _alone_rates(labels: Labels, verbatim_of: Sequence[int], k: int) -> npt.NDArray[np.float64]:
    owners = np.asarray(verbatim_of, dtype=np.int64)
    per_verbatim = np.bincount(owners)
    alone = per_verbatim[owners] == 1
    totals = np.bincount(labels, minlength=k).astype(np.float64)
    hits = np.bincount(labels, weights=alone.astype(np.float64), minlength=k)
    rates: npt.NDArray[np.float64] = hits / np.where(totals == 0, 1.0, totals)
    return rates


def _merge_twins(centroids: Vectors) -> list[int]:
    """Group index per centroid: centroids closer than the twin cosine share a group."""
    group = list(range(len(centroids)))

    def root(index: int) -> int:
        while group[index] != index:
            index = group[index]
        return index

    similarity = centroids @ centroids.T
    for first in range(len(centroids)):
        for second in range(first + 1, len(centroids)):
            if similarity[first, second] >= _TWIN_COSINE:
                group[root(second)] = root(first)
    roots = sorted({root(index) for index in range(len(centroids))})
    return [roots.index(root(index)) for index in range(len(centroids))]


def merge_companions(labels: Labels, verbatim_of: Sequence[int], themes: int) -> list[int]:
    """Group index per theme: themes whose clauses share answers ``_COOCCURRENCE_LIFT`` times
    more often than chance (and in enough answers) share a group."""
    owners = np.asarray(verbatim_of, dtype=np.int64)
    found = labels >= 0
    answers = int(owners.max()) + 1 if len(owners) else 0
    present = np.zeros((answers, themes), dtype=np.float32)
    present[owners[found], labels[found]] = 1.0
    together = present.T @ present  # answers holding both themes
    rates = present.mean(axis=0)
    expected = np.outer(rates, rates) * max(1, answers)
    lift = together / np.where(expected == 0, 1.0, expected)
    group = list(range(themes))

    def root(index: int) -> int:
        while group[index] != index:
            index = group[index]
        return index

    for first in range(themes):
        for second in range(first + 1, themes):
            if lift[first, second] >= _COOCCURRENCE_LIFT \
                    and together[first, second] >= _COOCCURRENCE_MIN * answers:
                group[root(second)] = root(first)
    roots = sorted({root(index) for index in range(themes)})
    return [roots.index(root(index)) for index in range(themes)]


def cohesion(vectors: Vectors, labels: Labels, centres: Vectors) -> npt.NDArray[np.float64]:
    """Per cluster, the mean cosine of its members to its centre (0 when empty)."""
    closeness = np.einsum("ij,ij->i", vectors, unit_rows(centres)[labels])
    sizes = np.bincount(labels, minlength=len(centres))
    mean: npt.NDArray[np.float64] = np.bincount(labels, weights=closeness,
                                                minlength=len(centres)) / np.maximum(sizes, 1)
    return mean


def catch_alls(tightness: npt.NDArray[np.float64], sizes: npt.NDArray[np.int64]
               ) -> npt.NDArray[np.bool_]:
    """Clusters both far looser (mean cosine to the centre) and larger than the typical one."""
    present = sizes > 0
    if not present.any():
        return np.zeros(len(sizes), dtype=np.bool_)
    loose = tightness < _LOOSE * float(np.median(tightness[present]))
    large = sizes > _CATCH_ALL_SIZE * float(np.median(sizes[present]))
    found: npt.NDArray[np.bool_] = loose & large & present
    return found


def cluster_clauses(vectors: Vectors, verbatim_of: Sequence[int], *, seed: int = 0) -> Clusters:
    """Theme per clause from its embedding; ``verbatim_of`` maps clause → verbatim index."""
    count = len(vectors)
    if count < 8:
        return Clusters(np.full(count, -1, dtype=np.int64), np.zeros((0, 0), np.float32), 0)
    k = cluster_count(count)
    fine, centres = _kmeans(vectors, k, seed)
    k = len(centres)  # fewer when the clauses repeat
    rates = _alone_rates(fine, verbatim_of, k)
    sizes = np.bincount(fine, minlength=k)
    median = float(np.median(rates[sizes > 0]))
    keep = (rates >= _FILLER_RATIO * median) & (sizes >= max(3, _MIN_SHARE * count)) \
        & ~catch_alls(cohesion(vectors, fine, centres), sizes)
    kept = np.flatnonzero(keep)
    if not len(kept):
        return Clusters(np.full(count, -1, dtype=np.int64), np.zeros((0, 0), np.float32), k)
    groups = _merge_twins(unit_rows(centres[kept]))
    mapping = np.full(k, -1, dtype=np.int64)
    mapping[kept] = groups
    labels = mapping[fine]
    companions = np.asarray(merge_companions(labels, verbatim_of, max(groups) + 1))
    labels = np.where(labels >= 0, companions[np.maximum(labels, 0)], -1)
    themes = int(companions.max()) + 1
    centroids = np.stack([vectors[labels == theme].mean(axis=0) for theme in range(themes)])
    return Clusters(labels, unit_rows(centroids.astype(np.float32)), int((~keep).sum()))

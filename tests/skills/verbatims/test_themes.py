"""Fine clustering: catch-all clusters are set aside, large inputs fit k-means on a sample."""

from __future__ import annotations

import numpy as np

from skills.verbatims.analysis.themes import _kmeans, catch_alls, cluster_clauses, cohesion


def _unit(rows: np.ndarray) -> np.ndarray:
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _subjects_and_scatter(subjects: int, per_subject: int, scattered: int,
                          seed: int = 0) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Tight groups (one subject each) plus clauses spread all over the sphere, one clause
    per answer: vectors, clause → answer, subject per clause (-1: none)."""
    rng = np.random.default_rng(seed)
    dims = subjects + 24
    rows, subject = [], []
    for index in range(subjects):
        centre = np.zeros(dims)
        centre[index] = 1.0
        rows.append(centre + 0.08 * rng.standard_normal((per_subject, dims)))
        subject += [index] * per_subject
    rows.append(rng.standard_normal((scattered, dims)))
    subject += [-1] * scattered
    return _unit(np.vstack(rows)), list(range(len(subject))), np.asarray(subject)


def test_cohesion_is_the_mean_cosine_to_the_centre() -> None:
    vectors = _unit(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]]))
    labels = np.array([0, 0, 1])
    centres = np.array([[1.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    found = cohesion(vectors, labels, centres)
    assert np.allclose(found, [np.sqrt(0.5), vectors[2, 0]], atol=1e-6)


def test_only_loose_and_large_clusters_are_catch_alls() -> None:
    tightness = np.array([0.70, 0.72, 0.71, 0.40, 0.40, 0.69, 0.0])
    sizes = np.array([100, 90, 110, 400, 80, 300, 0])
    assert catch_alls(tightness, sizes).tolist() == [False, False, False, True, False, False,
                                                     False]


def test_subjects_are_themes_and_scattered_clauses_not_one_theme() -> None:
    vectors, owners, subject = _subjects_and_scatter(8, 60, 400)
    clusters = cluster_clauses(vectors, owners)
    for index in range(8):  # each subject found, under one theme of its own
        found = clusters.labels[subject == index]
        assert (found >= 0).mean() > 0.9
        assert np.bincount(found[found >= 0]).max() / len(found) > 0.9
    scattered = clusters.labels[subject == -1]
    assert np.bincount(scattered[scattered >= 0]).max() < 0.5 * len(scattered)


def test_large_inputs_fit_on_a_sample_and_assign_every_clause() -> None:
    vectors, _, subject = _subjects_and_scatter(5, 11_000, 0, seed=1)
    labels, centres = _kmeans(vectors, 5, 0)
    assert len(labels) == len(vectors) == 55_000 and centres.shape == (5, vectors.shape[1])
    for index in range(5):
        assert np.bincount(labels[subject == index]).max() == 11_000

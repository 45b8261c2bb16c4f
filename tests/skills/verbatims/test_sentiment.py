"""Sentiment from the score column's bands, suggestions as neutral; companion clusters merged."""

from __future__ import annotations

import random

import numpy as np

from skills.verbatims.analysis.sentiment import (
    is_suggestion,
    score_classes,
    train_on_scores,
    verbatim_sentiments,
)
from skills.verbatims.analysis.themes import merge_companions

NEGATIVE = ["Attente interminable au téléphone, c'est inadmissible",
            "Remboursement toujours en retard, très déçu",
            "Application qui plante sans arrêt, lamentable"]
NEUTRAL = ["Dossier en cours de traitement, j'attends la suite",
           "Cotisation dans la moyenne du marché, sans plus",
           "Courrier reçu la semaine dernière, rien de particulier"]
POSITIVE = ["Conseillère très aimable et efficace, merci",
            "Remboursement reçu en deux jours, parfait",
            "Application simple et pratique, bravo"]


def test_score_bands_per_kind() -> None:
    assert score_classes([1, 2, 3, 4, 5, None], "stars5").tolist() == [0, 0, 1, 2, 2, -1]
    assert score_classes([0, 6, 7, 8, 9, 10], "nps").tolist() == [0, 0, 1, 1, 2, 2]
    assert score_classes([3, 5, 6, 7], "sat10").tolist() == [0, 1, 1, 2]


def test_the_text_wins_over_a_contradicting_score() -> None:
    rng = random.Random(2)
    texts: list[str] = []
    scores: list[float] = []
    for _ in range(150):
        kind = rng.randrange(3)
        texts.append(rng.choice((NEGATIVE, NEUTRAL, POSITIVE)[kind]))
        honest = (rng.choice((1, 2)), 3, rng.choice((4, 5)))[kind]
        scores.append(honest if rng.random() > 0.15 else 6 - honest)  # 15 % contradict
    predict = train_on_scores(texts, score_classes(scores, "stars5"), [True] * len(texts))
    assert predict is not None
    found = verbatim_sentiments(predict(NEGATIVE + NEUTRAL + POSITIVE),
                                [[t] for t in NEGATIVE + NEUTRAL + POSITIVE])
    assert found == ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 3
    # too few rows in a band: no model (the caller falls back to zero-shot guesses)
    assert train_on_scores(texts[:15], score_classes(scores[:15], "stars5"),
                           [True] * 15) is None


def test_answers_made_of_suggestions_are_neutral() -> None:
    assert is_suggestion("Il faudrait pouvoir suivre le dossier en ligne")
    assert is_suggestion("un lexique des termes serait utile")
    assert is_suggestion("Envoyez les relevés par mail")
    assert not is_suggestion("Chez vous tout est lent")
    assert not is_suggestion("Le conseiller était très aimable")
    leaning = np.array([[0.1, 0.2, 0.7], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    assert verbatim_sentiments(leaning, [["Ajoutez un chat en ligne"],
                                         ["Ajoutez un chat", "Le conseiller était parfait"],
                                         []]) == ["neutral", "positive", "neutral"]



def test_clusters_that_share_answers_merge() -> None:
    # 400 answers; themes 0 and 1 meet in 30 answers (ten times chance), theme 3 meets
    # theme 0 less often than chance would have it, theme 2 always comes alone
    owners: list[int] = []
    labels: list[int] = []
    for answer in range(400):
        found = [0, 1] if answer < 30 else [0, 3] if answer < 40 else [3] if answer < 230 \
            else [2]
        for theme in found:
            owners.append(answer)
            labels.append(theme)
    groups = merge_companions(np.asarray(labels, dtype=np.int64), owners, 4)
    assert groups[0] == groups[1] and len({groups[0], groups[2], groups[3]}) == 3

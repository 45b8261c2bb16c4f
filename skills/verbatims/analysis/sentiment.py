"""Sentiment without star labels: zero-shot against prototype sentences, then a fast
TF-IDF + logistic-regression model trained on the confident zero-shot guesses.

Clauses get a probability of being positive; a verbatim's polarity weighs its clauses, the
clause after « mais / par contre » counting double (it carries the point).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from knowledge.embeddings import Embedder, Vectors
from skills.verbatims.model import Sentiment

Floats = npt.NDArray[np.float64]

POSITIVE = (
    "Très satisfait, service excellent, je recommande.",
    "Tout s'est très bien passé, merci beaucoup.",
    "Rapide, efficace et agréable.",
    "Conseiller à l'écoute et compétent, parfait.",
    "Remboursement reçu rapidement, rien à redire.",
    "C'est simple et pratique, ça fonctionne bien.",
    "Bravo, c'est nettement mieux qu'avant.",
)
NEGATIVE = (
    "Très déçu, service lamentable, c'est inadmissible.",
    "Impossible de joindre quelqu'un, aucune réponse.",
    "C'est beaucoup trop cher et ça augmente encore.",
    "J'attends toujours, c'est beaucoup trop long.",
    "Erreur sur mon dossier et personne ne m'aide.",
    "Ça ne marche pas, bug permanent, c'est une honte.",
    "Je vais résilier et changer d'assurance.",
)
_CONFIDENT_SHARE = 0.35  # of clauses on each side kept to train the classifier
_NEUTRAL_MARGIN = 0.12  # a verbatim's probability this close to ½ is neutral
_CONTRAST_WEIGHT = 2.0


async def zero_shot(vectors: Vectors, embedder: Embedder) -> Floats:
    """Per row: closeness to positive prototypes minus closeness to negative ones."""
    prototypes = await embedder.embed_documents([*POSITIVE, *NEGATIVE])
    similarity = vectors @ prototypes.T
    positive = np.sort(similarity[:, : len(POSITIVE)], axis=1)[:, -2:].mean(axis=1)
    negative = np.sort(similarity[:, len(POSITIVE) :], axis=1)[:, -2:].mean(axis=1)
    scores: Floats = (positive - negative).astype(np.float64)
    return scores


def train_and_predict(texts: Sequence[str], guesses: Floats) -> Floats:
    """P(positive) per text, from a classifier trained on the most confident guesses."""
    if len(texts) < 20:
        return 1.0 / (1.0 + np.exp(-10.0 * guesses))
    order = np.argsort(guesses)
    take = max(5, int(_CONFIDENT_SHARE * len(texts)))
    negative, positive = order[:take], order[-take:]
    train = np.concatenate([negative, positive])
    target = np.concatenate([np.zeros(len(negative)), np.ones(len(positive))])
    vectoriser = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2,
                                 strip_accents="unicode", max_features=200_000)
    matrix = vectoriser.fit_transform(texts)
    model = LogisticRegression(C=2.0, max_iter=500)
    model.fit(matrix[train], target)
    probabilities: Floats = model.predict_proba(matrix)[:, 1].astype(np.float64)
    return probabilities


def polarity(probability: float) -> Sentiment:
    """Negative, neutral or positive from P(positive)."""
    if probability >= 0.5 + _NEUTRAL_MARGIN:
        return "positive"
    if probability <= 0.5 - _NEUTRAL_MARGIN:
        return "negative"
    return "neutral"


def verbatim_polarities(
    clause_probabilities: Floats,
    verbatim_of: Sequence[int],
    after_contrast: Sequence[bool],
    verbatims: int,
) -> list[Sentiment]:
    """Per verbatim, the weighted mean of its clauses' logits; no clause → neutral."""
    logits = np.log(np.clip(clause_probabilities, 1e-6, 1 - 1e-6)
                    / np.clip(1 - clause_probabilities, 1e-6, 1.0))
    weights = np.where(np.asarray(after_contrast, dtype=bool), _CONTRAST_WEIGHT, 1.0)
    owners = np.asarray(verbatim_of, dtype=np.int64)
    total = np.bincount(owners, weights=weights * logits, minlength=verbatims)
    mass = np.bincount(owners, weights=weights, minlength=verbatims)
    result: list[Sentiment] = []
    for summed, weight in zip(total, mass, strict=True):
        if weight == 0:
            result.append("neutral")
            continue
        result.append(polarity(float(1.0 / (1.0 + np.exp(-summed / weight)))))
    return result

"""Sentiment per verbatim and per clause: negative, neutral or positive.

With a score column (stars, NPS, satisfaction), the survey labels itself: a TF-IDF +
logistic-regression model learns three classes from the text of the rows whose score says
detractor, passive or promoter, then reads every text (its own rows included: a row whose
score contradicts its words gets the words' sentiment). Without one: seeds from a French
polarity lexicon that reads negation and the contrast rules of survey coders
(:mod:`polarity_lexicon`), zero-shot against prototype sentences where it finds no polar
word; the same kind of model trained on the confident seeds (two classes, two rounds); then
the final call joins the model's log-odds and the lexicon, half on the whole answer and
half on its segments read alone (the one after « mais » weighing more, an aside after
« seul bémol » less), which a bag of words cannot do. Lukewarm answers (« correct, sans
plus ») are neutral. Either way, an answer made only of suggestions (« il faudrait… »,
« … serait utile », « Envoyez… ») is neutral, as survey coders count it, and so is a
non-answer (« Pas d'avis », « RAS »).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

import skills.verbatims.analysis.polarity_lexicon as polarity_lexicon
from knowledge.embeddings import Embedder, Vectors
from skills.verbatims.model import ScoreKind, Sentiment

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
_CONFIDENT_SHARE = 0.3  # of texts on each side kept to train the classifier
_NEUTRAL_MARGIN = 0.1  # a theme mention's probability this close to ½ is neutral
_VERBATIM_MARGIN = 0.02  # a verbatim's (overall polarity is rarely neutral in surveys)
# The lexicon's score is in [-1, 1], zero-shot differences are ~0.05: the lexicon decides the
# seed where it finds polar words, zero-shot where it finds none.
_LEXICON_WEIGHT = 1.0
# The classifier's log-odds plus this × the lexicon score (contrast-aware) make the final
# call: measured +1 point of polarity over the classifier alone (synth seeds 1, 2; 3 to 10
# give the same within 0.1 point).
_FINAL_LEXICON_WEIGHT = 5.0
_WHOLE_SHARE = 0.5  # of the final log-odds from the whole text, the rest from its segments
_ZERO_SHOT_OFFSET = 0.01  # USE sits slightly closer to the positive prototypes
_MIN_CLASS = 10  # score-labelled rows needed per class to learn from the scores
# Score bands per kind: (highest negative, highest neutral); above is positive.
SCORE_BANDS: dict[ScoreKind, tuple[float, float]] = {
    "stars5": (2.0, 3.0), "nps": (6.0, 8.0), "sat10": (4.0, 6.0)}
_ROUNDS = 2  # self-training: the second model learns from the first one's confident guesses


async def zero_shot(vectors: Vectors, embedder: Embedder) -> Floats:
    """Per row: closeness to positive prototypes minus closeness to negative ones."""
    prototypes = await embedder.embed_documents([*POSITIVE, *NEGATIVE])
    similarity = vectors @ prototypes.T
    positive = np.sort(similarity[:, : len(POSITIVE)], axis=1)[:, -2:].mean(axis=1)
    negative = np.sort(similarity[:, len(POSITIVE) :], axis=1)[:, -2:].mean(axis=1)
    scores: Floats = (positive - negative).astype(np.float64)
    return scores


def lexicon_scores(texts: Sequence[str]) -> Floats:
    """Per text: the contrast-aware lexicon score in [-1, 1] (suggestions count for nothing)."""
    return polarity_lexicon.read(texts, is_suggestion).scores


def non_answers(texts: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Per text: whether it says nothing (« Pas d'avis », « RAS »): neutral whatever else."""
    return np.array([polarity_lexicon.is_non_answer(text) for text in texts], dtype=bool)


def _log_odds(probabilities: Floats) -> Floats:
    clipped = np.clip(probabilities, 1e-6, 1 - 1e-6)
    found: Floats = np.log(clipped / (1 - clipped))
    return found


def _probability(log_odds: Floats) -> Floats:
    found: Floats = 1 / (1 + np.exp(-log_odds))
    return found


def with_lexicon(probabilities: Floats, lexicon: Floats) -> Floats:
    """P(positive) from the classifier's log-odds and the lexicon's score together."""
    return _probability(_log_odds(probabilities) + _FINAL_LEXICON_WEIGHT * lexicon)


def read_by_segments(texts: Sequence[str], predict: Predict,
                     reading: polarity_lexicon.Reading) -> Floats:
    """P(positive) per text: half the whole text's (classifier and lexicon), half the mean of
    its segments' — each read alone, the one after « mais » weighing more, an aside less —
    which a bag of words over the whole answer cannot do."""
    whole = _log_odds(predict(texts)) + _FINAL_LEXICON_WEIGHT * reading.scores
    if not reading.pieces:
        return _probability(whole)
    read = _log_odds(predict(reading.pieces)) + _FINAL_LEXICON_WEIGHT * reading.piece_scores
    summed, total = np.zeros(len(texts)), np.zeros(len(texts))
    np.add.at(summed, reading.owners, reading.weights * read)
    np.add.at(total, reading.owners, reading.weights)
    parts = np.where(total > 0, summed / np.where(total > 0, total, 1.0), whole)
    return _probability(_WHOLE_SHARE * whole + (1 - _WHOLE_SHARE) * parts)


async def seed_scores(vectors: Vectors, lexicon: Floats, embedder: Embedder) -> Floats:
    """Zero-shot closeness to prototypes plus the lexicon's score (no star label is read)."""
    guesses = await zero_shot(vectors, embedder)
    seeded: Floats = guesses - _ZERO_SHOT_OFFSET + _LEXICON_WEIGHT * lexicon
    return seeded


Predict = Callable[[Sequence[str]], Floats]
CLASSES: tuple[Sentiment, ...] = ("negative", "neutral", "positive")  # columns of a Triples
Triples = Floats  # (n, 3): a weight for negative, neutral, positive per text; argmax wins


def as_triples(probabilities: Floats, margin: float) -> Triples:
    """P(positive) as triples whose argmax is :func:`polarity` with ``margin`` (also after
    averaging several rows)."""
    neutral = np.full(len(probabilities), 0.5 + margin)
    stacked: Triples = np.column_stack([1 - probabilities, neutral, probabilities])
    return stacked


def score_classes(scores: Sequence[float | None], kind: ScoreKind) -> npt.NDArray[np.int64]:
    """Per row: 0 negative, 1 neutral, 2 positive by its score band; -1 without a score."""
    low, middle = SCORE_BANDS[kind]
    classes = np.full(len(scores), -1, dtype=np.int64)
    for index, value in enumerate(scores):
        if value is not None:
            classes[index] = 0 if value <= low else 1 if value <= middle else 2
    return classes


def train_on_scores(texts: Sequence[str], classes: npt.NDArray[np.int64],
                    usable: Sequence[bool]) -> Callable[[Sequence[str]], Triples] | None:
    """Three-class probabilities learnt from the score bands (None when a class has too
    few rows to learn from: the caller falls back to zero-shot)."""
    chosen = np.asarray(usable, dtype=bool) & (classes >= 0)
    counts = np.bincount(classes[chosen], minlength=3)
    if (counts < _MIN_CLASS).any():
        return None
    vectoriser = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2,
                                 strip_accents="unicode", max_features=200_000)
    matrix = vectoriser.fit_transform(texts)
    model = LogisticRegression(C=2.0, max_iter=1000)
    model.fit(matrix[chosen], classes[chosen])

    def predict(batch: Sequence[str]) -> Triples:
        if not batch:
            return np.zeros((0, 3))
        found: Triples = model.predict_proba(vectoriser.transform(batch)).astype(np.float64)
        return found

    return predict


# Suggestions: a conditional wish, a request, or an imperative (« Envoyez… », « Prévenez… »).
_SUGGESTION = re.compile(
    r"\b(?:il faudrait|faudrait|ce serait|il serait|serai(?:en)?t (?:utiles?|bienvenue?s?|bien|"
    r"appr[ée]ciable|appr[ée]ci[ée]|pratique|un plus|le minimum|souhaitable|id[ée]al)|"
    r"pourriez|je sugg[èe]re|je propose|suggestion|souhaiterais|aimerais|merci de)\b"
    r"|^(?!chez\b|assez\b)[a-zà-ÿ]+ez\b", re.IGNORECASE)


def is_suggestion(clause: str) -> bool:
    """A clause that asks for something rather than judges (neutral in survey coding)."""
    return _SUGGESTION.search(clause) is not None


def _fit(matrix: Any, guesses: Floats) -> Any:
    order = np.argsort(guesses)
    take = max(5, int(_CONFIDENT_SHARE * len(guesses)))
    negative, positive = order[:take], order[-take:]
    train = np.concatenate([negative, positive])
    target = np.concatenate([np.zeros(len(negative)), np.ones(len(positive))])
    model = LogisticRegression(C=2.0, max_iter=500)
    model.fit(matrix[train], target)
    return model


def train(texts: Sequence[str], guesses: Floats) -> Predict:
    """P(positive) for any text, from classifiers trained on the most confident guesses."""
    if len(texts) < 20 or len(set(np.sign(guesses).tolist()) - {0.0}) < 2:
        return lambda batch: np.full(len(batch), 0.5)
    vectoriser = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2,
                                 strip_accents="unicode", max_features=200_000)
    matrix = vectoriser.fit_transform(texts)
    model = _fit(matrix, guesses)
    for _ in range(_ROUNDS - 1):
        probabilities = np.clip(model.predict_proba(matrix)[:, 1], 1e-6, 1 - 1e-6)
        model = _fit(matrix, np.log(probabilities / (1 - probabilities)))

    def predict(batch: Sequence[str]) -> Floats:
        if not batch:
            return np.zeros(0)
        found: Floats = model.predict_proba(vectoriser.transform(batch))[:, 1].astype(np.float64)
        return found

    return predict


async def text_only_triples(texts: Sequence[str], clause_texts: Sequence[str],
                            vectors: Vectors, has_clause: Sequence[bool],
                            embedder: Embedder) -> tuple[Triples, Triples]:
    """Triples per verbatim and per clause without a score column: seeds from zero-shot and
    the lexicon, a classifier trained on the confident ones, its log-odds joined again with
    the lexicon (which reads negation and contrast, where bag-of-words cannot)."""
    reading = await asyncio.to_thread(polarity_lexicon.read, texts, is_suggestion)
    seeds = await seed_scores(vectors, reading.scores, embedder)
    return await asyncio.to_thread(_learnt_from_seeds, texts, clause_texts, has_clause,
                                   reading, seeds)


def _learnt_from_seeds(texts: Sequence[str], clause_texts: Sequence[str],
                       has_clause: Sequence[bool], reading: polarity_lexicon.Reading,
                       seeds: Floats,
                       ) -> tuple[Triples, Triples]:
    """The classifier trained on the seeds, read per verbatim and per clause (in a worker
    thread: it is the long part)."""
    silent = non_answers(texts)
    said = np.asarray(has_clause, dtype=bool) & ~silent
    predict = train(texts, np.where(said, seeds, 0.0))
    overall = verbatim_triples(read_by_segments(texts, predict, reading))
    overall[reading.lukewarm] = (0.0, 1.0, 0.0)
    clauses = polarity_lexicon.read(clause_texts, is_suggestion)
    per_clause = clause_triples(with_lexicon(predict(clause_texts), clauses.scores))
    per_clause[clauses.lukewarm] = (0.0, 1.0, 0.0)
    overall[silent] = (0.0, 1.0, 0.0)
    return overall, per_clause


def without_non_answers(triples: Triples, texts: Sequence[str]) -> Triples:
    """The triples with every non-answer made neutral."""
    found: Triples = triples.copy()
    found[non_answers(texts)] = (0.0, 1.0, 0.0)
    return found


def polarity(probability: float, margin: float = _NEUTRAL_MARGIN) -> Sentiment:
    """Negative, neutral or positive from P(positive)."""
    if probability >= 0.5 + margin:
        return "positive"
    if probability <= 0.5 - margin:
        return "negative"
    return "neutral"


def verbatim_polarities(probabilities: Floats, has_clause: Sequence[bool]) -> list[Sentiment]:
    """Per verbatim: its polarity, neutral when it says nothing (no clause) or hesitates."""
    return [polarity(float(p), _VERBATIM_MARGIN) if said else "neutral"
            for p, said in zip(probabilities, has_clause, strict=True)]


def verbatim_triples(probabilities: Floats) -> Triples:
    """P(positive) of whole verbatims as triples (verbatims rarely hesitate: a thin band)."""
    return as_triples(probabilities, _VERBATIM_MARGIN)


def clause_triples(probabilities: Floats) -> Triples:
    """P(positive) of clauses as triples (a theme mention close to ½ is neutral)."""
    return as_triples(probabilities, _NEUTRAL_MARGIN)


def sentiment_of(triple: Floats) -> Sentiment:
    """The class a triple (or a mean of triples) gives."""
    return CLASSES[int(np.argmax(triple))]


def verbatim_sentiments(triples: Triples, clause_texts: Sequence[Sequence[str]]
                        ) -> list[Sentiment]:
    """Per verbatim: neutral without a clause or when every clause is a suggestion, else
    its class."""
    return [sentiment_of(triple) if said and not all(is_suggestion(c) for c in said)
            else "neutral" for triple, said in zip(triples, clause_texts, strict=True)]


def mean_vectors(vectors: Vectors, verbatim_of: Sequence[int], verbatims: int) -> Vectors:
    """Per verbatim, the unit mean of its clause vectors (zero without a clause)."""
    summed = np.zeros((verbatims, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    if len(vectors):
        np.add.at(summed, np.asarray(verbatim_of, dtype=np.int64), vectors)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    means: Vectors = (summed / np.where(norms == 0, 1.0, norms)).astype(np.float32)
    return means

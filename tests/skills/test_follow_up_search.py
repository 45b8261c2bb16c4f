"""Which search answers a follow-up: the one with its earlier questions, or its own."""

from __future__ import annotations

from dataclasses import replace

from knowledge import Passage
from knowledge.relevance import RelevanceJudge
from skills.follow_up_search import answered_alone, english_named, french_named
from tests.conftest import passage

QUESTION = "Et les alternatives à un procès ?"
PRESCRIPTION = passage(1, "Le délai de prescription est de 6 ans pour un délit.")
ALTERNATIVES = passage(2, "Les alternatives au procès sont la médiation et la composition "
                          "pénale.")


def _alone(named_question: str, subject: tuple[str, ...], combined: list[Passage],
           combined_score: float, alone: list[Passage], alone_score: float) -> bool:
    named = french_named(named_question, subject)
    assert named is not None
    return answered_alone(named, combined, combined_score, alone, alone_score)


def test_passages_saying_more_of_two_things_named_win_even_when_lower() -> None:
    subject = ("alternatives", "procès")
    assert _alone(QUESTION, subject, [PRESCRIPTION], 0.6, [ALTERNATIVES], 0.5)
    assert not _alone(QUESTION, subject, [ALTERNATIVES], 0.6, [PRESCRIPTION], 0.5)


def test_one_thing_named_needs_more_said_and_a_higher_score() -> None:
    question, subject = "Et si je vis à l'étranger ?", ("étranger",)
    page = passage(1, "La rectification d'un acte se demande au procureur.")
    elsewhere = passage(2, "Un étranger peut être contrôlé par la police.")
    assert not _alone(question, subject, [page], 0.66, [elsewhere], 0.60)
    assert _alone(question, subject, [page], 0.60, [elsewhere], 0.66)


def test_a_heading_of_the_same_document_saying_the_question_wins() -> None:
    question, subject = "Et les critères d'attribution ?", ("attribution",)
    variants = replace(passage(1, "L'acheteur décidera lors de l'attribution."),
                       section="4.2 – Variantes", document="RC.pdf")
    criteria = replace(passage(2, "Valeur technique 60 %, prix 40 %."),
                       section="7.2 – Critères d'attribution", document="RC.pdf")
    assert _alone(question, subject, [variants], 0.55, [criteria], 0.50)
    elsewhere = replace(criteria, document="autre.pdf")  # another document: it must score higher
    assert not _alone(question, subject, [variants], 0.55, [elsewhere], 0.50)
    assert _alone(question, subject, [variants], 0.55, [elsewhere], 0.60)


def test_declined_alone_the_search_with_the_earlier_question_answers() -> None:
    # « Et pour les stagiaires ? »: the policy says the rule, and the reply what it leaves out
    policy = passage(1, "Le télétravail est possible trois jours par semaine.")
    assert not _alone("Et pour les stagiaires ?", ("stagiaires",), [policy], 0.6, [], 0.2)


def test_a_noun_the_tagger_missed_or_a_kind_of_answer_is_not_declined() -> None:
    # « pièces » is in the passage's heading, though the tagger took « joindre » for the noun
    pieces = replace(passage(1, "Joignez les photos et les factures."),
                     section="Procédure > Pièces justificatives")
    assert not _alone("Et les pièces à joindre ?", ("joindre",), [pieces], 0.68, [], 0.43)
    # « temps » asks for a duration: the passages need not say the word
    delay = passage(1, "La demande est traitée sous deux semaines.")
    assert not _alone("Combien de temps ça prend ?", ("temps",), [delay], 0.58, [], 0.46)


def test_the_same_passage_found_alone_stands_alone_when_two_things_are_named() -> None:
    assert _alone(QUESTION, ("alternatives", "procès"), [ALTERNATIVES], 0.5,
                  [ALTERNATIVES], 0.7)
    assert not _alone("Et pour un crime ?", ("crime",), [PRESCRIPTION], 0.5,
                      [PRESCRIPTION], 0.7)


def test_nothing_named_nothing_searched_again() -> None:
    assert french_named("Et quelles sont les démarches ?", ()) is None
    assert french_named("Et pour un crime ?", None) is None  # the tagger unavailable
    assert english_named("And then?", RelevanceJudge()) is None


def test_an_english_follow_up_is_found_by_its_french_renderings() -> None:
    named = english_named("And what about the award criteria?", RelevanceJudge())
    assert named is not None and named.count == 1
    criteria = replace(passage(2, "Valeur technique 60 %, prix 40 %."),
                       section="7.2 – Critères d'attribution")
    assert named.headed(criteria) and named.left_out([criteria]) == 0
    assert named.left_out([passage(1, "Les variantes ne sont pas autorisées.")]) == 1

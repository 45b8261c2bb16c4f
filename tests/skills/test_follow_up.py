"""Follow-up questions: which read as the continuation of the thread's last question."""

from __future__ import annotations

import pytest

from bot.gateway.types import ChatTurn
from skills.follow_up import MAX_CHAIN, earlier_questions, points_back
from skills.question_subject import QuestionSubject


@pytest.mark.parametrize("question", [
    "Et pour les stagiaires ?", "et en cas de vol ?", "Mais si je suis en CDD ?",
    "Sinon ?", "Dans ce cas, qui paie ?", "OK, et pour un enfant ?", "What about interns?",
    "And for a child?", "Combien ça coûte ?", "Ce délai est-il prolongé ?",
    "How long does it take?", "Est-ce gratuit ?", "C'est payant ?",
    "Est-ce que c'est vraiment remboursé ?",
])
def test_continuations_and_pointers_read_as_follow_ups(question: str) -> None:
    assert points_back(question)


@pytest.mark.parametrize("question", [
    "Quel est le délai pour déclarer un sinistre habitation ?",
    "Qu'est-ce que la médiation familiale ?", "Est-ce que je peux télétravailler à l'étranger ?",
    "C'est quoi le RGPD ?", "Comment renouveler son passeport ?",
    "Est-ce que le télétravail est possible pour les stagiaires en alternance ?",
    "Is it possible to renew a passport online?", "Combien de jours de congés ai-je ?",
])
def test_questions_that_stand_alone_do_not(question: str) -> None:
    assert not points_back(question, QuestionSubject().words(question))


def test_a_french_question_that_names_nothing_reads_as_a_follow_up() -> None:
    subject = QuestionSubject()
    for question in ("Quelles sont les conditions ?", "Quel délai ?", "Est-ce obligatoire ?"):
        assert subject.words(question) == ()
        assert points_back(question, subject.words(question)), question
    assert not points_back("Quel délai ?", None)  # the tagger unavailable: no guess


def _turns(*questions: tuple[str, str | None]) -> tuple[ChatTurn, ...]:
    """Each question and its reply, which says it was read with the question before."""
    turns: list[ChatTurn] = []
    for text, skill in questions:
        turns += [ChatTurn("user", text, skill),
                  ChatTurn("assistant", "…\n\n(Question lue comme la suite de « … ».)", skill)]
    return tuple(turns)


def test_the_chain_starts_from_a_follow_up_answered_alone() -> None:
    history = list(_turns(("Justice pénale : quels délais de prescription ?", "qa"),
                          ("Et les alternatives à un procès ?", "qa")))
    assert earlier_questions(history, True) == (
        "Justice pénale : quels délais de prescription ?", "Et les alternatives à un procès ?")
    history[-1] = ChatTurn("assistant", "Selon « Alternatives aux poursuites » : …", "qa")
    assert earlier_questions(history, True) == ("Et les alternatives à un procès ?",)
    history[-1] = ChatTurn("assistant", "…\n\n(Read as following on from “…”.)", "qa")
    assert len(earlier_questions(history, True)) == 2
    history[-1] = ChatTurn("assistant", "Selon « Alternatives aux poursuites » : …", "qa")
    assert earlier_questions(history, True, past_alone=True) == (
        "Justice pénale : quels délais de prescription ?", "Et les alternatives à un procès ?")


def test_the_chain_goes_back_to_the_last_question_standing_alone() -> None:
    history = _turns(("Quel est le délai de préavis ?", "qa"),
                     ("Combien de jours de télétravail par semaine ?", "qa"),
                     ("Et pour les stagiaires ?", "qa"))
    assert earlier_questions(history, True) == (
        "Combien de jours de télétravail par semaine ?", "Et pour les stagiaires ?")
    assert earlier_questions(history, False) == ()


def test_the_chain_goes_through_a_follow_up_that_named_nothing() -> None:
    history = _turns(("Combien de jours de télétravail par semaine ?", "qa"),
                     ("Qui valide ?", "qa"))  # a follow-up for its nouns: it names none
    assert earlier_questions(history, True) == ("Qui valide ?",)  # tagger unknown: no guess
    assert earlier_questions(history, True, QuestionSubject().words) == (
        "Combien de jours de télétravail par semaine ?", "Qui valide ?")


def test_the_chain_is_bounded() -> None:
    history = _turns(("Quel délai de préavis ?", "qa"), *[("Et pour un CDD ?", "qa")] * 5)
    assert len(earlier_questions(history, True)) == MAX_CHAIN


@pytest.mark.parametrize("last", [
    ("/almia summary Appel de Mme Martin", "call_summary"),  # another skill
    ("/almia aide", "qa"),  # a command
    ("Bonjour !", "qa"),  # small talk
    ("Le client dit " + "que son toit fuit " * 40, "qa"),  # no question to go on from
])
def test_no_follow_up_after_anything_but_a_question(last: tuple[str, str | None]) -> None:
    history = _turns(("Combien de jours de télétravail par semaine ?", "qa"), last)
    assert earlier_questions(history, True) == ()


def test_no_follow_up_in_a_new_thread() -> None:
    assert earlier_questions((), True) == ()


def test_it_in_a_short_question_points_back() -> None:
    assert points_back("Is it mandatory?") and points_back("Is that allowed?")
    assert not points_back("Is it possible to renew a passport online?")


def test_a_question_asked_by_command_is_continued_without_its_command() -> None:
    for asked in ("/almia ask Combien de jours de télétravail ?",
                  "ask Combien de jours de télétravail ?",  # Slack's /almia command text
                  "/question Combien de jours de télétravail ?"):
        history = _turns((asked, "qa"))
        assert earlier_questions(history, True) == ("Combien de jours de télétravail ?",)
    assert earlier_questions(_turns(("/almia aide", "qa")), True) == ()

"""Which language a question is in: French, English, or clearly another one."""

from __future__ import annotations

import pytest

from knowledge.language import detect_language, is_other_language


@pytest.mark.parametrize("question", [
    "¿Cuál es el plazo de prescripción de una deuda de alquiler?",
    "¿Quién escribió la novela Guerra y paz?",
    "Come posso rinnovare il passaporto?",
    "Como posso renovar o meu passaporte?",
    "Wie bezahle ich meine lokalen Steuern?",
    "Kann ich das zinslose Darlehen mehr als einmal bekommen?",
    "Was ist der gemeinsame Sockel an Wissen, Kompetenzen und Kultur?",  # « was », « an »
])
def test_questions_in_other_languages_are_recognised(question: str) -> None:
    assert is_other_language(question)
    assert detect_language(question) != "en"


@pytest.mark.parametrize("question", [
    "Quel est le délai pour un arrêt de travail mis à jour ?",  # « mis » is Spanish too
    "Les ondes et le télétravail : quelles règles entre salariés ?",
    "Comment déclarer un sinistre ou un dégât des eaux chez nos clients ?",
    "Que faire en cas de litige avec un assureur ?",  # « que », « en », « un »: shared
    "What is family mediation?",
    "Is a hat required at the ceremony?",  # « hat » is German too
    "PTZ",
])
def test_french_and_english_questions_are_not_taken_for_another_language(
    question: str,
) -> None:
    assert not is_other_language(question)


@pytest.mark.parametrize(("question", "language"), [
    ("What does a CNIL number shown on a website mean?", "en"),  # « a », « on »: both
    ("How can I grow tomatoes on a balcony?", "en"),
    ("On a un doute : le contrat a-t-il été signé ?", "fr"),
    ("Il y a un problème sur mon compte", "fr"),
])
def test_words_both_languages_write_decide_nothing(question: str, language: str) -> None:
    assert detect_language(question) == language


def test_a_question_clearly_written_in_french() -> None:
    from knowledge.language import is_clearly_french

    assert is_clearly_french("Combien de jours de télétravail par semaine ?")
    assert is_clearly_french("Et l'indemnité ?")
    assert not is_clearly_french("Politique de télétravail")  # a title: one small word
    assert not is_clearly_french("What is the télétravail policy?")

"""« Résume ce document »: which questions ask about a whole document."""

from __future__ import annotations

import pytest

from skills.document_outline import asks_overview


@pytest.mark.parametrize("question", [
    "Résume ce document", "Peux-tu me résumer ce fichier ?", "De quoi parle ce PDF ?",
    "Que contient ce document ?", "Fais-moi une synthèse", "Résumé",
    "Quelles sont les grandes lignes du contrat ?", "Summarize this document",
    "What is this document about?",
])
def test_a_question_about_the_whole_document(question: str) -> None:
    assert asks_overview(question)


@pytest.mark.parametrize("question", [
    "Résume les pénalités", "Summarize the penalty clauses", "Quel est le plan de financement ?",
    "Quelle est la date limite ?",
])
def test_a_question_about_something_in_it(question: str) -> None:
    assert not asks_overview(question)

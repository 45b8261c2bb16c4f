"""Conditions on a column of figures, as questions about a table say them."""

from __future__ import annotations

import pytest

from bot.text import fold
from skills.table_conditions import conditions_in, said_conditions


@pytest.mark.parametrize(("question", "words", "op", "values", "french", "english"), [
    ("Combien de réponses avec une note inférieure à 3 ?", "note", "<", (3.0,), "< 3", "< 3"),
    ("… quand le NPS est supérieur ou égal à 9 ?", "nps", "≥", (9.0,), "≥ 9", "≥ 9"),
    ("How many scores below 3?", "scores", "<", (3.0,), "< 3", "< 3"),
    ("… with a score of at least 4?", "score of", "≥", (4.0,), "≥ 4", "≥ 4"),
    ("Combien de notes de 1 ou 2 ?", "notes", "in", (1.0, 2.0), "vaut 1 ou 2", "is 1 or 2"),
    ("Combien de notes entre 1 et 3 ?", "notes", "range", (1.0, 3.0), "de 1 à 3", "from 1 to 3"),
    ("Combien de réponses avec nps >= 9 ?", "nps", "≥", (9.0,), "≥ 9", "≥ 9"),
    ("Une note de 2,5 ?", "note", "=", (2.5,), "vaut 2,5", "is 2.5"),
    ("Une note de 4 ou plus ?", "note", "≥", (4.0,), "≥ 4", "≥ 4"),
    ("A score of 2 or less?", "score", "≤", (2.0,), "≤ 2", "≤ 2"),
])
def test_conditions_as_people_write_them(question: str, words: str, op: str,
                                         values: tuple[float, ...], french: str,
                                         english: str) -> None:
    [condition] = conditions_in(fold(question))
    assert condition.words.endswith(words) and (condition.op, condition.values) == (op, values)
    assert (condition.text("fr"), condition.text("en")) == (french, english)
    assert all(condition.holds(value) == _expected(op, values, value)
               for value in (0.0, 1.0, 2.0, 2.5, 3.0, 4.0, 9.0, 10.0))


def _expected(op: str, values: tuple[float, ...], value: float) -> bool:
    if op == "in":
        return value in values
    if op == "range":
        return values[0] <= value <= values[1]
    return {"<": value < values[0], "≥": value >= values[0], "≤": value <= values[0],
            "=": value == values[0]}[op]


@pytest.mark.parametrize("question", [
    "Combien de réponses entre 2023 et 2024 ?",  # a stretch of time
    "Quelle est la note moyenne de 2024 ?",
    "Quelle est la note moyenne pour l'auto ?",
    "Quel est le délai de 30 % ?",
])
def test_what_is_not_a_condition(question: str) -> None:
    assert conditions_in(fold(question)) == []


def test_the_comparator_and_figure_are_taken_out_the_column_s_name_stays() -> None:
    assert said_conditions(fold("Combien de notes inférieures à 3 ?")) == "combien de notes ?"

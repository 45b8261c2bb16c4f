"""What a question asks for, and whether a text carries it."""

from __future__ import annotations

import pytest

from bot.extractive import (
    asked_entity,
    entity_found,
)


@pytest.mark.parametrize(("question", "entity"), [
    ("How long is the password?", "number"),  # a length
    ("How long is the code?", "number"),
    ("How long is the notice period?", "duration"),
    ("How long is parental leave?", "duration"),
    ("How long is a claim processed?", "duration"),  # a verb says it lasts
    ("How long is the password kept?", "duration"),
    ("How long does it take?", "duration"),
])
def test_how_long_asks_a_time_only_when_a_time_is_named(question: str, entity: str) -> None:
    assert asked_entity(question) == entity


def test_a_duration_written_in_words_then_in_figures_is_carried() -> None:
    assert entity_found("duration", "Le délai est fixé à cent quatre-vingts (180) jours.")

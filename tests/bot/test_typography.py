"""French no-break spaces for Slack and Teams texts."""

from __future__ import annotations

from bot.typography import NO_BREAK_SPACE as NBSP
from bot.typography import french_spacing


def test_guillemets_and_high_punctuation_get_a_no_break_space() -> None:
    text = "Selon « Politique de télétravail » :\n- Combien ? Trois jours ; pas plus !"
    assert french_spacing(text) == (
        f"Selon «{NBSP}Politique de télétravail{NBSP}»{NBSP}:\n"
        f"- Combien{NBSP}? Trois jours{NBSP}; pas plus{NBSP}!"
    )


def test_code_spans_and_blocks_are_left_alone() -> None:
    text = 'Voir `a : b` puis :\n```\nx = {"a" : 1} ?\n```\nFin : ok'
    assert french_spacing(text) == (
        f'Voir `a : b` puis{NBSP}:\n```\nx = {{"a" : 1}} ?\n```\nFin{NBSP}: ok'
    )


def test_a_space_beside_a_formatting_mark_stays_ordinary() -> None:
    # Slack and Teams see bold and italics only beside an ordinary space
    assert french_spacing("**Remise des offres** : J-7") == "**Remise des offres** : J-7"
    assert french_spacing("« *titre* »") == "« *titre* »"


def test_text_without_french_spacing_is_returned_as_is() -> None:
    for text in ("http://x.fr/?a=1", "Ratio 3:2, 10 % ; ok", "No question here.", "a :b"):
        assert french_spacing(text) == text.replace(" ;", f"{NBSP};").replace(" %", f"{NBSP}%")
    assert french_spacing("Pourquoi ?!") == f"Pourquoi{NBSP}?!"


def test_a_percent_sign_stays_with_its_figure() -> None:
    assert french_spacing("promoteurs 21 %, passifs 22 %)") == (
        f"promoteurs 21{NBSP}%, passifs 22{NBSP}%)")

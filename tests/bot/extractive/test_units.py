"""Passages cut into quotable units: headings marked, lists kept with their lead-in."""

from __future__ import annotations

from bot.extractive import (
    heading_lines_marked,
)


def test_heading_lines_are_marked_and_list_items_and_sentences_are_not() -> None:
    text = ("FAQ santé\nComment sont remboursées les lunettes ?\n"
            "La monture est remboursée jusqu'à 100 €.\n- Monture\n1. Verres")

    assert heading_lines_marked(text).splitlines() == [
        "### FAQ santé", "### Comment sont remboursées les lunettes ?",
        "La monture est remboursée jusqu'à 100 €.", "- Monture", "1. Verres"]


def test_a_table_row_with_a_dash_in_a_cell_and_its_header_row_are_no_headings() -> None:
    text = ("Garantie | Niveau minimal exigé\n"
            "Garantie : Décès – perte totale et irréversible d'autonomie ; Niveau minimal "
            "exigé : capital égal à 100 % du traitement annuel brut")
    assert heading_lines_marked(text).splitlines() == [
        "Garantie | Niveau minimal exigé",
        "Garantie : Décès – perte totale et irréversible d'autonomie ; Niveau minimal exigé : "
        "capital égal à 100 % du traitement annuel brut"]

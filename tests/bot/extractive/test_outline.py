"""A structured summary offline: sentences sorted into the outline's sections by cue words."""

from __future__ import annotations

from bot.extractive import (
    CATCH_ALL_CUE,
    select_outline,
)
from bot.gateway.llm import OutlineSection
from tests.bot.extractive.requests import completion_request


def test_outline_sorts_sentences_by_cue_words() -> None:
    outline = (OutlineSection("Motif", ("j'appelle", "au sujet")),
               OutlineSection("Faits", (CATCH_ALL_CUE,)),
               OutlineSection("Engagements", ("je vais", "je vous rappelle")),
               OutlineSection("Vigilance", ("mécontent",)))
    text = select_outline(completion_request("synthèse", [
        "J'appelle au sujet de mon sinistre. Le sinistre date du 3 mars. "
        "Je vous rappelle demain. Le client est très mécontent du retard."
    ], outline))
    blocks = dict(block.split("\n", 1) for block in text.split("\n\n"))
    assert "J'appelle au sujet" in blocks["**Motif**"]
    assert "3 mars" in blocks["**Faits**"]
    assert "rappelle demain" in blocks["**Engagements**"]
    assert "mécontent" in blocks["**Vigilance**"]


def test_empty_section_says_nothing_was_noted() -> None:
    outline = (OutlineSection("Motif", ("appel",)), OutlineSection("Risques", ("litige",)))
    text = select_outline(completion_request("x", ["Appel du client pour un changement d'adresse."], outline))
    assert "**Risques**\n- (rien de relevé)" in text

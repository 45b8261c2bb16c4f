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


def test_a_labelled_line_goes_to_the_section_its_label_names() -> None:
    outline = (OutlineSection("Contexte", ("visite", "salariés", "rendez-vous")),
               OutlineSection("Besoins", ("besoin", "need")),
               OutlineSection("Propositions", (CATCH_ALL_CUE, "devis")),
               OutlineSection("Vigilance", ("vigilance", "risque")),
               OutlineSection("Prochaines étapes", ("prochain", "next")))
    text = select_outline(completion_request("visite", [
        "Besoin : une prévoyance collective pour les 40 salariés. Point de vigilance : le "
        "contrat actuel court jusqu'au 1er mai. Prochain rendez-vous : 10 avril, avec le devis."
    ], outline))
    blocks = dict(block.split("\n", 1) for block in text.split("\n\n"))
    assert "prévoyance collective" in blocks["**Besoins**"]  # not the context, for « salariés »
    assert "1er mai" in blocks["**Vigilance**"]
    assert "10 avril" in blocks["**Prochaines étapes**"]  # « Prochain » before « rendez-vous »

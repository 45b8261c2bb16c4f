"""The offline extractive provider: picks and cites sentences; sorts notes into sections."""

from __future__ import annotations

from bot.extractive import CATCH_ALL_CUE, select_answer, select_outline
from bot.llm import ChatTurn, CompletionRequest, ContextPassage, OutlineSection


def _request(question: str, passages: list[str], outline: tuple[OutlineSection, ...] = (),
             locale: str = "fr") -> CompletionRequest:
    return CompletionRequest(
        skill="qa", role="answer", messages=(ChatTurn("user", question),), question=question,
        passages=tuple(ContextPassage(n, f"Doc {n}", text) for n, text in enumerate(passages, 1)),
        outline=outline, locale=locale,  # type: ignore[arg-type]
    )


def test_answer_cites_the_relevant_sentence() -> None:
    text = select_answer(_request(
        "Quel est le délai pour déclarer un dégât des eaux ?",
        ["La cantine ouvre à midi. Les congés se posent dans l'outil RH.",
         "Un dégât des eaux doit être déclaré dans un délai de cinq jours ouvrés. "
         "Joignez des photos des dommages."],
    ))
    assert "cinq jours ouvrés. [2]" in text
    assert "cantine" not in text


def test_nothing_relevant_is_said_plainly() -> None:
    text = select_answer(_request("Quel est le prix du carburant ?", ["La cantine ouvre à midi."]),
                         )
    assert text.startswith("Je ne trouve")
    english = select_answer(_request("What is the fuel price?", ["La cantine ouvre à midi."],
                                     locale="en"))
    assert english.startswith("I can't find")


def test_outline_sorts_sentences_by_cue_words() -> None:
    outline = (OutlineSection("Motif", ("j'appelle", "au sujet")),
               OutlineSection("Faits", (CATCH_ALL_CUE,)),
               OutlineSection("Engagements", ("je vais", "je vous rappelle")),
               OutlineSection("Vigilance", ("mécontent",)))
    text = select_outline(_request("synthèse", [
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
    text = select_outline(_request("x", ["Appel du client pour un changement d'adresse."], outline))
    assert "**Risques**\n- (rien de relevé)" in text

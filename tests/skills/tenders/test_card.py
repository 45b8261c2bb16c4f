"""The screening card: object, buyer, deadline countdown and one fact per lot, blocking first."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from skills.tenders.card import deadline_text, screening_card
from skills.tenders.criteria import parse_criteria
from skills.tenders.documents import load_files
from skills.tenders.model import Fact
from skills.tenders.screening import ALL_MET, ASK_BUYER, CONDITIONAL, GO, LotScreening, reason_in
from skills.tenders.service import Screening, run
from tests.skills.tenders.dossiers import CRITERIA, hospital_dossier

TODAY = date(2027, 1, 15)


def _hospital() -> Screening:
    return run(load_files(list(hospital_dossier().items()), "dossier"), parse_criteria(CRITERIA),
               TODAY)


def test_one_fact_per_lot_with_its_decision_and_blocking_reasons_first() -> None:
    screening = _hospital()
    card = screening_card(screening, "fr")
    facts = dict(card.facts)
    assert list(facts)[:2] == ["Acheteur", "Remise des offres"]
    for lot in screening.lots:
        value = facts[f"Lot {lot.lot.number} – {lot.lot.title}"]
        assert value.startswith("⛔ NO-GO — " + lot.reasons[0][:40])
    assert "… et 3 autres motifs" in facts["Lot 1 – Flotte automobile et auto-collaborateurs"]
    assert card.text.startswith("2 lots : 0 go, 2 no-go, 0 go sous conditions.")


def test_english_labels_for_an_english_speaker() -> None:
    card = screening_card(_hospital(), "en")
    facts = dict(card.facts)
    assert facts["Offers due"] == "D-7 · 22/01/2027 at 12:00 (Paris time, UTC+01:00)"
    assert "Buyer" in facts and card.text.startswith("2 lots: 0 go, 2 no-go")


def test_go_and_conditional_lots_and_a_missing_deadline() -> None:
    screening = _hospital()
    first, second = screening.lots
    lots = (replace(first, decision=GO, reasons=("Tous les critères bloquants sont respectés.",),
                    reasons_en=()),
            LotScreening(second.lot, CONDITIONAL, (), second.verdicts))
    facts = dict(screening.extraction.facts)
    del facts["date_limite_offres"]
    changed = replace(screening, lots=lots,
                      extraction=replace(screening.extraction, facts=facts))
    card = dict(screening_card(changed, "fr").facts)
    assert card["Lot 1 – Flotte automobile et auto-collaborateurs"] == \
        "✅ GO — Tous les critères bloquants sont respectés"
    assert card["Lot 2 – Prévoyance statutaire des agents"] == "⚠️ GO SOUS CONDITIONS"
    assert card["Remise des offres"].startswith("introuvable dans le dossier")
    english = dict(screening_card(changed, "en").facts)
    assert english["Lot 1 – Flotte automobile et auto-collaborateurs"] == \
        "✅ GO — All blocking criteria are met"


def test_an_english_reader_gets_the_evidence_in_english_and_the_quotes_as_written() -> None:
    lot = _hospital().lots[1]
    french, english = lot.reasons_in("fr"), lot.reasons_in("en")
    assert french == lot.reasons and len(english) == len(french)
    assert any("Région non servie : Bretagne." in reason for reason in french)
    assert any(reason.endswith(": Region not served: Bretagne.") for reason in english)
    assert any("highest daily penalty 1% of the annual premium" in reason
               for reason in english)
    assert not any(word in reason for reason in english
                   for word in ("jours calendaires", "non détenue", "pas de plafond"))
    card = dict(screening_card(_hospital(), "en").facts)
    assert "Region not served" in card["Lot 2 – Prévoyance statutaire des agents"] or \
        "calendar days" in card["Lot 2 – Prévoyance statutaire des agents"]


def test_the_screening_s_own_words_are_in_the_reader_s_language() -> None:
    assert reason_in(ALL_MET.fr, "en") == "All blocking criteria are met."
    assert reason_in(ASK_BUYER.fr, "en") == "Questions to ask the buyer before deciding."
    unknown = "Effectif minimal (inconnu) : non trouvé dans le dossier"
    assert reason_in(unknown, "en") == "Effectif minimal (unknown): non trouvé dans le dossier"
    assert reason_in(unknown, "fr") == unknown


def test_the_countdown_says_today_passed_or_what_is_not_stated() -> None:
    timed = Fact("date_limite_offres", "2027-01-22T16:00:00", ())
    assert deadline_text(timed, date(2027, 1, 22)) == \
        "Jour J · 22/01/2027 à 16:00 (fuseau non précisé)"
    assert deadline_text(timed, date(2027, 1, 25), "en").startswith("passed 3 days ago · ")
    day_only = Fact("date_limite_offres", "2027-02-26", ())
    assert deadline_text(day_only, TODAY) == "J-42 · 26/02/2027 (heure non précisée)"
    assert deadline_text(Fact("date_limite_offres", "bientôt", ()), TODAY).startswith(
        "introuvable")

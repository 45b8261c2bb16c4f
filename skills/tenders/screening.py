"""Per lot, every criterion judged with its evidence, then go / no-go / go under conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.i18n import Text
from bot.messages import Locale
from skills.tenders.criteria import Criteria, Criterion
from skills.tenders.judges import MET, NOT_MET, UNKNOWN, Verdict, judge_for, verdict
from skills.tenders.model import Extraction, Lot

GO, NO_GO, CONDITIONAL = "go", "no-go", "go under conditions"
ALL_MET = Text("Tous les critères bloquants sont respectés.", "All blocking criteria are met.")
ASK_BUYER = Text("Questions à poser à l'acheteur avant de décider.",
                 "Questions to ask the buyer before deciding.")
_UNKNOWN = Text(" (inconnu) : ", " (unknown): ")
_FAILED = Text(" : ", ": ")


def reason_in(reason: str, locale: Locale) -> str:
    """A lot's reason as its reader reads it: the screening's own words in their language
    (the criteria's labels and the dossier's evidence stay as written)."""
    for sentence in (ALL_MET, ASK_BUYER):
        if reason == sentence.fr:
            return sentence(locale)
    return reason.replace(_UNKNOWN.fr, _UNKNOWN(locale), 1)


@dataclass(frozen=True, slots=True)
class LotScreening:
    """One lot's verdicts and decision, blocking reasons first."""

    lot: Lot
    decision: str
    reasons: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    reasons_en: tuple[str, ...] = ()  # the same for an English reader

    def reasons_in(self, locale: Locale) -> tuple[str, ...]:
        """The reasons in the reader's language (the criteria's labels stay as written)."""
        if locale == "en" and self.reasons_en:
            return self.reasons_en
        return tuple(reason_in(reason, locale) for reason in self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """``{"lot", "title", "decision", "reasons", "criteria": [...]}``."""
        return {"lot": self.lot.number, "title": self.lot.title, "decision": self.decision,
                "reasons": list(self.reasons),
                "criteria": [item.as_dict() for item in self.verdicts]}


def examine(criterion: Criterion, lot: Lot) -> Verdict:
    """A criterion no rule knows: unknown, to examine (an approved model may judge it)."""
    return verdict(criterion, UNKNOWN, Text("Critère sans règle automatique : à examiner.",
                                            "Criterion with no automatic rule: to examine."),
                   (), "à examiner")


def screen(extraction: Extraction, criteria: Criteria, today: date) -> list[LotScreening]:
    """Judge each lot against each criterion."""
    results = []
    for lot in extraction.lots:
        verdicts = []
        for criterion in criteria.items:
            judge = judge_for(criterion)
            verdicts.append(judge(criterion, lot, extraction, today) if judge is not None
                            else examine(criterion, lot))
        results.append(decide(lot, tuple(verdicts)))
    return results


def decide(lot: Lot, verdicts: tuple[Verdict, ...]) -> LotScreening:
    """no-go when a blocking criterion is not met; go under conditions when one is unknown."""
    failed = [item for item in verdicts if item.blocking and item.verdict == NOT_MET]
    unknown = [item for item in verdicts if item.blocking and item.verdict == UNKNOWN]
    decision = NO_GO if failed else CONDITIONAL if unknown else GO

    def reasons(locale: Locale) -> tuple[str, ...]:
        said = [f"{item.label}{_FAILED(locale)}{item.evidence_in(locale)}" for item in failed] + [
            f"{item.label}{_UNKNOWN(locale)}{item.evidence_in(locale)}" for item in unknown]
        if decision == GO:
            said = [ALL_MET(locale)]
        elif not failed and any(item.verdict == MET for item in verdicts):
            said.append(ASK_BUYER(locale))
        return tuple(said)

    return LotScreening(lot, decision, reasons("fr"), verdicts, reasons("en"))

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

    def as_dict(self) -> dict[str, Any]:
        """``{"lot", "title", "decision", "reasons", "criteria": [...]}``."""
        return {"lot": self.lot.number, "title": self.lot.title, "decision": self.decision,
                "reasons": list(self.reasons),
                "criteria": [item.as_dict() for item in self.verdicts]}


def examine(criterion: Criterion, lot: Lot) -> Verdict:
    """A criterion no rule knows: unknown, to examine (an approved model may judge it)."""
    return verdict(criterion, UNKNOWN, "Critère sans règle automatique : à examiner.", (),
                   "à examiner")


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
    reasons = [f"{item.label} : {item.evidence}" for item in failed] + [
        f"{item.label}{_UNKNOWN.fr}{item.evidence}" for item in unknown]
    decision = NO_GO if failed else CONDITIONAL if unknown else GO
    if decision == GO:
        reasons = [ALL_MET.fr]
    elif not failed and any(item.verdict == MET for item in verdicts):
        reasons.append(ASK_BUYER.fr)
    return LotScreening(lot, decision, tuple(reasons), verdicts)

"""The whole screening: dossier → facts (cached) → verdicts per lot → one result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from skills.tenders.cache import FactCache
from skills.tenders.clauses import Reader
from skills.tenders.criteria import Criteria
from skills.tenders.documents import load_files
from skills.tenders.facts import extract
from skills.tenders.judges import UNKNOWN
from skills.tenders.model import Dossier, Extraction
from skills.tenders.model_judge import passages_for
from skills.tenders.screening import LotScreening, screen


@dataclass(frozen=True, slots=True)
class Screening:
    """Facts, verdicts per lot and contradictions of one dossier, on one day."""

    extraction: Extraction
    lots: tuple[LotScreening, ...]
    criteria: Criteria
    today: date
    from_cache: bool = False

    def as_json(self) -> dict[str, Any]:
        """The JSON object of ``almia tenders screen --json`` (issue item 5)."""
        return {"dossier": self.extraction.dossier, "digest": self.extraction.digest,
                "today": self.today.isoformat(), "criteria_digest": self.criteria.digest,
                "facts_from_cache": self.from_cache,
                "documents": list(self.extraction.documents),
                "skipped": list(self.extraction.skipped),
                "facts": {key: fact.as_dict() for key, fact in self.extraction.facts.items()},
                "lots": [lot.as_dict() for lot in self.lots],
                "contradictions": [c.as_dict() for c in self.extraction.contradictions]}


def facts_for(dossier: Dossier, cache: FactCache | None) -> tuple[Extraction, bool]:
    """The dossier's facts, from the cache when it holds them."""
    if cache is not None:
        cached = cache.get(dossier.digest)
        if cached is not None:
            return cached, True
    extraction = extract(dossier)
    if cache is not None:
        cache.put(extraction)
    return extraction, False


def run(dossier: Dossier, criteria: Criteria, today: date,
        cache: FactCache | None = None) -> Screening:
    """Screen a loaded dossier."""
    extraction, cached = facts_for(dossier, cache)
    lots = with_passages_to_examine(Reader(dossier), criteria,
                                    tuple(screen(extraction, criteria, today)))
    return Screening(extraction, lots, criteria, today, cached)


def with_passages_to_examine(reader: Reader, criteria: Criteria,
                             lots: tuple[LotScreening, ...]) -> tuple[LotScreening, ...]:
    """Criteria left « à examiner » without a source get the dossier passages closest to
    them (their verdict stays unknown: a person, or the approved model, judges)."""
    rules = {item.id: item.rule for item in criteria.items}
    updated = []
    for lot in lots:
        verdicts = []
        for item in lot.verdicts:
            if item.verdict == UNKNOWN and not item.sources and item.judged_by == "à examiner":
                clauses = passages_for(reader, item, lot.lot.number, rules.get(item.criterion,
                                                                                ""))[:2]
                if clauses:
                    item = replace(item, evidence=item.evidence + " Passages à examiner cités.",
                                   evidence_en=item.evidence_en + " Passages to examine quoted.",
                                   sources=tuple(clause.source() for clause in clauses))
            verdicts.append(item)
        updated.append(replace(lot, verdicts=tuple(verdicts)))
    return tuple(updated)


def run_files(files: Sequence[tuple[str, bytes]], name: str, criteria: Criteria, today: date,
              cache: FactCache | None = None) -> Screening:
    """Screen named files (a ZIP or the documents)."""
    return run(load_files(files, name), criteria, today, cache)

"""Read every key fact of a dossier, each with its sources, and the contradictions."""

from __future__ import annotations

from skills.tenders import facts_general as general
from skills.tenders import facts_terms as terms
from skills.tenders.clauses import Clause, Reader
from skills.tenders.contradictions import disagreement
from skills.tenders.french import FoundDate
from skills.tenders.model import Contradiction, Dossier, Extraction, Fact, Source


def _comparable(found: list[tuple[FoundDate, Clause]]) -> list[tuple[str, Source]]:
    """Deadlines as statements: a day without an hour agrees with the same day with one."""
    timed_days = {item.day for item, _ in found if item.has_time}
    return [(item.iso(), clause.source(item.start, item.end, 70)) for item, clause in found
            if item.has_time or item.day not in timed_days]


def extract(dossier: Dossier) -> Extraction:
    """Facts keyed by the ids of the issue (``acheteur``, ``objet``, ``cpv``…)."""
    reader = Reader(dossier)
    facts: dict[str, Fact] = {}

    def put(fact: Fact | None) -> None:
        if fact is not None:
            facts[fact.id] = fact

    buyer = general.buyer(reader)
    put(buyer)
    put(general.reference(reader))
    put(general.subject(reader))
    put(general.procedure(reader))
    lots, lots_fact = general.lots(reader)
    put(lots_fact)
    put(general.cpv_codes(reader, lots))
    duration, duration_statements = terms.duration(reader)
    put(duration)
    amounts, annual, amount_statements = terms.amounts(reader, terms.max_years(duration),
                                                       len(lots))
    put(amounts)
    deadlines = general.deadline_candidates(reader)
    put(general.date_fact("date_limite_offres", deadlines))
    put(general.questions_deadline(reader))
    put(general.notice_date(reader))
    put(terms.award_criteria(reader))
    put(terms.documents_to_provide(reader))
    put(general.variants(reader))
    put(general.site_visit(reader))
    put(terms.penalties(reader)[0])
    put(terms.liability(reader)[0])
    put(terms.certifications(reader)[0])
    validity, validity_statements = general.offer_validity(reader)
    put(validity)
    put(terms.language(reader))
    put(terms.grouping(reader))
    put(terms.rate_guarantees(reader, terms.max_years(duration))[0])
    put(general.location(reader, buyer))
    put(general.headcount(reader))
    put(general.ccag(reader))
    put(general.appeals(reader))
    put(general.attention_points(reader))
    contradictions: list[Contradiction | None] = [
        disagreement("date limite de remise des offres", _comparable(deadlines)),
        disagreement("durée initiale", [(s.value, s.source)
                                        for s in duration_statements["duree_initiale"]]),
        disagreement("reconduction", [(s.value, s.source)
                                      for s in duration_statements["reconduction"]]),
        disagreement("délai de validité des offres",
                     [(f"{days} jours", source) for days, source in validity_statements]),
    ]
    for lot in sorted({lot for lot, _ in amount_statements}):
        contradictions.append(disagreement(
            f"montant annuel estimé du lot {lot}",
            [(s.value + " €", s.source) for number, s in amount_statements if number == lot]))
    return Extraction(dossier.name, dossier.digest, facts, lots,
                      tuple(item for item in contradictions if item is not None), annual,
                      tuple(document.name for document in dossier.documents), dossier.skipped)

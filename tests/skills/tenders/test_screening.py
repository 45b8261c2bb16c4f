"""Verdicts per criterion and per lot, always quoted; decisions with blocking reasons first."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from skills.tenders.cache import FactCache
from skills.tenders.criteria import parse_criteria
from skills.tenders.documents import load_files
from skills.tenders.service import Screening, run
from tests.skills.tenders.dossiers import (
    CRITERIA,
    hospital_dossier,
    syndicate_dossier,
    town_dossier,
)

TODAY = date(2027, 1, 15)


def _screen(files: dict[str, bytes], criteria: str = CRITERIA,
            cache: FactCache | None = None) -> Screening:
    return run(load_files(list(files.items()), "dossier"), parse_criteria(criteria), TODAY,
               cache)


def _verdicts(result: Screening, lot: int) -> dict[str, str]:
    [screened] = [item for item in result.lots if item.lot.number == lot]
    return {item.criterion: item.verdict for item in screened.verdicts}


def test_an_out_of_scope_lot_and_an_urgent_procedure_are_no_go_with_quotes() -> None:
    result = _screen(hospital_dossier())
    assert [lot.decision for lot in result.lots] == ["no-go", "no-go"]
    assert _verdicts(result, 1) == {
        "lines_of_business": "not met", "min_annual_premium": "met",
        "min_days_to_deadline": "not met", "regions_served": "not met",
        "certifications": "not met", "max_penalty_rate": "not met",
        "no_unlimited_liability": "not met", "max_rate_guarantee_years": "not met",
        "esg_report": "unknown"}
    assert _verdicts(result, 2)["lines_of_business"] == "met"
    first = result.lots[0]
    assert first.reasons[0].startswith("Branches") and "hors périmètre" in first.reasons[0]
    for lot in result.lots:
        for item in lot.verdicts:
            assert item.verdict == "unknown" or item.sources, item
    deadline = next(v for v in first.verdicts if v.criterion == "min_days_to_deadline")
    assert "7 jours" in deadline.evidence and "plusieurs dates" in deadline.evidence


def test_a_decoy_cover_limit_is_not_the_holders_liability() -> None:
    result = _screen(town_dossier())
    verdicts = _verdicts(result, 1)
    assert verdicts["no_unlimited_liability"] == "met"
    assert set(verdicts.values()) == {"met", "unknown"}  # the ESG criterion has no rule
    assert result.lots[0].decision == "go"  # the unknown criterion does not block


def test_no_evidence_is_unknown_and_makes_a_blocking_criterion_conditional() -> None:
    files = town_dossier()
    del files["CCAP_sante_2027.docx"]  # no amount, no penalties, no liability clause
    result = _screen(files)
    verdicts = _verdicts(result, 1)
    assert verdicts["min_annual_premium"] == verdicts["max_penalty_rate"] == "unknown"
    assert verdicts["no_unlimited_liability"] == "unknown"
    lot = result.lots[0]
    assert lot.decision == "go under conditions"
    assert all("(inconnu)" in reason for reason in lot.reasons[:-1])


def test_rescreening_with_new_criteria_reuses_the_cached_facts(tmp_path: Path) -> None:
    cache = FactCache(tmp_path / "facts")
    files = town_dossier()  # built once: python-docx stamps each build with the time
    first = _screen(files, cache=cache)
    assert not first.from_cache and first.lots[0].decision == "go"
    stricter = CRITERIA.replace("min_eur_ttc_per_lot_per_year: 40000",
                                "min_eur_ttc_per_lot_per_year: 100000")
    second = _screen(files, stricter, cache)
    assert second.from_cache and second.lots[0].decision == "no-go"
    assert second.extraction.facts.keys() == first.extraction.facts.keys()
    assert second.as_json()["facts"] == first.as_json()["facts"]


def test_the_json_shape_of_the_issue() -> None:
    data = _screen(hospital_dossier()).as_json()
    assert {"facts", "lots", "contradictions"} <= data.keys()
    fact = data["facts"]["date_limite_offres"]
    assert set(fact) >= {"value", "sources"}
    assert set(fact["sources"][0]) >= {"document", "page", "article", "quote"}
    lot = data["lots"][0]
    assert set(lot) >= {"lot", "title", "decision", "criteria"}
    assert set(lot["criteria"][0]) >= {"criterion", "verdict", "sources"}
    assert set(data["contradictions"][0]) == {"topic", "values"}
    assert set(data["contradictions"][0]["values"][0]) == {"value", "source"}


def test_tables_brackets_and_a_decoy_cover_table_with_the_shipped_sample() -> None:
    from skills.tenders.criteria import load_criteria

    result = run(load_files(list(syndicate_dossier().items()), "syndicat"),
                 load_criteria(None), TODAY)
    facts = result.extraction.facts
    assert [lot.title for lot in result.extraction.lots] == [
        "Responsabilité civile générale", "Prévoyance – maintien de salaire des agents"]
    assert result.extraction.lot_amounts == {1: 30000.0, 2: 150000.0}
    assert facts["cpv"].value == {"lot_1": ["66516000-0"], "lot_2": ["66512000-2"]}
    assert facts["date_limite_offres"].value == "2027-03-08T17:00:00+01:00"
    assert not result.extraction.contradictions  # the cover's day agrees with the article
    assert facts["duree"].value["duree_maximale_mois"] == 48  # 12 months, renewed 3 times
    assert facts["criteres_attribution"].value["valeur_technique"]["poids"] == 60.0
    assert "Oise (60)" in str(facts["localisation"].value)
    first, second = (_verdicts(result, 1), _verdicts(result, 2))
    assert first["lines_of_business"] == "not met"  # RC is excluded in the sample policy
    assert first["no_unlimited_liability"] == second["no_unlimited_liability"] == "met"
    assert second["lines_of_business"] == "met" and second["max_penalty_rate"] == "not met"
    assert second["max_rate_guarantee_years"] == "met" and second["regions_served"] == "met"
    assert [lot.decision for lot in result.lots] == ["no-go", "no-go"]


def test_a_cover_limit_alone_is_no_evidence_of_unlimited_liability() -> None:
    from tests.skills.tenders.dossiers import docx

    files = town_dossier()
    files["CCAP_sante_2027.docx"] = docx([
        "CAHIER DES CLAUSES ADMINISTRATIVES PARTICULIÈRES",
        ("h1", "Article 6 : Assurances du titulaire"),
        "Les garanties souscrites couvrent les dommages corporels sans limitation de somme."])
    result = _screen(files)
    assert "responsabilite" not in result.extraction.facts
    assert _verdicts(result, 1)["no_unlimited_liability"] == "unknown"

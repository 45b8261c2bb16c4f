"""The company's criteria file: values of the wrong kind are refused by name."""

from __future__ import annotations

import pytest

from skills.tenders.criteria import SAMPLE, CriteriaError, load_criteria, parse_criteria


def test_the_shipped_sample_is_valid() -> None:
    assert len(load_criteria(SAMPLE).items) == 8


@pytest.mark.parametrize(("criterion", "named"), [
    ("{id: min_annual_premium, min_eur_ttc_per_lot_per_year: cinquante mille}",
     "« min_eur_ttc_per_lot_per_year » attend un nombre positif"),
    ("{id: min_days_to_deadline, min_calendar_days: -5}",
     "« min_calendar_days » attend un nombre entier positif"),
    ("{id: regions_served, regions: Bourgogne-Franche-Comté}",
     "« regions » attend une liste de noms"),
    ("{id: certifications, acpr_branches_held: [1, 99]}", "branche ACPR de 1 à 39"),
    ("{id: certifications, held: {hds: oui}}", "« held » attend une table « nom: true/false »"),
    ("{id: min_days_to_deadline, blocking: oui}", "« blocking » doit valoir true ou false"),
])
def test_a_value_of_the_wrong_kind_is_refused_by_name(criterion: str, named: str) -> None:
    with pytest.raises(CriteriaError) as refused:
        parse_criteria(f"criteria:\n  - {criterion}\n")
    assert named in str(refused.value)
    assert "critère « " in str(refused.value)


def test_a_yaml_error_says_where_in_french() -> None:
    with pytest.raises(CriteriaError) as broken:
        parse_criteria("criteria:\n  - id: regions_served\n    regions: [Bretagne\n")
    assert "ligne" in str(broken.value) and "while parsing" not in str(broken.value)

"""French procurement patterns: dates and hours, amounts, fractions, durations."""

from __future__ import annotations

import re

from skills.tenders.french import (
    DURATION,
    duration_months,
    find_amounts,
    find_dates,
    find_fractions,
    find_percents,
)


def test_dates_in_words_and_figures_with_hours_in_paris_time() -> None:
    found = find_dates("avant le vendredi 26 février 2027 à 12h00 (heure de Paris) ou le "
                       "1er mars 2027, sinon 15/03/2027 à 16 h 30")
    assert [item.iso() for item in found] == ["2027-02-26T12:00:00+01:00", "2027-03-01",
                                              "2027-03-15T16:30:00+01:00"]
    assert found[0].text == "vendredi 26 février 2027 à 12h00"
    assert find_dates("le 31 février 2027") == []


def test_amounts_percentages_and_fractions() -> None:
    amounts = find_amounts("780 000 € par an, 1,5 M€ au total, 40 000 euros TTC et 12 k€")
    assert [a.value for a in amounts] == [780000, 1500000, 40000, 12000]
    assert [p for p, _, _ in find_percents("50 % puis 2,5 %")] == [50.0, 2.5]
    rate = find_fractions("égale à 1/3 000e du montant annuel")
    assert len(rate) == 1 and abs(rate[0][0] - 100 / 3000) < 1e-9


def test_durations_in_words_with_figures_in_brackets() -> None:
    def months(text: str) -> int:
        match = DURATION.search(text)
        assert match is not None
        return duration_months(match)
    assert months("une durée initiale de quatre (4) ans") == 48
    assert months("pour une durée de deux ans") == 24
    assert months("pour 18 mois") == 18
    assert re.search(DURATION, "cent quatre-vingts (180) jours") is not None

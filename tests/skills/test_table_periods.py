"""The stretch of time a question about a table keeps to."""

from __future__ import annotations

from datetime import date

import pytest

from bot.text import fold
from skills.table_periods import names_span, said_span, span_in

_LAST = date(2024, 11, 30)  # the table's last date


@pytest.mark.parametrize(("question", "start", "end", "french", "english"), [
    ("Combien de réponses en 2024 ?", date(2024, 1, 1), date(2025, 1, 1), "en 2024", "in 2024"),
    ("La note moyenne depuis mars ?", date(2024, 3, 1), None, "depuis mars 2024",
     "since March 2024"),
    ("Average score since April 2023?", date(2023, 4, 1), None, "depuis avril 2023",
     "since April 2023"),
    ("Combien avant 2024 ?", None, date(2024, 1, 1), "avant 2024", "before 2024"),
    ("Combien après 2023 ?", date(2024, 1, 1), None, "après 2023", "after 2023"),
    ("Entre janvier et juin 2024 ?", date(2024, 1, 1), date(2024, 7, 1),
     "de janvier 2024 à juin 2024", "from January 2024 to June 2024"),
    ("Entre novembre et février ?", date(2023, 11, 1), date(2024, 3, 1),
     "de novembre 2023 à février 2024", "from November 2023 to February 2024"),
    ("Du 01/01/2024 au 31/03/2024 ?", date(2024, 1, 1), date(2024, 4, 1),
     "du 01/01/2024 au 31/03/2024", "from 2024-01-01 to 2024-03-31"),
    ("Au premier trimestre 2024 ?", date(2024, 1, 1), date(2024, 4, 1), "en T1 2024",
     "in Q1 2024"),
    ("What about Q3 2023?", date(2023, 7, 1), date(2023, 10, 1), "en T3 2023", "in Q3 2023"),
    ("Et au premier semestre 2024 ?", date(2024, 1, 1), date(2024, 7, 1), "en S1 2024",
     "in H1 2024"),
    ("In the second half of 2023?", date(2023, 7, 1), date(2024, 1, 1), "en S2 2023",
     "in H2 2023"),
    ("Jusqu'à fin juin ?", None, date(2024, 7, 1), "jusqu'à juin 2024", "until June 2024"),
    ("En décembre ?", date(2023, 12, 1), date(2024, 1, 1), "en décembre 2023",
     "in December 2023"),  # the last December the table can hold
    # words relative to now: from the table's last date, said
    ("Sur les 6 derniers mois ?", date(2024, 6, 1), date(2024, 12, 1),
     "sur les 6 derniers mois du fichier (juin 2024 à novembre 2024)",
     "over the file's last 6 months (June 2024 to November 2024)"),
    ("Over the last three months?", date(2024, 9, 1), date(2024, 12, 1),
     "sur les 3 derniers mois du fichier (septembre 2024 à novembre 2024)",
     "over the file's last 3 months (September 2024 to November 2024)"),
    ("Et ce mois-ci ?", date(2024, 11, 1), date(2024, 12, 1),
     "en novembre 2024 (le dernier mois du fichier)", "in November 2024 (the file's last month)"),
    ("Cette année ?", date(2024, 1, 1), date(2025, 1, 1),
     "en 2024 (la dernière année du fichier)", "in 2024 (the file's last year)"),
    ("And last year?", date(2023, 1, 1), date(2024, 1, 1),
     "en 2023 (l'année précédant la dernière du fichier)",
     "in 2023 (the year before the file's last)"),
])
def test_spans_of_time_as_people_say_them(question: str, start: date | None,
                                         end: date | None, french: str, english: str) -> None:
    span = span_in(fold(question), _LAST)
    assert span is not None
    assert (span.start, span.end, span.text("fr"), span.text("en")) == (
        start, end, french, english)
    assert names_span(fold(question))


@pytest.mark.parametrize("question", [
    "Quelle est la note moyenne ?",
    "Combien de réponses pour les T2 ?",  # a flat of two rooms
    "Combien pour T2 ?",
    "How many answers may I get?",
    "Combien de réponses en sept ?",  # an abbreviation alone
    "Entre le 31/02/2024 et mars ?",  # no such day
])
def test_words_that_only_look_like_time(question: str) -> None:
    assert span_in(fold(question), _LAST) is None


def test_the_words_saying_the_span_are_taken_out() -> None:
    assert said_span(fold("Et depuis mars 2024 ?")).split() == ["et", "?"]
    assert said_span(fold("Et pour l'auto ?")) == fold("Et pour l'auto ?")

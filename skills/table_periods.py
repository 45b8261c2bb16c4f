"""The stretch of time a question about a table keeps to, read from its words: a year
(« en 2024 »), a month (« en mars 2024 », “in March”), a quarter (« au premier trimestre
2024 », « T1 2024 », “Q3 2023”), a day (« 15/03/2024 »), and the spans between them
(« depuis mars 2024 », « avant 2024 », « entre janvier et juin 2024 », « de janvier à
mars », “since April”, “between January and June 2024”).

A month or quarter said without its year is the latest one the table holds (its last date
decides), so « depuis mars » in December 2024's export means March 2024. Words relative to
now (« les 6 derniers mois », « cette année », « l'an dernier », “last month”) are read
from the table's last date too, and the answer says which months or year that made: an
export is read after the fact, and what it calls « now » is its last row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.messages import Locale

_MONTHS = {
    "janvier": 1, "janv": 1, "january": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "february": 2, "feb": 2,
    "mars": 3, "march": 3,
    "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6,
    "juillet": 7, "juil": 7, "july": 7,
    "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "sept": 9, "september": 9,
    "octobre": 10, "october": 10, "oct": 10,
    "novembre": 11, "november": 11, "nov": 11,
    "decembre": 12, "december": 12, "dec": 12,
}
_ORDINALS = {"premier": 1, "1er": 1, "first": 1, "1st": 1, "deuxieme": 2, "second": 2,
             "2e": 2, "2eme": 2, "2nd": 2, "troisieme": 3, "third": 3, "3e": 3, "3eme": 3,
             "3rd": 3, "quatrieme": 4, "fourth": 4, "4e": 4, "4eme": 4, "4th": 4,
             "dernier": 4, "last": 4}
_MONTH_NAMES_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                   "septembre", "octobre", "novembre", "décembre")
_MONTH_NAMES_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December")

_YEAR = r"(?:19|20)\d{2}"
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORDINAL = "|".join(sorted(_ORDINALS, key=len, reverse=True))
# one point in time, as said: a day, a month or quarter (its year optional), a year
_POINT = (rf"(?:(?:le |the )?\d{{1,2}}/\d{{1,2}}/{_YEAR}|{_YEAR}-\d{{2}}-\d{{2}}"
          rf"|(?:(?:la |the )?(?:fin|debut|end of|beginning of|start of) (?:de |d')?)?"
          rf"(?:(?:mois de |month of )?(?:{_MONTH})\.?"
          rf"|(?:le |the )?(?:{_ORDINAL}) (?:trimestre|quarter|semestre|half)|[tq][1-4]|[sh][12])"
          rf"(?:,? (?:de |d'|of )?{_YEAR})?"
          rf"|(?:l'annee |the year )?{_YEAR})")
_BETWEEN = re.compile(rf"\b(?:entre|between) (?P<a>{_POINT}) (?:et|and) (?P<b>{_POINT})\b")
_FROM_TO = re.compile(rf"\b(?:de |du |d'|from )(?P<a>{_POINT}) (?:a|au|to|until|till|through|"
                      rf"jusqu'(?:a|au|en)) (?P<b>{_POINT})\b")
_SINCE = re.compile(rf"\b(?P<how>depuis|a partir d[eu']|a compter d[eu']|since|starting|"
                    rf"apres|after) ?(?P<a>{_POINT})\b")
_UNTIL = re.compile(rf"\b(?P<how>avant|before|jusqu'(?:a|au|en)|until|till|up to) "
                    rf"(?P<a>{_POINT})\b")
_IN = re.compile(rf"(?:^|\b(?:en|in|pour|for|de|du|of|durant|during|sur|au|a|le|on|at|about) )"
                 rf"(?P<a>{_POINT})\b")


_COUNTS = {"un": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3, "quatre": 4,
           "four": 4, "six": 6, "douze": 12, "twelve": 12}
_NUMBER = r"\d{1,2}|un|deux|trois|quatre|six|douze|one|two|three|four|six|twelve"
_LAST_MONTHS = re.compile(
    rf"\b(?:(?:over|in|during|for|sur|durant|pendant|dans|au cours des) )?(?:"
    rf"(?:les )?(?P<n>{_NUMBER}) derniers mois|(?:the )?(?:last|past) (?P<e>{_NUMBER}) months"
    rf"|(?:depuis|sur) (?P<m>{_NUMBER}) mois)\b")
_THIS_MONTH = re.compile(r"\b(?:ce mois-ci|ce mois|le dernier mois|this month|last month|"
                         r"the past month)\b")
_THIS_YEAR = re.compile(r"\b(?:cette annee|this year)\b")
_LAST_YEAR = re.compile(r"\b(?:l'an dernier|l'an passe|l'annee derniere|l'annee passee|"
                        r"l'annee precedente|last year|the previous year)\b")


@dataclass(frozen=True)
class Span:
    """Days from ``start`` (included) to ``end`` (excluded); None: no bound."""

    start: date | None
    end: date | None
    said: tuple[str, str]  # how it reads, French and English (« depuis mars 2024 »)

    def holds(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day < self.end)

    def text(self, locale: Locale) -> str:
        return self.said[1] if locale == "en" else self.said[0]


@dataclass(frozen=True)
class _Point:
    start: date
    end: date
    fr: str
    en: str
    day: bool = False


def span_in(folded: str, latest: date | None) -> Span | None:
    """The stretch of time a folded question keeps to (None: it names none). ``latest``: the
    table's last date, which gives a month or quarter said without a year its year."""
    relative = _relative(folded, latest)
    if relative is not None:
        return relative
    for pattern in (_BETWEEN, _FROM_TO):
        found = pattern.search(folded)
        if found:
            end = _point(found.group("b"), latest)
            start = _point(found.group("a"), end.end if end is not None else latest)
            if start is None or end is None or start.start >= end.end:
                continue
            return Span(start.start, end.end, (
                f"du {start.fr} au {end.fr}" if start.day else f"de {start.fr} à {end.fr}",
                f"from {start.en} to {end.en}"))
    found = _SINCE.search(folded)
    if found:
        point = _point(found.group("a"), latest)
        if point is not None:
            if found.group("how") in ("apres", "after"):
                return Span(point.end, None, (f"après {point.fr}", f"after {point.en}"))
            return Span(point.start, None, (f"depuis {point.fr}", f"since {point.en}"))
    found = _UNTIL.search(folded)
    if found:
        point = _point(found.group("a"), latest)
        if point is not None:
            if found.group("how") in ("avant", "before"):
                return Span(None, point.start, (f"avant {point.fr}", f"before {point.en}"))
            return Span(None, point.end, (f"jusqu'à {point.fr}", f"until {point.en}"))
    for found in _IN.finditer(folded):
        point = _point(found.group("a"), latest, alone=True)
        if point is not None:
            return Span(point.start, point.end, (f"le {point.fr}", f"on {point.en}") if point.day
                        else (f"en {point.fr}", f"in {point.en}"))
    return None


def _relative(folded: str, latest: date | None) -> Span | None:
    """« les 6 derniers mois », « cette année », “last year”, from the table's last date."""
    if latest is None:
        return None
    found = _LAST_MONTHS.search(folded)
    said = (found.group("n") or found.group("e") or found.group("m")) if found else ""
    months = (int(said) if said.isdigit() else _COUNTS[said] if said
              else 1 if _THIS_MONTH.search(folded) else 0)
    if 0 < months <= 120:
        end = _month_after(latest.year, latest.month)
        first = latest.year * 12 + latest.month - months  # months since year 0, zero-based
        start = date(first // 12, first % 12 + 1, 1)
        last_fr = f"{_MONTH_NAMES_FR[latest.month - 1]} {latest.year}"
        last_en = f"{_MONTH_NAMES_EN[latest.month - 1]} {latest.year}"
        if months == 1:
            return Span(start, end, (f"en {last_fr} (le dernier mois du fichier)",
                                     f"in {last_en} (the file's last month)"))
        return Span(start, end, (
            f"sur les {months} derniers mois du fichier "
            f"({_MONTH_NAMES_FR[start.month - 1]} {start.year} à {last_fr})",
            f"over the file's last {months} months "
            f"({_MONTH_NAMES_EN[start.month - 1]} {start.year} to {last_en})"))
    for pattern, year, fr, en in (
            (_THIS_YEAR, latest.year, "la dernière année du fichier", "the file's last year"),
            (_LAST_YEAR, latest.year - 1, "l'année précédant la dernière du fichier",
             "the year before the file's last")):
        if pattern.search(folded):
            return Span(date(year, 1, 1), date(year + 1, 1, 1),
                        (f"en {year} ({fr})", f"in {year} ({en})"))
    return None


def _month_after(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def names_span(folded: str) -> bool:
    """Whether a folded question names a stretch of time (before the table is known)."""
    return span_in(folded, date(2000, 6, 15)) is not None


def said_span(folded: str) -> str:
    """The question without the words that say its stretch of time."""
    for pattern in (_LAST_MONTHS, _THIS_MONTH, _THIS_YEAR, _LAST_YEAR, _BETWEEN, _FROM_TO,
                    _SINCE, _UNTIL, _IN):
        folded = pattern.sub(" ", folded)
    return folded


def _point(text: str, latest: date | None, *, alone: bool = False) -> _Point | None:
    """A point as the days it covers. ``alone``: said after « en » / “in” and nothing else,
    where “may” or an abbreviation without its year more likely means another word."""
    # « fin juin » is read as June: exact for « jusqu'à fin juin », and said as computed
    text = re.sub(r"^(?:le |la |the |l'annee |the year )?(?:(?:fin|debut|end of|beginning of|"
                  r"start of) (?:de |d')?)?(?:mois de |month of )?", "", text)
    day = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})|(\d{4})-(\d{2})-(\d{2})", text)
    if day:
        parts = (day.group(3), day.group(2), day.group(1)) if day.group(1) else day.group(4, 5, 6)
        try:
            first = date(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError:  # « 31/02/2024 »
            return None
        return _Point(first, date.fromordinal(first.toordinal() + 1),
                      f"{first.day:02d}/{first.month:02d}/{first.year}", first.isoformat(),
                      day=True)
    if re.fullmatch(_YEAR, text):
        year = int(text)
        return _Point(date(year, 1, 1), date(year + 1, 1, 1), text, text)
    year_said = re.search(rf"({_YEAR})$", text)
    name = re.sub(rf",? (?:de |d'|of )?{_YEAR}$", "", text).rstrip(".")
    quarter = _quarter(name)
    half = _half(name)
    month = _MONTHS.get(name)
    if quarter is None and month is None and half is None:
        return None
    if alone and not year_said and name not in _ALONE and not name.endswith(
            ("trimestre", "quarter", "semestre", "half")):
        return None
    first_month = (month if month is not None else 6 * half - 5 if half is not None
                   else 3 * (quarter or 1) - 2)
    months = 1 if month is not None else 6 if half is not None else 3
    if year_said:
        year = int(year_said.group(1))
    elif latest is not None:
        year = latest.year if latest.month >= first_month else latest.year - 1
    else:
        return None
    start = date(year, first_month, 1)
    end_month = first_month + months
    end = date(year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
    if month is not None:
        fr, en = f"{_MONTH_NAMES_FR[month - 1]} {year}", f"{_MONTH_NAMES_EN[month - 1]} {year}"
    elif half is not None:
        fr, en = f"S{half} {year}", f"H{half} {year}"
    else:
        fr, en = f"T{quarter} {year}", f"Q{quarter} {year}"
    return _Point(start, end, fr, en)


# what « en » / “in” may introduce without a year: not “may”, nor an abbreviation (« sept »
# is also seven), nor « T2 » (also a flat of two rooms)
_ALONE = frozenset(_MONTHS) - frozenset(
    "janv jan fevr feb avr apr juil aug sept oct nov dec may".split())


def _half(name: str) -> int | None:
    """« S1 », « premier semestre », “second half”: 1 or 2."""
    short = re.fullmatch(r"[sh]([12])", name)
    if short:
        return int(short.group(1))
    said = re.fullmatch(rf"({_ORDINAL}) (?:semestre|half)", name)
    return _ORDINALS[said.group(1)] if said and _ORDINALS[said.group(1)] in (1, 2) else None


def _quarter(name: str) -> int | None:
    short = re.fullmatch(r"[tq]([1-4])", name)
    if short:
        return int(short.group(1))
    said = re.fullmatch(rf"({_ORDINAL}) (?:trimestre|quarter)", name)
    return _ORDINALS[said.group(1)] if said else None

"""French procurement patterns: dates and hours, amounts, durations, rates, numbers in words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.text import fold

PARIS = ZoneInfo("Europe/Paris")
MONTHS = {"janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
          "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12}
_MONTH = r"(janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)"
_DAY_NAME = r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?"
_HOUR = r"(?:\s*,?\s*(?:à|a|avant|jusqu'à|-)?\s*(\d{1,2})\s*(?:h|H|heures?|:)\s*(\d{2})?)?"
DATE_WORDS = re.compile(_DAY_NAME + r"\b(1er|\d{1,2})\s+" + _MONTH + r"\s+(\d{4})" + _HOUR,
                        re.IGNORECASE)
DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})" + _HOUR)
_AMOUNT = re.compile(
    r"(?<![\d,.])(\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+)(?:,(\d{1,2}))?\s*"
    r"(millions?\s+d['’]euros|M€|k€|K€|€|euros?\b|EUR\b)", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:,\d+)?)\s*(?:%|pour\s*cent)", re.IGNORECASE)
_FRACTION = re.compile(r"\b1\s*/\s*(\d{1,3}(?:[ \u00a0\u202f]\d{3})*|\d+)\s*(?:e|ème|eme)?\b")
_WORD_NUMBERS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20,
    "trente": 30, "quarante": 40, "soixante": 60, "quatre-vingt-dix": 90, "cent": 100,
    "cent vingt": 120, "cent cinquante": 150, "cent quatre-vingts": 180,
}
_NUMBER_WORD = "|".join(sorted((re.escape(word) for word in _WORD_NUMBERS), key=len,
                               reverse=True))
COUNT = (r"(?:(\d+)|(" + _NUMBER_WORD + r"))(?:\s*\((\d+)\))?")
DURATION = re.compile(COUNT + r"\s+(ans?|années?|mois|jours?)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FoundDate:
    """A date (and hour) found in a text, with its span."""

    when: datetime | date
    start: int
    end: int
    text: str

    @property
    def has_time(self) -> bool:
        """True when an hour was given."""
        return isinstance(self.when, datetime)

    def iso(self) -> str:
        """ISO 8601; with the Paris offset when an hour is known."""
        return self.when.isoformat()

    @property
    def day(self) -> date:
        """The calendar day."""
        return self.when.date() if isinstance(self.when, datetime) else self.when


def find_dates(text: str) -> list[FoundDate]:
    """Every French date in ``text`` (« vendredi 26 février 2027 à 12h00 », « 26/02/2027 »)."""
    found: list[FoundDate] = []
    for match in DATE_WORDS.finditer(text):
        day = 1 if match.group(1).lower() == "1er" else int(match.group(1))
        month = MONTHS[fold(match.group(2))]
        found.extend(_made(text, match, int(match.group(3)), month, day, 4))
    for match in DATE_NUMERIC.finditer(text):
        found.extend(_made(text, match, int(match.group(3)), int(match.group(2)),
                           int(match.group(1)), 4))
    return sorted(found, key=lambda item: item.start)


def _made(text: str, match: re.Match[str], year: int, month: int, day: int,
          hour_group: int) -> list[FoundDate]:
    try:
        day_value = date(year, month, day)
    except ValueError:
        return []
    hour = match.group(hour_group)
    when: datetime | date = day_value
    end = match.end()
    if hour is not None and int(hour) < 24:
        minutes = int(match.group(hour_group + 1) or 0)
        when = datetime.combine(day_value, time(int(hour), minutes), tzinfo=PARIS)
    else:
        end = match.end(3)  # the year: an hour out of range is not part of the date
    return [FoundDate(when, match.start(), end, text[match.start():end].strip())]


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount in euros found in a text."""

    value: float
    start: int
    end: int
    text: str


def find_amounts(text: str) -> list[Amount]:
    """Amounts in euros (« 780 000 € », « 1,5 M€ », « 40 000 euros »)."""
    found = []
    for match in _AMOUNT.finditer(text):
        whole = re.sub(r"[ \u00a0\u202f.]", "", match.group(1))
        value = float(whole + ("." + match.group(2) if match.group(2) else ""))
        unit = fold(match.group(3))
        if unit.startswith("million") or unit == "m€":
            value *= 1_000_000
        elif unit == "k€":
            value *= 1_000
        found.append(Amount(value, match.start(), match.end(), match.group(0)))
    return found


def find_percents(text: str) -> list[tuple[float, int, int]]:
    """Percentages: (value, start, end)."""
    return [(float(m.group(1).replace(",", ".")), m.start(), m.end())
            for m in _PERCENT.finditer(text)]


def find_fractions(text: str) -> list[tuple[float, int, int]]:
    """« 1/3 000e », « 1/1000 »: the fraction as a percentage, with its span."""
    found = []
    for match in _FRACTION.finditer(text):
        denominator = int(re.sub(r"\D", "", match.group(1)))
        if denominator >= 10:
            found.append((100.0 / denominator, match.start(), match.end()))
    return found


def count_value(match: re.Match[str], first_group: int = 1) -> int:
    """The number of a :data:`COUNT` match (« quatre (4) » → 4, « 36 » → 36)."""
    digits, word, bracket = (match.group(first_group), match.group(first_group + 1),
                             match.group(first_group + 2))
    if bracket:
        return int(bracket)
    if digits:
        return int(digits)
    return _WORD_NUMBERS.get(fold(word or "").strip(), 0) or _WORD_NUMBERS.get(
        (word or "").lower().strip(), 0)


def duration_months(match: re.Match[str]) -> int:
    """A :data:`DURATION` match in months (days rounded down to whole months)."""
    number = count_value(match)
    unit = fold(match.group(4))
    if unit.startswith("an"):
        return number * 12
    if unit.startswith("mois"):
        return number
    return number // 30


def window(text: str, start: int, end: int, width: int = 120) -> str:
    """The clause around ``text[start:end]``: cut at sentence marks, at most ``width`` each side."""
    left = max(0, start - width)
    cut = max(text.rfind(mark, left, start) for mark in (". ", "; ", " – ", ": "))
    left = cut + 2 if cut >= left and cut >= 0 else left
    if left > 0 and cut < 0:
        space = text.find(" ", left)
        left = space + 1 if 0 <= space < start else left
    right = min(len(text), end + width)
    stops = [position for position in (text.find(mark, end, right) for mark in
                                       (". ", "; ", " – ")) if position >= 0]
    if stops:
        right = min(stops) + (1 if text[min(stops)] in ".;" else 0)
    elif right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space > end else right
    return text[left:right].strip(" ;–-")

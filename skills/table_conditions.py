"""Conditions on a column of figures that a question about a table says: « une note
inférieure à 3 », « un NPS d'au moins 9 », « une note de 1 ou 2 », « entre 1 et 3 »,
« note ≤ 2 », “a score below 3”, “at least 9”.

Each condition is read with the few words before it, which must name a column of figures
(resolved per table by :mod:`skills.table_columns`); one that names none is not a condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.messages import Locale

_NUMBER = r"-?\d+(?:[.,]\d+)?"
_LEAD = r"(?P<words>(?:[\w'’-]+ ){1,4}?)"  # the words naming the column, just before
# comparators as people write them, folded, longest first → the symbol they mean
_COMPARATORS = (
    (r"inferieure?s? ou egale?s? (?:a|au)|at most|au plus|au maximum|up to|no more than|"
     r"pas plus de", "≤"),
    (r"superieure?s? ou egale?s? (?:a|au)|au moins|at least|au minimum|no less than|"
     r"d'au moins", "≥"),
    (r"inferieure?s? (?:a|au)|de moins de|moins de|below|under|less than|lower than|"
     r"plus basse?s? que", "<"),
    (r"superieure?s? (?:a|au)|de plus de|plus de|above|over|more than|greater than|"
     r"higher than|plus haute?s? que", ">"),
    (r"egale?s? (?:a|au)|equal to", "="),
)
_WORDED = re.compile(
    _LEAD + r"(?:est |sont |is |are |vaut |valent )?(?P<op>"
    + "|".join(f"(?:{words})" for words, _ in _COMPARATORS) + rf") (?P<n>{_NUMBER})\b")
_SYMBOL = re.compile(_LEAD + rf"?(?P<op><=|>=|≤|≥|<|>|=) ?(?P<n>{_NUMBER})\b")
_EITHER = re.compile(_LEAD + rf"(?:de |d'|of |a |=)?(?P<a>{_NUMBER}) (?:ou|or) "
                     rf"(?P<b>{_NUMBER})\b")
_RANGE = re.compile(_LEAD + rf"(?:entre|between|de|from) (?P<a>{_NUMBER}) (?:et|and|a|to) "
                    rf"(?P<b>{_NUMBER})\b")
# « une note de 1 », “a score of 5”: one figure (not a year: « la note moyenne de 2024 »)
_ONE = re.compile(_LEAD + rf"(?:de|d'|of) (?P<n>{_NUMBER})\b(?!\s?%)"
                  r"(?!\s(?:ou|or|et|and|a|to)\b)")
# « une note de 4 ou plus », “a score of 9 or more”
_OR_MORE = re.compile(_LEAD + rf"(?:de |d'|of )?(?P<n>{_NUMBER}) (?:ou|et|or|and) "
                      r"(?P<way>plus|moins|more|less|above|below|over|under|higher|lower)\b")
# « où la note vaut 1 », “where score is 1”, “score equals 5”
_IS = re.compile(_LEAD + rf"(?:is|are|equals|vaut|valent) (?P<n>{_NUMBER})\b(?!\s?%)"
                 r"(?!\s(?:ou|or|et|and|a|to)\b)")
_SYMBOLS = {"<=": "≤", ">=": "≥"}


@dataclass(frozen=True)
class Condition:
    """Figures kept: ``op`` and the one value (« ≤ 2 »), one of ``values`` (``op`` « in »), or
    the first value to the second (``op`` « range »)."""

    words: str  # the folded words before it, that name the column
    op: str  # ≤ ≥ < > = « in » (one of values) « range »
    values: tuple[float, ...]
    said: str  # the folded text it was read from

    def holds(self, figure: float) -> bool:
        if self.op == "in":
            return figure in self.values
        if self.op == "range":
            return self.values[0] <= figure <= self.values[1]
        value = self.values[0]
        return {"≤": figure <= value, "≥": figure >= value, "<": figure < value,
                ">": figure > value, "=": figure == value}[self.op]

    def text(self, locale: Locale) -> str:
        """« ≤ 2 », « vaut 1 ou 2 », « de 1 à 3 » (“is 1 or 2”, “from 1 to 3”)."""
        shown = [_shown(value, locale) for value in self.values]
        if self.op == "in":
            return (" or " if locale == "en" else " ou ").join(shown).join(
                ("is " if locale == "en" else "vaut ", ""))
        if self.op == "range":
            return (f"from {shown[0]} to {shown[1]}" if locale == "en"
                    else f"de {shown[0]} à {shown[1]}")
        if self.op == "=":
            return f"is {shown[0]}" if locale == "en" else f"vaut {shown[0]}"
        return f"{self.op} {shown[0]}"


def conditions_in(folded: str) -> list[Condition]:
    """The conditions a folded question says, each with the words before it."""
    found: list[Condition] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_RANGE, _OR_MORE, _EITHER, _WORDED, _SYMBOL, _ONE, _IS):
        for match in pattern.finditer(folded):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            condition = _condition(match)
            if condition is not None:
                found.append(condition)
                taken.append((match.start(), match.end()))
    return found


def said_conditions(folded: str) -> str:
    """The question without its conditions' comparators and figures (the words naming the
    column stay: they are the column's name)."""
    for condition in conditions_in(folded):
        folded = folded.replace(condition.said, condition.words, 1)
    return folded


def _condition(match: re.Match[str]) -> Condition | None:
    words = match.group("words") or ""
    groups = match.groupdict()
    if groups.get("a") is not None:
        low, high = _value(groups["a"]), _value(groups["b"])
        if match.re is _RANGE:
            if low > high or re.fullmatch(r"(?:19|20)\d{2}", groups["a"]):
                return None  # « entre 2023 et 2024 » is a stretch of time
            return Condition(words.strip(), "range", (low, high), match.group(0))
        return Condition(words.strip(), "in", (low, high), match.group(0))
    if match.re is _OR_MORE:
        upward = groups["way"] in ("plus", "more", "above", "over", "higher")
        return Condition(words.strip(), "≥" if upward else "≤", (_value(groups["n"]),),
                         match.group(0))
    if match.re is _ONE or match.re is _IS:
        if re.fullmatch(r"(?:19|20)\d{2}", groups["n"]):
            return None
        return Condition(words.strip(), "=", (_value(groups["n"]),), match.group(0))
    said = groups["op"]
    op = _SYMBOLS.get(said, said) if match.re is _SYMBOL else next(
        symbol for words_, symbol in _COMPARATORS if re.fullmatch(words_, said))
    return Condition(words.strip(), op, (_value(groups["n"]),), match.group(0))


def _value(text: str) -> float:
    return float(text.replace(",", "."))


def _shown(value: float, locale: Locale) -> str:
    if value.is_integer():
        return str(int(value))
    return f"{value}" if locale == "en" else f"{value}".replace(".", ",")

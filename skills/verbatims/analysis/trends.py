"""Themes that emerge, fade, improve or worsen: the best split month by a two-proportion test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from skills.verbatims.model import Sentiment, Trend

_MIN_MONTHS_BEFORE = 3
_MIN_MONTHS_AFTER = 2
_Z = 4.0  # the split must be this clear (many months are tried)
_SHARE_RATIO = 1.5  # emerging: share × 1.5 at least (fading: ÷ 1.5)
_SHARE_GAP = 0.01  # … and one point of all verbatims at least
_NEGATIVE_GAP = 0.12  # improving / worsening: negative share moves 12 points at least
_MIN_MENTIONS = 30


@dataclass(frozen=True, slots=True)
class Mention:
    """One verbatim's month, and per theme it mentions, that mention's sentiment."""

    month: str | None
    themes: dict[int, Sentiment]


def _z(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    pooled = (hits_a + hits_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return 0.0 if spread == 0 else (hits_b / n_b - hits_a / n_a) / spread


def _best_split(months: list[str], hits: dict[str, int], totals: dict[str, int]
                ) -> tuple[float, int] | None:
    """(z, index of the first later month) with the largest |z|, or None."""
    best: tuple[float, int] | None = None
    for cut in range(_MIN_MONTHS_BEFORE, len(months) - _MIN_MONTHS_AFTER + 1):
        before, after = months[:cut], months[cut:]
        n_a, n_b = sum(totals[m] for m in before), sum(totals[m] for m in after)
        if min(n_a, n_b) < _MIN_MENTIONS:
            continue
        z = _z(sum(hits[m] for m in before), n_a, sum(hits[m] for m in after), n_b)
        if best is None or abs(z) > abs(best[0]):
            best = (z, cut)
    return best


def _rate(months: list[str], hits: dict[str, int], totals: dict[str, int]) -> float:
    total = sum(totals[m] for m in months)
    return sum(hits[m] for m in months) / total if total else 0.0


def find_trends(mentions: Sequence[Mention], themes: int) -> list[Trend]:
    """Emerging/fading (share of verbatims) and improving/worsening (negative share) themes."""
    months = sorted({m.month for m in mentions if m.month})
    if len(months) < _MIN_MONTHS_BEFORE + _MIN_MONTHS_AFTER:
        return []
    per_month = {month: 0 for month in months}
    for mention in mentions:
        if mention.month:
            per_month[mention.month] += 1
    found: list[Trend] = []
    for theme in range(themes):
        said = {month: 0 for month in months}
        negative = {month: 0 for month in months}
        for mention in mentions:
            if mention.month and theme in mention.themes:
                said[mention.month] += 1
                negative[mention.month] += mention.themes[theme] == "negative"
        found.extend(_volume_trend(theme, months, said, per_month))
        found.extend(_tone_trend(theme, months, negative, said))
    found.sort(key=lambda trend: -abs(trend.after - trend.before))
    return found


def _volume_trend(theme: int, months: list[str], said: dict[str, int],
                  per_month: dict[str, int]) -> list[Trend]:
    split = _best_split(months, said, per_month)
    if split is None or abs(split[0]) < _Z:
        return []
    before = _rate(months[: split[1]], said, per_month)
    after = _rate(months[split[1] :], said, per_month)
    if abs(after - before) < _SHARE_GAP:
        return []
    if after >= before * _SHARE_RATIO:
        return [Trend(theme, "emerging", before, after, months[split[1]])]
    if after * _SHARE_RATIO <= before:
        return [Trend(theme, "fading", before, after, months[split[1]])]
    return []


def _tone_trend(theme: int, months: list[str], negative: dict[str, int],
                said: dict[str, int]) -> list[Trend]:
    split = _best_split(months, negative, said)
    if split is None or abs(split[0]) < _Z:
        return []
    before = _rate(months[: split[1]], negative, said)
    after = _rate(months[split[1] :], negative, said)
    if abs(after - before) < _NEGATIVE_GAP:
        return []
    kind: str = "improving" if after < before else "worsening"
    return [Trend(theme, "improving" if kind == "improving" else "worsening", before, after,
                  months[split[1]])]

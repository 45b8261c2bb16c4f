"""Drivers: themes ranked by the detractors they explain and their weight on the score."""

from __future__ import annotations

from collections.abc import Sequence

from skills.verbatims.model import Driver, ScoreKind

DETRACTOR_MAX: dict[ScoreKind, float] = {"stars5": 2, "nps": 6, "sat10": 4}


def is_detractor(score: float, kind: ScoreKind) -> bool:
    """stars5: ≤ 2; nps: ≤ 6; sat10: ≤ 4."""
    return score <= DETRACTOR_MAX[kind]


def find_drivers(
    assignments: Sequence[tuple[int, ...]],
    scores: Sequence[float | None],
    kind: ScoreKind | None,
    themes: int,
) -> list[Driver]:
    """Per theme with a lower score when mentioned: detractor share and score impact, ranked
    by detractor share × impact (the detractors it explains and how much it costs)."""
    if kind is None:
        return []
    scored = [(set(theme_ids), score) for theme_ids, score in zip(assignments, scores, strict=True)
              if score is not None]
    detractors = [ids for ids, score in scored if is_detractor(score, kind)]
    if not scored or not detractors:
        return []
    drivers: list[Driver] = []
    for theme in range(themes):
        with_theme = [score for ids, score in scored if theme in ids]
        without = [score for ids, score in scored if theme not in ids]
        if len(with_theme) < 5 or not without:
            continue
        impact = sum(without) / len(without) - sum(with_theme) / len(with_theme)
        share = sum(theme in ids for ids in detractors) / len(detractors)
        if impact > 0:
            drivers.append(Driver(theme, share, impact))
    drivers.sort(key=lambda driver: -(driver.detractor_share * driver.impact))
    return drivers

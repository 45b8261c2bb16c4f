"""The stored analysis: written next to the outputs, read back to rename or merge themes and
regenerate every output without embedding or clustering again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from skills.verbatims.model import (
    Analysis,
    Driver,
    InputCounts,
    Sentiment,
    Theme,
    Trend,
    Verbatim,
)

VERSION = 1


def dump_analysis(analysis: Analysis) -> bytes:
    """The analysis as compact JSON (assignments and sentiments included)."""
    data = {
        "version": VERSION,
        "counts": asdict(analysis.counts),
        "themes": [asdict(theme) for theme in analysis.themes],
        "assignments": [list(themes) for themes in analysis.assignments],
        "sentiments": "".join(s[0] for s in analysis.sentiments),  # n / u / p, one a row
        "drivers": [asdict(driver) for driver in analysis.drivers],
        "trends": [asdict(trend) for trend in analysis.trends],
        "notes": list(analysis.notes),
        "stage_seconds": dict(analysis.stage_seconds),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_SENTIMENTS: dict[str, Sentiment] = {"n": "negative", "u": "neutral", "p": "positive"}


def load_analysis(data: bytes) -> Analysis:
    """An analysis written by :func:`dump_analysis`."""
    raw: dict[str, Any] = json.loads(data)
    if raw.get("version") != VERSION:
        raise ValueError("unknown analysis version")
    return Analysis(
        counts=InputCounts(**raw["counts"]),
        themes=[Theme(**theme) for theme in raw["themes"]],
        assignments=[tuple(themes) for themes in raw["assignments"]],
        sentiments=[_SENTIMENTS[s] for s in raw["sentiments"]],
        drivers=[Driver(**driver) for driver in raw["drivers"]],
        trends=[Trend(**trend) for trend in raw["trends"]],
        notes=list(raw["notes"]),
        stage_seconds=dict(raw["stage_seconds"]),
    )


def rename(analysis: Analysis, renames: Mapping[int, str]) -> Analysis:
    """Themes given the names a person chose (by theme id)."""
    themes = [replace(theme, label=renames.get(theme.id, theme.label))
              for theme in analysis.themes]
    return replace(analysis, themes=themes)


def merge(analysis: Analysis, verbatims: Sequence[Verbatim], into: int,
          others: Sequence[int], detractor: float | None = None) -> Analysis:
    """``others`` folded into theme ``into``; its figures recounted from the verbatims.

    Volumes, shares, mean score, months and breakdowns are exact; the sentiment split adds
    the merged themes' mentions then scales to the new volume (a verbatim in two of them
    counts once); a driver's figures are recomputed when ``detractor`` (the highest
    detractor score) is given.
    """
    gone = set(others) - {into}
    by_id = {theme.id: theme for theme in analysis.themes}
    if into not in by_id or not gone <= set(by_id):
        raise KeyError("unknown theme")
    assignments = [tuple(dict.fromkeys(into if t in gone else t for t in themes))
                   for themes in analysis.assignments]
    members = [i for i, themes in enumerate(assignments) if into in themes]
    kept = by_id[into]
    merged = [kept, *(by_id[t] for t in sorted(gone))]
    sentiment: Counter[Sentiment] = Counter()
    for theme in merged:
        sentiment.update(theme.sentiment)
    total = sum(sentiment.values()) or 1
    size = len(members)
    scores = [score for i in members if (score := verbatims[i].score) is not None]
    monthly: Counter[str] = Counter(f"{verbatims[i].date:%Y-%m}" for i in members
                                    if verbatims[i].date is not None)
    breakdowns: dict[str, dict[str, int]] = {}
    for column in kept.breakdowns:
        values: Counter[str] = Counter(str(getattr(verbatims[i], column, None)) for i in members
                                       if getattr(verbatims[i], column, None) is not None)
        breakdowns[column] = dict(values)
    analysed = len(analysis.assignments) or 1
    new = replace(
        kept, size=size, share=size / analysed,
        mean_score=sum(scores) / len(scores) if scores else None,
        sentiment={k: round(v * size / total) for k, v in sentiment.items()},
        monthly=dict(sorted(monthly.items())), breakdowns=breakdowns,
        keywords=list(dict.fromkeys(k for t in merged for k in t.keywords))[:12],
        examples=[e for t in merged for e in t.examples][:5])
    themes = [new if t.id == into else t for t in analysis.themes if t.id not in gone]
    drivers = [d for d in analysis.drivers if d.theme not in gone]
    if detractor is not None:
        drivers = _driver_again(drivers, into, members, verbatims, detractor)
    trends = [replace(t, theme=into) if t.theme in gone else t for t in analysis.trends]
    unique = list({(t.theme, t.kind): t for t in trends}.values())
    return replace(analysis, themes=themes, assignments=assignments, drivers=drivers,
                   trends=unique)


def _driver_again(drivers: list[Driver], into: int, members: Sequence[int],
                  verbatims: Sequence[Verbatim], detractor: float) -> list[Driver]:
    inside = set(members)
    scored = [(i, v.score) for i, v in enumerate(verbatims) if v.score is not None]
    detractors = [i for i, score in scored if score <= detractor]
    with_theme = [score for i, score in scored if i in inside]
    without = [score for i, score in scored if i not in inside]
    if not detractors or not with_theme or not without:
        return [d for d in drivers if d.theme != into]
    driver = Driver(into, sum(i in inside for i in detractors) / len(detractors),
                    sum(without) / len(without) - sum(with_theme) / len(with_theme))
    others = [d for d in drivers if d.theme != into]
    return sorted([*others, driver], key=lambda d: -d.detractor_share)


DETRACTOR = {"stars5": 2.0, "nps": 6.0, "sat10": 6.0}

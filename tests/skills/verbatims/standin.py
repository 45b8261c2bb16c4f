"""A tiny stand-in analysis (keywords, a word list for sentiment) to test the wiring only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.text import fold
from knowledge.embeddings import Embedder
from skills.verbatims.model import (
    Analysis,
    Driver,
    InputCounts,
    Progress,
    ScoreKind,
    Sentiment,
    Theme,
    Trend,
    Verbatim,
)

KEYWORDS = {
    1: ("Attente au téléphone", ("attente", "telephone", "joindre", "tel ")),
    2: ("Application mobile", ("appli", "application", "mise a jour", "connexion")),
    3: ("Hausse des tarifs", ("tarif", "cotisation", "prix", "augment")),
    4: ("Remboursements", ("rembours",)),
    5: ("Conseiller", ("conseill", "accueil")),
}
NEGATIVE = ("pas ", "jamais", "nul", "lent", "attendre", "plante", "trop", "inadmissible",
            "lamentable", "toujours pas", "impossible")
POSITIVE = ("merci", "parfait", "bravo", "satisfait", "rapide", "efficace", "top", "super")


async def standin_analyse(verbatims: Sequence[Verbatim], *, counts: InputCounts,
                          embedder: Embedder, score_kind: ScoreKind | None,
                          progress: Progress | None = None,
                          labeller: object | None = None,
                          codebook: object | None = None) -> Analysis:
    """Keyword themes, word-list sentiment, detractor shares, a naive first/second-half trend."""
    if progress is not None:
        await progress(0.5, "stand-in")
    assignments: list[tuple[int, ...]] = []
    sentiments: list[Sentiment] = []
    for verbatim in verbatims:
        text = fold(verbatim.text) + " "
        assignments.append(tuple(i for i, (_, words) in KEYWORDS.items()
                                 if any(word in text for word in words)))
        negative = sum(word in text for word in NEGATIVE)
        positive = sum(word in text for word in POSITIVE)
        sentiments.append("negative" if negative > positive else
                          "positive" if positive > negative else "neutral")
    themes = []
    for theme_id, (label, words) in KEYWORDS.items():
        members = [i for i, themes in enumerate(assignments) if theme_id in themes]
        if not members:
            continue
        scores = [s for i in members if (s := verbatims[i].score) is not None]
        themes.append(Theme(
            id=theme_id, label=label, keywords=list(words), size=len(members),
            share=len(members) / max(len(verbatims), 1),
            mean_score=sum(scores) / len(scores) if scores else None,
            sentiment=dict(Counter(sentiments[i] for i in members)),
            monthly=dict(Counter(f"{d:%Y-%m}" for i in members
                                 if (d := verbatims[i].date) is not None)),
            breakdowns={"product": dict(Counter(p for i in members
                                                if (p := verbatims[i].product) is not None))},
            examples=[verbatims[i].text for i in members[:3]]))
    drivers = []
    if score_kind is not None:
        limit = 2 if score_kind == "stars5" else 6
        detractors = [i for i, v in enumerate(verbatims) if v.score is not None
                      and v.score <= limit]
        for theme in themes:
            share = (sum(theme.id in assignments[i] for i in detractors) / len(detractors)
                     if detractors else 0.0)
            drivers.append(Driver(theme.id, share, 1.0))
        drivers.sort(key=lambda d: -d.detractor_share)
    trends = [Trend(themes[0].id, "emerging", 0.04, 0.15, "2024-07")] if themes else []
    if progress is not None:
        await progress(1.0, "stand-in")
    return Analysis(counts=counts, themes=themes, assignments=assignments,
                    sentiments=sentiments, drivers=drivers, trends=trends,
                    notes=["stand-in analysis"])

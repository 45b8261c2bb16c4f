"""Verbatims → themes, sentiment, drivers, trends and examples (``analyse``).

Pipeline: clauses → embeddings (cached by content hash) → sentiment (a TF-IDF classifier
learnt from the score column's bands, or from zero-shot guesses without one) → themes: with a codebook, its codes learnt from
keyword seeds and the themes it lacks discovered (``coding``); without one, aspect terms
(spaCy nouns and content verbs, LSA) beside each clause vector → clusters (fine k-means,
filler set aside) → labels (the codebook's, c-TF-IDF phrases, or the optional model) →
figures per theme → drivers and trends → pseudonymised examples.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.governance.dlp import Detector, DlpSettings
from bot.i18n import plural
from knowledge.embeddings import Embedder, Vectors
from skills.verbatims.analysis import notes as notes_text
from skills.verbatims.analysis.aspects import (
    Parser,
    aspect_space,
    aspect_texts,
    spacy_parser,
    with_aspects,
)
from skills.verbatims.analysis.clauses import Clause, clauses_of
from skills.verbatims.analysis.coding import code_clauses
from skills.verbatims.analysis.drivers import find_drivers
from skills.verbatims.analysis.embed import EmbeddingCache, embed_texts
from skills.verbatims.analysis.examples import examples_for, pick
from skills.verbatims.analysis.labeller import ThemeLabeller, ThemeSample
from skills.verbatims.analysis.labels import name_themes, spacy_tagger, tagger_of
from skills.verbatims.analysis.sentiment import (
    Triples,
    is_suggestion,
    mean_vectors,
    score_classes,
    sentiment_of,
    text_only_triples,
    train_on_scores,
    verbatim_sentiments,
    verbatim_triples,
    without_non_answers,
)
from skills.verbatims.analysis.themes import Clusters, cluster_clauses
from skills.verbatims.analysis.trends import Mention, find_trends
from skills.verbatims.codebook import Codebook
from skills.verbatims.model import (
    Analysis,
    InputCounts,
    Progress,
    ScoreKind,
    Sentiment,
    Theme,
    Verbatim,
)

__all__ = ["EmbeddingCache", "ThemeLabeller", "ThemeSample", "analyse"]

_BREAKDOWNS = ("product", "channel", "region")


# each stage's share of an analysis's time (measured at 10k–100k rows, README), in order
_STAGE_SHARES = (("split", 0.05), ("embedded", 0.25), ("sentiment", 0.15),
                 ("clustered", 0.35), ("labelled", 0.10), ("trends", 0.02),
                 ("examples", 0.05), ("model", 0.03))


class _Stages:
    """Times each stage and reports the whole analysis's progress: the stages done, by
    their usual share of the time, with the stage under way named."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    async def report(self, fraction: float, stage: str) -> None:
        """``fraction`` of ``stage`` done."""
        if self._progress is None:
            return
        before = 0.0
        for name, share in _STAGE_SHARES:
            if name == stage:
                await self._progress(before + share * min(max(fraction, 0.0), 1.0), stage)
                return
            before += share
        await self._progress(1.0, stage)

    async def done(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._started, 3)
        self._started = now
        names = [name for name, _ in _STAGE_SHARES]
        following = names[names.index(stage) + 1] if stage in names[:-1] else None
        if following is None or following == "model":  # the model step only runs with one
            await self.report(1.0, stage)
        else:
            await self.report(0.0, following)


async def analyse(
    verbatims: Sequence[Verbatim],
    *,
    counts: InputCounts,
    embedder: Embedder,
    score_kind: ScoreKind | None,
    progress: Progress | None = None,
    labeller: ThemeLabeller | None = None,
    cache: EmbeddingCache | None = None,
    detector: Detector | None = None,
    cache_dir: Path | None = None,
    codebook: Codebook | None = None,
) -> Analysis:
    """The themes, sentiment, drivers and trends of ``verbatims`` (all analysed rows);
    with a ``codebook``, its codes first, then the themes it lacks."""
    # the computing runs in worker threads: the server's event loop (other people's
    # questions, the page itself) must not wait for a 100,000-row analysis
    stages = _Stages(progress)
    texts = [verbatim.text for verbatim in verbatims]
    clauses = await asyncio.to_thread(clauses_of, texts)
    await stages.done("split")
    cache = cache or EmbeddingCache(cache_dir)

    async def embedded(done: int, total: int) -> None:
        await stages.report(done / max(1, total), "embedded")

    vectors = await embed_texts([c.text for c in clauses], embedder, cache, embedded)
    await stages.done("embedded")
    owners = [c.verbatim for c in clauses]
    has_clause = [False] * len(verbatims)
    for owner in owners:
        has_clause[owner] = True
    overall, per_clause = await _sentiment(verbatims, texts, clauses, vectors, has_clause,
                                           embedder, score_kind)
    said: list[list[str]] = [[] for _ in verbatims]
    for clause in clauses:
        said[clause.verbatim].append(clause.text)
    sentiments = verbatim_sentiments(overall, said)
    await stages.done("sentiment")
    themed, fixed, clusters, parser = await asyncio.to_thread(
        _grouped, clauses, vectors, owners, codebook)
    await stages.done("clustered")
    mentions, order, themes = await asyncio.to_thread(
        _named, verbatims, clauses, clusters, per_clause, fixed, parser)
    assignments = [tuple(found) for found in mentions]
    await stages.done("labelled")
    months = [v.date.strftime("%Y-%m") if v.date else None for v in verbatims]
    trends = await asyncio.to_thread(
        find_trends, [Mention(month, found) for month, found in zip(months, mentions,
                                                                    strict=True)], len(themes))
    drivers = await asyncio.to_thread(find_drivers, assignments, [v.score for v in verbatims],
                                      score_kind, len(themes))
    await stages.done("trends")
    if clusters is not None and themes:
        await asyncio.to_thread(_add_examples, themes, clusters, order, themed, owners, texts,
                                detector or Detector(DlpSettings()))
    await stages.done("examples")
    notes = _notes(verbatims, score_kind, clusters, labeller, codebook is not None)
    if codebook is not None:
        notes.insert(0, _codebook_note(codebook, themes))
    if labeller is not None and themes:
        await _ask_labeller(labeller, themes)
        await stages.done("model")
    return Analysis(counts=counts, themes=themes, assignments=assignments,
                    sentiments=sentiments, drivers=drivers, trends=trends, notes=notes,
                    stage_seconds=dict(stages.seconds))


def _grouped(clauses: Sequence[Clause], vectors: Vectors, owners: list[int],
             codebook: Codebook | None,
             ) -> tuple[Vectors, tuple[str | None, ...], Clusters | None, Parser | None]:
    """Clauses grouped into themes: by the codebook's codes when there is one, else by what
    they are about (the vectors grouped, the codes' names, the clusters, the parser)."""
    if clauses and codebook is not None:
        # Aspect terms were worth +0.003–0.008 macro-F1 here for 130 s of tagging at 100k.
        coded = code_clauses([c.text for c in clauses], vectors, owners, codebook)
        return vectors, coded.names, coded.clusters, None
    if clauses:
        parser = spacy_parser()  # loaded once: its tags also name the themes
        themed = _aspect_vectors(clauses, vectors, parser)  # part of grouping into themes
        return themed, (), cluster_clauses(themed, owners), parser
    return vectors, (), None, None


def _named(verbatims: Sequence[Verbatim], clauses: Sequence[Clause], clusters: Clusters | None,
           per_clause: Triples, fixed: tuple[str | None, ...], parser: Parser | None,
           ) -> tuple[list[dict[int, Sentiment]], dict[int, int], list[Theme]]:
    """Each verbatim's themes with their sentiment, the themes ordered by size, named."""
    mentions = _mentions(len(verbatims), clauses, clusters, per_clause)
    order = _by_size(mentions, clusters)
    mentions = [{order[theme]: sentiment for theme, sentiment in found.items()}
                for found in mentions]
    names = _names(clauses, clusters, order, fixed, parser)
    themes = [_theme(theme, label, keywords, verbatims, mentions)
              for theme, (label, keywords) in enumerate(names)]
    coded_ids = {order[index] for index, name in enumerate(fixed) if name and index in order}
    for theme in themes:
        theme.coded = theme.id in coded_ids
    return mentions, order, themes


async def _sentiment(verbatims: Sequence[Verbatim], texts: list[str],
                     clauses: Sequence[Clause], vectors: Vectors, has_clause: list[bool],
                     embedder: Embedder, score_kind: ScoreKind | None
                     ) -> tuple[Triples, Triples]:
    """Sentiment triples per verbatim and per clause: learnt from the score bands when the
    survey has a score, from the polarity lexicon and zero-shot seeds otherwise; a
    non-answer (« Pas d'avis ») is neutral either way."""
    if not clauses:
        return verbatim_triples(np.full(len(texts), 0.5)), np.zeros((0, 3))
    clause_texts = [c.text for c in clauses]
    if score_kind is not None:
        learnt = await asyncio.to_thread(_score_triples, verbatims, texts, clause_texts,
                                         has_clause, score_kind)
        if learnt is not None:
            return learnt
    owners = [c.verbatim for c in clauses]
    return await text_only_triples(texts, clause_texts,
                                   mean_vectors(vectors, owners, len(verbatims)), has_clause,
                                   embedder)


def _score_triples(verbatims: Sequence[Verbatim], texts: list[str], clause_texts: list[str],
                   has_clause: list[bool], score_kind: ScoreKind,
                   ) -> tuple[Triples, Triples] | None:
    """Sentiment learnt from the score bands (None when the scores cannot teach it)."""
    classes = score_classes([v.score for v in verbatims], score_kind)
    learnt = train_on_scores(texts, classes, has_clause)
    if learnt is None:
        return None
    return without_non_answers(learnt(texts), texts), learnt(clause_texts)


def _aspect_vectors(clauses: Sequence[Clause], vectors: Vectors,
                    parser: Parser | None) -> Vectors:
    """What each clause is about: its aspect terms (LSA) beside its whole wording."""
    if parser is None:
        return vectors
    space = aspect_space(aspect_texts([c.text for c in clauses], parser))
    return vectors if space is None else with_aspects(vectors, space)


def _mentions(verbatims: int, clauses: Sequence[Clause], clusters: Clusters | None,
              per_clause: Triples) -> list[dict[int, Sentiment]]:
    """Per verbatim, its themes in order of first mention, each with its clauses' sentiment
    (neutral when they only suggest)."""
    found: list[dict[int, list[int]]] = [{} for _ in range(verbatims)]
    if clusters is not None:
        for index, (clause, theme) in enumerate(zip(clauses, clusters.labels, strict=True)):
            if theme >= 0:
                found[clause.verbatim].setdefault(int(theme), []).append(index)
    return [{theme: "neutral" if all(is_suggestion(clauses[i].text) for i in members)
             else sentiment_of(per_clause[members].mean(axis=0))
             for theme, members in row.items()} for row in found]


def _by_size(mentions: list[dict[int, Sentiment]], clusters: Clusters | None) -> dict[int, int]:
    """Cluster index → theme id, the most mentioned theme first."""
    sizes: Counter[int] = Counter()
    for row in mentions:
        sizes.update(row.keys())
    count = len(clusters.centroids) if clusters is not None else 0
    ranked = sorted(range(count), key=lambda theme: (-sizes[theme], theme))
    return {theme: rank for rank, theme in enumerate(ranked) if sizes[theme] > 0}


def _names(clauses: Sequence[Clause], clusters: Clusters | None, order: dict[int, int],
           fixed: Sequence[str | None] = (), parser: Parser | None = None,
           ) -> list[tuple[str, list[str]]]:
    """(label, keywords) per theme id: a codebook label where ``fixed`` has one, else the
    most distinctive phrase (never the same as a codebook label). ``parser``: the French
    model already loaded for aspect terms (else the tagger is loaded here)."""
    if clusters is None or not order:
        return []
    tagger = tagger_of(parser) if parser is not None else spacy_tagger()
    named = name_themes([c.text for c in clauses], clusters.labels, len(clusters.centroids),
                        tagger)
    taken = {label.casefold() for label in fixed if label}
    for theme, label in enumerate(fixed):
        if label:
            named[theme] = (label, named[theme][1])
    for theme in range(len(fixed), len(named)):
        if named[theme][0].casefold() in taken:
            named[theme] = (f"{named[theme][0]} (autre)", named[theme][1])
    by_id = {theme_id: named[theme] for theme, theme_id in order.items()}
    return [by_id[theme_id] for theme_id in range(len(by_id))]


def _theme(theme: int, label: str, keywords: list[str], verbatims: Sequence[Verbatim],
           mentions: list[dict[int, Sentiment]]) -> Theme:
    """One theme's figures: volume, share, score, sentiment split, months, breakdowns."""
    rows = [index for index, row in enumerate(mentions) if theme in row]
    scores = [s for s in (verbatims[index].score for index in rows) if s is not None]
    split: dict[Sentiment, int] = {"negative": 0, "neutral": 0, "positive": 0}
    monthly: Counter[str] = Counter()
    breakdowns: dict[str, Counter[str]] = {column: Counter() for column in _BREAKDOWNS}
    for index in rows:
        verbatim = verbatims[index]
        split[mentions[index][theme]] += 1
        if verbatim.date is not None:
            monthly[verbatim.date.strftime("%Y-%m")] += 1
        for column in _BREAKDOWNS:
            value = getattr(verbatim, column)
            if value:
                breakdowns[column][value] += 1
    return Theme(
        id=theme, label=label, keywords=keywords, size=len(rows),
        share=len(rows) / max(1, len(verbatims)),
        mean_score=round(sum(scores) / len(scores), 3) if scores else None,
        sentiment=split, monthly=dict(sorted(monthly.items())),
        breakdowns={column: dict(values.most_common()) for column, values in breakdowns.items()
                    if values},
    )


def _add_examples(themes: list[Theme], clusters: Clusters, order: dict[int, int],
                  vectors: Vectors, owners: list[int], texts: list[str],
                  detector: Detector) -> None:
    """3–5 pseudonymised verbatims per theme, near its centroid and unlike each other."""
    for cluster, theme_id in order.items():
        rows = np.flatnonzero(clusters.labels == cluster).astype(np.int64)
        chosen = pick(rows, vectors, clusters.centroids[cluster], owners, texts)
        themes[theme_id].examples = examples_for(chosen, texts, detector)


def _notes(verbatims: Sequence[Verbatim], score_kind: ScoreKind | None,
           clusters: Clusters | None, labeller: ThemeLabeller | None,
           coded: bool = False) -> list[str]:
    """Honest remarks on what the analysis could and could not do (in French; read them in
    English with :func:`~skills.verbatims.analysis.notes.note_in`)."""
    notes: list[str] = []
    if labeller is None:
        notes.append((notes_text.NO_MODEL_CODED if coded else notes_text.NO_MODEL)("fr"))
    if score_kind is None:
        notes.append(notes_text.NO_SCORE("fr"))
    if not any(v.date for v in verbatims):
        notes.append(notes_text.NO_DATE("fr"))
    if clusters is not None and clusters.fillers:
        notes.append(notes_text.FILLERS("fr", count=clusters.fillers, s=plural(clusters.fillers, "fr")))
    if len(verbatims) < 300:
        notes.append(notes_text.FEW("fr"))
    return notes


def _codebook_note(codebook: Codebook, themes: Sequence[Theme]) -> str:
    """Which codebook was applied, how many of its codes were found, what it lacked."""
    found = sum(1 for theme in themes if theme.coded)
    discovered = len(themes) - found
    lacked = (notes_text.NONE_DISCOVERED("fr") if not discovered else
              notes_text.ONE_DISCOVERED("fr") if discovered == 1 else
              notes_text.DISCOVERED("fr", count=discovered))
    return notes_text.CODEBOOK("fr", name=codebook.name, found=found,
                               total=len(codebook.codes), lacked=lacked)


async def _ask_labeller(labeller: ThemeLabeller, themes: list[Theme]) -> None:
    """Model labels and axes from samples (one entry per theme, never per verbatim)."""
    samples = [ThemeSample(theme=t.id, label=t.label, keywords=tuple(t.keywords),
                           examples=tuple(t.examples), share=t.share,
                           negative_share=t.sentiment["negative"] / max(1, t.size))
               for t in themes]
    labels = await labeller.name_themes(samples)
    axes = await labeller.write_axes(samples)
    for theme, label, axis in zip(themes, labels, axes, strict=False):
        if label and label.strip() and not theme.coded:
            theme.label = label.strip()
        theme.axis = axis.strip() if axis and axis.strip() else None

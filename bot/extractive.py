"""The offline extractive "model": selects and cites sentences, never invents any.

It lets the embedded default answer with no API key and no network. The gateway
treats it like any other catalogue entry (provider ``extractive``, hosted
internally). From the passages of a request it either picks the sentences most
relevant to the question (Q&A), or sorts them into the sections of the
request's outline (structured summaries).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bot.gateway_types import CompletionRequest, OutlineSection, StreamBase, TokenUsage
from bot.i18n import Text
from bot.policy import ModelEntry
from bot.text import content_tokens, fold, split_sentences

CATCH_ALL_CUE = "*"
_MAX_ANSWER_SENTENCES = 4
_MAX_SECTION_SENTENCES = 6

_ACCORDING = Text("D'après les documents :", "According to the documents:")
_NOTHING_RELEVANT = Text(
    "Je ne trouve, dans les passages disponibles, aucune phrase qui réponde à cette question.",
    "I can't find any sentence in the available passages that answers this question.",
)
_NOTHING_NOTED = Text("(rien de relevé)", "(nothing noted)")


@dataclass(frozen=True, slots=True)
class _Sentence:
    passage: int
    position: int
    text: str
    tokens: tuple[str, ...]


def _sentences(request: CompletionRequest) -> list[_Sentence]:
    sentences = []
    position = 0
    for passage in request.passages:
        for sentence in split_sentences(passage.text):
            sentences.append(
                _Sentence(passage.number, position, sentence, tuple(content_tokens(sentence)))
            )
            position += 1
    return sentences


def _bm25(query: list[str], sentences: list[_Sentence]) -> list[float]:
    """BM25 of each sentence against the query terms (k1=1.2, b=0.5: short texts)."""
    if not sentences:
        return []
    count = len(sentences)
    average = sum(len(sentence.tokens) for sentence in sentences) / count or 1.0
    frequency = Counter(token for sentence in sentences for token in set(sentence.tokens))
    scores = []
    for sentence in sentences:
        counts = Counter(sentence.tokens)
        score = 0.0
        for term in set(query):
            if term not in counts:
                continue
            idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
            tf = counts[term]
            score += idf * tf * 2.2 / (tf + 1.2 * (0.5 + 0.5 * len(sentence.tokens) / average))
        scores.append(score)
    return scores


def select_answer(request: CompletionRequest) -> str:
    """The most relevant sentences for the question, each with its citation marker."""
    sentences = _sentences(request)
    query = content_tokens(request.question)
    scores = _bm25(query, sentences)
    ranked = []
    for sentence, score in zip(sentences, scores, strict=True):
        if score <= 0 or len(sentence.tokens) < 3:
            continue
        # earlier passages were ranked higher by retrieval: a gentle prior; a list fragment
        # ("constat amiable signé…", starting in lower case) says less than a full sentence
        fragment = 0.5 if sentence.text[:1].islower() else 1.0
        ranked.append((score * fragment * (1 + 0.25 / sentence.passage), sentence))
    ranked.sort(key=lambda item: item[0], reverse=True)
    if not ranked:
        return _NOTHING_RELEVANT(request.locale)
    best = ranked[0][0]
    chosen = [sentence for score, sentence in ranked[:_MAX_ANSWER_SENTENCES] if score >= best * 0.35]
    chosen.sort(key=lambda sentence: sentence.position)
    lines = [f"- {sentence.text} [{sentence.passage}]" for sentence in chosen]
    return _ACCORDING(request.locale) + "\n" + "\n".join(lines)


def _cue_score(sentence: _Sentence, section: OutlineSection) -> int:
    """How many of the section's cues start a word of the sentence."""
    folded = " " + re.sub(r"[^a-z0-9€']+", " ", fold(sentence.text))
    return sum(
        1 for cue in section.cues
        if cue != CATCH_ALL_CUE and (" " + fold(cue)) in folded
    )


def select_outline(request: CompletionRequest) -> str:
    """Sort the passages' sentences into the outline's sections by their cue words."""
    sections: dict[str, list[_Sentence]] = {section.title: [] for section in request.outline}
    catch_all = next(
        (section.title for section in request.outline if CATCH_ALL_CUE in section.cues), None
    )
    for sentence in _sentences(request):
        if len(sentence.tokens) < 2:
            continue
        scores = [(_cue_score(sentence, section), section.title) for section in request.outline]
        best_score, best_title = max(scores, key=lambda item: item[0])
        if best_score > 0:
            sections[best_title].append(sentence)
        elif catch_all is not None:
            sections[catch_all].append(sentence)
    blocks = []
    for title, chosen in sections.items():
        lines = [f"- {sentence.text}" for sentence in chosen[:_MAX_SECTION_SENTENCES]]
        if not lines:
            lines = [f"- {_NOTHING_NOTED(request.locale)}"]
        blocks.append(f"**{title}**\n" + "\n".join(lines))
    return "\n\n".join(blocks)


class _ExtractiveStream(StreamBase):
    async def __aiter__(self) -> AsyncIterator[str]:
        request = self._request
        text = select_outline(request) if request.outline else select_answer(request)
        prompt_words = sum(len(passage.text.split()) for passage in request.passages)
        self._usage = TokenUsage(
            prompt_tokens=prompt_words + len(request.question.split()),
            completion_tokens=len(text.split()),
        )
        for line in text.splitlines(keepends=True):
            yield line


class ExtractiveProvider:
    """Provider ``extractive``: offline, deterministic, cites what it selects."""

    def open_stream(self, entry: ModelEntry, request: CompletionRequest) -> _ExtractiveStream:
        """Select sentences for ``request`` (the entry has no settings to honour)."""
        return _ExtractiveStream(entry, request)

"""A structured summary offline: each sentence sorted into the section of the request's
outline whose cues it says (call summaries, visit reports)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.gateway.types import CompletionRequest, OutlineSection
from bot.i18n import Text
from bot.text import content_tokens, fold, split_sentences

CATCH_ALL_CUE = "*"
_MAX_SECTION_SENTENCES = 6
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


def _cue_score(sentence: _Sentence, section: OutlineSection) -> int:
    """How many of the section's cues start a word of the sentence."""
    folded = " " + re.sub(r"[^a-z0-9€']+", " ", fold(sentence.text))
    return sum(
        1 for cue in section.cues
        if cue != CATCH_ALL_CUE and (" " + fold(cue)) in folded
    )


_LABEL = re.compile(r"^\s*([^:.;!?]{2,40}?)\s?:\s+\S")


def _labelled(sentence: _Sentence, outline: tuple[OutlineSection, ...]) -> str | None:
    """The section a sentence's own label names (« Point de vigilance : … »): the one whose
    cue comes first in the label; None when it has no label or the label names none."""
    label = _LABEL.match(sentence.text)
    if label is None:
        return None
    folded = " " + re.sub(r"[^a-z0-9€']+", " ", fold(label.group(1)))
    found = [(folded.find(" " + fold(cue)), number, section.title)
             for number, section in enumerate(outline) for cue in section.cues
             if cue != CATCH_ALL_CUE and (" " + fold(cue)) in folded]
    return min(found)[2] if found else None


def select_outline(request: CompletionRequest) -> str:
    """Sort the passages' sentences into the outline's sections by their cue words."""
    sections: dict[str, list[_Sentence]] = {section.title: [] for section in request.outline}
    catch_all = next(
        (section.title for section in request.outline if CATCH_ALL_CUE in section.cues), None
    )
    for sentence in _sentences(request):
        if len(sentence.tokens) < 2:
            continue
        labelled = _labelled(sentence, request.outline)
        if labelled is not None:  # « Besoin : … », “Next step: …” says where it goes
            sections[labelled].append(sentence)
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

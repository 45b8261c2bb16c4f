"""Which search answers a follow-up: the one with the questions it continues, or its own.

« Et pour un intérimaire ? » narrows the question before it and is searched with it (see
:mod:`skills.follow_up`). But « Et les alternatives à un procès ? » after « Justice pénale :
quels délais de prescription ? », or « Et les critères d'attribution ? » after « Les
variantes sont-elles autorisées ? », moves on to a subject of its own: searched with the
earlier question, it was answered from that question's page. A follow-up that names
something (French: its nouns and names; English: its words the lexicon knows) is searched
alone too, and answered alone when that finds other passages that leave out less of what it
names or score higher — when it names one thing only, both, or higher under a heading that
says the whole question, or under such a heading in the same document (« 7.2 – Critères
d'attribution » of the rules whose variants were asked about). Answered alone from the
document the conversation is about (« Et l'indemnité ? » after telework questions), it keeps
to that document. When the search alone
declines, the one with the earlier questions answers, saying what its passages leave out
(« Et pour les stagiaires ? »).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.extractive import missing_terms
from bot.text import content_tokens
from knowledge import Passage
from knowledge.english import key_terms
from knowledge.relevance import RelevanceJudge

_PREFIX = 5  # letters compared: « Critères » in a heading says « critères »


@dataclass(frozen=True)
class Named:
    """What a follow-up names: how many things, how many of them some passages leave out,
    and whether a passage's heading says the whole question."""

    count: int
    left_out: Callable[[Sequence[Passage]], int]
    headed: Callable[[Passage], bool]


def searched_text(passage: Passage) -> str:
    """What a passage says, its document's title included."""
    return f"{passage.title} {passage.text}"


def french_named(question: str, subject: tuple[str, ...] | None) -> Named | None:
    """A French follow-up's nouns and names (``subject``); None when it names nothing (or
    they are not known)."""
    if not subject:
        return None

    def left_out(passages: Sequence[Passage]) -> int:
        if not passages:
            return len(subject)
        said = [f"{searched_text(p)} {p.section or ''}" for p in passages]  # its headings too
        return len(missing_terms(question, said, subject))

    def headed(passage: Passage) -> bool:
        heading = {token[:_PREFIX] for token in
                   content_tokens(f"{passage.title} {passage.section or ''}")}
        words = content_tokens(question)
        return bool(words) and all(word[:_PREFIX] in heading for word in words)

    return Named(len(subject), left_out, headed)


def english_named(question: str, judge: RelevanceJudge) -> Named | None:
    """An English follow-up's words known to the lexicon, found in passages by their French
    renderings; None when it has none."""
    count = len(key_terms(question))
    if not count:
        return None

    def left_out(passages: Sequence[Passage]) -> int:
        return count - max((judge.covered_key_terms(question, p) for p in passages), default=0)

    def headed(passage: Passage) -> bool:
        return judge.covered_key_terms(question, replace(passage, text="")) == count

    return Named(count, left_out, headed)


def answered_alone(named: Named, combined: Sequence[Passage], combined_score: float,
                   alone: Sequence[Passage], alone_score: float) -> bool:
    """Whether the follow-up is answered from its own search (``alone``: its passages, none
    when declined, and its best score) rather than from the one with the questions it
    continues (``combined``)."""
    if not alone:
        return False
    if combined and alone[0].chunk_id == combined[0].chunk_id:
        # found alone as well: naming two things or more, it needs no earlier question
        # (« Et la franchise en cas de dégât des eaux ? » after telework questions)
        return named.count >= 2
    said_more = named.left_out(alone) < named.left_out(combined)
    nearer = alone_score > combined_score
    if named.count == 1:  # « Et pour un intérimaire ? » mostly narrows the question
        headed = named.headed(alone[0]) and not (combined and named.headed(combined[0]))
        # a part of the same document titled with the question: « 7.2 – Critères
        # d'attribution » of the rules whose variants were asked about
        same_document = bool(combined) and alone[0].document == combined[0].document
        return (nearer and (said_more or headed)) or (headed and same_document)
    return said_more or nearer

"""Follow-up questions: « Et pour les stagiaires ? » is searched with the question it follows.

A person who has just asked « Combien de jours de télétravail par semaine ? » goes on with
« Et pour les stagiaires ? », « Combien ça coûte ? » or « Est-ce obligatoire ? ». Alone,
such a question finds nothing, or the wrong page. It is searched together with the
earlier questions of the conversation it continues, back to the last one that stands
alone; the answer says so.

A question continues the conversation when the thread's last question went to Q&A and
this one:
- opens as a continuation (« et… », « mais… », « sinon », « dans ce cas », « and… »,
  « what about… », « what if… »);
- or points back (« ce délai », « cela », « ça », « this », « it ») in three content
  words or fewer, or asks about « ce » (« Est-ce gratuit ? », « C'est payant ? ») in two;
- or, in French, names nothing: no noun or name besides those that ask for a kind of
  answer (« quel délai ? », « quelles sont les conditions ? »), in two content words or
  fewer.

Of the 267 French questions of the dev sets, all standing alone, one reads as a follow-up
(« Recrutement : que faire ? »); of our 364 other questions (English, off-topic…), none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.gateway.types import ChatTurn
from bot.text import content_tokens, fold
from skills.small_talk import small_talk

QA_SKILL = "qa"
# how a reply says which question a follow-up was read with (see skills.qa)
CONTINUATION_MARKERS = ("(Question lue comme la suite de ", "(Read as following on from ")
MAX_CHAIN = 3  # earlier questions searched with a follow-up, at most
_MAX_EARLIER_CHARS = 400  # a longer message is no question to go on from
_OPENER = re.compile(
    r"^(?:et|and|mais|but|sinon|otherwise|also|aussi|idem|pareil|meme (?:chose|question)|"
    r"dans ce cas|in that case|what about|how about|what if|(?:ok|d'accord|merci)[ ,]+et)\b")
_ANAPHOR = re.compile(
    r"\b(?:ce|cet|cette|ces|cela|ca|celui|celle|ceux|celles|it|this|that|these|those|they|"
    r"them)\b")
_QA_COMMAND = re.compile(r"^/?(?:almia\s+)?(?:ask|question)\b[\s:]*", re.IGNORECASE)
# « est-ce gratuit ? », « c'est payant ? »: « ce » is the subject, the thing asked about
# before (« est-ce que… », « c'est quoi… » open a question of their own)
_PREDICATE = re.compile(
    r"^(?:est-ce que c'est|est-ce|c'est)\s+(?!(?:que|qu|quoi|qui|comment|ou|quand)\b)")
# fixed phrases in which « ce », « it » or « that » points nowhere
_FIXED = re.compile(r"\b(?:qu'est-ce|est-ce|c'est|ce (?:que|qui|qu')|that is)\b")


def _as_asked(text: str) -> str | None:
    """A Q&A message as the skill read it (« /almia ask X », Slack's « ask X » → « X »);
    None for another command."""
    text = text.strip()
    command = _QA_COMMAND.match(text)
    if command is not None:
        return text[command.end():].strip()
    return None if text.startswith("/") else text


def points_back(question: str, subject_words: tuple[str, ...] | None = None) -> bool:
    """Whether ``question`` reads as the continuation of an earlier one; ``subject_words``
    are its nouns and names (French only; None when not known)."""
    folded = fold(question).strip().replace("’", "'")
    if _OPENER.match(folded):
        return True
    if _ANAPHOR.search(_FIXED.sub(" ", folded)) and len(content_tokens(question)) <= 3:
        return True
    if _PREDICATE.match(folded) and len(content_tokens(question)) <= 2:
        return True
    return subject_words == () and len(content_tokens(question)) <= 2


def earlier_questions(
    history: Sequence[ChatTurn], current_points_back: bool,
    subject_of: Callable[[str], tuple[str, ...] | None] = lambda _text: None,
    past_alone: bool = False,
) -> tuple[str, ...]:
    """The earlier questions a follow-up continues, oldest first: the thread's last Q&A
    question, and the ones before it while each was itself a follow-up (judged as it was
    when asked, with ``subject_of`` its nouns and names: « Qui valide ? ») answered with the
    question it followed. Empty when the question stands alone or the thread's last message
    went to another skill. ``past_alone``: go on past a follow-up answered on its own, back
    to where the conversation started (tried when the shorter reading finds nothing)."""
    if not current_points_back:
        return ()
    chain: list[str] = []
    for turn, reply in reversed(_asked_and_answered(history)):
        text = _as_asked(turn.content)
        if turn.skill != QA_SKILL or not text or (
                len(text) > _MAX_EARLIER_CHARS) or small_talk(text, "fr") is not None:
            break
        chain.insert(0, text)
        if len(chain) >= MAX_CHAIN or not points_back(text, subject_of(text)) or (
                _answered_alone(reply) and not past_alone):
            break
    return tuple(chain)


def _asked_and_answered(history: Sequence[ChatTurn]) -> list[tuple[ChatTurn, ChatTurn | None]]:
    """Each question of the thread with the reply that followed it (None: not yet)."""
    pairs: list[tuple[ChatTurn, ChatTurn | None]] = []
    for index, turn in enumerate(history):
        if turn.role == "user":
            after = history[index + 1] if index + 1 < len(history) else None
            pairs.append((turn, after if after is not None and after.role == "assistant"
                          else None))
    return pairs


def _answered_alone(reply: ChatTurn | None) -> bool:
    """Whether a follow-up was answered standing alone (« Et les alternatives à un procès ? »
    moved on to another subject: :mod:`skills.follow_up_search`), its reply not saying which
    question it was read with: the chain of a later follow-up starts from it."""
    return reply is not None and reply.skill == QA_SKILL and not any(
        marker in reply.content for marker in CONTINUATION_MARKERS)

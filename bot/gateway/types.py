"""What the model gateway and its providers share: requests, streams, usage, errors.

This module sits below both ``bot.gateway.llm`` (which wires providers into the gateway) and the
providers (``bot.gateway.openai_compatible``, ``bot.extractive``), so that neither imports the
other's module to know these types. ``bot.gateway.llm`` re-exports all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.governance.policy import DataClass, ModelEntry
from bot.messages import Locale

Outcome = Literal["ok", "error", "timeout", "cancelled"]  # cancelled: the caller went away


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One message of a model conversation."""

    role: Literal["system", "user", "assistant"]
    content: str
    skill: str | None = None  # the skill that handled the turn (history only; never sent)
    files: tuple[str, ...] = ()  # file-store ids the question carried (history only)


@dataclass(frozen=True, slots=True)
class ContextPassage:
    """A numbered passage given to the model as data to answer from."""

    number: int
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class OutlineSection:
    """A section a structured answer must have; ``cues`` help the extractive provider."""

    title: str
    cues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """What a skill asks of a model.

    ``messages`` is the full prompt for generative models. ``question``, ``passages``
    and ``outline`` carry the same request in structured form, which the offline
    extractive provider works from; ``match_terms`` are words in the passages' language
    standing for the question's (an English question's French renderings), which it
    matches sentences with instead of the question's own words; ``cross_lingual`` says
    the question is not in the passages' language, so retrieval order is trusted over
    chance word matches; ``subject_words`` are the question's words that say what it is
    about (its nouns and names), of which the extractive provider names those no passage
    mentions (None: it looks at every long word of the question).
    """

    skill: str
    role: str
    messages: tuple[ChatTurn, ...]
    question: str
    passages: tuple[ContextPassage, ...] = ()
    outline: tuple[OutlineSection, ...] = ()
    data_class: DataClass = DataClass.INTERNAL
    locale: Locale = "fr"
    requires_generation: bool = False
    max_tokens: int | None = None
    match_terms: str = ""
    # a follow-up's earlier questions: their words choose sentences when its own find none
    context_terms: str = ""
    cross_lingual: bool = False
    subject_words: tuple[str, ...] | None = None
    # the language the passages are written in (an English document attached to a question)
    source_locale: Locale = "fr"
    # the action a “How do I…?” asks about, in the passages' language (« déclarer signaler »)
    action_terms: str = ""
    # a question in another language than the passages': its key words, each with its
    # renderings in the passages' language (“car”: « voiture », « véhicule »…); the
    # extractive provider names those no passage renders
    rendered_terms: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens a provider reports for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One model call, successful or not."""

    skill: str
    role: str
    alias: str
    hosting: str
    data_class: DataClass
    outcome: Outcome
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    error: str | None = None  # a short code (status, error class): never what the provider sent
    redactions: tuple[tuple[str, int], ...] = ()  # kind → values pseudonymised (no raw data)


class ProviderStream(Protocol):
    """What a provider returns: text deltas, then (optionally) the usage it measured."""

    def __aiter__(self) -> AsyncIterator[str]: ...

    @property
    def usage(self) -> TokenUsage: ...


class ModelProvider(Protocol):
    """Something that can run a request on one catalogue entry."""

    def open_stream(self, entry: ModelEntry, request: CompletionRequest) -> ProviderStream:
        """Start a call; iterate the result for text."""
        ...


class StreamBase:
    """What every provider stream keeps: the entry, the request and the usage it reports."""

    def __init__(self, entry: ModelEntry, request: CompletionRequest) -> None:
        self._entry = entry
        self._request = request
        self._usage = TokenUsage()

    @property
    def usage(self) -> TokenUsage:
        """Tokens reported by the provider (zero until the stream ends)."""
        return self._usage

    def chat_body(self) -> dict[str, Any]:
        """The OpenAI-style streamed chat request (model, messages, limits, extras)."""
        body: dict[str, Any] = {
            "model": self._entry.model,
            "messages": [{"role": turn.role, "content": turn.content}
                         for turn in self._request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            **self._entry.extra,
        }
        max_tokens = self._request.max_tokens or self._entry.max_tokens
        if max_tokens:
            body["max_tokens"] = max_tokens
        return body


class ProviderError(Exception):
    """A model server failed. ``code`` says how in a few words, never with what it sent back.

    Error bodies often echo the prompt: they must reach neither the log nor the store.
    """

    def __init__(self, code: str, *, status: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


class IncompleteAnswer(ProviderError):
    """A 200 answer that is not a whole answer: not an event stream, empty, or cut short."""


class GatewayError(Exception):
    """Base of the gateway's refusals and failures."""


class NoApprovedModel(GatewayError):
    """The policy approves no model for this skill and role."""

    def __init__(self, skill: str, role: str) -> None:
        super().__init__(f"no approved model for {skill}/{role}")
        self.skill = skill
        self.role = role


class NoClearedModel(GatewayError):
    """Models are approved, but none is cleared for the request's data class."""

    def __init__(self, skill: str, data_class: DataClass) -> None:
        super().__init__(f"no approved model of {skill} is cleared for {data_class.label}")
        self.skill = skill
        self.data_class = data_class


class NeedsGeneration(GatewayError):
    """The request needs a generative model and only the extractive provider is approved."""

    def __init__(self, skill: str) -> None:
        super().__init__(f"{skill} needs a generative model")
        self.skill = skill


class ModelUnavailable(GatewayError):
    """Every approved model failed, timed out or is known to be down."""


class ProtectionUnavailable(GatewayError):
    """Personal-data detection could not run, so nothing was sent (fail closed)."""


class ProtectionBlocked(GatewayError):
    """The skill's policy blocks requests holding personal data or secrets."""

    def __init__(self, skill: str, counts: Mapping[str, int]) -> None:
        super().__init__(f"{skill}: blocked ({', '.join(sorted(counts))})")
        self.skill = skill
        self.counts = dict(counts)

"""The model gateway: the only place that talks to models, and the only importer of litellm.

A skill asks for a model by *role*. The gateway looks up the approved aliases for
that (skill, role) in the policy, keeps those whose clearance covers the
request's data class, and tries them in order: each with its own timeout and
retries, falling back to the next approved alias on failure (only before the
first streamed token, so a user never sees two half answers). Every attempt
leaves a :class:`UsageRecord` (alias, tokens, cost, latency, outcome).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

from bot.dlp import Detector, DlpBlocked, DlpSettings, DlpUnavailable, Pseudonymiser, StreamRestorer
from bot.messages import Locale
from bot.policy import DataClass, ModelEntry, Policy

log = logging.getLogger(__name__)

Outcome = Literal["ok", "error", "timeout"]


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One message of a model conversation."""

    role: Literal["system", "user", "assistant"]
    content: str


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
    extractive provider works from.
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
    error: str | None = None
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
    """Every approved model failed or timed out."""


class ProtectionUnavailable(GatewayError):
    """Personal-data detection could not run, so nothing was sent (fail closed)."""


class ProtectionBlocked(GatewayError):
    """The skill's policy blocks requests holding personal data or secrets."""

    def __init__(self, skill: str, counts: Mapping[str, int]) -> None:
        super().__init__(f"{skill}: blocked ({', '.join(sorted(counts))})")
        self.skill = skill
        self.counts = dict(counts)


@dataclass(frozen=True, slots=True)
class _Protection:
    """The request as it may leave for an external model, and how to restore the answer."""

    outbound: CompletionRequest
    pseudonymiser: Pseudonymiser | None
    redactions: tuple[tuple[str, int], ...]


UsageSink = Callable[[UsageRecord], Awaitable[None]]


@dataclass
class CompletionResult:
    """A finished completion."""

    text: str
    alias: str
    usage: TokenUsage = field(default_factory=TokenUsage)


class ModelGateway:
    """Approved-model routing with timeouts, retries, fallbacks, streaming and usage records."""

    def __init__(
        self,
        policy: Policy,
        providers: Mapping[str, ModelProvider],
        usage_sink: UsageSink | None = None,
        *,
        detector: Detector | None = None,
        dlp: DlpSettings | None = None,
    ) -> None:
        self._policy = policy
        self._providers = dict(providers)
        self._usage_sink = usage_sink
        self._dlp = dlp or DlpSettings(enabled=detector is not None)
        self._detector = detector
        # classifying a request for internal models needs no NER (names do not raise the class)
        self._pattern_detector = (Detector(self._dlp.model_copy(update={"ner": False}))
                                  if detector is not None else None)
        missing = {entry.provider for entry in policy.models} - set(self._providers)
        if missing:
            raise GatewayError(f"no provider for {', '.join(sorted(missing))}")

    async def close(self) -> None:
        """Release the providers' connections."""
        for provider in self._providers.values():
            closer = getattr(provider, "close", None)
            if closer is not None:
                await closer()

    def with_usage_sink(self, usage_sink: UsageSink) -> ModelGateway:
        """The same gateway, reporting its calls to ``usage_sink`` (one per request)."""
        bound = ModelGateway.__new__(ModelGateway)
        bound._policy = self._policy
        bound._providers = self._providers
        bound._usage_sink = usage_sink
        bound._dlp = self._dlp
        bound._detector = self._detector
        bound._pattern_detector = self._pattern_detector
        return bound

    def candidates(self, request: CompletionRequest) -> list[ModelEntry]:
        """The models that may serve ``request``, in order; raises if there are none."""
        approved = self._policy.approved(request.skill, request.role)
        if not approved:
            raise NoApprovedModel(request.skill, request.role)
        cleared = [entry for entry in approved if entry.data_clearance >= request.data_class]
        if not cleared:
            raise NoClearedModel(request.skill, request.data_class)
        if request.requires_generation:
            cleared = [entry for entry in cleared if entry.is_generative]
            if not cleared:
                raise NeedsGeneration(request.skill)
        return cleared

    def first_choice(self, skill: str, role: str) -> ModelEntry | None:
        """The preferred approved model for a role, or None."""
        approved = self._policy.approved(skill, role)
        return approved[0] if approved else None

    async def stream(
        self, request: CompletionRequest, on_model: Callable[[str], None] | None = None
    ) -> AsyncIterator[str]:
        """Stream the answer of the first approved model that responds.

        ``on_model`` is told the alias that actually answers, before its first delta.
        """
        approved = self._policy.approved(request.skill, request.role)
        if not approved:
            raise NoApprovedModel(request.skill, request.role)
        protection = await self._protect(request, approved)
        if protection is not None:
            request = dataclasses.replace(request, data_class=protection.outbound.data_class)
        candidates = self.candidates(request)
        failures: list[str] = []
        for entry in candidates:
            external = entry.hosting == "external" and protection is not None
            sent = protection.outbound if external and protection else request
            restorer = (StreamRestorer(protection.pseudonymiser)
                        if external and protection and protection.pseudonymiser else None)
            redactions = protection.redactions if external and protection else ()
            for attempt in range(entry.retries + 1):
                started = time.perf_counter()
                emitted = False
                stream = self._providers[entry.provider].open_stream(entry, sent)
                try:
                    async for raw_delta in self._with_timeouts(entry, stream):
                        delta = restorer.feed(raw_delta) if restorer else raw_delta
                        if not delta:
                            continue
                        if not emitted and on_model is not None:
                            on_model(entry.alias)
                        emitted = True
                        yield delta
                    if restorer is not None and (rest := restorer.flush()):
                        emitted = True
                        yield rest
                except TimeoutError:
                    await self._record(entry, request, stream, started, "timeout", "timeout",
                                       redactions)
                    failures.append(f"{entry.alias}: timeout")
                    if emitted:
                        raise ModelUnavailable(f"{entry.alias} timed out mid-answer") from None
                    continue
                except GatewayError:
                    raise
                except Exception as error:
                    await self._record(entry, request, stream, started, "error", _describe(error),
                                       redactions)
                    failures.append(f"{entry.alias}: {_describe(error)}")
                    log.warning("model %s failed (attempt %d): %s", entry.alias, attempt + 1,
                                _describe(error))
                    if emitted:
                        raise ModelUnavailable(f"{entry.alias} failed mid-answer") from error
                    continue
                await self._record(entry, request, stream, started, "ok", None, redactions)
                if not emitted and on_model is not None:
                    on_model(entry.alias)
                return
        raise ModelUnavailable("; ".join(failures) or "no model answered")

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """The whole answer at once."""
        chosen: list[str] = []
        parts = [delta async for delta in self.stream(request, on_model=chosen.append)]
        return CompletionResult(text="".join(parts), alias=chosen[0] if chosen else "")

    async def _protect(self, request: CompletionRequest,
                       approved: Sequence[ModelEntry]) -> _Protection | None:
        """Detect personal data and secrets; pseudonymise what may leave the trust boundary.

        Skipped when DLP is off, or when every approved model is internal and cleared for
        secrets (nothing could change). Fails closed: no detection, no call.
        """
        if not self._dlp.enabled:
            return None
        if all(e.hosting == "internal" and e.data_clearance >= DataClass.SECRET
               for e in approved):
            return None
        external = any(entry.hosting == "external" for entry in approved)
        detector = self._detector if external else self._pattern_detector
        if detector is None:
            raise ProtectionUnavailable("DLP is enabled but no detector is configured")
        action = self._dlp.action_for(request.skill)
        if action == "allow":
            return None
        pseudonymiser = Pseudonymiser(detector, action)

        def run() -> CompletionRequest:
            messages = tuple(
                turn if turn.role == "system"
                else ChatTurn(turn.role, pseudonymiser.pseudonymise(turn.content))
                for turn in request.messages
            )
            passages = tuple(
                ContextPassage(p.number, p.title, pseudonymiser.pseudonymise(p.text))
                for p in request.passages
            )
            return dataclasses.replace(
                request, messages=messages, passages=passages,
                question=pseudonymiser.pseudonymise(request.question),
            )

        try:
            outbound = await asyncio.to_thread(run)
        except DlpBlocked as blocked:
            raise ProtectionBlocked(request.skill, blocked.counts) from None
        except DlpUnavailable as unavailable:
            raise ProtectionUnavailable(str(unavailable)) from None
        counts = pseudonymiser.counts
        data_class = max(
            [request.data_class, *(DataClass.parse(self._dlp.kind_classes.get(kind, "internal"))
                                   for kind in counts)]
        )
        return _Protection(
            outbound=dataclasses.replace(outbound, data_class=data_class),
            pseudonymiser=pseudonymiser if counts else None,
            redactions=tuple(sorted(counts.items())),
        )

    async def _with_timeouts(self, entry: ModelEntry, stream: ProviderStream) -> AsyncIterator[str]:
        deadline = asyncio.get_running_loop().time() + entry.timeout_seconds
        iterator = aiter(stream)
        first = True
        while True:
            budget = deadline - asyncio.get_running_loop().time()
            if first:
                budget = min(budget, entry.first_token_timeout_seconds)
            if budget <= 0:
                raise TimeoutError
            try:
                async with asyncio.timeout(budget):
                    delta = await anext(iterator)
            except StopAsyncIteration:
                return
            first = False
            if delta:
                yield delta

    async def _record(
        self,
        entry: ModelEntry,
        request: CompletionRequest,
        stream: ProviderStream,
        started: float,
        outcome: Outcome,
        error: str | None,
        redactions: tuple[tuple[str, int], ...] = (),
    ) -> None:
        usage = stream.usage
        cost = _cost(entry, usage)
        record = UsageRecord(
            skill=request.skill,
            role=request.role,
            alias=entry.alias,
            hosting=entry.hosting,
            data_class=request.data_class,
            outcome=outcome,
            latency_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=cost,
            error=error,
            redactions=redactions,
        )
        if self._usage_sink is not None:
            await self._usage_sink(record)


def _describe(error: BaseException) -> str:
    """An error's type and first line, without request bodies or keys."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line[:200]}"


def _cost(entry: ModelEntry, usage: TokenUsage) -> float:
    if entry.input_cost_per_token is not None or entry.output_cost_per_token is not None:
        return usage.prompt_tokens * (entry.input_cost_per_token or 0.0) + (
            usage.completion_tokens * (entry.output_cost_per_token or 0.0)
        )
    if entry.provider != "litellm" or entry.model is None:
        return 0.0
    return LiteLLMProvider.catalogue_cost(entry.model, usage)


def prepare_offline_environment(environ: dict[str, str] | None = None) -> None:
    """Make litellm work without network: local cost map, bundled tiktoken encodings."""
    target = os.environ if environ is None else environ
    target.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    target.setdefault("LITELLM_TELEMETRY", "False")
    target.setdefault("TIKTOKEN_CACHE_DIR", str(_litellm_tokenizer_dir()))


def _litellm_tokenizer_dir() -> Path:
    from importlib.util import find_spec

    spec = find_spec("litellm")
    if spec is None or spec.origin is None:
        return Path()
    return Path(spec.origin).parent / "litellm_core_utils" / "tokenizers"


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


class _LiteLLMStream(StreamBase):
    def __init__(self, module: ModuleType, entry: ModelEntry, request: CompletionRequest) -> None:
        super().__init__(entry, request)
        self._module = module

    async def __aiter__(self) -> AsyncIterator[str]:
        entry = self._entry
        arguments: dict[str, Any] = {
            **self.chat_body(),
            "timeout": entry.timeout_seconds,
            "num_retries": 0,
        }
        if entry.api_base:
            arguments["api_base"] = entry.api_base
        if entry.api_key is not None:
            arguments["api_key"] = entry.api_key.get_secret_value()
        if entry.api_version:
            arguments["api_version"] = entry.api_version  # Azure OpenAI
        response = await self._module.acompletion(**arguments)
        async for chunk in response:
            usage = getattr(chunk, "usage", None)
            if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
                self._usage = TokenUsage(
                    prompt_tokens=int(usage.prompt_tokens or 0),
                    completion_tokens=int(usage.completion_tokens or 0),
                )
            for choice in getattr(chunk, "choices", None) or []:
                delta = getattr(choice, "delta", None)
                content = getattr(delta, "content", None) if delta is not None else None
                if content:
                    yield content


class LiteLLMProvider:
    """Hosted and internal models through litellm (OpenAI, Mistral, Gemini, Anthropic, vLLM…)."""

    def __init__(self) -> None:
        prepare_offline_environment()
        import litellm

        litellm.telemetry = False
        litellm.drop_params = True
        litellm.suppress_debug_info = True
        # we record usage ourselves; litellm's own logging costs CPU and may hold prompt text
        litellm.turn_off_message_logging = True
        litellm.disable_streaming_logging = True
        litellm.disable_hf_tokenizer_download = True  # never fetch a tokenizer at run time
        self._module: ModuleType = litellm

    def open_stream(self, entry: ModelEntry, request: CompletionRequest) -> ProviderStream:
        """Start a streamed chat completion."""
        return _LiteLLMStream(self._module, entry, request)

    @staticmethod
    def catalogue_cost(model: str, usage: TokenUsage) -> float:
        """Cost from litellm's local price list; 0 for models it does not know."""
        import litellm

        prices = litellm.model_cost.get(model) or litellm.model_cost.get(model.split("/", 1)[-1])
        if not isinstance(prices, dict):
            return 0.0
        return float(usage.prompt_tokens * float(prices.get("input_cost_per_token") or 0.0)
                     + usage.completion_tokens * float(prices.get("output_cost_per_token") or 0.0))


def default_providers(policy: Policy, extra: Mapping[str, ModelProvider] | None = None,
                      ) -> dict[str, ModelProvider]:
    """The providers the policy needs; litellm is imported only if a litellm model is declared."""
    from bot.extractive import ExtractiveProvider
    from bot.openai_compatible import OpenAICompatibleProvider

    providers: dict[str, ModelProvider] = {"extractive": ExtractiveProvider(),
                                           "openai-compatible": OpenAICompatibleProvider()}
    if any(entry.provider == "litellm" for entry in policy.models):
        providers["litellm"] = LiteLLMProvider()
    providers.update(extra or {})
    return providers


def describe_models(models: Sequence[ModelEntry]) -> list[dict[str, str]]:
    """A printable view of catalogue entries (never the keys)."""
    return [
        {
            "alias": entry.alias,
            "provider": entry.provider,
            "model": entry.model or "-",
            "hosting": entry.hosting,
            "clearance": entry.clearance,
            "api_base": entry.api_base or "-",
        }
        for entry in models
    ]

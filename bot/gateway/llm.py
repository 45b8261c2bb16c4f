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
import copy
import dataclasses
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.extractive import ExtractiveProvider
from bot.gateway.circuit import CircuitBreaker
from bot.gateway.openai_compatible import OpenAICompatibleProvider
from bot.gateway.types import (
    ChatTurn,
    CompletionRequest,
    ContextPassage,
    GatewayError,
    IncompleteAnswer,
    ModelProvider,
    ModelUnavailable,
    NeedsGeneration,
    NoApprovedModel,
    NoClearedModel,
    Outcome,
    OutlineSection,
    ProtectionBlocked,
    ProtectionUnavailable,
    ProviderError,
    ProviderStream,
    StreamBase,
    TokenUsage,
    UsageRecord,
)
from bot.governance.dlp import (
    Detector,
    DlpBlocked,
    DlpSettings,
    DlpUnavailable,
    Pseudonymiser,
    StreamRestorer,
)
from bot.governance.policy import DataClass, ModelEntry, Policy

__all__ = [  # the shared types live in bot.gateway.types; importers may keep using bot.gateway.llm
    "ChatTurn",
    "CompletionRequest",
    "CompletionResult",
    "ContextPassage",
    "GatewayError",
    "IncompleteAnswer",
    "LiteLLMProvider",
    "ModelGateway",
    "ModelProvider",
    "ModelUnavailable",
    "NeedsGeneration",
    "NoApprovedModel",
    "NoClearedModel",
    "Outcome",
    "OutlineSection",
    "ProtectionBlocked",
    "ProtectionUnavailable",
    "ProviderError",
    "ProviderStream",
    "StreamBase",
    "TokenUsage",
    "UsageRecord",
    "UsageSink",
    "default_providers",
    "describe_failure",
    "describe_models",
    "prepare_offline_environment",
]

log = logging.getLogger(__name__)

# litellm's loggers: their own stderr handler doubled every line; their debug lines hold prompts
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
_CHATTY_LIBRARIES = ("litellm", "openai")  # their modules' loggers log request bodies in debug
# statuses that refuse this request only: the server is up, so they do not trip the breaker
_REQUEST_SPECIFIC_STATUSES = frozenset({400, 413, 422})
_ABANDONED_GRACE_SECONDS = 10.0  # at shutdown, for calls a timeout left behind to end


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


@dataclass(slots=True)
class _Call:
    """One attempt at one alias: what is sent, and how far it got."""

    entry: ModelEntry
    request: CompletionRequest  # as recorded (the data class after detection)
    protection: _Protection | None  # when the alias is external and detection ran
    attempt: int
    on_model: Callable[[str], None] | None
    received: bool = False  # the provider sent text
    emitted: bool = False  # text went on to the caller
    answered: bool = False  # the call ended well

    @property
    def sent(self) -> CompletionRequest:
        """The request as it leaves: pseudonymised for an external alias."""
        return self.protection.outbound if self.protection is not None else self.request

    @property
    def redactions(self) -> tuple[tuple[str, int], ...]:
        """Kinds and counts of values pseudonymised in what was sent."""
        return self.protection.redactions if self.protection is not None else ()

    def restorer(self) -> StreamRestorer | None:
        """A fresh restorer of placeholders for this call's answer, if any were sent."""
        if self.protection is None or self.protection.pseudonymiser is None:
            return None
        return StreamRestorer(self.protection.pseudonymiser)

    def emit(self, delta: str) -> str:
        """Pass ``delta`` on, telling ``on_model`` the alias first (once)."""
        if not self.emitted and self.on_model is not None:
            self.on_model(self.entry.alias)
        self.emitted = True
        return delta


class ModelGateway:
    """Approved-model routing with timeouts, retries, fallbacks, a circuit breaker per alias,
    streaming and usage records."""

    def __init__(
        self,
        policy: Policy,
        providers: Mapping[str, ModelProvider],
        usage_sink: UsageSink | None = None,
        *,
        detector: Detector | None = None,
        dlp: DlpSettings | None = None,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self._policy = policy
        self._providers = dict(providers)
        self._usage_sink = usage_sink
        self._dlp = dlp or DlpSettings(enabled=detector is not None)
        self._detector = detector
        # classifying a request for internal models needs no NER (names do not raise the class)
        self._pattern_detector = (Detector(self._dlp.model_copy(update={"ner": False}))
                                  if detector is not None else None)
        self._circuit = circuit or CircuitBreaker(policy.circuit_breaker)
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
        """The same gateway (providers, circuits), reporting its calls to ``usage_sink``."""
        bound = copy.copy(self)
        bound._usage_sink = usage_sink
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

    def stream(
        self, request: CompletionRequest, on_model: Callable[[str], None] | None = None
    ) -> AsyncGenerator[str, None]:
        """Stream the answer of the first approved model that responds.

        ``on_model`` is told the alias that actually answers, before its first delta. An
        alias whose circuit is open is skipped. An answer that is empty, cut short or not
        a stream is a failure like an error status, and falls back the same way, unless
        part of it was already streamed (then :class:`ModelUnavailable` is raised).
        """
        return self._answer(request, on_model, whole=False)

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """The whole answer at once: a model that fails even mid-answer falls back."""
        chosen: list[str] = []
        parts = [delta async for delta in self._answer(request, chosen.append, whole=True)]
        return CompletionResult(text="".join(parts), alias=chosen[0] if chosen else "")

    async def _answer(self, request: CompletionRequest, on_model: Callable[[str], None] | None,
                      *, whole: bool) -> AsyncGenerator[str, None]:
        """Try the candidates in order; ``whole`` holds each answer back until it is complete."""
        approved = self._policy.approved(request.skill, request.role)
        if not approved:
            raise NoApprovedModel(request.skill, request.role)
        protection = await self._protect(request, approved)
        if protection is not None:
            request = dataclasses.replace(request, data_class=protection.outbound.data_class)
        failures: list[str] = []
        for entry in self.candidates(request):
            external = entry.hosting == "external" and protection is not None
            for attempt in range(entry.retries + 1):
                if not self._circuit.admit(entry.alias):
                    failures.append(f"{entry.alias}: circuit open")
                    break
                call = _Call(entry, request, protection if external else None, attempt, on_model)
                held: list[str] = []
                async with aclosing(self._attempt(call, failures)) as deltas:
                    async for delta in deltas:
                        if whole:
                            held.append(delta)
                        else:
                            yield call.emit(delta)
                if call.answered:
                    if held:
                        yield call.emit("".join(held))
                    elif not call.emitted:
                        call.emit("")  # nothing to show, but on_model learns who answered
                    return
        raise ModelUnavailable("; ".join(failures) or "no model answered")

    async def _attempt(self, call: _Call, failures: list[str]) -> AsyncGenerator[str, None]:
        """One call to one alias. A failure is recorded, and raised only once text was sent on."""
        entry = call.entry
        stream = self._providers[entry.provider].open_stream(entry, call.sent)
        restorer = call.restorer()
        started = time.perf_counter()
        settled = False
        try:
            async for raw_delta in self._with_timeouts(entry, stream):
                call.received = True
                delta = restorer.feed(raw_delta) if restorer else raw_delta
                if delta:
                    yield delta
            if not call.received:
                raise IncompleteAnswer("empty answer")
            if restorer is not None and (rest := restorer.flush()):
                yield rest
        except GatewayError:
            raise
        except Exception as error:  # noqa: BLE001 (any provider failure, timeouts too, falls back)
            settled = True
            failures.append(await self._failed(call, stream, started, error))
            if call.emitted:
                raise ModelUnavailable(f"{entry.alias} failed mid-answer") from None
            return
        else:
            settled = True
            self._circuit.succeeded(entry.alias)
            await self._record(entry, call.request, stream, started, "ok", None, call.redactions)
            call.answered = True
        finally:
            if not settled:  # the caller went away mid-call: no verdict on the model
                self._circuit.abandoned(entry.alias)
                # but the call was made: usage and cost are recorded all the same
                await self._record(entry, call.request, stream, started, "cancelled", None,
                                   call.redactions)

    async def _failed(self, call: _Call, stream: ProviderStream, started: float,
                      error: Exception) -> str:
        """Record a failed call and tell its circuit, without anything the provider sent."""
        entry = call.entry
        timed_out = isinstance(error, TimeoutError)
        code = "timeout" if timed_out else describe_failure(error)
        if _is_request_specific(error):
            self._circuit.succeeded(entry.alias)  # the server answered: it is up
        else:
            self._circuit.failed(entry.alias)
        log.warning("model %s failed (attempt %d): %s", entry.alias, call.attempt + 1, code)
        await self._record(entry, call.request, stream, started,
                           "timeout" if timed_out else "error", code, call.redactions)
        return f"{entry.alias}: {code}"

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


def describe_failure(error: BaseException) -> str:
    """A failure as a short code (HTTP status, error class), never its message.

    Provider error messages often quote the request: they reach neither the log nor the
    ``usage_events.error`` column.
    """
    if isinstance(error, ProviderError):
        return error.code
    status = _status_of(error)
    name = type(error).__name__
    return f"HTTP {status} {name}" if status is not None else name


def _status_of(error: BaseException) -> int | None:
    for attribute in ("status", "status_code"):  # aiohttp and ours; litellm and openai
        value = getattr(error, attribute, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _is_request_specific(error: BaseException) -> bool:
    """A refusal of this request only (bad request, too long): no sign the model is down."""
    return _status_of(error) in _REQUEST_SPECIFIC_STATUSES


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


class _LiteLLMStream(StreamBase):
    def __init__(self, module: ModuleType, entry: ModelEntry, request: CompletionRequest,
                 abandoned: set[asyncio.Future[Any]]) -> None:
        super().__init__(entry, request)
        self._module = module
        self._abandoned = abandoned

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
        response = await self._start(self._module.acompletion(**arguments))
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

    async def _start(self, call: Awaitable[Any]) -> Any:
        """litellm's start of a call, finished even when we stop waiting (a timeout).

        ``acompletion`` builds the request in a thread that returns a coroutine: cancelled
        in between, that coroutine is never awaited (a warning, and for tests an error).
        An abandoned start runs on in the background and its stream is closed at once.
        """
        started = asyncio.ensure_future(call)
        try:
            return await asyncio.shield(started)
        except asyncio.CancelledError:
            self._abandoned.add(started)
            started.add_done_callback(self._close_abandoned)
            raise

    def _close_abandoned(self, started: asyncio.Future[Any]) -> None:
        self._abandoned.discard(started)
        if started.cancelled() or started.exception() is not None:
            return  # litellm's own timeout or the connection's end: nothing left open
        closer = getattr(started.result(), "aclose", None)
        if closer is not None:
            closing = asyncio.ensure_future(closer())
            self._abandoned.add(closing)
            closing.add_done_callback(self._abandoned.discard)


def route_litellm_logs() -> None:
    """litellm's warnings and errors, once, through the application's handlers; nothing else.

    litellm gives its ``LiteLLM`` loggers a stderr handler of their own *and* lets them
    propagate to the root logger, so each of its lines was printed twice. Their handler
    goes (its redaction filters move onto the logger). Their debug and info lines, and
    those of the libraries under litellm, hold prompts and request bodies: they are
    dropped whatever the log level.
    """
    for name in _LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            for record_filter in handler.filters:
                logger.addFilter(record_filter)
            logger.removeHandler(handler)
        logger.propagate = True
        logger.addFilter(_warnings_and_above)
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _warnings_and_above(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


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
        route_litellm_logs()
        self._module: ModuleType = litellm
        self._abandoned: set[asyncio.Future[Any]] = set()  # starts left behind by a timeout

    def open_stream(self, entry: ModelEntry, request: CompletionRequest) -> ProviderStream:
        """Start a streamed chat completion."""
        return _LiteLLMStream(self._module, entry, request, self._abandoned)

    async def close(self) -> None:
        """Let the calls a timeout left behind end (litellm's own timeout bounds them)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ABANDONED_GRACE_SECONDS
        while self._abandoned and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._abandoned), timeout=left)

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

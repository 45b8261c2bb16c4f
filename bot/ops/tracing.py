"""OpenTelemetry traces (``ALMIA_OPS__TRACING=true``, the ``otel`` extra): one server span per
HTTP request, joined to the caller's trace (W3C ``traceparent``), and one child span per
model call, exported over OTLP/HTTP to ``ALMIA_OPS__OTLP_ENDPOINT``.

Spans carry the route template, method, status, skill, model alias, token counts and
outcome: never a path with ids, a query string, a user or any text.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.gateway.llm import UsageRecord
from bot.messages import Message
from bot.ops.logs import route_of
from bot.store import AuditEntry

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from bot.app import Runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})


def install(app: web.Application, runtime: Runtime,
            exporter: SpanExporter | None = None) -> TracerProvider:
    """Trace ``app``'s requests and the model calls recorded by ``runtime``'s store.

    ``exporter`` replaces the OTLP exporter (tests give an in-memory one).
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "almia"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = runtime.settings.ops.otlp_endpoint
        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    app.middlewares.append(_trace_requests(provider))
    runtime.store.observers.append(_model_spans(provider))

    async def flush(_app: web.Application) -> None:
        await asyncio.to_thread(provider.shutdown)  # exports what is left (blocking HTTP)

    app.on_cleanup.append(flush)
    return provider


def _trace_requests(provider: TracerProvider) -> Middleware:
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = provider.get_tracer("almia.http")

    @web.middleware
    async def trace(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = route_of(request)
        if route in _UNTRACED:
            return await handler(request)
        with tracer.start_as_current_span(
                f"{request.method} {route}", kind=SpanKind.SERVER,
                context=extract(dict(request.headers)),
                attributes={"http.request.method": request.method, "http.route": route},
        ) as span:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                span.set_attribute("http.response.status_code", error.status)
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    return trace


def _model_spans(provider: TracerProvider) -> Callable[
        [Message, AuditEntry, Sequence[UsageRecord]], None]:
    """A store observer: each model call of an audited event as a span under the request."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = provider.get_tracer("almia.models")

    def observe(_message: Message, audit: AuditEntry, usage: Sequence[UsageRecord]) -> None:
        end = time.time_ns()
        for record in usage:
            start = end - int(record.latency_ms * 1_000_000)
            span = tracer.start_span(
                f"model {record.alias}", kind=SpanKind.CLIENT, start_time=start,
                attributes={"gen_ai.request.model": record.alias, "almia.skill": record.skill,
                            "almia.role": record.role, "almia.action": audit.action,
                            "almia.outcome": record.outcome,
                            "gen_ai.usage.input_tokens": record.prompt_tokens,
                            "gen_ai.usage.output_tokens": record.completion_tokens})
            if record.outcome != "ok":
                span.set_status(Status(StatusCode.ERROR))
            span.end(end_time=end)

    return observe

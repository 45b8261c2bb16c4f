"""Prometheus metrics: requests per skill, latency, model calls, DLP findings, refusals, jobs.

Everything is counted from what the store records (each audited event with its model calls,
after its transaction commits) and from the HTTP edge, so no skill or adapter has to know
about metrics. Labels are bounded: skill names, model aliases, outcomes, DLP kinds, route
templates; never a user, a space, a message or a path with an id in it.

With several worker processes (``almia serve --workers N``) each process writes its samples
under ``ops.metrics_dir`` (prometheus-client's multiprocess mode) and ``/metrics`` adds them up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from bot.gateway.llm import UsageRecord
from bot.messages import Message
from bot.store import AuditEntry

# answers, refusals and failures of a message (``action == "message"``)
ANSWERED = frozenset({"ok", "error", "client_gone"})
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The metrics of one process, in their own registry (no global state)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self._dir = multiprocess_dir
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "almia_requests", "Messages handled, by skill, channel and outcome",
            ["skill", "channel", "outcome"], registry=registry)
        self.latency = Histogram(
            "almia_request_seconds", "Time from receiving a message to its stored answer",
            ["skill"], buckets=_LATENCY_BUCKETS, registry=registry)
        self.refusals = Counter(
            "almia_refusals", "Messages refused before any skill ran, by reason",
            ["reason"], registry=registry)
        self.model_calls = Counter(
            "almia_model_calls", "Model calls through the gateway, by alias and outcome",
            ["alias", "skill", "outcome"], registry=registry)
        self.model_tokens = Counter(
            "almia_model_tokens", "Tokens of model calls, by alias and kind (prompt, completion)",
            ["alias", "kind"], registry=registry)
        self.model_cost = Counter(
            "almia_model_cost", "Cost of model calls as the provider prices them, by alias",
            ["alias"], registry=registry)
        self.model_errors = Counter(
            "almia_model_errors", "Model calls that failed, by alias",
            ["alias"], registry=registry)
        self.model_latency = Histogram(
            "almia_model_call_seconds", "Model call duration, by alias",
            ["alias"], buckets=_LATENCY_BUCKETS, registry=registry)
        self.dlp_findings = Counter(
            "almia_dlp_findings", "Values pseudonymised before a model call, by kind",
            ["kind"], registry=registry)
        self.audit_events = Counter(
            "almia_audit_events", "Audited events, by action and outcome",
            ["action", "outcome"], registry=registry)
        self.jobs = Counter(
            "almia_job_events", "Job events (queued, refused, cancelled, finished), by outcome",
            ["action", "outcome"], registry=registry)
        self.queue_depth = Gauge(
            "almia_jobs", "Jobs in the store by state (queued: the queue depth)", ["state"],
            multiprocess_mode="mostrecent", registry=registry)
        self.inbox = Gauge(
            "almia_chat_inbox", "Slack and Teams messages kept until answered, by state "
            "(answering, orphaned: its replica went silent)", ["state"],
            multiprocess_mode="mostrecent", registry=registry)
        self.http_requests = Counter(
            "almia_http_requests", "HTTP requests, by route, method and status class",
            ["route", "method", "status"], registry=registry)
        self.http_latency = Histogram(
            "almia_http_request_seconds", "HTTP handling time, by route",
            ["route"], buckets=_HTTP_BUCKETS, registry=registry)
        self.in_flight = Gauge(
            "almia_http_in_flight", "HTTP requests being handled (streams included)",
            multiprocess_mode="livesum", registry=registry)

    def observe(self, message: Message, audit: AuditEntry, usage: Sequence[UsageRecord]) -> None:
        """Count one audited event and its model calls (a store observer)."""
        self.audit_events.labels(audit.action, audit.outcome).inc()
        for record in usage:
            self._model_call(record)
        if audit.action.startswith("job_"):
            self.jobs.labels(audit.action, audit.outcome).inc()
        if audit.action != "message":
            return
        findings = _redactions(usage)
        for kind, count in findings.items():
            self.dlp_findings.labels(kind).inc(count)
        if audit.outcome not in ANSWERED:
            self.refusals.labels(audit.outcome).inc()
            return
        skill = audit.skill or "none"
        self.requests.labels(skill, message.channel.value, audit.outcome).inc()
        self.latency.labels(skill).observe(max(0.0, time.monotonic() - message.received_at))

    def _model_call(self, record: UsageRecord) -> None:
        alias = record.alias
        self.model_calls.labels(alias, record.skill, record.outcome).inc()
        if record.prompt_tokens:
            self.model_tokens.labels(alias, "prompt").inc(record.prompt_tokens)
        if record.completion_tokens:
            self.model_tokens.labels(alias, "completion").inc(record.completion_tokens)
        if record.cost > 0:
            self.model_cost.labels(alias).inc(record.cost)
        if record.outcome != "ok":
            self.model_errors.labels(alias).inc()
        self.model_latency.labels(alias).observe(max(0.0, record.latency_ms / 1000))

    def set_jobs(self, counts: Mapping[str, int]) -> None:
        """Jobs per state, as counted in the store just before a scrape."""
        for state, count in counts.items():
            self.queue_depth.labels(state).set(count)

    def set_inbox(self, counts: Mapping[str, int]) -> None:
        """Kept chat messages per state, as counted in the store just before a scrape."""
        for state, count in counts.items():
            self.inbox.labels(state).set(count)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes (every process's samples in multiprocess mode)."""
        if self._dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=str(self._dir))  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def _redactions(usage: Sequence[UsageRecord]) -> dict[str, int]:
    """Values pseudonymised per kind for one message (the largest count of its calls)."""
    totals: dict[str, int] = {}
    for record in usage:
        for kind, count in record.redactions:
            totals[kind] = max(totals.get(kind, 0), count)
    return totals

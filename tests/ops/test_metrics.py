"""Metrics counted from what the store records: requests, refusals, model calls, DLP, jobs."""

from __future__ import annotations

from bot.gateway.llm import UsageRecord
from bot.governance.policy import DataClass
from bot.messages import Channel, Message, Space, User
from bot.ops.metrics import Metrics
from bot.store import AuditEntry


def _message() -> Message:
    return Message(text="bonjour", user=User("alice"), space=Space("web:default"),
                   channel=Channel.WEB, thread_id="t1")


def _usage(alias: str = "fake", outcome: str = "ok", **extra: object) -> UsageRecord:
    fields: dict[str, object] = {"skill": "qa", "role": "answer", "alias": alias,
                                 "hosting": "external", "data_class": DataClass.parse("internal"),
                                 "outcome": outcome, "latency_ms": 120.0}
    fields.update(extra)
    return UsageRecord(**fields)  # type: ignore[arg-type]


def _samples(metrics: Metrics) -> dict[str, float]:
    """``name{labels}`` → value, from the text Prometheus scrapes."""
    found = {}
    for line in metrics.exposition().decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def test_an_answer_counts_its_skill_latency_model_tokens_cost_and_dlp_findings() -> None:
    metrics = Metrics()
    usage = [_usage(prompt_tokens=40, completion_tokens=12, cost=0.002,
                    redactions=(("EMAIL", 2), ("PERSON", 1))),
             _usage(alias="backup", outcome="error", latency_ms=30.0,
                    redactions=(("EMAIL", 1),))]
    metrics.observe(_message(), AuditEntry(action="message", outcome="ok", skill="qa"), usage)
    samples = _samples(metrics)
    assert samples['almia_requests_total{channel="web",outcome="ok",skill="qa"}'] == 1
    assert samples['almia_request_seconds_count{skill="qa"}'] == 1
    assert samples['almia_model_calls_total{alias="fake",outcome="ok",skill="qa"}'] == 1
    assert samples['almia_model_calls_total{alias="backup",outcome="error",skill="qa"}'] == 1
    assert samples['almia_model_errors_total{alias="backup"}'] == 1
    assert samples['almia_model_tokens_total{alias="fake",kind="prompt"}'] == 40
    assert samples['almia_model_tokens_total{alias="fake",kind="completion"}'] == 12
    assert samples['almia_model_cost_total{alias="fake"}'] == 0.002
    # per message, the largest count of a kind over its calls (as the audit record has it)
    assert samples['almia_dlp_findings_total{kind="EMAIL"}'] == 2
    assert samples['almia_dlp_findings_total{kind="PERSON"}'] == 1
    assert samples['almia_audit_events_total{action="message",outcome="ok"}'] == 1


def test_refusals_are_counted_by_reason_not_as_requests() -> None:
    metrics = Metrics()
    for reason in ("quota_exceeded", "quota_exceeded", "role_refused"):
        metrics.observe(_message(), AuditEntry(action="message", outcome=reason), ())
    samples = _samples(metrics)
    assert samples['almia_refusals_total{reason="quota_exceeded"}'] == 2
    assert samples['almia_refusals_total{reason="role_refused"}'] == 1
    assert not any(name.startswith("almia_requests_total") for name in samples)


def test_job_events_and_queue_depth() -> None:
    metrics = Metrics()
    metrics.observe(_message(), AuditEntry(action="job_queued", outcome="ok", skill="verbatims"),
                    ())
    metrics.observe(_message(), AuditEntry(action="job_finished", outcome="failed"),
                    [_usage(alias="fake")])
    metrics.set_jobs({"queued": 7, "running": 2})
    samples = _samples(metrics)
    assert samples['almia_job_events_total{action="job_queued",outcome="ok"}'] == 1
    assert samples['almia_job_events_total{action="job_finished",outcome="failed"}'] == 1
    assert samples['almia_model_calls_total{alias="fake",outcome="ok",skill="qa"}'] == 1
    assert samples['almia_jobs{state="queued"}'] == 7
    assert samples['almia_jobs{state="running"}'] == 2
    assert not any(name.startswith("almia_requests_total") for name in samples)


def test_labels_never_carry_people_spaces_or_text() -> None:
    metrics = Metrics()
    message = Message(text="Mon IBAN est FR76 3000 6000 0112 3456 7890 189",
                      user=User("alice@example.fr"), space=Space("web:équipe-rh"),
                      channel=Channel.WEB, thread_id="fil-secret")
    metrics.observe(message, AuditEntry(action="message", outcome="ok", skill="qa"), [_usage()])
    text = metrics.exposition().decode()
    for private in ("alice", "équipe", "fil-secret", "IBAN", "FR76"):
        assert private not in text

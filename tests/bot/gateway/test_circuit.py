"""The per-alias circuit breaker, on an injected clock (no sleeping)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.gateway.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from bot.governance.policy import PolicyError, load_policy


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def _breaker(clock: FakeClock, threshold: int = 3, cooldown: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(CircuitPolicy(failure_threshold=threshold, cooldown_seconds=cooldown),
                          clock)


def test_opens_after_consecutive_failures_only() -> None:
    breaker = _breaker(FakeClock())
    breaker.failed("m")
    breaker.failed("m")
    breaker.succeeded("m")  # the count starts again
    breaker.failed("m")
    breaker.failed("m")
    assert breaker.admit("m") and breaker.state("m") is CircuitState.CLOSED
    breaker.failed("m")
    assert breaker.state("m") is CircuitState.OPEN and not breaker.admit("m")
    assert breaker.admit("other")  # one circuit per alias


def test_after_the_cool_down_one_probe_at_a_time() -> None:
    clock = FakeClock()
    breaker = _breaker(clock, threshold=1)
    breaker.failed("m")
    clock.now += 29.9
    assert not breaker.admit("m")
    clock.now += 0.1
    assert breaker.state("m") is CircuitState.HALF_OPEN
    assert breaker.admit("m")  # the probe
    assert not breaker.admit("m")  # others keep going to the fallback meanwhile
    breaker.failed("m")
    assert breaker.state("m") is CircuitState.OPEN and not breaker.admit("m")
    clock.now += 30
    assert breaker.admit("m")
    breaker.succeeded("m")
    assert breaker.state("m") is CircuitState.CLOSED
    assert breaker.admit("m") and breaker.admit("m")


def test_a_probe_abandoned_by_its_caller_lets_another_request_probe() -> None:
    clock = FakeClock()
    breaker = _breaker(clock, threshold=1)
    breaker.failed("m")
    clock.now += 30
    assert breaker.admit("m")
    breaker.abandoned("m")
    assert breaker.admit("m")


def test_state_changes_are_logged_with_the_alias_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.gateway.circuit")
    clock = FakeClock()
    breaker = _breaker(clock, threshold=2)
    breaker.failed("llama")
    assert caplog.records == []
    breaker.failed("llama")
    clock.now += 30
    breaker.admit("llama")
    breaker.succeeded("llama")
    assert [r.getMessage() for r in caplog.records] == [
        "model llama: circuit open after 2 consecutive failures; requests go to the fallback, "
        "probe in 30 s",
        "model llama: circuit half-open, probing it",
        "model llama: circuit closed, the model answers again",
    ]


def test_thresholds_come_from_the_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    models = ("models: [{alias: x, provider: extractive, hosting: internal, "
              "clearance: secret}]\nskills: {}\n")
    path.write_text(models, encoding="utf-8")
    assert load_policy(path, {}).circuit_breaker == CircuitPolicy(failure_threshold=3,
                                                                  cooldown_seconds=30.0)
    path.write_text(models + "circuit_breaker: {failure_threshold: 5, cooldown_seconds: 120}\n",
                    encoding="utf-8")
    assert load_policy(path, {}).circuit_breaker.failure_threshold == 5
    path.write_text(models + "circuit_breaker: {failure_threshold: 0}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="failure_threshold"):
        load_policy(path, {})

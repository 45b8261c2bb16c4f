"""A circuit breaker per model alias: once a model is known down, skip it until a probe succeeds.

Without it a hanging provider costs every request its timeouts (twice with one retry)
before the gateway falls back. Each alias is *closed* (called normally) until
``failure_threshold`` consecutive calls fail or time out; it is then *open*: the
gateway goes straight to the next approved alias. After ``cooldown_seconds`` one
request is let through as a probe (*half-open*) while the others keep skipping it;
the probe's success closes the circuit, its failure opens it for another cool-down.
State lives in the process (each replica learns on its own); changes are logged,
with the alias only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CircuitPolicy(BaseModel):
    """The policy file's ``circuit_breaker:`` section (the same for every alias)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_threshold: int = Field(default=3, ge=1)  # consecutive failures that open it
    cooldown_seconds: float = Field(default=30.0, gt=0)  # open this long before a probe


class CircuitState(Enum):
    """Where one alias stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass(slots=True)
class _Circuit:
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = False  # a half-open probe is in flight


class CircuitBreaker:
    """Per-alias circuits; ``clock`` (seconds, monotonic) is injectable for tests."""

    def __init__(self, policy: CircuitPolicy | None = None, clock: Clock = time.monotonic) -> None:
        self._policy = policy or CircuitPolicy()
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}

    def state(self, alias: str) -> CircuitState:
        """The alias's state now (an open circuit whose cool-down ended reads half-open)."""
        circuit = self._circuit(alias)
        if circuit.state is CircuitState.OPEN and self._cooled_down(circuit):
            return CircuitState.HALF_OPEN
        return circuit.state

    def admit(self, alias: str) -> bool:
        """May a call go to ``alias`` now? In half-open, only one probe at a time is admitted."""
        circuit = self._circuit(alias)
        if circuit.state is CircuitState.CLOSED:
            return True
        if circuit.state is CircuitState.OPEN:
            if not self._cooled_down(circuit):
                return False
            circuit.state = CircuitState.HALF_OPEN
            log.info("model %s: circuit half-open, probing it", alias)
        if circuit.probing:
            return False
        circuit.probing = True
        return True

    def succeeded(self, alias: str) -> None:
        """A call answered (or refused this request only, which shows the server is up)."""
        circuit = self._circuit(alias)
        if circuit.state is not CircuitState.CLOSED:
            log.info("model %s: circuit closed, the model answers again", alias)
        self._circuits[alias] = _Circuit()

    def failed(self, alias: str) -> None:
        """A call failed or timed out."""
        circuit = self._circuit(alias)
        circuit.probing = False
        if circuit.state is CircuitState.CLOSED:
            circuit.failures += 1
            if circuit.failures < self._policy.failure_threshold:
                return
            log.warning("model %s: circuit open after %d consecutive failures; requests go "
                        "to the fallback, probe in %.0f s", alias, circuit.failures,
                        self._policy.cooldown_seconds)
        else:
            log.warning("model %s: probe failed, circuit open again for %.0f s", alias,
                        self._policy.cooldown_seconds)
        circuit.state = CircuitState.OPEN
        circuit.opened_at = self._clock()

    def abandoned(self, alias: str) -> None:
        """A call ended with no verdict (the caller went away): let another request probe."""
        self._circuit(alias).probing = False

    def _circuit(self, alias: str) -> _Circuit:
        return self._circuits.setdefault(alias, _Circuit())

    def _cooled_down(self, circuit: _Circuit) -> bool:
        return self._clock() - circuit.opened_at >= self._policy.cooldown_seconds

"""The model gateway through litellm's real code path against a loopback fake model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.gateway.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from bot.gateway.llm import (
    ChatTurn,
    CompletionRequest,
    ContextPassage,
    LiteLLMProvider,
    ModelGateway,
    ModelUnavailable,
    NeedsGeneration,
    NoApprovedModel,
    NoClearedModel,
    UsageRecord,
    default_providers,
)
from bot.governance.policy import DataClass, load_policy
from tests.fakes.model_server import FakeModelServer, Fault, write_policy

PLANTED = "Durand-sk-live-PLANTED-4242"  # a name and a key-shaped secret a provider may echo


def _request(data_class: DataClass = DataClass.INTERNAL, *, requires_generation: bool = False,
             skill: str = "qa") -> CompletionRequest:
    return CompletionRequest(
        skill=skill, role="answer" if skill == "qa" else "summarise",
        messages=(ChatTurn("system", "Réponds."), ChatTurn("user", "Quel délai de déclaration ?")),
        question="Quel délai de déclaration ?",
        passages=(ContextPassage(1, "Guide", "Le délai de déclaration est de cinq jours ouvrés."),),
        data_class=data_class, requires_generation=requires_generation,
    )


def _gateway(tmp_path: Path, url: str, records: list[UsageRecord], *,
             circuit: CircuitBreaker | None = None, **policy: object) -> ModelGateway:
    loaded = load_policy(write_policy(tmp_path / "policy.yaml", url, **policy), {})  # type: ignore[arg-type]

    async def sink(record: UsageRecord) -> None:
        records.append(record)

    return ModelGateway(loaded, default_providers(loaded), usage_sink=sink, circuit=circuit)


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_streams_through_litellm_and_records_usage(tmp_path: Path,
                                                         fake_model: FakeModelServer) -> None:
    records: list[UsageRecord] = []
    gateway = _gateway(tmp_path, fake_model.url, records)
    chosen: list[str] = []
    deltas = [delta async for delta in gateway.stream(_request(), on_model=chosen.append)]
    assert len(deltas) > 1  # really streamed
    assert "".join(deltas).startswith("Réponse du modèle factice [1]")
    assert chosen == ["fake"]
    sent = fake_model.requests[0]
    assert sent["model"] == "fake-model" and sent["stream"] is True
    assert sent["messages"][1] == {"role": "user", "content": "Quel délai de déclaration ?"}
    [record] = records
    assert (record.alias, record.outcome, record.prompt_tokens) == ("fake", "ok", 11)
    assert record.completion_tokens > 0 and record.latency_ms > 0
    assert "sk-test-not-secret" not in repr(record)


async def test_failure_falls_back_to_next_approved_model(tmp_path: Path) -> None:
    records: list[UsageRecord] = []
    async with FakeModelServer(fail_status=500) as broken:
        gateway = _gateway(tmp_path, broken.url, records, fallback_extractive=True, retries=1)
        result = await gateway.complete(_request())
    assert result.alias == "extractive"
    assert "cinq jours" in result.text
    assert [(r.alias, r.outcome) for r in records] == [("fake", "error"), ("fake", "error"),
                                                       ("extractive", "ok")]


async def test_timeout_is_reported_and_nothing_answers(tmp_path: Path) -> None:
    records: list[UsageRecord] = []
    async with FakeModelServer(hang=True) as hanging:
        gateway = _gateway(tmp_path, hanging.url, records, timeout_seconds=0.5)
        try:
            with pytest.raises(ModelUnavailable, match="timeout"):
                await gateway.complete(_request())
        finally:
            await gateway.close()  # lets the call the timeout left behind end
    assert [(r.alias, r.outcome) for r in records] == [("fake", "timeout")]


async def test_clearance_and_approval_are_enforced(tmp_path: Path,
                                                   fake_model: FakeModelServer) -> None:
    records: list[UsageRecord] = []
    external = _gateway(tmp_path, fake_model.url, records, hosting="external",
                        clearance="internal")
    with pytest.raises(NoClearedModel):
        await external.complete(_request(DataClass.CONFIDENTIAL))
    assert fake_model.requests == []  # nothing was sent
    with pytest.raises(NoApprovedModel):
        await external.complete(_request(skill="marketing"))


async def test_generation_requirement_skips_the_extractive_provider(tmp_path: Path) -> None:
    settings_policy = Path(__file__).resolve().parents[3] / "bot" / "default_policy.yaml"
    policy = load_policy(settings_policy, {})
    gateway = ModelGateway(policy, default_providers(policy))
    with pytest.raises(NeedsGeneration):
        await gateway.complete(_request(requires_generation=True))
    assert "cinq jours" in (await gateway.complete(_request())).text


@pytest.mark.parametrize(("fault", "code"), [("html", "empty answer"), ("empty", "empty answer"),
                                              ("no_done", "HTTP 500 MidStreamFallbackError")])
async def test_a_200_that_is_not_a_whole_stream_is_a_failure_and_falls_back(
        tmp_path: Path, fault: Fault, code: str) -> None:
    records: list[UsageRecord] = []
    async with FakeModelServer(fault=fault) as faulty:
        gateway = _gateway(tmp_path, faulty.url, records, fallback_extractive=True)
        result = await gateway.complete(_request())
    assert result.alias == "extractive" and "cinq jours" in result.text
    assert [(r.alias, r.outcome, r.error) for r in records] == [("fake", "error", code),
                                                                ("extractive", "ok", None)]


def _echo_prompt(body: dict[str, Any]) -> str:
    return f"Invalid request: {body['messages']}"


async def test_provider_error_bodies_reach_neither_the_log_nor_the_usage_record(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # litellm's own debug lines quote the prompt: never shown
    records: list[UsageRecord] = []
    request = CompletionRequest(skill="qa", role="answer", question="?",
                                messages=(ChatTurn("user", f"Client {PLANTED}"),))
    async with FakeModelServer(fail_status=500, error_responder=_echo_prompt) as echoing:
        gateway = _gateway(tmp_path, echoing.url, records)
        with pytest.raises(ModelUnavailable) as raised:
            await gateway.complete(request)
    [record] = records
    assert record.error == "HTTP 500 InternalServerError"
    assert PLANTED not in caplog.text and PLANTED not in str(raised.value)


def test_litellm_lines_are_logged_once_and_never_below_warning(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    LiteLLMProvider()
    caplog.set_level(logging.DEBUG)
    litellm_logger = logging.getLogger("LiteLLM")
    litellm_logger.warning("litellm warning")
    litellm_logger.info("litellm info, may quote a prompt")
    assert [r.getMessage() for r in caplog.records if r.name == "LiteLLM"] == ["litellm warning"]
    assert "litellm" not in capsys.readouterr().err  # litellm's own handler printed it again


async def test_a_hanging_model_is_skipped_once_known_down_and_probed_later(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.gateway.circuit")
    clock = FakeClock()
    circuit = CircuitBreaker(CircuitPolicy(failure_threshold=2, cooldown_seconds=60), clock)
    records: list[UsageRecord] = []
    async with FakeModelServer(hang=True) as hanging:
        gateway = _gateway(tmp_path, hanging.url, records, fallback_extractive=True,
                           timeout_seconds=0.3, circuit=circuit)
        for _ in range(2):
            assert (await gateway.complete(_request())).alias == "extractive"
        assert circuit.state("fake") is CircuitState.OPEN
        records.clear()
        for _ in range(3):  # straight to the fallback: the model is not called at all
            assert (await gateway.complete(_request())).alias == "extractive"
        assert len(hanging.requests) == 2
        assert [r.alias for r in records] == ["extractive"] * 3

        clock.now += 60  # cool-down over: one request probes, still hanging
        assert (await gateway.complete(_request())).alias == "extractive"
        assert len(hanging.requests) == 3 and circuit.state("fake") is CircuitState.OPEN
        assert (await gateway.complete(_request())).alias == "extractive"
        assert len(hanging.requests) == 3

        hanging.hang = False
        clock.now += 60  # the next probe answers: the circuit closes
        assert (await gateway.complete(_request())).alias == "fake"
        assert (await gateway.complete(_request())).alias == "fake"
        assert circuit.state("fake") is CircuitState.CLOSED
        await gateway.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.gateway.circuit"]
    assert any("fake: circuit open after 2 consecutive failures" in m for m in messages)
    assert any("fake: circuit closed" in m for m in messages)
    assert "délai" not in " ".join(messages)


async def test_when_every_model_is_known_down_the_answer_is_immediate(tmp_path: Path) -> None:
    circuit = CircuitBreaker(CircuitPolicy(failure_threshold=1), FakeClock())
    records: list[UsageRecord] = []
    async with FakeModelServer(fail_status=503) as broken:
        gateway = _gateway(tmp_path, broken.url, records, circuit=circuit)
        with pytest.raises(ModelUnavailable, match="HTTP 503"):
            await gateway.complete(_request())
        per_request = gateway.with_usage_sink(_ignore)  # as the assistant binds it per message
        with pytest.raises(ModelUnavailable, match="fake: circuit open"):
            await per_request.complete(_request())
    assert len(broken.requests) == 1


async def _ignore(_record: UsageRecord) -> None:
    """A usage sink that keeps nothing."""

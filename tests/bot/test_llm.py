"""The model gateway through litellm's real code path against a loopback fake model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm import (
    ChatTurn,
    CompletionRequest,
    ContextPassage,
    ModelGateway,
    ModelUnavailable,
    NeedsGeneration,
    NoApprovedModel,
    NoClearedModel,
    UsageRecord,
    default_providers,
)
from bot.policy import DataClass, load_policy
from tests.fakes.model_server import FakeModelServer, write_policy


def _request(data_class: DataClass = DataClass.INTERNAL, *, requires_generation: bool = False,
             skill: str = "qa") -> CompletionRequest:
    return CompletionRequest(
        skill=skill, role="answer" if skill == "qa" else "summarise",
        messages=(ChatTurn("system", "Réponds."), ChatTurn("user", "Quel délai de déclaration ?")),
        question="Quel délai de déclaration ?",
        passages=(ContextPassage(1, "Guide", "Le délai de déclaration est de cinq jours ouvrés."),),
        data_class=data_class, requires_generation=requires_generation,
    )


def _gateway(tmp_path: Path, url: str, records: list[UsageRecord], **policy: object) -> ModelGateway:
    loaded = load_policy(write_policy(tmp_path / "policy.yaml", url, **policy), {})  # type: ignore[arg-type]

    async def sink(record: UsageRecord) -> None:
        records.append(record)

    return ModelGateway(loaded, default_providers(loaded), usage_sink=sink)


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
        with pytest.raises(ModelUnavailable, match="timeout"):
            await gateway.complete(_request())
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
    settings_policy = Path(__file__).resolve().parents[2] / "bot" / "default_policy.yaml"
    policy = load_policy(settings_policy, {})
    gateway = ModelGateway(policy, default_providers(policy))
    with pytest.raises(NeedsGeneration):
        await gateway.complete(_request(requires_generation=True))
    assert "cinq jours" in (await gateway.complete(_request())).text

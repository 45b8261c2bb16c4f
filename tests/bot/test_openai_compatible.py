"""The lean OpenAI-compatible provider: streaming, usage, errors, fallbacks, DLP still applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.llm import (
    ChatTurn,
    CompletionRequest,
    ModelGateway,
    ModelUnavailable,
    UsageRecord,
    default_providers,
)
from bot.policy import PolicyError, load_policy
from tests.fakes.model_server import FakeModelServer, write_policy

REQUEST = CompletionRequest(skill="qa", role="answer", question="Quel délai ?",
                            messages=(ChatTurn("system", "Réponds."),
                                      ChatTurn("user", "Quel délai ?")))


async def _gateway(tmp_path: Path, url: str, records: list[UsageRecord],
                   **policy: object) -> ModelGateway:
    loaded = load_policy(write_policy(tmp_path / "p.yaml", url, provider="openai-compatible",
                                      **policy), {})  # type: ignore[arg-type]

    async def sink(record: UsageRecord) -> None:
        records.append(record)

    return ModelGateway(loaded, default_providers(loaded), usage_sink=sink)


async def test_streams_with_usage_and_bearer_key(tmp_path: Path,
                                                 fake_model: FakeModelServer) -> None:
    records: list[UsageRecord] = []
    gateway = await _gateway(tmp_path, fake_model.url, records)
    try:
        deltas = [delta async for delta in gateway.stream(REQUEST)]
    finally:
        await gateway.close()
    assert len(deltas) > 1 and "".join(deltas).startswith("Réponse du modèle factice")
    body = fake_model.requests[0]
    assert body["model"] == "fake-model" and body["stream"] is True
    assert fake_model.headers[0]["Authorization"] == "Bearer sk-test-not-secret"
    [record] = records
    assert (record.outcome, record.prompt_tokens) == ("ok", 11) and record.completion_tokens > 0


async def test_error_status_falls_back_and_timeout_is_recorded(tmp_path: Path) -> None:
    records: list[UsageRecord] = []
    async with FakeModelServer(fail_status=503) as broken:
        gateway = await _gateway(tmp_path, broken.url, records, fallback_extractive=True)
        try:
            result = await gateway.complete(REQUEST)
        finally:
            await gateway.close()
    assert result.alias == "extractive"
    assert records[0].outcome == "error" and "HTTP 503" in (records[0].error or "")
    records.clear()
    async with FakeModelServer(hang=True) as hanging:
        gateway = await _gateway(tmp_path, hanging.url, records, timeout_seconds=0.3)
        try:
            with pytest.raises(ModelUnavailable):
                await gateway.complete(REQUEST)
        finally:
            await gateway.close()
    assert [r.outcome for r in records] == ["timeout"]


def test_api_base_is_required(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("""
models: [{alias: m, provider: openai-compatible, model: llama, hosting: internal,
          clearance: internal}]
skills: {}
""", encoding="utf-8")
    with pytest.raises(PolicyError, match="api_base"):
        load_policy(path, {})


async def test_personal_data_is_pseudonymised_on_this_path_too(tmp_path: Path) -> None:
    from bot.app import build_runtime
    from bot.messages import Channel, Message, Space, User
    from bot.settings import load_settings
    from tests.conftest import FakeSearch
    from tests.fakes.pii import PiiGenerator

    iban = PiiGenerator(seed=11).valid("IBAN")
    async with FakeModelServer(responder=lambda body: body["messages"][-1]["content"]) as model:
        policy = write_policy(tmp_path / "p.yaml", model.url, provider="openai-compatible",
                              hosting="external")
        settings = load_settings(data_dir=tmp_path / "d", policy_file=policy,
                                 dlp={"ner": False}, _env_file=None)
        runtime = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
        await runtime.start()
        try:
            reply = await runtime.assistant.answer(Message(
                text=f"summary Nouvel IBAN du client : {iban}.", user=User("u"),
                space=Space("web:default"), channel=Channel.WEB, thread_id="t"))
        finally:
            await runtime.close()
    assert iban not in str(model.requests) and "[IBAN_1]" in str(model.requests)
    assert iban in reply.text

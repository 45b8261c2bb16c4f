"""The lean OpenAI-compatible provider: streaming, usage, errors, fallbacks, DLP still applies."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.gateway.llm import (
    ChatTurn,
    CompletionRequest,
    ModelGateway,
    ModelUnavailable,
    UsageRecord,
    default_providers,
)
from bot.governance.policy import PolicyError, load_policy
from tests.fakes.model_server import FakeModelServer, Fault, write_policy

PLANTED = "Durand-sk-live-PLANTED-4242"  # a name and a key-shaped secret a provider may echo

REQUEST = CompletionRequest(skill="qa", role="answer", question="Quel délai ?",
                            messages=(ChatTurn("system", "Réponds."),
                                      ChatTurn("user", "Quel délai ?")))


def _echo_prompt(body: dict[str, Any]) -> str:
    """An error message quoting the prompt, as some servers write them."""
    return f"Invalid request: {body['messages']}"


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


@pytest.mark.parametrize(("fault", "code"), [("html", "not an event stream"),
                                              ("empty", "stream ended without [DONE]"),
                                              ("no_done", "stream ended without [DONE]")])
async def test_a_200_that_is_not_a_whole_stream_is_a_failure_and_falls_back(
        tmp_path: Path, fault: Fault, code: str) -> None:
    records: list[UsageRecord] = []
    async with FakeModelServer(fault=fault) as faulty:
        gateway = await _gateway(tmp_path, faulty.url, records, fallback_extractive=True)
        try:
            result = await gateway.complete(REQUEST)
        finally:
            await gateway.close()
    assert result.alias == "extractive" and result.text
    assert [(r.alias, r.outcome, r.error) for r in records] == [("fake", "error", code),
                                                                ("extractive", "ok", None)]


async def test_a_stream_cut_after_text_was_shown_ends_in_an_error(tmp_path: Path) -> None:
    records: list[UsageRecord] = []
    shown: list[str] = []
    async with FakeModelServer(fault="no_done") as faulty:
        gateway = await _gateway(tmp_path, faulty.url, records, fallback_extractive=True)
        try:
            with pytest.raises(ModelUnavailable, match="mid-answer"):
                async for delta in gateway.stream(REQUEST):
                    shown.append(delta)
        finally:
            await gateway.close()
    assert shown == ["Réponse du modèle "]  # no second, different answer after it
    assert [(r.alias, r.outcome) for r in records] == [("fake", "error")]


async def test_provider_error_bodies_reach_neither_the_log_nor_the_usage_record(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    records: list[UsageRecord] = []
    request = dataclasses.replace(REQUEST, messages=(ChatTurn("user", f"Client {PLANTED}"),))
    async with FakeModelServer(fail_status=500, error_responder=_echo_prompt) as echoing:
        gateway = await _gateway(tmp_path, echoing.url, records)
        try:
            with pytest.raises(ModelUnavailable) as raised:
                await gateway.complete(request)
        finally:
            await gateway.close()
    [record] = records
    assert record.error == "HTTP 500 server_error"
    assert PLANTED not in caplog.text and PLANTED not in str(raised.value)
    assert "model fake failed (attempt 1): HTTP 500 server_error" in caplog.text


async def test_a_request_refused_as_too_long_does_not_open_the_circuit(tmp_path: Path) -> None:
    records: list[UsageRecord] = []
    async with FakeModelServer(fail_status=400) as refusing:
        gateway = await _gateway(tmp_path, refusing.url, records, fallback_extractive=True)
        try:
            for _ in range(4):
                assert (await gateway.complete(REQUEST)).alias == "extractive"
        finally:
            await gateway.close()
        assert len(refusing.requests) == 4  # each request was still tried on the model

"""No raw personal data reaches an external model: web chat → core → gateway → loopback fake.

The fake *external* model records every request body and echoes the user's notes, so
the test also checks that placeholders are restored in the reply the user sees.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, build_app
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch
from tests.fakes.model_server import FakeModelServer, write_policy
from tests.fakes.pii import KINDS, PiiGenerator


def echo_notes(body: dict[str, Any]) -> str:
    """The external model repeats the notes it was given (placeholders included)."""
    return str(body["messages"][-1]["content"])


async def _client(tmp_path: Path, model: FakeModelServer, **dlp: Any) -> TestClient:  # type: ignore[type-arg]
    policy = write_policy(tmp_path / "policy.yaml", model.url, hosting="external",
                          clearance="confidential")
    settings = load_settings(data_dir=tmp_path / "data", policy_file=policy,
                             dlp={"ner": False, **dlp}, _env_file=None)
    client = TestClient(TestServer(build_app(settings, knowledge=FakeSearch()),  # type: ignore[arg-type]
                                   host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def external_model() -> AsyncIterator[FakeModelServer]:
    async with FakeModelServer(responder=echo_notes) as model:
        yield model


async def _ask(client: TestClient, text: str) -> dict[str, Any]:  # type: ignore[type-arg]
    response = await client.post("/api/chat", json={"text": text, "user": "conseiller"})
    assert response.status == 200
    return dict((await response.json())["reply"])


async def test_corpus_never_reaches_the_external_model_raw(
        tmp_path: Path, external_model: FakeModelServer) -> None:
    generator = PiiGenerator(seed=7)
    kinds = tuple(kind for kind in KINDS if kind not in {"PERSONNE", "SECRET"})
    samples = [generator.sample(kinds, lookalikes=("IBAN",)) for _ in range(8)]
    client = await _client(tmp_path, external_model)
    try:
        replies = [await _ask(client, f"summary {sample.text}") for sample in samples]
    finally:
        await client.close()
    sent = json.dumps(external_model.requests, ensure_ascii=False)
    for sample in samples:
        for entity in sample.entities:
            value = sample.text[entity.start:entity.end]
            if entity.valid:
                assert value not in sent, f"{entity.kind} reached the external model"
            else:
                assert value in sent, "a look-alike whose checksum fails is left alone"
    assert "[IBAN_1]" in sent and "[NIR_1]" in sent
    for sample, reply in zip(samples, replies, strict=True):
        for entity in sample.entities:
            assert sample.text[entity.start:entity.end] in reply["text"]  # restored for the user


async def test_audit_trail_counts_redactions_without_values(
        tmp_path: Path, external_model: FakeModelServer) -> None:
    iban = PiiGenerator(seed=3).valid("IBAN")
    client = await _client(tmp_path, external_model)
    try:
        await _ask(client, f"summary Le client donne son IBAN {iban} pour le remboursement.")
        store = client.server.app[RUNTIME].store
        [audit] = await store.audit_events()
        [usage] = await store.usage_events()
    finally:
        await client.close()
    details = json.loads(audit.details)
    assert details["redactions"] == {"IBAN": 1}
    assert iban not in audit.details and (usage.model_alias, usage.outcome) == ("fake", "ok")


async def test_a_secret_makes_the_request_secret_and_nothing_is_sent(
        tmp_path: Path, external_model: FakeModelServer) -> None:
    client = await _client(tmp_path, external_model)
    try:
        reply = await _ask(client, "summary Le mot de passe du poste est password=Tr0ub4dour&3x")
    finally:
        await client.close()
    assert reply["kind"] == "error" and "secret" in reply["text"]
    assert external_model.requests == []


async def test_block_policy_refuses_and_sends_nothing(
        tmp_path: Path, external_model: FakeModelServer) -> None:
    client = await _client(tmp_path, external_model, skill_actions={"call_summary": "block"})
    try:
        reply = await _ask(client, "summary Écrire à jean.dupont@example.fr demain.")
    finally:
        await client.close()
    assert reply["kind"] == "error" and "EMAIL" in reply["text"]
    assert external_model.requests == []


async def test_detection_failure_fails_closed(tmp_path: Path,
                                              external_model: FakeModelServer) -> None:
    client = await _client(tmp_path, external_model, ner=True, ner_model="no_such_model")
    try:
        reply = await _ask(client, "summary Appel de M. Martin au sujet de son contrat.")
    finally:
        await client.close()
    assert reply["kind"] == "error" and "rien n'a été envoyé" in reply["text"]
    assert external_model.requests == []


async def test_internal_models_skip_detection(settings: Settings) -> None:
    client = TestClient(TestServer(build_app(settings, knowledge=FakeSearch()),  # type: ignore[arg-type]
                                   host="127.0.0.1"))
    await client.start_server()
    try:
        reply = await _ask(client, "summary J'appelle au sujet du contrat de M. Martin.")
        detector = client.server.app[RUNTIME].detector
    finally:
        await client.close()
    assert reply["kind"] == "answer" and "M. Martin" in reply["text"]
    assert detector is not None and not detector.loaded

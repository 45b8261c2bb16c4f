"""Governance: hash-chained audit trail, usage charter, quotas (memory and Redis), purge."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot.app import RUNTIME, Runtime, build_app, build_runtime
from bot.assistant import CHARTER_ACTION
from bot.governance.audit import export_rows, verify_chain
from bot.governance.quotas import Budget, MemoryCounters, QuotaPolicy, Quotas, RedisCounters
from bot.messages import Action, Channel, Message, Space, User
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch, passage
from tests.fakes.model_server import FakeModelServer, write_policy


def _message(text_: str, user: str = "u1", space: str = "web:default",
             action: Action | None = None) -> Message:
    return Message(text=text_, user=User(user), space=Space(space), channel=Channel.WEB,
                   thread_id="t1", action=action)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    yield built
    await built.close()


async def _write_some(runtime: Runtime, count: int = 4) -> None:
    for index in range(count):
        await runtime.assistant.answer(_message(f"summary Appel numéro {index} du client."))


async def test_audit_chain_verifies_and_exports(runtime: Runtime) -> None:
    await _write_some(runtime)
    records = await runtime.store.audit_records()
    report = verify_chain(records)
    assert report.intact and report.records == 4 and report.head == records[-1]["hash"]
    lines = list(export_rows(records, "jsonl"))
    assert json.loads(lines[0])["action"] == "message" and len(lines) == 4
    csv_lines = "".join(export_rows(records, "csv")).splitlines()
    assert csv_lines[0].startswith("id,created_at,action") and len(csv_lines) == 5


async def test_the_database_refuses_edits_and_deletions(runtime: Runtime) -> None:
    await _write_some(runtime, 1)
    engine = runtime.store.engine
    for statement in ("UPDATE audit_events SET outcome = 'ok'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
async def test_tampering_behind_the_triggers_is_detected(runtime: Runtime, tamper: str) -> None:
    await _write_some(runtime)
    async with runtime.store.engine.begin() as connection:  # an attacker with DBA rights
        await connection.execute(text("DROP TRIGGER audit_events_no_update"))
        await connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        if tamper == "edit":
            await connection.execute(text(
                "UPDATE audit_events SET user_id = 'someone-else' WHERE id = 2"))
        elif tamper == "delete":
            await connection.execute(text("DELETE FROM audit_events WHERE id = 2"))
        else:
            await connection.execute(text("UPDATE audit_events SET id = 99 WHERE id = 2"))
            await connection.execute(text("UPDATE audit_events SET id = 2 WHERE id = 3"))
            await connection.execute(text("UPDATE audit_events SET id = 3 WHERE id = 99"))
    report = verify_chain(await runtime.store.audit_records())
    assert not report.intact and report.problems


async def test_charter_must_be_accepted_once_per_version(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "d", charter={"enabled": True, "version": "v1"},
                             _env_file=None)
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    try:
        first = await built.assistant.answer(_message("summary Appel du client."))
        assert first.skill == "charter" and "Charte d'utilisation" in first.text
        assert "J'accepte" in first.text
        forged = await built.assistant.answer(_message(
            "", action=Action(CHARTER_ACTION, {"version": "v0"})))
        assert forged.skill == "charter" and "Charte" in forged.text  # an old version is no use
        accepted = await built.assistant.answer(_message("J'accepte"))
        assert "acceptée" in accepted.text
        answered = await built.assistant.answer(_message("summary Appel du client."))
        assert answered.skill == "call_summary"
        again = await built.assistant.answer(_message("j'accepte"))
        pressed_again = await built.assistant.answer(_message(
            "", action=Action(CHARTER_ACTION, {"version": "v1"})))
        for reply in (again, pressed_again):  # not a question to search for, nor an error
            assert reply.skill == "charter" and reply.kind == "info"
            assert reply.text.startswith("Vous avez déjà accepté la charte (version v1).")
        other_user = await built.assistant.answer(_message("summary Appel.", user="u2"))
        assert other_user.skill == "charter"  # acceptance is personal
        actions = [r["action"] for r in await built.store.audit_records()]
        assert "charter_accepted" in actions and "charter_required" not in actions
        outcomes = [r["outcome"] for r in await built.store.audit_records()]
        assert outcomes.count("charter_required") == 3
    finally:
        await built.close()
    settings_v2 = load_settings(data_dir=tmp_path / "d",
                                charter={"enabled": True, "version": "v2"}, _env_file=None)
    rebuilt = build_runtime(settings_v2, knowledge=FakeSearch())  # type: ignore[arg-type]
    await rebuilt.start()
    try:
        again = await rebuilt.assistant.answer(_message("summary Appel du client."))
        assert again.skill == "charter" and "v2" in again.text  # a new version asks again
    finally:
        await rebuilt.close()


# call notes the offline summary finds facts in (it answers an empty one with a request)
NOTES = "le client signale un dégât des eaux le 3 mars ; je le rappelle jeudi."


async def test_request_and_token_budgets(runtime: Runtime) -> None:
    quotas = Quotas(QuotaPolicy(user=Budget(requests_per_day=2)), MemoryCounters())
    runtime.assistant._quotas = quotas  # the policy's quotas, injected for this test
    for call in ("Appel 1", "Appel 2"):
        assert (await runtime.assistant.answer(_message(f"summary {call} : {NOTES}"))).kind \
            == "answer"
    refused = await runtime.assistant.answer(_message(f"summary Appel 3 : {NOTES}"))
    assert refused.kind == "error" and "quota quotidien (2 demandes) personnel" in refused.text
    other = await runtime.assistant.answer(_message(f"summary Appel 3 : {NOTES}", user="u2"))
    assert other.kind == "answer"

    tokens = Quotas(QuotaPolicy(space=Budget(tokens_per_day=5)), MemoryCounters())
    runtime.assistant._quotas = tokens
    runtime.knowledge.passages.append(  # type: ignore[attr-defined]
        passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés."))
    assert (await runtime.assistant.answer(_message("Quel délai pour un dégât des eaux ?"))).kind \
        == "answer"  # a model answered (the offline summary calls none): tokens are spent
    spent = await runtime.assistant.answer(_message(f"summary Encore : {NOTES}", user="u3"))
    assert spent.kind == "error" and "de cet espace" in spent.text


async def test_redis_counters_are_shared_and_an_outage_refuses_politely(
        runtime: Runtime) -> None:
    policy = QuotaPolicy(user=Budget(requests_per_day=1))
    prefix_user = f"quota-{uuid.uuid4().hex[:8]}"
    first, second = RedisCounters("redis://127.0.0.1:6379/0"), RedisCounters(
        "redis://127.0.0.1:6379/0")
    try:
        runtime.assistant._quotas = Quotas(policy, first)
        assert (await runtime.assistant.answer(
            _message(f"summary A : {NOTES}", user=prefix_user))).kind \
            == "answer"
        runtime.assistant._quotas = Quotas(policy, second)  # another replica
        refused = await runtime.assistant.answer(
            _message(f"summary B : {NOTES}", user=prefix_user))
        assert refused.kind == "error" and "quota" in refused.text
    finally:
        await first.close()
        await second.close()
    down = RedisCounters("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        runtime.assistant._quotas = Quotas(policy, down)
        reply = await runtime.assistant.answer(_message(f"summary C : {NOTES}", user="u9"))
    finally:
        await down.close()
    assert reply.kind == "error" and "service de quotas ne répond pas" in reply.text


async def test_purge_by_user_and_by_age_keeps_the_audit_chain(runtime: Runtime) -> None:
    await runtime.assistant.answer(_message("summary Appel de u1.", user="u1"))
    await runtime.assistant.answer(_message("summary Appel de u2.", user="u2"))
    removed = await runtime.store.purge(user_id="u1")
    assert removed["turns"] == 2
    counts = await runtime.store.counts()
    assert counts["turns"] == 2
    removed = await runtime.store.purge(older_than=datetime.now(UTC) + timedelta(seconds=1))
    assert removed["turns"] == 2 and (await runtime.store.counts())["conversations"] == 0
    records = await runtime.store.audit_records()
    assert [r["action"] for r in records][-2:] == ["purge", "purge"]
    assert verify_chain(records).intact


async def test_skills_reserved_to_roles(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("""
models: [{alias: extractive, provider: extractive, hosting: internal, clearance: secret}]
skills:
  qa: {roles: {answer: [extractive]}}
  call_summary: {roles: {summarise: [extractive]}, allowed_user_roles: [champion, manager]}
  templates: {roles: {generate: [extractive]}}
  verbatims: {roles: {verbatims: [extractive]}}
  codedoc: {roles: {code: [extractive]}}
  campaigns: {roles: {marketing: [extractive]}}
  tenders: {roles: {tenders: [extractive]}}
  help: {roles: {}}
user_roles: {champion: [champ-1], admin: [boss]}
""", encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "d", policy_file=policy, _env_file=None)
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    try:
        refused = await built.assistant.answer(_message("summary Appel.", user="employee-1"))
        allowed = await built.assistant.answer(_message("summary Appel.", user="champ-1"))
        admin = await built.assistant.answer(_message("summary Appel.", user="boss"))
    finally:
        await built.close()
    assert refused.kind == "error" and "champion, manager" in refused.text
    assert allowed.skill == admin.skill == "call_summary"


@dataclass
class _EndlessModel(FakeModelServer):
    """Streams one delta after another until the caller stops reading (a long answer)."""

    _server: TestServer | None = None

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunk = {"id": "chatcmpl-endless", "object": "chat.completion.chunk", "created": 0,
                 "model": body.get("model", "fake"),
                 "choices": [{"index": 0, "delta": {"content": "encore un mot "},
                              "finish_reason": None}]}
        try:
            for _ in range(100_000):  # bounded, though the caller always leaves first
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
                await asyncio.sleep(0.01)
        except ConnectionError:
            pass  # the gateway closed the stream
        return response


async def test_a_client_leaving_mid_stream_is_still_audited_metered_and_charged(
        tmp_path: Path) -> None:
    async with _EndlessModel() as model:
        settings = load_settings(data_dir=tmp_path / "data", _env_file=None,
                                 policy_file=write_policy(tmp_path / "policy.yaml", model.url))
        app = build_app(settings, knowledge=FakeSearch(  # type: ignore[arg-type]
            [passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés.")]))
        runtime = app[RUNTIME]
        counters = MemoryCounters()
        runtime.assistant._quotas = Quotas(QuotaPolicy(user=Budget(tokens_per_day=10**9)),
                                           counters)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            response = await client.post("/api/chat/stream",
                                         json={"text": "Quel délai pour un dégât des eaux ?"})
            async for line in response.content:
                if line.startswith(b"event: delta"):
                    break
            response.close()  # the person closed the tab mid-answer
            for _ in range(1200):  # generous: until the server notices and records it
                events = await runtime.store.audit_events()
                if any(event.outcome == "client_gone" for event in events):
                    break
                await asyncio.sleep(0.05)
            usage = await runtime.store.usage_events()
            counts = await runtime.store.counts()
    gone = next((event for event in events if event.outcome == "client_gone"), None)
    assert gone is not None, [event.outcome for event in events]
    assert gone.skill == "qa" and gone.model_alias == "fake"
    assert json.loads(gone.details)["streamed_chars"] > 0
    assert [(u.model_alias, u.outcome) for u in usage] == [("fake", "cancelled")]
    assert counts["turns"] == 0  # no answer was delivered whole
    day = datetime.now(UTC).strftime("%Y%m%d")
    assert await counters.get(f"almia:quota:{day}:user:{gone.user_id}:tokens") > 0
    assert verify_chain(await runtime.store.audit_records()).intact


@pytest.mark.parametrize("typed", ["J'accepte", "j accepte", "J' accepte !", "J’accepte.",
                                   "  J'ACCEPTE  ", "I accept"])
async def test_the_charter_is_accepted_however_the_apostrophe_is_typed(
        tmp_path: Path, typed: str) -> None:
    settings = load_settings(data_dir=tmp_path / "d", charter={"enabled": True, "version": "v1"},
                             _env_file=None)
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    try:
        assert (await built.assistant.answer(_message("summary Appel."))).skill == "charter"
        refused = await built.assistant.answer(_message("j'accepte pas"))
        assert refused.skill == "charter", "not an acceptance"
        accepted = await built.assistant.answer(_message(typed))
        assert "acceptée" in accepted.text or "accepted" in accepted.text
    finally:
        await built.close()

"""The core pipeline: bad input, routing errors, model failures, memory, persistence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime
from bot.messages import Channel, Delta, Message, Progress, Reply, Space, User
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch, passage
from tests.fakes.model_server import FakeModelServer, write_policy


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    search = FakeSearch([passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés.")])
    built = build_runtime(settings, knowledge=search)  # type: ignore[arg-type]
    await built.start()
    yield built
    await built.close()


def _message(text: str, thread: str = "t1", locale: str | None = None) -> Message:
    return Message(text=text, user=User("u1"), space=Space("web:default"), channel=Channel.WEB,
                   thread_id=thread, locale=locale)  # type: ignore[arg-type]


async def test_question_streams_progress_then_cited_answer(runtime: Runtime) -> None:
    events = [event async for event in runtime.assistant.respond(
        _message("Quel délai pour déclarer un dégât des eaux ?"))]
    assert isinstance(events[0], Progress)
    assert any(isinstance(event, Delta) for event in events)
    final = events[-1]
    assert isinstance(final, Reply) and final.kind == "answer"
    assert "cinq jours" in final.text and "[1]" in final.text
    assert [c.document for c in final.citations] == ["doc1.md"]
    assert final.model == "extractive" and final.turn_id
    counts = await runtime.store.counts()
    assert (counts["turns"], counts["usage_events"], counts["audit_events"]) == (2, 1, 1)


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("   ", None, "Votre message est vide"),
        ("x" * 100_000, None, "trop long (100000 caractères"),
        ("/almia-inconnu fais ceci", None, "Je ne connais pas la commande"),
        ("/nope do this please", "en", "I don't know the command"),
    ],
)
async def test_bad_input_gets_a_polite_reply_and_no_turn(runtime: Runtime, text: str,
                                                         locale: str | None, expected: str) -> None:
    reply = await runtime.assistant.answer(_message(text, locale=locale))
    assert reply.kind == "error" and expected in reply.text
    counts = await runtime.store.counts()
    assert counts["turns"] == 0 and counts["audit_events"] == 1


async def test_english_question_gets_english_texts(runtime: Runtime) -> None:
    reply = await runtime.assistant.answer(_message("What is the deadline for water damage?"))
    # French passage: found by the question's French renderings (« délai », « dégât des
    # eaux »), quoted, and said to be French
    assert reply.text.startswith("According to “")
    assert "(in French):\n- Un dégât des eaux se déclare sous cinq jours ouvrés. [1]" in reply.text
    assert [citation.number for citation in reply.citations] == [1]
    refusal = await runtime.assistant.answer(_message("/almia summary", locale="en"))
    assert refusal.text.startswith("Paste the transcript")


async def test_model_timeout_is_a_polite_reply_with_nothing_half_written(tmp_path: Path) -> None:
    async with FakeModelServer(hang=True) as model:
        policy = write_policy(tmp_path / "policy.yaml", model.url, timeout_seconds=0.5)
        settings = load_settings(data_dir=tmp_path / "d", policy_file=policy, _env_file=None)
        built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
        await built.start()
        try:
            reply = await built.assistant.answer(_message("summary Client : j'appelle."))
            counts = await built.store.counts()
            [usage] = await built.store.usage_events()
        finally:
            await built.close()
    assert reply.kind == "error" and "ne répond pas" in reply.text
    assert counts["turns"] == 0 and counts["audit_events"] == 1
    assert usage.outcome == "timeout"


async def test_a_crashing_skill_gives_a_reference_not_a_trace(runtime: Runtime) -> None:
    class Crashing:
        name = "qa"

        async def search(self, *args: object, **kwargs: object) -> list[object]:
            raise RuntimeError("secret internal detail")

    runtime.assistant.router.skill("qa")._knowledge = Crashing()  # type: ignore[union-attr]
    reply = await runtime.assistant.answer(_message("Quel délai ?"))
    assert reply.kind == "error" and "référence" in reply.text
    assert "secret internal detail" not in reply.text and "Traceback" not in reply.text


async def test_thread_memory_reaches_the_model(tmp_path: Path) -> None:
    async with FakeModelServer() as model:
        policy = write_policy(tmp_path / "policy.yaml", model.url)
        settings = load_settings(data_dir=tmp_path / "d", policy_file=policy, memory_turns=2,
                                 _env_file=None)
        search = FakeSearch([passage(1, "Le délai de déclaration est de cinq jours.")])
        built = build_runtime(settings, knowledge=search)  # type: ignore[arg-type]
        await built.start()
        try:
            for question in ("Première question ?", "Deuxième question ?", "Troisième ?"):
                await built.assistant.answer(_message(question))
            await built.assistant.answer(_message("Autre fil ?", thread="t2"))
        finally:
            await built.close()
    third = model.requests[2]["messages"]
    assert [m["role"] for m in third] == ["system", "user", "assistant", "user"]
    assert third[1]["content"] == "Deuxième question ?"
    other_thread = model.requests[3]["messages"]
    assert [m["role"] for m in other_thread] == ["system", "user"]

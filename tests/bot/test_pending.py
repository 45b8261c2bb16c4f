"""The question asked before the usage charter is answered right after its acceptance."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.app import Runtime, build_runtime
from bot.assistant import CHARTER_ACTION
from bot.messages import Action, Attachment, Channel, Message, Progress, Reply, Space, User
from bot.pending import PendingQuestions, RedisPendingQuestions
from bot.settings import load_settings
from bot.store.sealing import PlainSealer
from tests.conftest import FakeSearch, passage

REDIS_URL = "redis://127.0.0.1:6379/0"
QUESTION = "Quel délai pour déclarer un dégât des eaux chez Mme Zéphyrine ?"


def _message(text: str, *, user: str = "u1", space: str = "web:default", thread: str = "t1",
             action: Action | None = None) -> Message:
    return Message(text=text, user=User(user), space=Space(space), channel=Channel.WEB,
                   thread_id=thread, action=action)


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = load_settings(data_dir=tmp_path / "d", _env_file=None,
                             charter={"enabled": True, "version": "v1"})
    search = FakeSearch([passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés.")])
    built = build_runtime(settings, knowledge=search)  # type: ignore[arg-type]
    await built.start()
    yield built
    await built.close()


async def test_question_before_the_charter_is_answered_after_acceptance(runtime: Runtime) -> None:
    assistant = runtime.assistant
    charter = await assistant.answer(_message(QUESTION))
    assert charter.skill == "charter"
    database = b"".join(path.read_bytes() for path in runtime.settings.data_dir.rglob("*.db*"))
    assert "Zéphyrine".encode() not in database  # kept in memory, never in the database
    events = [event async for event in assistant.respond(_message("J'accepte", thread="t2"))]
    assert isinstance(events[0], Progress) and "acceptée" in events[0].text
    final = events[-1]
    assert isinstance(final, Reply) and final.skill == "qa"
    assert final.text.startswith("Merci, la charte (version v1) est acceptée. Voici la réponse")
    assert "cinq jours" in final.text and final.citations and final.turn_id
    again = await assistant.answer(_message("Bonjour"))
    assert again.skill != "charter"


async def test_a_greeting_before_the_charter_is_greeted_without_announcing_an_answer(
        runtime: Runtime) -> None:
    assistant = runtime.assistant
    assert (await assistant.answer(_message("Bonjour"))).skill == "charter"
    greeted = await assistant.answer(_message("J'accepte", thread="t2"))
    assert greeted.text.startswith("Merci, la charte (version v1) est acceptée.\n\nBonjour !")
    assert "Voici la réponse" not in greeted.text


async def test_button_acceptance_also_answers_and_only_once(runtime: Runtime) -> None:
    assistant = runtime.assistant
    await assistant.answer(_message("Première question ?"))
    await assistant.answer(_message(QUESTION))  # the latest question is the one kept
    accepted = await assistant.answer(_message(
        "", action=Action(CHARTER_ACTION, {"version": "v1"})))
    assert "cinq jours" in accepted.text
    history = await runtime.store.history(_message("x"), 10)
    assert [turn.content for turn in history if turn.role == "user"] == [QUESTION]


async def test_question_from_another_space_or_user_is_not_answered(runtime: Runtime) -> None:
    assistant = runtime.assistant
    await assistant.answer(_message(QUESTION, space="web:equipe-a"))
    accepted = await assistant.answer(_message("J'accepte", space="web:equipe-b"))
    assert accepted.skill == "charter" and "acceptée" in accepted.text
    await assistant.answer(_message(QUESTION, user="u2"))
    other = await assistant.answer(_message("J'accepte", user="u3"))
    assert other.skill == "charter" and "cinq jours" not in other.text


async def test_pending_questions_expire_are_bounded_and_skip_files() -> None:
    now = [0.0]
    pending = PendingQuestions(ttl_seconds=60, max_entries=2, clock=lambda: now[0])
    await pending.keep(_message("vieille question"))
    now[0] = 61
    assert await pending.take(_message("J'accepte")) is None  # expired
    for user in ("a", "b", "c"):
        await pending.keep(_message(f"question de {user}", user=user))
    assert await pending.take(_message("J'accepte", user="a")) is None  # evicted (bound)
    taken = await pending.take(_message("J'accepte", user="c", thread="t9"))
    assert taken is not None and taken.text == "question de c" and taken.thread_id == "t9"
    unstored = Message(text="résume ce fichier", user=User("d"), space=Space("web:default"),
                       channel=Channel.WEB, thread_id="t1",
                       attachments=(Attachment(name="a.txt", content_type="text/plain"),))
    await pending.keep(unstored)  # a file not in the file store cannot be read back
    assert await pending.take(_message("J'accepte", user="d")) is None
    stored = dataclasses.replace(unstored, attachments=(Attachment(
        name="a.txt", content_type="text/plain", data=b"secret", file_id="f1"),))
    await pending.keep(stored)
    taken = await pending.take(_message("J'accepte", user="d"))
    assert taken is not None and taken.attachments == (
        Attachment(name="a.txt", content_type="", file_id="f1"),)  # by reference only


async def _upload(runtime: Runtime, user: str, name: str, data: bytes) -> Attachment:
    assert runtime.intake is not None
    stream = io.BytesIO(data)
    return await runtime.intake.accept(_message("", user=user), name, stream)


_CALL = ("Appel de M. Martin ce matin : dégât des eaux dans sa cuisine le 3 mars. Il enverra "
         "les photos demain. Je dois rappeler l'expert vendredi.").encode()


async def test_a_command_sent_with_a_file_before_the_charter_runs_after_acceptance(
        runtime: Runtime) -> None:
    assistant = runtime.assistant
    note = await _upload(runtime, "u1", "appel.txt", _CALL)
    asked = dataclasses.replace(_message("/almia summary"), attachments=(note,))
    assert (await assistant.answer(asked)).skill == "charter"
    accepted = await assistant.answer(_message("J'accepte", thread="t2"))
    assert accepted.skill == "call_summary", accepted.text
    assert accepted.text.startswith("Merci, la charte (version v1) est acceptée.")
    assert "dégât des eaux" in accepted.text


async def test_a_file_gone_before_the_acceptance_is_asked_again(runtime: Runtime) -> None:
    assistant = runtime.assistant
    note = await _upload(runtime, "u1", "appel.txt", _CALL)
    asked = dataclasses.replace(_message("/almia summary"), attachments=(note,))
    await assistant.answer(asked)
    assert runtime.assistant.files is not None and note.file_id is not None
    await runtime.assistant.files.delete_one(note.file_id)
    accepted = await assistant.answer(_message("J'accepte", thread="t2"))
    assert accepted.skill == "charter"
    assert accepted.text == ("Merci, la charte (version v1) est acceptée. Le fichier "
                             "« appel.txt » envoyé avec votre demande n'est plus disponible : "
                             "renvoyez-le avec elle.")


# -- several replicas: the question waits in Redis ---------------------------------------


@contextlib.asynccontextmanager
async def _replica(tmp_path: Path, name: str) -> AsyncIterator[Runtime]:
    """A runtime sharing the database file, the key file and Redis with the others."""
    settings = load_settings(data_dir=tmp_path / name, _env_file=None,
                             database_url=f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}",
                             encryption={"key_file": tmp_path / "kek.key"},
                             redis_url=REDIS_URL, charter={"enabled": True, "version": "v1"})
    search = FakeSearch([passage(1, "Un dégât des eaux se déclare sous cinq jours ouvrés.")])
    built = build_runtime(settings, knowledge=search)  # type: ignore[arg-type]
    await built.start()
    try:
        yield built
    finally:
        await built.close()


async def test_the_acceptance_reaching_another_replica_answers_the_question(
        tmp_path: Path) -> None:
    user = f"web:{uuid.uuid4().hex[:8]}"  # its own key in the shared Redis
    async with _replica(tmp_path, "a") as first, _replica(tmp_path, "b") as second:
        charter = await first.assistant.answer(_message(QUESTION, user=user))
        assert charter.skill == "charter"
        redis = Redis.from_url(REDIS_URL)
        try:
            keys = [key async for key in redis.scan_iter("almia:pending:*")]
            stored = [await redis.get(key) or b"" for key in keys]
        finally:
            await redis.aclose()
        assert stored and not any(b"phyrine" in value for value in stored)  # sealed
        assert not any(user.encode() in key for key in keys)  # named by a digest
        accepted = await second.assistant.answer(_message("J'accepte", user=user, thread="t2"))
        assert accepted.skill == "qa" and "cinq jours" in accepted.text
        again = await first.assistant.answer(_message("J'accepte", user=user))
        assert "cinq jours" not in again.text  # taken once


async def test_without_redis_the_question_waits_in_this_replica(tmp_path: Path) -> None:
    broken = RedisPendingQuestions("redis://127.0.0.1:1/0", PlainSealer(), ttl_seconds=60)
    try:
        await broken.keep(_message(QUESTION))
        taken = await broken.take(_message("J'accepte", thread="t3"))
        assert taken is not None and taken.text == QUESTION and taken.thread_id == "t3"
    finally:
        await broken.close()


async def test_redis_keeps_a_files_reference_sealed() -> None:
    user = f"web:{uuid.uuid4().hex[:8]}"
    pending = RedisPendingQuestions(REDIS_URL, PlainSealer(), ttl_seconds=60)
    asked = dataclasses.replace(_message("/almia summary", user=user), attachments=(
        Attachment(name="appel.txt", content_type="text/plain", data=b"x", file_id="f9"),))
    try:
        await pending.keep(asked)
        taken = await pending.take(_message("J'accepte", user=user, thread="t4"))
    finally:
        await pending.close()
    assert taken is not None and taken.text == "/almia summary" and taken.thread_id == "t4"
    assert taken.attachments == (Attachment(name="appel.txt", content_type="", file_id="f9"),)

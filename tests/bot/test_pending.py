"""The question asked before the usage charter is answered right after its acceptance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime
from bot.assistant import CHARTER_ACTION
from bot.messages import Action, Attachment, Channel, Message, Progress, Reply, Space, User
from bot.pending import PendingQuestions
from bot.settings import load_settings
from tests.conftest import FakeSearch, passage

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
    assert "Zéphyrine".encode() not in database  # kept in memory only, never stored
    events = [event async for event in assistant.respond(_message("J'accepte", thread="t2"))]
    assert isinstance(events[0], Progress) and "acceptée" in events[0].text
    final = events[-1]
    assert isinstance(final, Reply) and final.skill == "qa"
    assert final.text.startswith("Merci, la charte (version v1) est acceptée")
    assert "cinq jours" in final.text and final.citations and final.turn_id
    again = await assistant.answer(_message("Bonjour"))
    assert again.skill != "charter"


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


def test_pending_questions_expire_are_bounded_and_skip_files() -> None:
    now = [0.0]
    pending = PendingQuestions(ttl_seconds=60, max_entries=2, clock=lambda: now[0])
    pending.keep(_message("vieille question"))
    now[0] = 61
    assert pending.take(_message("J'accepte")) is None  # expired
    for user in ("a", "b", "c"):
        pending.keep(_message(f"question de {user}", user=user))
    assert pending.take(_message("J'accepte", user="a")) is None  # evicted (bound)
    taken = pending.take(_message("J'accepte", user="c", thread="t9"))
    assert taken is not None and taken.text == "question de c" and taken.thread_id == "t9"
    with_file = Message(text="résume ce fichier", user=User("d"), space=Space("web:default"),
                        channel=Channel.WEB, thread_id="t1",
                        attachments=(Attachment(name="a.txt", content_type="text/plain"),))
    pending.keep(with_file)
    assert pending.take(_message("J'accepte", user="d")) is None

"""``/almia help`` lists every skill with its command, in the reader's language."""

from __future__ import annotations

from bot.app import build_runtime
from bot.messages import Channel, Message, Space, User
from bot.settings import Settings
from tests.conftest import FakeSearch


async def test_help_lists_the_skills_with_the_readers_typography(settings: Settings) -> None:
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    try:
        replies = {locale: await built.assistant.answer(Message(
            text="/almia help", user=User("u1"), space=Space("web:default"),
            channel=Channel.WEB, thread_id=f"t-{locale}", locale=locale))
            for locale in ("fr", "en")}
    finally:
        await built.close()
    french, english = replies["fr"].text, replies["en"].text
    assert "- **Aide** (`/almia help`) : Affiche ce que je sais faire." in french
    assert "- **Help** (`/almia help`): Shows what I can do." in english
    assert "**Questions about documents** (`/almia ask`): Answers" in english

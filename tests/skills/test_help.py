"""``/almia help`` lists every skill with its command, in the reader's language."""

from __future__ import annotations

from bot.app import build_runtime
from bot.messages import Channel, Message, Space, User
from bot.settings import Settings
from skills.help import HelpSkill
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


async def test_a_question_about_the_assistant_gets_the_list_not_a_search(
        settings: Settings) -> None:
    built = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    await built.start()
    try:
        async def ask(text: str) -> str:
            reply = await built.assistant.answer(Message(
                text=text, user=User("u1"), space=Space("web:default"),
                channel=Channel.WEB, thread_id="t-about", locale="fr"))
            return reply.text
        french = await ask("Bonjour, que sais-tu faire ?")
        who = await ask("Almia, qui es-tu ?")
        english = await ask("What can you do?")  # a French reader writing in English
        follow_up = await ask("Comment ça marche ?")  # could follow an answer: Q&A's
    finally:
        await built.close()
    assert "\nVoici ce que je sais faire :\n- **Questions sur les documents**" in french
    assert who.startswith("Je suis Almia, l'assistant interne de l'entreprise")
    assert "Voici ce que je sais faire :" in who
    assert english.startswith("I am Almia, the company's internal assistant")
    assert "Here is what I can do:" in english
    assert "ce que je sais faire" not in follow_up


def test_only_a_question_about_the_assistant_sent_alone_is_recognised() -> None:
    helper = HelpSkill(tuple)
    assert helper.asks_about_me("Qu'est-ce que vous pouvez faire pour moi, svp ?") == "fr"
    assert helper.asks_about_me("hi, who are you?") == "en"
    assert helper.asks_about_me("Qui êtes-vous ?") == "fr"
    assert helper.asks_about_me("Présentez-vous, s'il vous plaît.") == "fr"
    assert helper.asks_about_me("À quoi servez-vous ?") == "fr"
    assert helper.asks_about_me("Que sais-tu faire sur les congés ?") is None
    assert helper.asks_about_me("À quoi ça sert ?") is None
    assert helper.asks_about_me("") is None

"""Small talk: greetings, thanks and goodbyes are told apart from questions."""

from __future__ import annotations

import pytest

from skills.small_talk import small_talk, small_talk_reply


@pytest.mark.parametrize(("text", "expected"), [
    ("Bonjour", ("greeting", "fr")),
    ("Salut Almia 👋", ("greeting", "fr")),
    ("Bonjour, ça va ?", ("greeting", "fr")),
    ("merci !", ("thanks", "fr")),
    ("Merci beaucoup, c'est parfait", ("thanks", "fr")),
    ("Merci et bonne journée", ("thanks", "fr")),
    ("Au revoir", ("goodbye", "fr")),
    ("bonne journée", ("goodbye", "fr")),
    ("Hi", ("greeting", "en")),
    ("Hello, how are you?", ("greeting", "en")),
    ("thanks a lot", ("thanks", "en")),
    ("bye", ("goodbye", "en")),
])
def test_small_talk_is_recognised_with_its_language(text: str, expected: tuple[str, str]) -> None:
    assert small_talk(text) == expected


@pytest.mark.parametrize("text", [
    "Bonjour, quel est le délai pour déclarer un sinistre ?",
    "merci de me dire le délai de carence",
    "ok", "très bien", "comment", "",
    "merci merci merci merci merci merci merci merci merci",  # more than eight words
])
def test_questions_and_bare_acknowledgements_are_not_small_talk(text: str) -> None:
    assert small_talk(text) is None


def test_a_word_both_languages_share_follows_the_user_s_language() -> None:
    assert small_talk("Hello") == ("greeting", "fr")
    assert small_talk("Hello", preferred="en") == ("greeting", "en")
    assert small_talk_reply("goodbye", "en") == "Goodbye, have a nice day!"


def test_a_thumbs_up_alone_is_thanks_in_the_reader_s_language() -> None:
    assert small_talk("👍") == ("thanks", "fr")
    assert small_talk("🙏 👍", "en") == ("thanks", "en")
    assert small_talk("👍️") == ("thanks", "fr")  # with the emoji variation selector
    assert small_talk("🤔") is None and small_talk("?") is None

"""Greetings, thanks and goodbyes typed to the assistant get a short human answer.

« Bonjour », « merci ! » or « bonne journée » sent alone are not questions about the
documents: searching them only produced « Je ne sais pas : aucun document… ». A message
made only of such words (at most eight, the assistant's name and emoji allowed) gets a
short reply in kind, saying what the assistant can be asked; anything else is a question.
"""

from __future__ import annotations

import re
from typing import Literal

from bot.i18n import Text
from bot.messages import Locale
from bot.text import fold

Kind = Literal["greeting", "thanks", "goodbye"]

_MAX_WORDS = 8
_WORD = re.compile(r"[a-z0-9]+")

# folded words (accents and case removed); a message is small talk when all its words are
_GREETING_FR = frozenset(
    "bonjour bonsoir salut coucou hello allo re bjr slt ca va vas tu vous comment bien "
    "et toi almia cher chere".split())
_GREETING_EN = frozenset(
    "hi hello hey hiya good morning afternoon evening there how are you doing almia "
    "is it going".split())
_THANKS_FR = frozenset(
    "merci beaucoup mille fois bcp top super parfait genial nickel tres bien ok okay "
    "d accord daccord c est ca cool impeccable almia pour tout votre ton aide et".split())
_THANKS_EN = frozenset(
    "thanks thank you thx ty very much a lot great perfect awesome ok okay cool "
    "almia for your help and".split())
_GOODBYE_FR = frozenset(
    "au revoir a plus bientot tard bonne journee soiree fin de semaine weekend week end "
    "bon ciao merci almia et".split())
_GOODBYE_EN = frozenset(
    "bye goodbye see you later soon have a nice good day evening weekend take care "
    "thanks almia and".split())

# each kind's defining words: a message of only « ok » or « très bien » is no greeting
_MARKS: dict[Kind, tuple[frozenset[str], frozenset[str]]] = {
    "thanks": (frozenset({"merci", "mille"}), frozenset({"thanks", "thank", "thx", "ty"})),
    "goodbye": (frozenset({"revoir", "bientot", "ciao", "journee", "soiree", "weekend"}),
                frozenset({"bye", "goodbye", "care"})),
    "greeting": (frozenset({"bonjour", "bonsoir", "salut", "coucou", "hello", "allo", "bjr",
                            "slt", "re"}),
                 frozenset({"hi", "hello", "hey", "hiya", "morning", "afternoon", "evening"})),
}
_VOCABULARY: dict[Kind, tuple[frozenset[str], frozenset[str]]] = {
    "thanks": (_THANKS_FR | _GOODBYE_FR, _THANKS_EN | _GOODBYE_EN),
    "goodbye": (_GOODBYE_FR | _THANKS_FR, _GOODBYE_EN | _THANKS_EN),
    "greeting": (_GREETING_FR, _GREETING_EN),
}

_REPLIES: dict[Kind, Text] = {
    "greeting": Text(
        "Bonjour ! Posez-moi une question sur les documents de l'entreprise : je réponds en "
        "citant mes sources. Je sais aussi résumer un appel, remplir un modèle ou analyser "
        "un fichier ; tapez « aide » pour tout voir.",
        "Hello! Ask me a question about the company's documents: I answer with my sources. "
        "I can also summarise a call, fill in a template or analyse a file; type “/almia help” to "
        "see everything."),
    "thanks": Text("Avec plaisir ! Une autre question ? Je suis là.",
                   "You're welcome! Any other question? I'm here."),
    "goodbye": Text("Au revoir, bonne journée !", "Goodbye, have a nice day!"),
}


_THANKS_EMOJI = frozenset("👍🙏👌👏🙂😊❤")


def small_talk(text: str, preferred: Locale = "fr") -> tuple[Kind, Locale] | None:
    """The kind of small talk ``text`` is and the language it is in (``preferred`` when
    its words are both, like « hello »), or None for anything else (a question, a
    request, a word the lists above do not hold)."""
    words = _WORD.findall(fold(text))
    if not words:  # « 👍 », « 🙏 » sent alone: thanks, in the reader's language
        shown = set(text.replace("\ufe0f", "")) - set(" \n\t")  # each emoji, once
        return ("thanks", preferred) if shown and shown <= _THANKS_EMOJI else None
    if len(words) > _MAX_WORDS:
        return None
    kinds: tuple[Kind, ...] = ("thanks", "goodbye", "greeting")
    for kind in kinds:
        languages: tuple[tuple[frozenset[str], frozenset[str], Locale], ...] = (
            (_MARKS[kind][0], _VOCABULARY[kind][0], "fr"),
            (_MARKS[kind][1], _VOCABULARY[kind][1], "en"),
        )
        if preferred == "en":
            languages = languages[::-1]
        for marks, vocabulary, locale in languages:
            if marks.intersection(words) and vocabulary.issuperset(words):
                return kind, locale
    return None


def small_talk_reply(kind: Kind, locale: Locale) -> str:
    """The short answer to small talk of ``kind``."""
    return _REPLIES[kind](locale)

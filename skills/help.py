"""``/almia help``: what the assistant can do, from the registered skills.

A question about the assistant itself, sent alone (« Que sais-tu faire ? », « Qui es-tu ? »,
“What can you do?”), gets the same list: searched in the documents, it only got « Je ne
sais pas : aucun document… ». Questions that could follow an answer (« Comment ça
marche ? », « À quoi ça sert ? ») are left to Q&A.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence

from bot.i18n import Text, colon, t
from bot.messages import Locale, Message, Reply, ReplyEvent
from bot.skills import Skill, SkillRequest
from bot.text import fold

_WORD = re.compile(r"[a-z0-9]+")
# words around the question that do not change it: « Bonjour, que sais-tu faire stp ? »
_AROUND = frozenset(
    "bonjour bonsoir salut coucou hello hi hey dis donc alors au fait stp svp please ok so "
    "exactly exactement".split())
_PLEASE = re.compile(r"\bs il (?:te|vous) plait\b")  # « s'il vous plaît », wherever it stands
_ADDRESS = "almia"
_FOR_ME = re.compile(r" (?:pour moi|for me)$")

# folded words of each question about the assistant, in each language
_ABOUT_FR = """
que sais tu faire | qu est ce que tu sais faire | tu sais faire quoi | que savez vous faire
qu est ce que vous savez faire | vous savez faire quoi | que peux tu faire | tu peux faire quoi
qu est ce que tu peux faire | que pouvez vous faire | qu est ce que vous pouvez faire
vous pouvez faire quoi | que fais tu | qu est ce que tu fais | a quoi sers tu
tu sers a quoi | a quoi tu sers | a quoi servez vous | qui es tu | tu es qui | t es qui
qui etes vous | vous etes qui | c est quoi almia | qu est ce que almia | qu est ce qu almia
qui est almia | presente toi | presentez vous | comment t utiliser | comment vous utiliser
comment tu fonctionnes | comment fonctionnes tu | comment utiliser almia
comment fonctionne almia | quelles sont tes fonctionnalites | quelles sont vos fonctionnalites
quelles sont tes capacites | quelles sont tes competences | que puis je te demander
que puis je vous demander | qu est ce que je peux te demander
qu est ce que je peux vous demander | peux tu m aider | pouvez vous m aider | tu peux m aider
aide moi | j ai besoin d aide | besoin d aide | comment peux tu m aider
"""
_ABOUT_EN = """
what can you do | what do you do | what are you able to do
what else can you do | who are you | what are you | what is almia | what s almia
who is almia | introduce yourself | tell me about yourself | how do you work
how does almia work | how do i use you | how can i use you | how to use almia
how do i use almia | how can you help | how can you help me | can you help me
can you help | help me | i need help | what are your features | what are your capabilities
what are your skills | what can i ask you | what can i ask
"""


_INTRO = Text(
    "Je suis Almia, l'assistant interne de l'entreprise, hébergé par elle : je réponds à "
    "partir de ses documents en citant mes sources.",
    "I am Almia, the company's internal assistant, hosted by the company itself: I answer "
    "from its documents, citing my sources.")


def _phrases(text: str) -> frozenset[str]:
    return frozenset(" ".join(part.split()) for part in text.replace("\n", "|").split("|")
                     if part.strip())


def _trimmed(words: list[str], around: frozenset[str]) -> str:
    start, end = 0, len(words)
    while start < end and words[start] in around:
        start += 1
    while end > start and words[end - 1] in around:
        end -= 1
    return " ".join(words[start:end])


class HelpSkill:
    """Lists the skills and their commands."""

    name = "help"
    title = Text("Aide", "Help")
    description = Text("Affiche ce que je sais faire.", "Shows what I can do.")
    commands = ("help", "aide")
    model_roles: tuple[str, ...] = ()

    def __init__(self, catalogue: Callable[[], Sequence[Skill]]) -> None:
        self._catalogue = catalogue
        self._about: dict[str, Locale] = {
            **dict.fromkeys(_phrases(_ABOUT_EN), "en"),
            **dict.fromkeys(_phrases(_ABOUT_FR), "fr")}

    def asks_about_me(self, text: str) -> Locale | None:
        """The language of ``text`` when it only asks what the assistant is or can do."""
        words = _WORD.findall(_PLEASE.sub(" ", " ".join(_WORD.findall(fold(text)))))
        for around in (_AROUND, _AROUND | {_ADDRESS}):  # « Almia, qui es-tu ? »
            said = _trimmed(words, around)
            for asked in (said, _FOR_ME.sub("", said)):  # « … faire pour moi ? »
                if asked in self._about:
                    return self._about[asked]
        return None

    def wants(self, message: Message) -> bool:
        """A question about the assistant sent alone, without files (see the module)."""
        return not message.attachments and self.asks_about_me(message.text) is not None

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """One line per skill: command and description."""
        about = self.asks_about_me(request.text)
        locale = about or request.locale
        lines = [_INTRO(locale), ""] if about else []
        lines.append(t("help_header", locale))
        for skill in self._catalogue():
            command = f"/almia {skill.commands[0]}" if skill.commands else "/almia"
            lines.append(f"- **{skill.title(locale)}** (`{command}`){colon(locale)}"
                         f"{skill.description(locale)}")
        lines.append("")
        lines.append(t("help_footer", locale))
        yield Reply("\n".join(lines), kind="info", skill=self.name, locale=locale)

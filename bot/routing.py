"""Which skill answers a message: slash command, command word, button action, or the default."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import Message
from bot.skills import Skill
from bot.text import fold

# the assistant's own command names: "/almia summary …" and "almia summary …"
ASSISTANT_COMMANDS = frozenset({"almia"})
_LEADING_WORD = re.compile(r"^\s*/?([^\s:]+)\s*:?\s*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Route:
    """The chosen skill and the text it should work on."""

    skill: Skill
    text: str


class UnknownCommand(Exception):
    """A slash command or command word that no skill answers."""

    def __init__(self, command: str, known: Sequence[str]) -> None:
        super().__init__(command)
        self.command = command
        self.known = tuple(known)


class SkillRouter:
    """Routes a :class:`Message` to one skill."""

    def __init__(self, skills: Sequence[Skill], default: str) -> None:
        self._skills = {skill.name: skill for skill in skills}
        if default not in self._skills:
            raise ValueError(f"default skill {default!r} is not registered")
        self._default = self._skills[default]
        self._by_command: dict[str, Skill] = {}
        self._plain_commands = {fold(skill.commands[0]) for skill in skills if skill.commands}
        for skill in skills:
            for command in skill.commands:
                key = fold(command)
                if key in self._by_command:
                    raise ValueError(f"command {command!r} is claimed by two skills")
                self._by_command[key] = skill

    @property
    def skills(self) -> tuple[Skill, ...]:
        """The registered skills."""
        return tuple(self._skills.values())

    @property
    def commands(self) -> tuple[str, ...]:
        """Every command word, as skills declare them."""
        return tuple(command for skill in self._skills.values() for command in skill.commands)

    def skill(self, name: str) -> Skill | None:
        """A skill by name."""
        return self._skills.get(name)

    def route(self, message: Message) -> Route:
        """Choose the skill for ``message``.

        - a button action names its skill as ``skill:action``;
        - ``/almia WORD rest`` (or a platform slash command ``almia`` with text ``WORD rest``)
          runs the skill whose command is WORD (unless ``rest`` is a question and WORD is not
          the skill's first command), else the default skill on the whole text;
        - ``/WORD rest`` typed in a chat runs the skill whose command is WORD;
        - a plain message runs a skill when its first word is that skill's first (canonical)
          command, or any of its commands followed by a colon or a line break
          ("résumé : …"), so that ordinary questions are not mistaken for commands;
        - a plain message a skill ``wants`` (e.g. a file and « analyse ces verbatims ») runs it;
        - anything else goes to the default skill.
        """
        if message.action is not None:
            skill_name = message.action.name.split(":", 1)[0]
            skill = self._skills.get(skill_name)
            if skill is None:
                raise UnknownCommand(message.action.name, self.commands)
            return Route(skill, message.text)

        text = message.text.strip()
        command = fold(message.command) if message.command else None
        if command is None and text.startswith("/"):
            match = _LEADING_WORD.match(text)
            if match:
                command = fold(match.group(1))
                text = text[match.end():]
        if command is not None and command not in ASSISTANT_COMMANDS:
            skill = self._by_command.get(command)
            if skill is None:
                raise UnknownCommand(command, self.commands)
            return Route(skill, text.strip())

        match = _LEADING_WORD.match(text)
        if match:
            word = fold(match.group(1))
            skill = self._by_command.get(word)
            explicit = ":" in match.group(0) or "\n" in match.group(0) or match.end() == len(text)
            # after « /almia » the first word is where a command goes: any of a skill's
            # commands runs it (« /almia résumé <notes> », « /almia documents list »), unless
            # the text asks a question (« /almia documents à fournir pour un passeport ? »)
            invoked = command is not None and not text.rstrip().endswith("?")
            if skill is not None and (explicit or invoked or word in self._plain_commands):
                return Route(skill, text[match.end():].strip())
        for skill in self._skills.values():  # « analyse ces verbatims » with a file attached
            wants = getattr(skill, "wants", None)
            if wants is not None and wants(message):
                return Route(skill, text)
        return Route(self._default, text)

"""``/almia help``: what the assistant can do, from the registered skills."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

from bot.i18n import Text, colon, t
from bot.messages import Reply, ReplyEvent
from bot.skills import Skill, SkillRequest


class HelpSkill:
    """Lists the skills and their commands."""

    name = "help"
    title = Text("Aide", "Help")
    description = Text("Affiche ce que je sais faire.", "Shows what I can do.")
    commands = ("help", "aide")
    model_roles: tuple[str, ...] = ()

    def __init__(self, catalogue: Callable[[], Sequence[Skill]]) -> None:
        self._catalogue = catalogue

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """One line per skill: command and description."""
        locale = request.locale
        lines = [t("help_header", locale)]
        for skill in self._catalogue():
            command = f"/almia {skill.commands[0]}" if skill.commands else "/almia"
            lines.append(f"- **{skill.title(locale)}** (`{command}`){colon(locale)}"
                         f"{skill.description(locale)}")
        lines.append("")
        lines.append(t("help_footer", locale))
        yield Reply("\n".join(lines), kind="info", skill=self.name, locale=locale)

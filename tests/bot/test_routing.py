"""The router: slash commands, command words, actions, default skill."""

from __future__ import annotations

import pytest

from bot.messages import Action, Channel, Message, Space, User
from bot.routing import SkillRouter, UnknownCommand
from skills import DEFAULT_SKILL, SkillServices, build_skills
from tests.conftest import FakeSearch


@pytest.fixture
def router() -> SkillRouter:
    return SkillRouter(build_skills(SkillServices(knowledge=FakeSearch())), default=DEFAULT_SKILL)


def _message(text: str, command: str | None = None, action: Action | None = None) -> Message:
    return Message(text=text, user=User("u"), space=Space("web:default"), channel=Channel.WEB,
                   thread_id="t", command=command, action=action)


@pytest.mark.parametrize(
    ("text", "command", "skill", "rest"),
    [
        ("/almia summary Client : bonjour", None, "call_summary", "Client : bonjour"),
        ("/summary Client : bonjour", None, "call_summary", "Client : bonjour"),
        ("summary Client : bonjour", None, "call_summary", "Client : bonjour"),
        ("Résumé : le client appelle", None, "call_summary", "le client appelle"),
        ("summary visite notes", "almia", "call_summary", "visite notes"),
        ("Résumé de la garantie décès ?", None, "qa", "Résumé de la garantie décès ?"),
        ("Quel est le délai de déclaration ?", "almia", "qa", "Quel est le délai de déclaration ?"),
        ("/almia Quel délai ?", None, "qa", "Quel délai ?"),
        ("/almia aide", None, "help", ""),
        ("help", None, "help", ""),
        ("Aide au logement : qui y a droit ?", None, "qa", "Aide au logement : qui y a droit ?"),
        ("/almia résumé Appel de M. Durand", None, "call_summary", "Appel de M. Durand"),
        ("documents list", "almia", "team_docs", "list"),
        ("/almia ao le dossier de lundi", None, "tenders", "le dossier de lundi"),
        ("/almia documents à fournir pour un passeport ?", None, "qa",
         "documents à fournir pour un passeport ?"),
        ("documents à fournir pour un passeport", None, "qa",
         "documents à fournir pour un passeport"),
    ],
)
def test_routes(router: SkillRouter, text: str, command: str | None, skill: str, rest: str) -> None:
    route = router.route(_message(text, command))
    assert (route.skill.name, route.text) == (skill, rest)


def test_unknown_slash_command_names_it(router: SkillRouter) -> None:
    with pytest.raises(UnknownCommand) as raised:
        router.route(_message("/almia-nope fais ceci"))
    assert raised.value.command == "almia-nope"
    assert "summary" in raised.value.known


def test_actions_name_their_skill(router: SkillRouter) -> None:
    route = router.route(_message("", action=Action("call_summary:submit")))
    assert route.skill.name == "call_summary"
    with pytest.raises(UnknownCommand):
        router.route(_message("", action=Action("nobody:submit")))


def test_two_skills_cannot_claim_one_command() -> None:
    skills = build_skills(SkillServices(knowledge=FakeSearch()))
    with pytest.raises(ValueError, match="claimed by two skills"):
        SkillRouter([*skills, skills[1]], default="qa")

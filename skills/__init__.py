"""The skill registry: adding a skill is one file in this package plus one line below."""

from __future__ import annotations

from dataclasses import dataclass

from bot.roles import RoleResolver
from bot.skills import Skill
from bot.store.templates import TemplateStore
from knowledge import KnowledgeBase
from skills.call_summary import CallSummarySkill
from skills.help import HelpSkill
from skills.jobs import JobsSkill
from skills.qa import DocumentSearch, QaSkill
from skills.team_docs import TeamDocsSkill
from skills.templates import TemplatesSkill, starter_library
from skills.verbatims.skill import VerbatimsSkill

DEFAULT_SKILL = "qa"


@dataclass(frozen=True, slots=True)
class SkillServices:
    """What skills may be given at wiring time."""

    knowledge: DocumentSearch
    qa_min_score: float = 0.42  # off-topic questions score under ~0.39 (bench/retrieval.py)
    templates: TemplateStore | None = None
    roles: RoleResolver | None = None
    library: KnowledgeBase | None = None  # ingestion from channels (team documents)


def build_skills(services: SkillServices) -> list[Skill]:
    """Every registered skill, the default (Q&A) first."""
    skills: list[Skill] = [
        QaSkill(services.knowledge, min_score=services.qa_min_score),
        CallSummarySkill(),
        TemplatesSkill(services.templates, services.roles,
                       starter_library() if services.templates is not None else (),
                       services.knowledge, min_score=services.qa_min_score),
        JobsSkill(),
        TeamDocsSkill(services.library, services.roles),
        VerbatimsSkill(),
    ]
    skills.append(HelpSkill(lambda: tuple(skills)))
    return skills


__all__ = ["DEFAULT_SKILL", "SkillServices", "build_skills"]

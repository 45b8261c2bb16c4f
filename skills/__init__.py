"""The skill registry: adding a skill is one file in this package plus one line below."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.governance.roles import RoleResolver
from bot.skills import Skill
from bot.store.templates import TemplateStore
from knowledge import KnowledgeBase
from skills.call_summary import CallSummarySkill
from skills.campaigns.skill import CampaignServices, CampaignsSkill
from skills.codedoc.skill import CodeDocSkill
from skills.help import HelpSkill
from skills.jobs import JobsSkill
from skills.qa import DocumentSearch, QaSkill
from skills.team_docs import TeamDocsSkill
from skills.templates import TemplatesSkill, starter_library
from skills.tenders.skill import TendersSkill
from skills.verbatims.skill import VerbatimsSkill

DEFAULT_SKILL = "qa"


@dataclass(frozen=True, slots=True)
class SkillServices:
    """What skills may be given at wiring time."""

    knowledge: DocumentSearch
    qa_min_score: float = 0.42  # fused-score floor; Q&A adds other evidence (knowledge/relevance.py)
    templates: TemplateStore | None = None
    roles: RoleResolver | None = None
    library: KnowledgeBase | None = None  # ingestion from channels (team documents)
    campaigns: CampaignServices | None = None  # marketing campaigns (store, audit, rules)
    tenders_dir: Path | None = None  # tender screening: criteria.yaml and the facts cache


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
        CodeDocSkill(),
        CampaignsSkill(services.campaigns, services.roles),
        TendersSkill(services.knowledge, services.tenders_dir),
    ]
    skills.append(HelpSkill(lambda: tuple(skills)))
    return skills


__all__ = ["DEFAULT_SKILL", "SkillServices", "build_skills"]

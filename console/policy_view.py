"""The policy page's rows: every value the console shows, with where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

from bot.governance.policy import Policy
from bot.settings import Settings


@dataclass(frozen=True, slots=True)
class Sourced:
    """A value and its source (a key of the policy file, or a setting's environment variable)."""

    label: str
    value: str
    source: str


@dataclass(frozen=True, slots=True)
class ModelView:
    """One approved model of the catalogue."""

    alias: str
    provider: str
    model: str
    hosting: str
    clearance: str
    source: str


@dataclass(frozen=True, slots=True)
class SkillView:
    """One skill: its model roles and who may use it."""

    name: str
    roles: list[tuple[str, list[str]]]
    user_roles: list[str]
    source: str


@dataclass(frozen=True, slots=True)
class PolicyView:
    """Everything the read-only policy page shows."""

    file: str
    models: list[ModelView]
    skills: list[SkillView]
    people: list[Sourced]
    limits: list[Sourced]


def policy_view(policy: Policy, settings: Settings) -> PolicyView:
    """The policy and the governance settings, each value with its source."""
    file = str(settings.resolved_policy_file)
    models = [ModelView(entry.alias, entry.provider, entry.model or "—", entry.hosting,
                        entry.clearance, f"models[{index}]")
              for index, entry in enumerate(policy.models)]
    skills = [SkillView(name, sorted((role, list(aliases)) for role, aliases in skill.roles.items()),
                        list(skill.allowed_user_roles), f"skills.{name}")
              for name, skill in sorted(policy.skills.items())]
    people = [Sourced(role, f"{len(users)} : " + ", ".join(users), f"user_roles.{role}")
              for role, users in sorted(policy.user_roles.items())]
    people += [Sourced(role, f"{len(users)} : " + ", ".join(users),
                       f"ALMIA_CONSOLE__ROLES ({role})")
               for role, users in sorted(settings.console.roles.items())]
    people += [Sourced(role, f"groupe Entra {group}", "ALMIA_CONSOLE__GROUP_ROLES")
               for group, role in sorted(settings.console.group_roles.items())]
    people += [Sourced(role, f"groupe Entra {group}", "ALMIA_DIRECTORY__ENTRA_GROUP_ROLES")
               for group, role in sorted(settings.directory.entra_group_roles.items())]
    people += [Sourced(role, f"groupe Slack {group}", "ALMIA_DIRECTORY__SLACK_GROUP_ROLES")
               for group, role in sorted(settings.directory.slack_group_roles.items())]
    quotas = policy.quotas
    limits = [
        Sourced("quotas.user.requests_per_day", _limit(quotas.user.requests_per_day),
                "quotas.user"),
        Sourced("quotas.user.tokens_per_day", _limit(quotas.user.tokens_per_day),
                "quotas.user"),
        Sourced("quotas.space.requests_per_day", _limit(quotas.space.requests_per_day),
                "quotas.space"),
        Sourced("quotas.space.tokens_per_day", _limit(quotas.space.tokens_per_day),
                "quotas.space"),
        Sourced("retention_days", _limit(policy.retention_days), "retention_days"),
        Sourced("charter.version", settings.charter.version if settings.charter.enabled
                else f"{settings.charter.version} (off)", "ALMIA_CHARTER__VERSION"),
        Sourced("console.min_group_size", str(settings.console.min_group_size),
                "ALMIA_CONSOLE__MIN_GROUP_SIZE"),
        Sourced("console.idle_minutes", str(settings.console.idle_minutes),
                "ALMIA_CONSOLE__IDLE_MINUTES"),
    ]
    return PolicyView(file, models, skills, people, limits)


def _limit(value: int | None) -> str:
    return "∞" if value is None else str(value)

"""The governance policy file: approved models, which skill may use which, user roles.

One YAML file, validated at start-up. A skill asks for a model *role* (``answer``,
``summarise``…); the policy maps each (skill, role) to an ordered list of approved
model aliases (first choice, then fallbacks). Each alias is an entry of the model
catalogue with its hosting (inside or outside the company's trust boundary) and
its clearance (the highest data class it may receive).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.gateway.circuit import CircuitPolicy
from bot.governance.quotas import QuotaPolicy


class DataClass(IntEnum):
    """How sensitive data is; a model may receive data up to its clearance."""

    PUBLIC = 0
    INTERNAL = 1
    CONFIDENTIAL = 2
    SECRET = 3

    @classmethod
    def parse(cls, value: str | DataClass) -> DataClass:
        """``"confidential"`` → ``DataClass.CONFIDENTIAL``."""
        if isinstance(value, DataClass):
            return value
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(member.name.lower() for member in cls)
            raise ValueError(f"unknown data class {value!r} (expected one of {names})") from None

    @property
    def label(self) -> str:
        """Lower-case name, as written in the policy."""
        return self.name.lower()


_ENV_REFERENCE = re.compile(r"^os\.environ/([A-Za-z_][A-Za-z0-9_]*)$")


class ModelEntry(BaseModel):
    """One approved model alias of the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alias: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    # litellm: hosted providers; openai-compatible: in-house servers streamed directly
    # (vLLM, Ollama, llama.cpp); extractive: the offline sentence selector
    provider: Literal["litellm", "openai-compatible", "extractive"] = "litellm"
    model: str | None = None  # litellm model string, e.g. "mistral/mistral-large-latest"
    api_base: str | None = None
    api_key: SecretStr | None = None
    api_version: str | None = None  # Azure OpenAI, e.g. "2024-10-21" (litellm models only)
    hosting: Literal["internal", "external"]
    clearance: str
    timeout_seconds: float = Field(default=60.0, gt=0)
    first_token_timeout_seconds: float = Field(default=30.0, gt=0)
    retries: int = Field(default=1, ge=0, le=5)
    max_tokens: int | None = Field(default=None, gt=0)
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)
    extra: dict[str, Any] = Field(default_factory=dict)  # passed to litellm as is

    @field_validator("api_version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        """``api_version: 2024-10-21`` unquoted is a YAML date: take it as written."""
        return value.isoformat() if isinstance(value, date) else value

    @model_validator(mode="after")
    def _check(self) -> ModelEntry:
        DataClass.parse(self.clearance)
        if self.provider == "litellm" and not self.model:
            raise ValueError("a litellm model needs `model` (e.g. openai/gpt-4o-mini)")
        if self.provider == "openai-compatible" and not (self.model and self.api_base):
            raise ValueError("an openai-compatible model needs `model` and `api_base` "
                             "(e.g. http://llm.interne:8000/v1)")
        if self.api_version is not None and self.provider != "litellm":
            raise ValueError("`api_version` is for litellm models (Azure OpenAI: "
                             "model: azure/<deployment>)")
        return self

    @property
    def data_clearance(self) -> DataClass:
        """The clearance as a :class:`DataClass`."""
        return DataClass.parse(self.clearance)

    @property
    def is_generative(self) -> bool:
        """False for the offline extractive provider, which only selects sentences."""
        return self.provider != "extractive"


class SkillPolicy(BaseModel):
    """What one skill may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, list[str]] = Field(default_factory=dict)
    allowed_user_roles: list[str] = Field(default_factory=lambda: ["employee"])
    max_active_jobs: int | None = Field(default=None, ge=1)  # all users; else jobs settings


_ALMIA_ROLES = frozenset({"employee", "champion", "manager", "admin"})
_CAMPAIGN_ROLE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_USER_ID = re.compile(r"^(web|cli|teams):[^\s:]+$|^slack:[A-Z0-9]+:[A-Z0-9]+$")
_GROUP_REFERENCE = re.compile(
    r"^entra-group:[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$|^slack-group:S[A-Z0-9]{2,}$")


def campaign_member_kind(entry: str) -> Literal["role", "user", "group"] | None:
    """What a campaign member entry is: an Almia role, a user id, a directory group (or None)."""
    if entry in _ALMIA_ROLES:
        return "role"
    if _GROUP_REFERENCE.match(entry):
        return "group"
    if _USER_ID.match(entry):
        return "user"
    return None


class CampaignRole(BaseModel):
    """A campaign role (``marketing_validator``…) and who holds it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    # Almia roles (employee, champion, manager, admin), user ids (web:…, slack:T…:U…,
    # teams:<aad id>), directory groups (entra-group:<object id>, slack-group:S…)
    members: tuple[str, ...] = ()

    @field_validator("members")
    @classmethod
    def _known_members(cls, members: tuple[str, ...]) -> tuple[str, ...]:
        bad = [entry for entry in members if campaign_member_kind(entry) is None]
        if bad:
            raise ValueError(
                f"not a member: {', '.join(bad)} (expected an Almia role employee, champion, "
                "manager or admin, a user id web:…, cli:…, slack:T…:U…, teams:…, or a directory "
                "group entra-group:<object id>, slack-group:S…)")
        return members


class CampaignPermissions(BaseModel):
    """Who may create, review (hold a reviewer slot: request changes, edit), approve (approve
    or reject: settle a version) and export campaigns: campaign roles and member entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    create: tuple[str, ...] = ("employee",)
    review: tuple[str, ...] = ("employee",)
    approve: tuple[str, ...] = ("employee",)
    export: tuple[str, ...] = ("employee",)


class CampaignPolicy(BaseModel):
    """``campaigns:``: the campaign roles and what each permission needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, CampaignRole] = Field(default_factory=dict)
    permissions: CampaignPermissions = CampaignPermissions()

    @model_validator(mode="after")
    def _check_names(self) -> CampaignPolicy:
        for name in self.roles:
            if not _CAMPAIGN_ROLE.match(name) or name in _ALMIA_ROLES:
                raise ValueError(f"roles.{name}: a campaign role is a lower-case name "
                                 "(letters, digits, _) other than an Almia role")
        for permission, entries in self.permissions:
            unknown = [entry for entry in entries
                       if entry not in self.roles and campaign_member_kind(entry) is None]
            if unknown:
                raise ValueError(
                    f"permissions.{permission}: unknown {', '.join(unknown)} (declared campaign "
                    f"roles: {', '.join(sorted(self.roles)) or 'none'}; or an Almia role, a "
                    "user id, a directory group)")
        return self

    def directory_groups(self) -> frozenset[str]:
        """Every directory group named (``entra-group:…``, ``slack-group:…``)."""
        entries = [member for role in self.roles.values() for member in role.members]
        entries += [entry for _name, found in self.permissions for entry in found]
        return frozenset(entry for entry in entries if campaign_member_kind(entry) == "group")


class Policy(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[ModelEntry]
    skills: dict[str, SkillPolicy]
    user_roles: dict[str, list[str]] = Field(default_factory=dict)  # role → user ids
    quotas: QuotaPolicy = QuotaPolicy()
    retention_days: int | None = Field(default=None, ge=1)  # conversation content kept N days
    circuit_breaker: CircuitPolicy = CircuitPolicy()  # when to skip a model known down
    max_active_jobs_per_user: int | None = Field(default=None, ge=1)  # else jobs settings
    # campaign roles and permissions; None: the deprecated <data_dir>/campaigns.yaml ones
    campaigns: CampaignPolicy | None = None

    @model_validator(mode="after")
    def _check_references(self) -> Policy:
        known_roles = {"employee", "champion", "manager", "admin"}
        unknown_roles = sorted(
            set(self.user_roles).union(*(s.allowed_user_roles for s in self.skills.values()))
            - known_roles
        )
        if unknown_roles:
            raise ValueError(f"user_roles: unknown role {', '.join(unknown_roles)} "
                             f"(expected {', '.join(sorted(known_roles))})")
        aliases = [entry.alias for entry in self.models]
        duplicated = sorted({alias for alias in aliases if aliases.count(alias) > 1})
        if duplicated:
            raise ValueError(f"models: duplicated alias {', '.join(duplicated)}")
        known = set(aliases)
        for skill_name, skill in self.skills.items():
            for role, approved in skill.roles.items():
                if not approved:
                    raise ValueError(f"skills.{skill_name}.roles.{role}: no model approved")
                unknown = [alias for alias in approved if alias not in known]
                if unknown:
                    raise ValueError(
                        f"skills.{skill_name}.roles.{role}: unknown model alias "
                        f"{', '.join(unknown)} (declared: {', '.join(sorted(known))})"
                    )
        return self

    def model(self, alias: str) -> ModelEntry:
        """The catalogue entry for ``alias``."""
        for entry in self.models:
            if entry.alias == alias:
                return entry
        raise KeyError(alias)

    def approved(self, skill: str, role: str) -> list[ModelEntry]:
        """The approved models for a skill's role, in order of preference."""
        skill_policy = self.skills.get(skill)
        if skill_policy is None:
            return []
        return [self.model(alias) for alias in skill_policy.roles.get(role, [])]

    def check_skills(self, required: Mapping[str, Iterable[str]]) -> None:
        """Refuse a policy that leaves a registered skill's model role unmapped."""
        problems = []
        for skill, roles in required.items():
            for role in roles:
                if not self.approved(skill, role):
                    problems.append(f"skills.{skill}.roles.{role}: missing")
        unknown = sorted(set(self.skills) - set(required))
        problems.extend(f"skills.{name}: no such skill" for name in unknown)
        if problems:
            raise PolicyError("Invalid policy:\n  " + "\n  ".join(problems))


class PolicyError(Exception):
    """The policy file is missing, unreadable or invalid; the message names the bad key."""


def _resolve_env_references(value: Any, environ: Mapping[str, str], path: str) -> Any:
    if isinstance(value, dict):
        return {
            key: _resolve_env_references(item, environ, f"{path}.{key}")
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve_env_references(item, environ, f"{path}[{index}]")
            for index, item in enumerate(value)
        ]
    if isinstance(value, str):
        match = _ENV_REFERENCE.match(value)
        if match:
            name = match.group(1)
            if name not in environ:
                raise PolicyError(f"Invalid policy:\n  {path}: environment variable {name} is not set")
            return environ[name]
    return value


def load_policy(path: Path, environ: Mapping[str, str]) -> Policy:
    """Read and validate the policy; ``os.environ/NAME`` values are taken from ``environ``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"Cannot read the policy file {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"The policy file {path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise PolicyError(f"The policy file {path} must be a mapping with `models` and `skills`")
    resolved = _resolve_env_references(raw, environ, "policy")
    try:
        return Policy.model_validate(resolved)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            key = ".".join(str(part) for part in detail["loc"]) or "(policy)"
            problems.append(f"  {key}: {detail['msg']}")
        raise PolicyError(f"Invalid policy {path}:\n" + "\n".join(problems)) from None

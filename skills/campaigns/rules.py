"""The compliance rules campaigns are drafted and checked against (YAML, per installation)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from skills.campaigns.brief import Medium

DEFAULT_RULES_FILE = Path(__file__).with_name("library") / "rules.yaml"


class Mention(BaseModel):
    """A mention every piece of the listed channels must carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    channels: tuple[Medium, ...]
    text: str
    pattern: str  # matches the French and the English wording
    reason: str
    text_en: str = ""  # the mention in English drafts (the French text when empty)
    reason_en: str = ""  # the reason English readers see (the French one when empty)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value

    def text_for(self, language: str) -> str:
        """The mention as written in a draft of ``language``."""
        return self.text_en if language == "en" and self.text_en else self.text

    def found_in(self, text: str) -> bool:
        """True when ``text`` carries the mention."""
        return re.search(self.pattern, text, re.IGNORECASE) is not None


class Claim(BaseModel):
    """A forbidden or risky wording and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str
    reason: str
    reason_en: str = ""  # the reason English readers see (the French one when empty)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value

    def matches(self, text: str) -> list[str]:
        """The wordings of ``text`` that match."""
        return [match.group(0) for match in re.finditer(self.pattern, text, re.IGNORECASE)]


class Limits(BaseModel):
    """Channel limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_max: int = Field(default=60, ge=10)
    sms_max_segments: int = Field(default=1, ge=1, le=10)
    banner_max: int = Field(default=90, ge=10)
    linkedin_max: int = Field(default=1300, ge=100, le=3000)
    letter_max: int = Field(default=4000, ge=200)


class Permissions(BaseModel):
    """Deprecated (the policy's ``campaigns:`` section): who may create and export."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    create: tuple[str, ...] = ("employee",)
    export: tuple[str, ...] = ("employee",)


class CampaignRules(BaseModel):
    """Everything a compliance officer configures for campaigns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mentions: tuple[Mention, ...] = ()
    forbidden: tuple[Claim, ...] = ()
    risky: tuple[Claim, ...] = ()
    proof_pattern: str = r"(^|\n)\s*\*?\s*source\s*:"
    limits: Limits = Limits()
    field_lengths: dict[str, int] = Field(default_factory=dict)
    default_field_length: int = Field(default=15, ge=1, le=200)
    allowed_contacts: tuple[str, ...] = ()
    permissions: Permissions = Permissions()  # deprecated: policy ``campaigns.permissions``
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # deprecated: roles
    remind_hours_before: int = Field(default=48, ge=1, le=24 * 30)

    def mentions_for(self, medium: Medium) -> tuple[Mention, ...]:
        """The mentions a piece of ``medium`` must carry."""
        return tuple(mention for mention in self.mentions if medium in mention.channels)

    def field_length(self, name: str) -> int:
        """The likely length of a filled personalisation field."""
        return self.field_lengths.get(name, self.default_field_length)

    def has_proof(self, text: str) -> bool:
        """True when ``text`` cites a source for its claims."""
        return re.search(self.proof_pattern, text, re.IGNORECASE) is not None

    def group_members(self, name: str) -> Iterable[str]:
        """User ids of a named reviewer group (empty when unknown)."""
        return self.groups.get(name, ())


def load_rules(path: Path | None = None) -> CampaignRules:
    """The rules of ``path`` when it exists, else the shipped defaults."""
    chosen = path if path is not None and path.is_file() else DEFAULT_RULES_FILE
    data = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    return CampaignRules.model_validate(data)

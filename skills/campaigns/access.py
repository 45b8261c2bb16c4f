"""Who may create, see, review, approve and export campaigns.

The rules come from the governance policy's ``campaigns:`` section (campaign roles such as
``marketing_validator`` or ``conformite`` whose members are Almia roles, user ids or
directory groups, and the four permissions). Without that section, the deprecated
``permissions`` and ``groups`` of ``<data_dir>/campaigns.yaml`` still apply (a warning at
start-up says where to move them).

An entry (a permission's, a brief's reviewer) is a campaign role, an Almia role
(``manager``…, from the policy or the directory groups), a user id (``web:alice``,
``slack:T…:U…``, ``teams:<aad id>``) or a directory group (``entra-group:<object id>``,
``slack-group:S…``). Reviewing (holding a reviewer slot: request changes, edit) needs
``permissions.review``; approving or rejecting (settling a version) needs
``permissions.approve``. Nobody decides on their own text (four-eyes rule).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.governance.policy import CampaignPolicy, campaign_member_kind
from bot.governance.roles import Role, RoleResolver
from bot.messages import User
from bot.store.campaigns import CampaignView
from skills.campaigns.rules import CampaignRules

log = logging.getLogger(__name__)

Permission = Literal["create", "review", "approve", "export"]
_ROLE_NAMES = {role.value for role in Role}
DEFAULT_ROLES = ("marketing_validator", "conformite")  # declared even when nobody holds them


@dataclass(frozen=True, slots=True)
class AccessRules:
    """Campaign roles (name → member entries) and the entries each permission accepts."""

    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    create: tuple[str, ...] = ("employee",)
    review: tuple[str, ...] = ("employee",)
    approve: tuple[str, ...] = ("employee",)
    export: tuple[str, ...] = ("employee",)
    source: str = "defaults"

    @classmethod
    def from_policy(cls, policy: CampaignPolicy) -> AccessRules:
        """The policy's ``campaigns:`` section."""
        permissions = policy.permissions
        return cls({name: role.members for name, role in policy.roles.items()},
                   permissions.create, permissions.review, permissions.approve,
                   permissions.export, "policy")

    @classmethod
    def from_rules(cls, rules: CampaignRules) -> AccessRules:
        """The deprecated ``permissions`` and ``groups`` of the campaign rules file."""
        roles: dict[str, tuple[str, ...]] = {name: () for name in DEFAULT_ROLES}
        roles.update(rules.groups)
        return cls(roles, rules.permissions.create, ("employee",), ("employee",),
                   rules.permissions.export, "campaigns.yaml")

    def entries(self, permission: Permission) -> tuple[str, ...]:
        """What ``permission`` accepts."""
        return {"create": self.create, "review": self.review, "approve": self.approve,
                "export": self.export}[permission]

    def user_members(self, name: str) -> tuple[str, ...]:
        """The user ids a campaign role lists by name (directory members cannot be listed)."""
        return tuple(entry for entry in self.roles.get(name, ())
                     if campaign_member_kind(entry) == "user")

    def directory_groups(self) -> tuple[str, ...]:
        """Every directory group the rules name."""
        entries = [entry for members in self.roles.values() for entry in members]
        entries += [*self.create, *self.review, *self.approve, *self.export]
        return tuple(dict.fromkeys(e for e in entries if campaign_member_kind(e) == "group"))


def access_rules(policy: CampaignPolicy | None, rules: CampaignRules) -> AccessRules:
    """The policy's rules; else the rules file's (deprecated), said once in the log."""
    legacy = {"permissions", "groups"} & rules.model_fields_set
    if policy is not None:
        if legacy:
            log.warning("campaigns: %s of the campaign rules file are ignored: the policy's "
                        "`campaigns:` section decides who may do what",
                        " and ".join(sorted(legacy)))
        return AccessRules.from_policy(policy)
    if legacy:
        log.warning("campaigns: %s in the campaign rules file are deprecated: move them to the "
                    "policy's `campaigns:` section (roles, permissions; see README)",
                    " and ".join(sorted(legacy)))
    return AccessRules.from_rules(rules)


class CampaignAccess:
    """Resolves entries, permissions and reviewer slots for a user."""

    def __init__(self, rules: AccessRules, roles: RoleResolver) -> None:
        self.rules = rules
        self._roles = roles

    async def matches(self, user: User, entry: str) -> bool:
        """True when ``user`` is, belongs to or holds ``entry``."""
        return await self.any_of(user, (entry,))

    async def any_of(self, user: User, entries: Iterable[str]) -> bool:
        """True when ``user`` matches one of ``entries`` (campaign roles expanded once)."""
        flat: list[str] = []
        for entry in entries:
            flat += self.rules.roles.get(entry, (entry,))
        if user.id in flat:
            return True
        held = {role for role in flat if role in _ROLE_NAMES}
        if held and await self._roles.has(user, *(Role(role) for role in held)):
            return True
        groups = [entry for entry in flat if campaign_member_kind(entry) == "group"]
        return bool(groups) and bool(await self._roles.groups_of(user, groups))

    async def may(self, user: User, permission: Permission) -> bool:
        """True when ``user`` holds ``permission``."""
        return await self.any_of(user, self.rules.entries(permission))

    async def is_admin(self, user: User) -> bool:
        """Administrators see every campaign (they do not approve in others' place)."""
        return Role.ADMIN in await self._roles.roles_of(user)

    async def may_create(self, user: User) -> bool:
        """``permissions.create``."""
        return await self.may(user, "create")

    async def slots(self, user: User, campaign: CampaignView) -> list[str]:
        """The reviewer slots ``user`` may act for (never on their own campaign; needs
        ``review`` or ``approve``)."""
        if user.id == campaign.author_id:
            return []
        mine = [slot for slot in campaign.reviewers if await self.matches(user, slot)]
        if mine and not (await self.may(user, "review") or await self.may(user, "approve")):
            return []
        return mine

    async def may_decide(self, user: User, decision: str) -> bool:
        """Approve and reject need ``permissions.approve``; changes need ``review`` (or
        ``approve``)."""
        if decision in ("approve", "reject"):
            return await self.may(user, "approve")
        return await self.may(user, "review") or await self.may(user, "approve")

    async def may_see(self, user: User, campaign: CampaignView) -> bool:
        """The author, the reviewers and administrators."""
        return (user.id == campaign.author_id or bool(await self.slots(user, campaign))
                or await self.is_admin(user))

    async def may_export(self, user: User, campaign: CampaignView) -> bool:
        """``permissions.export``, among those who may see the campaign."""
        return await self.may_see(user, campaign) and await self.may(user, "export")

    async def recipients(self, user: User) -> list[str]:
        """Every id a notice for ``user`` may be addressed to (self, campaign roles, Almia
        roles, directory groups)."""
        ids = [user.id]
        ids += [name for name in self.rules.roles if await self.matches(user, name)]
        ids += [role.value for role in await self._roles.roles_of(user)
                if role is not Role.EMPLOYEE]
        groups = self.rules.directory_groups()
        ids += sorted(await self._roles.groups_of(user, groups)) if groups else []
        return ids

    def people(self, slot: str) -> tuple[str, ...]:
        """The ids a review request for ``slot`` can be written to (itself, named members)."""
        return (slot, *self.rules.user_members(slot))

    def known_entry(self, entry: str) -> bool:
        """True when a reviewer entry can match someone (a role, a campaign role, an id)."""
        return entry in _ROLE_NAMES or entry in self.rules.roles or ":" in entry

    def role_names(self) -> str:
        """« marketing_validator, conformite » (for messages)."""
        return ", ".join(self.rules.roles) or "-"

    def named(self, permission: Permission) -> str:
        """What ``permission`` accepts, for messages."""
        return ", ".join(self.rules.entries(permission))

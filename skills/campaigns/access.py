"""Who may create, see, review and export campaigns.

A rule entry (``permissions.create``, a brief's reviewer) is an Almia role (``manager``…,
from the policy or the directory groups), a group of the campaign rules
(``conformite``), or a user id (``web:alice``, ``slack:T…:U…``, ``teams:<aad id>``).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.governance.roles import Role, RoleResolver
from bot.messages import User
from bot.store.campaigns import CampaignView
from skills.campaigns.rules import CampaignRules

_ROLE_NAMES = {role.value for role in Role}


class CampaignAccess:
    """Resolves rule entries and reviewer slots for a user."""

    def __init__(self, rules: CampaignRules, roles: RoleResolver) -> None:
        self._rules = rules
        self._roles = roles

    async def matches(self, user: User, entry: str) -> bool:
        """True when ``user`` is, belongs to or holds ``entry``."""
        if entry == user.id:
            return True
        if entry in self._rules.groups:
            return user.id in self._rules.group_members(entry)
        if entry in _ROLE_NAMES:
            return await self._roles.has(user, Role(entry))
        return False

    async def any_of(self, user: User, entries: Iterable[str]) -> bool:
        """True when ``user`` matches one of ``entries``."""
        for entry in entries:
            if await self.matches(user, entry):
                return True
        return False

    async def is_admin(self, user: User) -> bool:
        """Administrators see every campaign (they do not approve in others' place)."""
        return Role.ADMIN in await self._roles.roles_of(user)

    async def may_create(self, user: User) -> bool:
        """``permissions.create``."""
        return await self.any_of(user, self._rules.permissions.create)

    async def slots(self, user: User, campaign: CampaignView) -> list[str]:
        """The reviewer slots ``user`` may decide for (never on their own campaign)."""
        if user.id == campaign.author_id:
            return []
        return [slot for slot in campaign.reviewers if await self.matches(user, slot)]

    async def may_see(self, user: User, campaign: CampaignView) -> bool:
        """The author, the reviewers and administrators."""
        return (user.id == campaign.author_id or bool(await self.slots(user, campaign))
                or await self.is_admin(user))

    async def may_export(self, user: User, campaign: CampaignView) -> bool:
        """``permissions.export``, among those who may see the campaign."""
        return (await self.may_see(user, campaign)
                and await self.any_of(user, self._rules.permissions.export))

    async def recipients(self, user: User) -> list[str]:
        """Every id a notice for ``user`` may be addressed to (self, groups, roles)."""
        ids = [user.id]
        ids += [name for name in self._rules.groups if user.id in self._rules.groups[name]]
        ids += [role.value for role in await self._roles.roles_of(user)
                if role is not Role.EMPLOYEE]
        return ids

    def known_entry(self, entry: str) -> bool:
        """True when a reviewer entry can match someone (a role, a group or a user id)."""
        return entry in _ROLE_NAMES or entry in self._rules.groups or ":" in entry

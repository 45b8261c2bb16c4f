"""Who may do what: employee, champion, manager, admin.

Roles come from the policy file (``user_roles: {admin: [teams:<aad id>, slack:T…:U…]}``)
and, where configured, from the directory (Entra ID groups, Slack user groups) through
a :class:`DirectoryGroups` source. Every user is at least an employee.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.messages import User


class Role(StrEnum):
    """The product's roles, least to most privileged."""

    EMPLOYEE = "employee"
    CHAMPION = "champion"
    MANAGER = "manager"
    ADMIN = "admin"


class DirectoryGroups(Protocol):
    """A directory that knows which roles a user's groups grant."""

    async def roles_of(self, user: User) -> frozenset[Role]:
        """Roles granted by the user's directory groups."""
        ...


@runtime_checkable
class GroupMembership(Protocol):
    """A directory that can say which of some named groups a user belongs to."""

    async def groups_of(self, user: User, groups: Collection[str]) -> frozenset[str]:
        """The ``groups`` (``entra-group:<object id>``, ``slack-group:S…``) ``user`` is in."""
        ...


class RoleResolver:
    """Resolves a user's roles from the policy and, optionally, a directory."""

    def __init__(self, assignments: Mapping[str, Iterable[str]],
                 directory: DirectoryGroups | None = None) -> None:
        self._by_user: dict[str, set[Role]] = {}
        for role_name, users in assignments.items():
            role = Role(role_name)
            for user_id in users:
                self._by_user.setdefault(user_id, set()).add(role)
        self._directory = directory

    async def roles_of(self, user: User) -> frozenset[Role]:
        """Every role of ``user`` (always including employee)."""
        roles = {Role.EMPLOYEE, *self._by_user.get(user.id, ())}
        if self._directory is not None:
            roles |= await self._directory.roles_of(user)
        return frozenset(roles)

    async def has(self, user: User, *roles: Role) -> bool:
        """True if the user holds any of ``roles`` (admins hold them all)."""
        held = await self.roles_of(user)
        return Role.ADMIN in held or any(role in held for role in roles)

    async def groups_of(self, user: User, groups: Collection[str]) -> frozenset[str]:
        """Which of the directory ``groups`` the user belongs to (none without a directory)."""
        directory: object = self._directory
        if not groups or not isinstance(directory, GroupMembership):
            return frozenset()
        return await directory.groups_of(user, groups)

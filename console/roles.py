"""Who sees which console page: ``admin``, ``dpo``, ``auditor``, ``champion``.

``admin`` and ``champion`` come from the policy (``user_roles``) and directory groups,
as for the assistant; ``dpo`` and ``auditor`` (and any of the four) from the console
settings: user ids, Entra group ids, or app roles in the ID token.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.governance.roles import Role, RoleResolver
from bot.messages import User
from console.settings import ConsoleSettings


class ConsoleRole(StrEnum):
    """The console's roles."""

    ADMIN = "admin"
    DPO = "dpo"
    AUDITOR = "auditor"
    CHAMPION = "champion"


ALL = frozenset(ConsoleRole)
PAGES: dict[str, frozenset[ConsoleRole]] = {
    "usage": ALL,
    "protection": frozenset({ConsoleRole.ADMIN, ConsoleRole.DPO, ConsoleRole.AUDITOR}),
    "audit": frozenset({ConsoleRole.ADMIN, ConsoleRole.DPO, ConsoleRole.AUDITOR}),
    "audit_export": frozenset({ConsoleRole.ADMIN, ConsoleRole.DPO, ConsoleRole.AUDITOR}),
    "audit_verify": frozenset({ConsoleRole.ADMIN, ConsoleRole.DPO, ConsoleRole.AUDITOR}),
    "purge": frozenset({ConsoleRole.ADMIN, ConsoleRole.DPO}),
    "policy": ALL,
}


def may(roles: Iterable[str], page: str) -> bool:
    """True when one of ``roles`` opens ``page``."""
    allowed = PAGES[page]
    return any(role in allowed for role in roles)


class ConsoleRoles:
    """Resolves a signed-in person's console roles."""

    def __init__(self, settings: ConsoleSettings, resolver: RoleResolver) -> None:
        self._by_user: dict[str, set[ConsoleRole]] = {}
        for role, users in settings.roles.items():
            for user_id in users:
                self._by_user.setdefault(user_id, set()).add(ConsoleRole(role))
        self._groups = {group: ConsoleRole(role) for group, role in settings.group_roles.items()}
        self._resolver = resolver

    async def roles_of(self, user: User, groups: Iterable[str] = (),
                       app_roles: Iterable[str] = ()) -> frozenset[ConsoleRole]:
        """Console roles from the settings, the ID token and the policy and directory."""
        found = set(self._by_user.get(user.id, ()))
        found.update(self._groups[group.lower()] for group in groups
                     if group.lower() in self._groups)
        found.update(ConsoleRole(role) for role in app_roles if role in ALL)
        assistant_roles = await self._resolver.roles_of(user)
        if Role.ADMIN in assistant_roles:
            found.add(ConsoleRole.ADMIN)
        if Role.CHAMPION in assistant_roles:
            found.add(ConsoleRole.CHAMPION)
        return frozenset(found)

"""Roles from the policy; everyone is an employee; admins hold every role."""

from __future__ import annotations

import pytest

from bot.governance.roles import Role, RoleResolver
from bot.messages import User


async def test_policy_assignments_and_defaults() -> None:
    resolver = RoleResolver({"champion": ["slack:T1:U1"], "admin": ["teams:boss"]})
    assert await resolver.roles_of(User("slack:T1:U1")) == {Role.EMPLOYEE, Role.CHAMPION}
    assert await resolver.roles_of(User("web:anyone")) == {Role.EMPLOYEE}
    assert await resolver.has(User("teams:boss"), Role.MANAGER)
    assert not await resolver.has(User("web:anyone"), Role.CHAMPION)


async def test_directory_groups_add_roles() -> None:
    class Directory:
        async def roles_of(self, user: User) -> frozenset[Role]:
            return frozenset({Role.MANAGER}) if user.directory_id == "aad-1" else frozenset()

    resolver = RoleResolver({}, Directory())
    assert Role.MANAGER in await resolver.roles_of(User("teams:x", directory_id="aad-1"))


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError):
        RoleResolver({"superuser": ["x"]})

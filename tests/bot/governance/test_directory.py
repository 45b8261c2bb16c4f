"""Roles from the directory: Entra ID groups through MSAL + Microsoft Graph, Slack user groups.

Everything runs against loopback fakes speaking the real protocols; MSAL's HTTP client is
one that can only reach the fake, and the fake records every request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import build_runtime
from bot.governance.app_credential import AppCertificate, ManagedIdentity
from bot.governance.directory import (
    CompositeDirectory,
    EntraGroups,
    SlackUserGroups,
    build_directory,
)
from bot.governance.roles import Role, RoleResolver
from bot.messages import User
from bot.settings import SettingsError, load_settings
from tests.conftest import FakeSearch
from tests.fakes.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    LOGIN_HOST,
    SLACK_TOKEN,
    TENANT,
    FakeEntra,
    FakeSlackUserGroups,
    LoopbackHttpClient,
)
from tests.fakes.token_endpoint import app_certificate

MANAGERS = "0b1f6c1e-7d55-4c54-9a53-000000000001"
CHAMPIONS = "0b1f6c1e-7d55-4c54-9a53-000000000002"
UNMAPPED = "0b1f6c1e-7d55-4c54-9a53-000000000099"
ALICE = "6b1c2f8e-4a7d-4f0e-9b3a-2c5d7e9f1a3b"
BOB = "8c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
NOBODY = "9d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60"


@dataclass
class Clock:
    """A clock the test moves by hand (no waiting)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def teams_user(object_id: str) -> User:
    return User(f"teams:{object_id}", directory_id=object_id)


@pytest.fixture
async def entra() -> AsyncIterator[FakeEntra]:
    members = {ALICE: {MANAGERS, UNMAPPED}, BOB: {CHAMPIONS}, NOBODY: set()}
    async with FakeEntra(members=members) as fake:
        yield fake


def entra_groups(entra: FakeEntra, clock: Clock | None = None,
                 **options: object) -> tuple[EntraGroups, LoopbackHttpClient]:
    client = LoopbackHttpClient(entra.url)
    groups = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID, credential=CLIENT_SECRET,
                         group_roles={MANAGERS: "manager", CHAMPIONS.upper(): "champion"},
                         graph_url=entra.graph_url, http_client=client,
                         clock=clock or Clock(), **options)  # type: ignore[arg-type]
    return groups, client


async def test_entra_groups_map_to_roles_and_msal_only_reaches_the_fake(
        entra: FakeEntra) -> None:
    directory, client = entra_groups(entra)
    assert entra.requests == [] and client.intended == []  # MSAL is built on first use only
    assert await directory.roles_of(teams_user(ALICE)) == {Role.MANAGER}
    assert await directory.roles_of(teams_user(BOB)) == {Role.CHAMPION}
    assert await directory.roles_of(teams_user(NOBODY)) == frozenset()

    assert client.intended == [f"{LOGIN_HOST}/{TENANT}/v2.0/.well-known/openid-configuration",
                               f"{LOGIN_HOST}/{TENANT}/oauth2/v2.0/token"]
    assert len(entra.token_calls()) == 1  # MSAL's token cache serves the later lookups
    [first, *_] = entra.graph_calls()
    assert first.path == f"/v1.0/users/{ALICE}/checkMemberGroups"
    assert sorted(first.body["groupIds"]) == sorted([MANAGERS, CHAMPIONS])
    assert len(entra.requests) == 2 + 3  # discovery, token, one Graph call per user

    resolver = RoleResolver({"admin": [f"teams:{NOBODY}"]}, directory)
    assert await resolver.roles_of(teams_user(ALICE)) == {Role.EMPLOYEE, Role.MANAGER}
    assert await resolver.has(teams_user(NOBODY), Role.CHAMPION)  # the policy still counts


async def test_memberships_are_cached_until_the_ttl(entra: FakeEntra) -> None:
    clock = Clock()
    directory, _ = entra_groups(entra, clock, cache_ttl_seconds=900)
    await directory.roles_of(teams_user(ALICE))
    await directory.roles_of(teams_user(ALICE))
    await asyncio.gather(*(directory.roles_of(teams_user(BOB)) for _ in range(5)))
    assert len(entra.graph_calls()) == 2  # one per user, concurrent misses share one call
    clock.now += 899
    await directory.roles_of(teams_user(ALICE))
    assert len(entra.graph_calls()) == 2
    entra.members[ALICE] = {CHAMPIONS}  # moved to another group
    clock.now += 2
    assert await directory.roles_of(teams_user(ALICE)) == {Role.CHAMPION}
    assert len(entra.graph_calls()) == 3


async def test_the_cache_is_bounded(entra: FakeEntra) -> None:
    directory, _ = entra_groups(entra, cache_size=1)
    for user in (ALICE, BOB, ALICE):
        await directory.roles_of(teams_user(user))
    assert len(entra.graph_calls()) == 3  # Alice was evicted by Bob


async def test_graph_failure_leaves_employees_and_pauses_lookups(
        entra: FakeEntra, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    directory, _ = entra_groups(entra, clock, failure_ttl_seconds=60)
    resolver = RoleResolver({}, directory)
    entra.graph_status = 503
    with caplog.at_level(logging.WARNING, logger="bot.governance.directory"):
        assert await resolver.roles_of(teams_user(ALICE)) == {Role.EMPLOYEE}
        assert not await resolver.has(teams_user(BOB), Role.MANAGER)
    assert len(entra.graph_calls()) == 1  # the second user waits out the pause, not a timeout
    assert "Graph HTTP 503" in caplog.text
    assert ALICE not in caplog.text and CLIENT_SECRET not in caplog.text

    entra.graph_status = None
    clock.now += 61
    assert await resolver.roles_of(teams_user(ALICE)) == {Role.EMPLOYEE, Role.MANAGER}


async def test_token_failure_is_safe_and_logs_no_secret(
        entra: FakeEntra, caplog: pytest.LogCaptureFixture) -> None:
    entra.token_error = "invalid_client"
    directory, client = entra_groups(entra)
    with caplog.at_level(logging.WARNING, logger="bot.governance.directory"):
        assert await directory.roles_of(teams_user(ALICE)) == frozenset()
    assert entra.graph_calls() == []
    assert "no token: invalid_client" in caplog.text
    assert f"{LOGIN_HOST}/common/discovery/instance" in client.intended  # MSAL's alias lookup
    assert all(url.startswith(LOGIN_HOST) for url in client.intended)
    assert CLIENT_SECRET not in caplog.text and ALICE not in caplog.text


async def test_a_certificate_credential_signs_a_client_assertion(
        entra: FakeEntra, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    certificate, public_key = app_certificate(tmp_path)
    entra.client_key, entra.client_thumbprint = public_key, certificate.thumbprint
    directory = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID, credential=certificate,
                            group_roles={MANAGERS: "manager"}, graph_url=entra.graph_url,
                            http_client=LoopbackHttpClient(entra.url), clock=Clock())

    assert await directory.roles_of(teams_user(ALICE)) == {Role.MANAGER}
    assert entra.authentications == ["certificate"]
    [token_call] = entra.token_calls()
    assert "client_secret" not in token_call.body  # nothing secret crosses the wire

    (tmp_path / "other").mkdir()
    other, _ = app_certificate(tmp_path / "other")  # a key Entra ID does not hold
    stranger = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID, credential=other,
                           group_roles={MANAGERS: "manager"}, graph_url=entra.graph_url,
                           http_client=LoopbackHttpClient(entra.url), clock=Clock())
    with caplog.at_level(logging.WARNING, logger="bot.governance.directory"):
        assert await stranger.roles_of(teams_user(ALICE)) == frozenset()
    assert entra.authentications[-1] == "refused"
    assert "PRIVATE KEY" not in caplog.text


async def test_a_managed_identity_gets_its_token_from_the_platform(entra: FakeEntra) -> None:
    entra.managed_identity = CLIENT_ID
    client = LoopbackHttpClient(entra.url)
    directory = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID,
                            credential=ManagedIdentity(CLIENT_ID),
                            group_roles={MANAGERS: "manager"}, graph_url=entra.graph_url,
                            http_client=client, clock=Clock())

    assert await directory.roles_of(teams_user(ALICE)) == {Role.MANAGER}
    assert await directory.roles_of(teams_user(BOB)) == frozenset()
    assert entra.authentications == ["managed identity"]  # cached until near expiry
    assert client.intended[0].startswith("http://169.254.169.254/metadata/identity/oauth2/token")
    assert entra.token_calls() == []  # no client credential at all

    other = EntraGroups(tenant_id=TENANT, client_id="not-attached",
                        credential=ManagedIdentity("not-attached"),
                        group_roles={MANAGERS: "manager"}, graph_url=entra.graph_url,
                        http_client=LoopbackHttpClient(entra.url), clock=Clock())
    assert await other.roles_of(teams_user(ALICE)) == frozenset()  # policy roles only


async def test_an_unreadable_certificate_is_safe(
        entra: FakeEntra, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = AppCertificate(tmp_path / "gone.pem", "A1" * 20)
    directory = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID, credential=missing,
                            group_roles={MANAGERS: "manager"}, graph_url=entra.graph_url,
                            http_client=LoopbackHttpClient(entra.url), clock=Clock())
    with caplog.at_level(logging.WARNING, logger="bot.governance.directory"):
        assert await directory.roles_of(teams_user(ALICE)) == frozenset()
    assert "certificate unreadable (FileNotFoundError)" in caplog.text
    assert entra.requests == []


async def test_unreachable_authority_is_safe() -> None:
    client = LoopbackHttpClient("http://127.0.0.1:1")  # nothing listens there
    directory = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID, credential=CLIENT_SECRET,
                            group_roles={MANAGERS: "manager"}, http_client=client,
                            graph_url="http://127.0.0.1:1/v1.0", clock=Clock())
    assert await directory.roles_of(teams_user(ALICE)) == frozenset()
    assert client.intended == [f"{LOGIN_HOST}/{TENANT}/v2.0/.well-known/openid-configuration"]


async def test_unknown_user_gets_no_role_without_pausing_others(entra: FakeEntra) -> None:
    directory, _ = entra_groups(entra)
    stranger = "00000000-0000-4000-8000-000000000000"
    assert await directory.roles_of(teams_user(stranger)) == frozenset()
    assert await directory.roles_of(teams_user(ALICE)) == {Role.MANAGER}


async def test_only_teams_users_with_an_object_id_are_looked_up(entra: FakeEntra) -> None:
    directory, _ = entra_groups(entra)
    for user in (User("web:alice"), User(f"slack:T1:{ALICE}", directory_id=ALICE),
                 User("teams:29:abc"), User("teams:x", directory_id="../../groups")):
        assert await directory.roles_of(user) == frozenset()
    assert entra.requests == []


async def test_many_groups_are_checked_twenty_at_a_time(entra: FakeEntra) -> None:
    many = {f"0b1f6c1e-7d55-4c54-9a53-{index:012d}": "champion" for index in range(2, 26)}
    many[MANAGERS] = "manager"
    directory = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID, credential=CLIENT_SECRET,
                            group_roles=many, graph_url=entra.graph_url,
                            http_client=LoopbackHttpClient(entra.url), clock=Clock())
    assert await directory.roles_of(teams_user(ALICE)) == {Role.MANAGER}
    assert [len(call.body["groupIds"]) for call in entra.graph_calls()] == [20, 5]


@pytest.fixture
async def slack_groups() -> AsyncIterator[FakeSlackUserGroups]:
    async with FakeSlackUserGroups(groups={"S0CHAMPS": {"U1", "U2"},
                                           "S0MANAGERS": {"U2"}}) as fake:
        yield fake


def slack_user(user: str) -> User:
    return User(f"slack:T0ALMIA01:{user}", directory_id=user)


async def test_slack_user_groups_map_to_roles_and_are_cached(
        slack_groups: FakeSlackUserGroups) -> None:
    clock = Clock()
    directory = SlackUserGroups(bot_token=SLACK_TOKEN, api_url=slack_groups.api_url,
                                group_roles={"S0CHAMPS": "champion", "S0MANAGERS": "manager"},
                                clock=clock)
    assert await directory.roles_of(slack_user("U1")) == {Role.CHAMPION}
    assert await directory.roles_of(slack_user("U2")) == {Role.CHAMPION, Role.MANAGER}
    assert await directory.roles_of(slack_user("U3")) == frozenset()
    assert await directory.roles_of(teams_user(ALICE)) == frozenset()
    assert sorted(r.body["usergroup"] for r in slack_groups.requests) == ["S0CHAMPS",
                                                                          "S0MANAGERS"]
    assert {r.headers["Authorization"] for r in slack_groups.requests} == {
        f"Bearer {SLACK_TOKEN}"}
    slack_groups.groups["S0CHAMPS"].add("U3")
    clock.now += 901
    assert await directory.roles_of(slack_user("U3")) == {Role.CHAMPION}


async def test_slack_errors_grant_nothing_and_are_logged(
        slack_groups: FakeSlackUserGroups, caplog: pytest.LogCaptureFixture) -> None:
    slack_groups.error = "missing_scope"
    directory = SlackUserGroups(bot_token=SLACK_TOKEN, api_url=slack_groups.api_url,
                                group_roles={"S0CHAMPS": "champion"}, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="bot.governance.directory"):
        assert await directory.roles_of(slack_user("U1")) == frozenset()
    assert "missing_scope" in caplog.text and SLACK_TOKEN not in caplog.text
    down = SlackUserGroups(bot_token=SLACK_TOKEN, api_url="http://127.0.0.1:1/api/",
                           group_roles={"S0CHAMPS": "champion"}, clock=Clock())
    assert await down.roles_of(slack_user("U1")) == frozenset()


async def test_composite_unites_sources_and_survives_a_broken_one() -> None:
    class Fixed:
        def __init__(self, *roles: Role) -> None:
            self.roles = frozenset(roles)

        async def roles_of(self, user: User) -> frozenset[Role]:
            return self.roles

    class Broken:
        async def roles_of(self, user: User) -> frozenset[Role]:
            raise RuntimeError("bug")

    directory = CompositeDirectory([Fixed(Role.CHAMPION), Broken(), Fixed(Role.MANAGER)])
    assert await directory.roles_of(User("x")) == {Role.CHAMPION, Role.MANAGER}


# -- settings and wiring -------------------------------------------------------------------


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALMIA_DIRECTORY__ENTRA_GROUP_ROLES", f'{{"{MANAGERS}": "manager"}}')
    monkeypatch.setenv("ALMIA_DIRECTORY__SLACK_GROUP_ROLES", '{"S012AB": "champion"}')
    monkeypatch.setenv("ALMIA_TEAMS__APP_ID", CLIENT_ID)
    monkeypatch.setenv("ALMIA_TEAMS__APP_PASSWORD", CLIENT_SECRET)
    monkeypatch.setenv("ALMIA_TEAMS__TENANT_ID", TENANT)
    monkeypatch.setenv("ALMIA_SLACK__BOT_TOKEN", "xoxb-1")
    settings = load_settings(_env_file=None)
    assert settings.directory.entra_group_roles == {MANAGERS: "manager"}
    assert settings.directory.slack_group_roles == {"S012AB": "champion"}
    tenant, client_id, secret = settings.entra_credentials()  # the Teams app's by default
    assert (tenant, client_id) == (TENANT, CLIENT_ID)
    assert secret is not None and secret.get_secret_value() == CLIENT_SECRET
    assert isinstance(build_directory(settings), CompositeDirectory)
    assert CLIENT_SECRET not in repr(settings)

    own = load_settings(_env_file=None, directory={
        "entra_group_roles": {MANAGERS: "manager"}, "client_id": "graph-reader",
        "client_secret": "s3cret"})
    assert own.entra_credentials()[1:2] == ("graph-reader",)


def test_graph_credentials_may_be_a_certificate_or_a_managed_identity(tmp_path: Path) -> None:
    certificate, _ = app_certificate(tmp_path)
    spaced = ":".join(certificate.thumbprint[i:i + 2] for i in range(0, 40, 2))
    teams = load_settings(_env_file=None, teams={
        "app_id": CLIENT_ID, "tenant_id": TENANT, "certificate_path": str(certificate.path),
        "certificate_thumbprint": spaced}, directory={"entra_group_roles": {MANAGERS: "manager"}})
    assert teams.entra_credentials() == (TENANT, CLIENT_ID, certificate)  # the Teams app's
    own = load_settings(_env_file=None, teams={"tenant_id": TENANT}, directory={
        "client_id": "graph-reader", "certificate_path": str(certificate.path),
        "certificate_thumbprint": certificate.thumbprint.lower()})
    assert own.entra_credentials() == (TENANT, "graph-reader",
                                       AppCertificate(certificate.path,
                                                      certificate.thumbprint.lower()))

    msi = load_settings(_env_file=None, teams={
        "app_id": CLIENT_ID, "tenant_id": TENANT, "app_type": "UserAssignedMSI"},
        directory={"entra_group_roles": {MANAGERS: "manager"}})
    assert msi.entra_credentials() == (TENANT, CLIENT_ID, ManagedIdentity(CLIENT_ID))
    identity = load_settings(_env_file=None, teams={"tenant_id": TENANT}, directory={
        "client_id": "mi-client", "managed_identity": True})
    assert identity.entra_credentials() == (TENANT, "mi-client", ManagedIdentity("mi-client"))
    with pytest.raises(SettingsError, match="no such file"):  # said at start, not a traceback
        load_settings(_env_file=None, teams={"app_id": CLIENT_ID, "certificate_path": str(
            tmp_path / "gone.pem"), "certificate_thumbprint": certificate.thumbprint})
    with pytest.raises(SettingsError, match="managed_identity"):
        load_settings(_env_file=None, directory={"managed_identity": True})
    with pytest.raises(SettingsError, match="managed_identity"):
        load_settings(_env_file=None, directory={"client_id": "x", "client_secret": "s",
                                                  "managed_identity": True})

    for wrong, message in [
        ({"certificate_path": str(certificate.path)}, "go together"),
        ({"certificate_path": str(certificate.path), "certificate_thumbprint": "abc"},
         "40 hexadecimal digits"),
        ({"certificate_path": str(tmp_path / "none.pem"),
          "certificate_thumbprint": certificate.thumbprint}, "no such file"),
        ({"certificate_path": str(certificate.path),
          "certificate_thumbprint": certificate.thumbprint, "client_secret": "s"}, "not both"),
    ]:
        with pytest.raises(SettingsError, match=message):
            load_settings(_env_file=None, directory={"client_id": "graph-reader", **wrong})


def test_invalid_directory_settings_are_refused() -> None:
    with pytest.raises(SettingsError, match="tenant_id, client_id and client_secret"):
        load_settings(_env_file=None, directory={"entra_group_roles": {MANAGERS: "manager"}})
    with pytest.raises(SettingsError, match=r"slack\.bot_token"):
        load_settings(_env_file=None, directory={"slack_group_roles": {"S012AB": "manager"}})
    with pytest.raises(SettingsError, match="not a group object id"):
        load_settings(_env_file=None, directory={"entra_group_roles": {"managers": "manager"}})
    with pytest.raises(SettingsError, match=r"directory\.slack_group_roles"):
        load_settings(_env_file=None, directory={"slack_group_roles": {"S012AB": "boss"}})
    assert build_directory(load_settings(_env_file=None)) is None


async def test_build_runtime_wires_the_configured_directory(
        tmp_path: Path, slack_groups: FakeSlackUserGroups) -> None:
    settings = load_settings(
        data_dir=tmp_path / "d", _env_file=None,
        slack={"bot_token": SLACK_TOKEN, "api_url": slack_groups.api_url},
        directory={"slack_group_roles": {"S0MANAGERS": "manager"}})
    runtime = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    try:
        assert await runtime.roles.has(slack_user("U2"), Role.MANAGER)
        assert not await runtime.roles.has(slack_user("U1"), Role.MANAGER)
    finally:
        await runtime.close()

"""Roles from directory groups: Entra ID groups (Teams users) and Slack user groups.

Each source maps group ids to roles, looks memberships up through the platform's API,
caches them with a TTL and fails safe: when the directory cannot be read, a user gets
no extra role (the policy file's roles still apply) and the failure is logged without
secrets or user identifiers. This is the only module that imports ``msal``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from typing import Any

import aiohttp

from bot.governance.app_credential import AppCredential
from bot.governance.graph_token import GraphAppToken, GraphTokenUnavailable
from bot.governance.roles import DirectoryGroups, GroupMembership, Role
from bot.messages import User
from bot.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
_GRAPH_BATCH = 20  # checkMemberGroups accepts at most 20 group ids per call
ENTRA_GROUP = "entra-group:"  # a named Entra ID group: entra-group:<object id>
SLACK_GROUP = "slack-group:"  # a named Slack user group: slack-group:S…


class DirectoryUnavailable(Exception):
    """The directory could not be read; the message names the cause, never a secret."""


class _TtlCache:
    """A bounded LRU cache of values with a per-entry expiry; concurrent loads of a key share one call."""

    def __init__(self, size: int, clock: Clock) -> None:
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, frozenset[str]]] = OrderedDict()
        self._loading: dict[str, asyncio.Future[frozenset[str]]] = {}

    async def get(self, key: str,
                  load: Callable[[], Awaitable[tuple[frozenset[str], float]]]) -> frozenset[str]:
        """The cached value of ``key``, or ``load()``'s (value, ttl) stored then returned."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            self._entries.move_to_end(key)
            return entry[1]
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(key, load))
            self._loading[key] = pending
            pending.add_done_callback(lambda _done: self._loading.pop(key, None))
        return await asyncio.shield(pending)

    async def _load(self, key: str,
                    load: Callable[[], Awaitable[tuple[frozenset[str], float]]]
                    ) -> frozenset[str]:
        value, ttl = await load()
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


class _UserUnknown(Exception):
    """Graph does not know this user (404)."""


def _roles(mapping: Mapping[str, str], groups: Iterable[str]) -> frozenset[Role]:
    return frozenset(Role(mapping[group]) for group in groups if group in mapping)


class EntraGroups(DirectoryGroups):
    """Roles of Teams users from their Entra ID group memberships (Microsoft Graph).

    The app token comes from MSAL's client-credentials flow; the MSAL application is
    built on first use, in a thread (its constructor fetches the authority's metadata).
    ``http_client`` replaces MSAL's HTTP client (tests point it at a loopback fake).
    """

    def __init__(self, *, tenant_id: str, client_id: str, credential: str | AppCredential,
                 group_roles: Mapping[str, str],
                 authority_host: str = "https://login.microsoftonline.com",
                 graph_url: str = "https://graph.microsoft.com/v1.0",
                 graph_scope: str = "https://graph.microsoft.com/.default",
                 cache_ttl_seconds: float = 900.0, failure_ttl_seconds: float = 60.0,
                 cache_size: int = 20_000, timeout_seconds: float = 5.0,
                 http_client: Any | None = None, clock: Clock = time.monotonic) -> None:
        self._groups = {group.lower(): role for group, role in group_roles.items()}
        self._graph = graph_url.rstrip("/")
        self._ttl = cache_ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._timeout = timeout_seconds
        self._app_token = GraphAppToken(
            authority=f"{authority_host.rstrip('/')}/{tenant_id}", client_id=client_id,
            credential=credential, scope=graph_scope, timeout_seconds=timeout_seconds,
            http_client=http_client)
        self._clock = clock
        self._cache = _TtlCache(cache_size, clock)
        self._down_until = 0.0

    async def roles_of(self, user: User) -> frozenset[Role]:
        """Roles granted by the Teams user's Entra ID groups (none when unknown or unreadable)."""
        object_id = _object_id(user)
        if object_id is None or not self._groups:
            return frozenset()
        try:
            groups = await self._cache.get(object_id, lambda: self._lookup(object_id))
        except Exception:  # never let a directory problem break a message
            log.exception("directory: Entra ID lookup failed unexpectedly")
            return frozenset()
        return _roles(self._groups, groups)

    async def groups_of(self, user: User, groups: Collection[str]) -> frozenset[str]:
        """Which of the named groups (``entra-group:<object id>``) the Teams user is in."""
        object_id = _object_id(user)
        wanted = sorted({group.removeprefix(ENTRA_GROUP).lower() for group in groups
                         if group.startswith(ENTRA_GROUP)})
        if object_id is None or not wanted:
            return frozenset()
        try:
            found = await self._cache.get(f"{object_id}|{','.join(wanted)}",
                                          lambda: self._lookup(object_id, wanted))
        except Exception:  # never let a directory problem break a message
            log.exception("directory: Entra ID lookup failed unexpectedly")
            return frozenset()
        return frozenset(group for group in groups if group.startswith(ENTRA_GROUP)
                         and group.removeprefix(ENTRA_GROUP).lower() in found)

    async def _lookup(self, object_id: str, groups: list[str] | None = None
                      ) -> tuple[frozenset[str], float]:
        if self._clock() < self._down_until:
            return frozenset(), self._failure_ttl
        try:
            async with asyncio.timeout(self._timeout * 2):
                return await self._member_groups(object_id, groups), self._ttl
        except _UserUnknown:
            log.warning("directory: a Teams user is unknown to Microsoft Graph (no group roles)")
            return frozenset(), self._ttl
        except (DirectoryUnavailable, aiohttp.ClientError, TimeoutError, ValueError) as error:
            reason = str(error) if isinstance(error, DirectoryUnavailable) else type(error).__name__
            log.warning("directory: Entra ID groups unreadable (%s); policy roles only for %.0fs",
                        reason, self._failure_ttl)
            self._down_until = self._clock() + self._failure_ttl
            return frozenset(), self._failure_ttl

    async def _member_groups(self, object_id: str,
                             groups: list[str] | None = None) -> frozenset[str]:
        """The configured (or given) groups the user belongs to (directly or nested)."""
        token = await self._token()
        found: set[str] = set()
        configured = sorted(self._groups) if groups is None else groups
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for start in range(0, len(configured), _GRAPH_BATCH):
                async with session.post(
                        f"{self._graph}/users/{object_id}/checkMemberGroups",
                        json={"groupIds": configured[start:start + _GRAPH_BATCH]},
                        headers={"Authorization": f"Bearer {token}"}) as response:
                    if response.status == 404:
                        raise _UserUnknown
                    if response.status != 200:
                        raise DirectoryUnavailable(f"Graph HTTP {response.status}")
                    body = await response.json()
                found.update(str(group).lower() for group in body.get("value", []))
        return frozenset(found)

    async def _token(self) -> str:
        try:
            return await self._app_token.get()
        except GraphTokenUnavailable as error:
            raise DirectoryUnavailable(str(error)) from None


def _object_id(user: User) -> str | None:
    """The Entra object id of a Teams user, normalised; None for anyone else."""
    if not user.id.startswith("teams:") or not user.directory_id:
        return None
    try:
        return str(uuid.UUID(user.directory_id))
    except ValueError:
        return None


class SlackUserGroups(DirectoryGroups):
    """Roles of Slack users from their Slack user groups (``usergroups.users.list``).

    Needs the bot scope ``usergroups:read``. Each group's member list is cached.
    """

    def __init__(self, *, bot_token: str, group_roles: Mapping[str, str],
                 api_url: str = "https://slack.com/api/", cache_ttl_seconds: float = 900.0,
                 failure_ttl_seconds: float = 60.0, timeout_seconds: float = 5.0,
                 clock: Clock = time.monotonic, named_groups: Collection[str] = ()) -> None:
        self._token = bot_token
        self._groups = dict(group_roles)
        named = {group.removeprefix(SLACK_GROUP) for group in named_groups}
        self._api = api_url if api_url.endswith("/") else api_url + "/"
        self._ttl = cache_ttl_seconds
        self._failure_ttl = failure_ttl_seconds
        self._timeout = timeout_seconds
        self._cache = _TtlCache(max(len(set(self._groups) | named), 1), clock)

    async def roles_of(self, user: User) -> frozenset[Role]:
        """Roles granted by the Slack user groups the user belongs to."""
        if not user.id.startswith("slack:") or not user.directory_id or not self._groups:
            return frozenset()
        try:
            members = await asyncio.gather(*(
                self._cache.get(group, functools.partial(self._members, group))
                for group in self._groups))
        except Exception:
            log.exception("directory: Slack user group lookup failed unexpectedly")
            return frozenset()
        return _roles(self._groups, (group for group, users in zip(self._groups, members,
                                                                   strict=True)
                                     if user.directory_id in users))

    async def groups_of(self, user: User, groups: Collection[str]) -> frozenset[str]:
        """Which of the named groups (``slack-group:S…``) the Slack user is in."""
        wanted = [group for group in groups if group.startswith(SLACK_GROUP)]
        if not user.id.startswith("slack:") or not user.directory_id or not wanted:
            return frozenset()
        try:
            members = await asyncio.gather(*(
                self._cache.get(group.removeprefix(SLACK_GROUP),
                                functools.partial(self._members, group.removeprefix(SLACK_GROUP)))
                for group in wanted))
        except Exception:
            log.exception("directory: Slack user group lookup failed unexpectedly")
            return frozenset()
        return frozenset(group for group, users in zip(wanted, members, strict=True)
                         if user.directory_id in users)

    async def _members(self, group: str) -> tuple[frozenset[str], float]:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
                    self._api + "usergroups.users.list", data={"usergroup": group},
                    headers={"Authorization": f"Bearer {self._token}"}) as response:
                if response.status != 200:
                    raise DirectoryUnavailable(f"Slack HTTP {response.status}")
                body = await response.json()
            if not body.get("ok"):
                raise DirectoryUnavailable(f"Slack error {body.get('error', 'unknown')}")
            return frozenset(str(member) for member in body.get("users", [])), self._ttl
        except (DirectoryUnavailable, aiohttp.ClientError, TimeoutError, ValueError) as error:
            reason = str(error) if isinstance(error, DirectoryUnavailable) else type(error).__name__
            log.warning("directory: Slack user group %s unreadable (%s); no role from it for %.0fs",
                        group, reason, self._failure_ttl)
            return frozenset(), self._failure_ttl


class CompositeDirectory(DirectoryGroups):
    """The union of the roles several directories grant."""

    def __init__(self, sources: Iterable[DirectoryGroups]) -> None:
        self._sources = tuple(sources)

    async def roles_of(self, user: User) -> frozenset[Role]:
        """Every role any source grants (a failing source grants none)."""
        found: set[Role] = set()
        for result in await asyncio.gather(*(s.roles_of(user) for s in self._sources),
                                           return_exceptions=True):
            if isinstance(result, BaseException):
                log.error("directory: a source failed (%s)", type(result).__name__)
                continue
            found |= result
        return frozenset(found)

    async def groups_of(self, user: User, groups: Collection[str]) -> frozenset[str]:
        """The named groups any source finds the user in."""
        found: set[str] = set()
        for source in self._sources:
            if isinstance(source, GroupMembership):
                found |= await source.groups_of(user, groups)
        return frozenset(found)


def build_directory(settings: Settings, *, http_client: Any | None = None,
                    clock: Clock = time.monotonic,
                    named_groups: Collection[str] = ()) -> DirectoryGroups | None:
    """The directory the settings configure, or None when no group mapping is set.

    ``named_groups`` are groups the policy names (``entra-group:…``, ``slack-group:…``,
    e.g. campaign roles): their source is built even without a role mapping;
    :class:`DirectoryUnavailable` when its credentials are missing."""
    config = settings.directory
    sources: list[DirectoryGroups] = []
    entra_named = any(group.startswith(ENTRA_GROUP) for group in named_groups)
    slack_named = any(group.startswith(SLACK_GROUP) for group in named_groups)
    if entra_named and None in settings.entra_credentials():
        raise DirectoryUnavailable(
            "the policy names Entra ID groups (entra-group:…): set directory.tenant_id, "
            "client_id and client_secret or certificate (or the Teams app's tenant_id, app_id "
            "and password or certificate)")
    if slack_named and settings.slack.bot_token is None:
        raise DirectoryUnavailable("the policy names Slack user groups (slack-group:…): "
                                   "set slack.bot_token (scope usergroups:read)")
    if config.entra_group_roles or entra_named:
        tenant, client_id, secret = settings.entra_credentials()
        assert tenant and client_id and secret  # checked when the settings were loaded
        sources.append(EntraGroups(
            tenant_id=tenant, client_id=client_id, credential=secret,
            group_roles=config.entra_group_roles, authority_host=config.authority_host,
            graph_url=config.graph_url, graph_scope=config.graph_scope,
            cache_ttl_seconds=config.cache_ttl_seconds,
            failure_ttl_seconds=config.failure_ttl_seconds, cache_size=config.cache_size,
            timeout_seconds=config.timeout_seconds, http_client=http_client, clock=clock))
    if config.slack_group_roles or slack_named:
        assert settings.slack.bot_token is not None  # checked when the settings were loaded
        sources.append(SlackUserGroups(
            bot_token=settings.slack.bot_token.get_secret_value(),
            group_roles=config.slack_group_roles, api_url=settings.slack.api_url,
            cache_ttl_seconds=config.cache_ttl_seconds,
            failure_ttl_seconds=config.failure_ttl_seconds,
            timeout_seconds=config.timeout_seconds, clock=clock, named_groups=named_groups))
    if not sources:
        return None
    return sources[0] if len(sources) == 1 else CompositeDirectory(sources)

"""People's departments from the directories: Entra ID for Teams users (the user's
``department`` in Microsoft Graph), a Slack profile field for Slack users.

Entra: the app token comes from MSAL's client-credentials flow with the directory's
credentials (the Teams app's by default); the app needs the Graph application permission
``User.Read.All``. Slack: ``users.profile.get`` with the bot token (scope
``users.profile:read``) and the id of the custom profile field holding the department,
through the Slack adapter's home of ``slack_sdk`` (:mod:`adapters.slack_profiles`).
A person the directory does not know, or without a department, is recorded as such; a
failure stops the round (the next one retries), never a page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

from adapters.slack_profiles import SlackProfileFields, SlackProfilesUnavailable
from bot.governance.graph_token import GraphAppToken, GraphTokenUnavailable

if TYPE_CHECKING:
    from bot.governance.app_credential import AppCredential
    from bot.settings import Settings

log = logging.getLogger(__name__)


class DepartmentLookup(Protocol):
    """A directory that knows people's departments."""

    async def departments(self, user_ids: Iterable[str]) -> dict[str, str | None]:
        """User id → department (None when the directory has none)."""
        ...


class DirectoryDepartments:
    """Each person asked to the directory of their channel (by user id prefix)."""

    def __init__(self, sources: Mapping[str, DepartmentLookup]) -> None:
        self._sources = dict(sources)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The user id prefixes some directory answers for (``teams:``, ``slack:``)."""
        return tuple(self._sources)

    async def departments(self, user_ids: Iterable[str]) -> dict[str, str | None]:
        """Departments from every directory concerned."""
        found: dict[str, str | None] = {}
        for prefix, source in self._sources.items():
            mine = [user for user in user_ids if user.startswith(prefix)]
            if mine:
                found.update(await source.departments(mine))
        return found


def department_lookup(settings: Settings) -> DirectoryDepartments | None:
    """The directories the settings allow (none when lookups are off or nothing is set)."""
    if not settings.console.departments:
        return None
    sources: dict[str, DepartmentLookup] = {}
    tenant, client_id, secret = settings.entra_credentials()
    if tenant and client_id and secret:
        directory = settings.directory
        sources["teams:"] = EntraDepartments(
            tenant_id=tenant, client_id=client_id, credential=secret,
            authority_host=directory.authority_host, graph_url=directory.graph_url,
            graph_scope=directory.graph_scope, timeout_seconds=directory.timeout_seconds)
    field = settings.console.slack_department_field
    if field and settings.slack.bot_token is not None:
        sources["slack:"] = SlackDepartments(
            bot_token=settings.slack.bot_token.get_secret_value(), field=field,
            api_url=settings.slack.api_url)
    return DirectoryDepartments(sources) if sources else None


class SlackDepartments:
    """Departments from a custom Slack profile field (``users.profile.get``)."""

    def __init__(self, *, bot_token: str, field: str, api_url: str = "https://slack.com/api/",
                 timeout_seconds: float = 5.0) -> None:
        self._profiles = SlackProfileFields(bot_token=bot_token, field=field, api_url=api_url,
                                            timeout_seconds=timeout_seconds)

    async def departments(self, user_ids: Iterable[str]) -> dict[str, str | None]:
        """``slack:<team>:<user>`` → the field's value (None when empty or unknown)."""
        members = {user_id: user_id.rsplit(":", 1)[-1] for user_id in user_ids}
        try:
            values = await self._profiles.values(dict.fromkeys(members.values()))
        except SlackProfilesUnavailable as error:
            raise DepartmentsUnavailable(str(error)) from None
        return {user_id: values.get(member) for user_id, member in members.items()}


class DepartmentsUnavailable(Exception):
    """Graph or the token endpoint could not be read (the message names no secret)."""


class EntraDepartments:
    """Looks departments up, one Graph call per person, with one app token per round."""

    def __init__(self, *, tenant_id: str, client_id: str, credential: str | AppCredential,
                 authority_host: str = "https://login.microsoftonline.com",
                 graph_url: str = "https://graph.microsoft.com/v1.0",
                 graph_scope: str = "https://graph.microsoft.com/.default",
                 timeout_seconds: float = 5.0, http_client: Any | None = None) -> None:
        self._graph = graph_url.rstrip("/")
        self._timeout = timeout_seconds
        self._app_token = GraphAppToken(
            authority=f"{authority_host.rstrip('/')}/{tenant_id}", client_id=client_id,
            credential=credential, scope=graph_scope, timeout_seconds=timeout_seconds,
            http_client=http_client)

    async def departments(self, user_ids: Iterable[str]) -> dict[str, str | None]:
        """``teams:<object id>`` → department (None when Graph has none or not the person)."""
        token = await self._token()
        found: dict[str, str | None] = {}
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for user_id in user_ids:
                object_id = user_id.removeprefix("teams:")
                async with session.get(
                        f"{self._graph}/users/{object_id}", params={"$select": "department"},
                        headers={"Authorization": f"Bearer {token}"}) as response:
                    if response.status == 404:
                        found[user_id] = None
                        continue
                    if response.status != 200:
                        raise DepartmentsUnavailable(f"Graph HTTP {response.status}")
                    body = await response.json()
                department = body.get("department") if isinstance(body, dict) else None
                found[user_id] = (str(department).strip() or None) if department else None
        return found

    async def _token(self) -> str:
        try:
            return await self._app_token.get()
        except GraphTokenUnavailable as error:
            raise DepartmentsUnavailable(str(error)) from None

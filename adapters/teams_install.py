"""Opening a Teams personal chat with someone who never wrote to the bot: proactive
installation of the Almia Teams app through Microsoft Graph.

1. ``POST /users/{aad id}/teamwork/installedApps`` with the app's id in the tenant catalog
   (``409 Conflict``: already installed, fine);
2. ``GET /users/{aad id}/teamwork/installedApps?$expand=teamsApp&$filter=teamsApp/id eq '…'``
   for the installation's id, then ``GET …/installedApps/{id}/chat`` for the chat's id;
3. the chat id is the Bot Connector conversation of the personal chat: the conversation
   reference returned here is what the job reporters post to (``/v3/conversations/{chat
   id}/activities`` on the configured service URL).

The app registration needs the Graph application permission
``TeamsAppInstallation.ReadWriteSelfForUser.All`` (or ``…ReadWriteForUser.All``); tokens come
from MSAL's client-credentials flow (the directory's credentials). Any failure returns None
and is logged without the person's identifier: the caller keeps the inbox.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.governance.app_credential import AppCredential
from bot.governance.graph_token import GraphAppToken, GraphTokenUnavailable
from bot.settings import Settings

log = logging.getLogger(__name__)


class InstallFailed(Exception):
    """Graph refused or could not be reached; the message names the step, never a secret."""


class TeamsInstaller:
    """Installs the Teams app for a person and returns their personal chat's reference."""

    def __init__(self, *, tenant_id: str, client_id: str, credential: str | AppCredential,
                 app_catalog_id: str, bot_app_id: str, service_url: str,
                 authority_host: str = "https://login.microsoftonline.com",
                 graph_url: str = "https://graph.microsoft.com/v1.0",
                 graph_scope: str = "https://graph.microsoft.com/.default",
                 timeout_seconds: float = 5.0, http_client: Any | None = None) -> None:
        self._tenant = tenant_id
        self._catalog_id = app_catalog_id
        self._bot_id = bot_app_id
        self._service_url = service_url if service_url.endswith("/") else service_url + "/"
        self._graph = graph_url.rstrip("/")
        self._timeout = timeout_seconds
        self._app_token = GraphAppToken(
            authority=f"{authority_host.rstrip('/')}/{tenant_id}", client_id=client_id,
            credential=credential, scope=graph_scope, timeout_seconds=timeout_seconds,
            http_client=http_client)

    async def open(self, user_id: str) -> Mapping[str, Any] | None:
        """The personal chat's conversation reference for ``teams:<aad object id>`` (the app
        installed for that person when needed), or None when it cannot be opened."""
        object_id = _object_id(user_id)
        if object_id is None:
            return None
        try:
            async with asyncio.timeout(self._timeout * 4):
                chat_id = await self._chat_of(object_id)
        except (InstallFailed, aiohttp.ClientError, TimeoutError, ValueError) as error:
            reason = str(error) if isinstance(error, InstallFailed) else type(error).__name__
            log.warning("teams install: no personal chat opened (%s); the inbox has the notice",
                        reason)
            return None
        return {"channelId": "msteams", "serviceUrl": self._service_url,
                "conversation": {"id": chat_id, "conversationType": "personal",
                                 "tenantId": self._tenant},
                "user": {"id": f"8:orgid:{object_id}", "aadObjectId": object_id},
                "bot": {"id": f"28:{self._bot_id}"}}

    async def _chat_of(self, object_id: str) -> str:
        token = await self._token()
        headers = {"Authorization": f"Bearer {token}"}
        installed = f"{self._graph}/users/{object_id}/teamwork/installedApps"
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
            binding = f"{self._graph}/appCatalogs/teamsApps/{self._catalog_id}"
            async with session.post(installed, json={"teamsApp@odata.bind": binding}) as answer:
                if answer.status not in (201, 409):  # 409: installed already
                    raise InstallFailed(f"installation: Graph HTTP {answer.status}")
            wanted = f"teamsApp/id eq '{self._catalog_id}'"
            query = f"?$expand=teamsApp&$filter={quote(wanted)}"
            async with session.get(installed + query) as answer:
                if answer.status != 200:
                    raise InstallFailed(f"installation lookup: Graph HTTP {answer.status}")
                found = (await answer.json()).get("value") or []
            if not found or not found[0].get("id"):
                raise InstallFailed("installation lookup: the app is not installed")
            async with session.get(f"{installed}/{quote(str(found[0]['id']))}/chat") as answer:
                if answer.status != 200:
                    raise InstallFailed(f"chat lookup: Graph HTTP {answer.status}")
                chat = await answer.json()
        chat_id = chat.get("id")
        if not isinstance(chat_id, str) or not chat_id:
            raise InstallFailed("chat lookup: no chat id")
        return chat_id

    async def _token(self) -> str:
        try:
            return await self._app_token.get()
        except GraphTokenUnavailable as error:
            raise InstallFailed(str(error)) from None


def build_installer(settings: Settings, *,
                    http_client: Any | None = None) -> TeamsInstaller | None:
    """The installer the settings configure (``teams.app_catalog_id`` and Graph
    credentials), or None: Teams reviewers then find review requests in their inbox."""
    teams = settings.teams
    tenant, client_id, secret = settings.entra_credentials()
    if not (teams.app_catalog_id and teams.app_id and tenant and client_id and secret):
        return None
    directory = settings.directory
    return TeamsInstaller(
        tenant_id=tenant, client_id=client_id, credential=secret,
        app_catalog_id=teams.app_catalog_id, bot_app_id=teams.app_id,
        service_url=teams.proactive_service_url, authority_host=directory.authority_host,
        graph_url=directory.graph_url, graph_scope=directory.graph_scope,
        timeout_seconds=directory.timeout_seconds, http_client=http_client)


def _object_id(user_id: str) -> str | None:
    if not user_id.startswith("teams:"):
        return None
    try:
        return str(uuid.UUID(user_id.removeprefix("teams:")))
    except ValueError:
        return None

"""Files shared in a Teams channel, read through Microsoft Graph with resource-specific
consent (``ALMIA_TEAMS__CHANNEL_FILES``).

In a channel Teams gives a bot no file, only the message (files live in the team's
SharePoint library). The Teams app therefore asks, when a team adds it, for two permissions
on that team only (resource-specific consent, granted by the team's owner):
``ChannelMessage.Read.Group`` to read the message Almia was mentioned in, and
``Files.Read.Group`` to read the team's files. For a mention that carries files:

1. ``GET /teams/{team}/channels/{channel}/messages/{id}`` (or ``…/messages/{root}/replies/{id}``
   in a thread): the message as Graph holds it, whose ``reference`` attachments name the
   files (the activity's own claims are not used);
2. ``GET /shares/{u!…}/driveItem``: each link resolved to its drive item (name, size, drive,
   pre-authenticated ``@microsoft.graph.downloadUrl``);
3. the item must be a file of this team's own library (``GET /groups/{team}/drive``): a link
   to another team's or a person's file is refused, so that nobody gets Almia to read for
   them what their team does not hold;
4. the file is downloaded from that URL, on an allowed host only (``teams.file_hosts``), into
   the same checks as any other file (size, type, count, audit).

Graph credentials are the directory's (the Teams app's by default); any failure is a polite
refusal, logged without the person's identifiers.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.teams_files import allowed_host, download
from bot.files.intake import FileRejected
from bot.files.service import FileIntake
from bot.governance.graph_token import GraphAppToken, GraphTokenUnavailable
from bot.i18n import Text
from bot.messages import Attachment, Message
from bot.settings import Settings

log = logging.getLogger(__name__)

RSC_PERMISSIONS = ("ChannelMessage.Read.Group", "Files.Read.Group")
_SAFE = ":@"  # channel ids (19:…@thread.tacv2) keep their characters in Graph paths

NO_CONSENT = Text(
    "Je n'ai pas accès aux messages ou aux fichiers de cette équipe : un propriétaire de "
    "l'équipe doit accepter les autorisations d'Almia (en ajoutant de nouveau l'application à "
    "l'équipe). En attendant, envoyez-moi le fichier en conversation privée.",
    "I have no access to this team's messages or files: a team owner must accept Almia's "
    "permissions (by adding the app to the team again). Meanwhile, send me the file in a "
    "personal chat.",
)
GRAPH_DOWN = Text(
    "Je n'ai pas pu lire les fichiers de ce message (Microsoft 365 ne répond pas) : "
    "réessayez dans un instant.",
    "I could not read the files of this message (Microsoft 365 is not answering): please "
    "try again in a moment.",
)
NO_FILE = Text(
    "Je ne trouve pas de fichier dans ce message : joignez-le au message où vous me "
    "mentionnez.",
    "I find no file in this message: attach it to the message that mentions me.",
)
OTHER_LIBRARY = Text(
    "« {name} » n'est pas rangé dans les fichiers de cette équipe : je ne lis que les fichiers "
    "partagés dans ses canaux. Envoyez-le-moi en conversation privée.",
    "“{name}” is not stored in this team's files: I only read files shared in its channels. "
    "Send it to me in a personal chat.",
)
NOT_A_FILE = Text(
    "« {name} » n'est pas un fichier (un dossier ?) : partagez le fichier lui-même.",
    "“{name}” is not a file (a folder?): share the file itself.",
)
_BLOCKED = Text("Je n'ai pas pu récupérer « {name} » depuis Teams : renvoyez-le.",
                "I could not fetch “{name}” from Teams: send it again.")


class ChannelFileReader:
    """Reads the files of a channel message through Graph (see the module's docstring).

    ``token`` gives a Graph bearer token; ``graph_url`` ends with the version
    (``https://graph.microsoft.com/v1.0``); ``hosts`` are the allowed download hosts.
    """

    def __init__(self, token: Callable[[], Awaitable[str]], *, graph_url: str,
                 hosts: Sequence[str], timeout_seconds: float = 10.0) -> None:
        self._token = token
        self._graph = graph_url.rstrip("/")
        self._hosts = tuple(hosts)
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def receive(self, body: Mapping[str, Any], message: Message, intake: FileIntake,
                      session: aiohttp.ClientSession) -> tuple[Attachment, ...]:
        """Download, check and keep the files of the channel message ``body`` (the activity):
        none when the post links no file (a pasted image, a card); :class:`FileRejected` with
        the reason the person reads."""
        path = message_path(body)
        team = _team_id(body)
        if path is None or team is None:
            raise FileRejected("graph", NO_FILE)
        try:
            token = await self._token()
        except GraphTokenUnavailable as error:
            log.warning("teams: no Graph token for channel files (%s)", error)
            raise FileRejected("graph", GRAPH_DOWN) from None
        graph = _Graph(session, self._graph, token, self._timeout)
        posted = await graph.get(path)
        links = [item for item in posted.get("attachments") or []
                 if isinstance(item, dict) and item.get("contentType") == "reference"
                 and isinstance(item.get("contentUrl"), str)]
        if not links:
            return ()
        intake.check_count(len(links))
        library = str((await graph.get(f"/groups/{quote(team, safe='')}/drive?$select=id"))
                      .get("id") or "")
        kept = []
        for link in links:
            name = str(link.get("name") or "fichier")
            item = await graph.get(
                f"/shares/{_share_id(link['contentUrl'])}/driveItem"
                "?$select=id,name,size,file,parentReference,@microsoft.graph.downloadUrl")
            name = str(item.get("name") or name)
            drive = (item.get("parentReference") or {}).get("driveId")
            if not library or drive != library:
                log.warning("teams: a channel message links a file outside its team's library")
                raise FileRejected("graph_other_library", OTHER_LIBRARY, name=name)
            url = item.get("@microsoft.graph.downloadUrl")
            if "file" not in item or not isinstance(url, str):
                raise FileRejected("graph_not_a_file", NOT_A_FILE, name=name)
            if not allowed_host(url, self._hosts):
                raise FileRejected("download", _BLOCKED, name=name)
            kept.append(await intake.receive(message, name, download(session, url, name)))
        return tuple(kept)


class _Graph:
    """GET on Microsoft Graph with the bearer token; refusals become :class:`FileRejected`."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str,
                 timeout: aiohttp.ClientTimeout) -> None:
        self._session = session
        self._base = base
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._timeout = timeout

    async def get(self, path: str) -> dict[str, Any]:
        try:
            async with self._session.get(self._base + path, headers=self._headers,
                                         timeout=self._timeout,
                                         allow_redirects=False) as response:
                if response.status in (401, 403):
                    log.warning("teams: Graph refused a channel-file read (%s)", response.status)
                    raise FileRejected("graph_consent", NO_CONSENT)
                if response.status == 404:
                    raise FileRejected("graph", NO_FILE)
                if response.status != 200:
                    log.warning("teams: Graph answered %s to a channel-file read",
                                response.status)
                    raise FileRejected("graph", GRAPH_DOWN)
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("teams: Graph unreachable for channel files (%s)", type(error).__name__)
            raise FileRejected("graph", GRAPH_DOWN) from None
        return data if isinstance(data, dict) else {}


def mentions_files(body: Mapping[str, Any]) -> bool:
    """Whether a channel activity carries files: a ``<attachment>`` in its HTML, or
    attachments other than its HTML rendering and cards."""
    for item in body.get("attachments") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("contentType")
        if kind == "text/html" and "<attachment" in str(item.get("content") or ""):
            return True
        if kind not in ("text/html", "application/vnd.microsoft.card.adaptive"):
            return True
    return False


def _team_id(body: Mapping[str, Any]) -> str | None:
    team = (body.get("channelData") or {}).get("team") or {}
    value = team.get("aadGroupId") if isinstance(team, dict) else None
    return value if isinstance(value, str) and value else None


def message_path(body: Mapping[str, Any]) -> str | None:
    """The Graph path of the activity's channel message (a reply lives under its root)."""
    data = body.get("channelData") or {}
    team = _team_id(body)
    channel = ((data.get("channel") or {}) if isinstance(data, dict) else {}).get("id")
    conversation = str((body.get("conversation") or {}).get("id") or "")
    message = body.get("id")
    if not (team and isinstance(channel, str) and channel and isinstance(message, str)
            and message):
        return None
    root = conversation.partition(";messageid=")[2] or message
    base = (f"/teams/{quote(team, safe='')}/channels/{quote(channel, safe=_SAFE)}"
            f"/messages/{quote(root, safe='')}")
    return base if root == message else f"{base}/replies/{quote(message, safe='')}"


def _share_id(url: str) -> str:
    """Graph's id for a sharing URL: ``u!`` and the URL in unpadded base64url."""
    return "u!" + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def build_channel_files(settings: Settings, *,
                        http_client: Any | None = None) -> ChannelFileReader | None:
    """The reader the settings configure (``teams.channel_files`` and Graph credentials)."""
    if not settings.teams.channel_files:
        return None
    tenant, client_id, secret = settings.entra_credentials()
    if not (tenant and client_id and secret):
        return None
    directory = settings.directory
    token = GraphAppToken(
        authority=f"{directory.authority_host.rstrip('/')}/{tenant}", client_id=client_id,
        credential=secret, scope=directory.graph_scope,
        timeout_seconds=directory.timeout_seconds, http_client=http_client)
    return ChannelFileReader(token.get, graph_url=directory.graph_url,
                             hosts=settings.teams.file_hosts,
                             timeout_seconds=max(directory.timeout_seconds, 10.0))


__all__ = ["RSC_PERMISSIONS", "ChannelFileReader", "build_channel_files", "mentions_files",
           "message_path"]

"""Custom profile fields of Slack members (``users.profile.get``) through ``slack_sdk``.

Needs the bot scope ``users.profile:read``. Rate limits (HTTP 429 with ``Retry-After``),
server errors and dropped connections are retried by the SDK; any other failure is a
:class:`SlackProfilesUnavailable` whose message names no token.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient


class SlackProfilesUnavailable(Exception):
    """Slack could not be read (HTTP status or Slack error code, never the token)."""


class SlackProfileFields:
    """One custom profile field (its id, ``Xf…``) of Slack members."""

    def __init__(self, *, bot_token: str, field: str,
                 api_url: str = "https://slack.com/api/", timeout_seconds: float = 5.0,
                 max_retries: int = 2) -> None:
        self._field = field
        self._client = AsyncWebClient(
            token=bot_token, base_url=api_url if api_url.endswith("/") else api_url + "/",
            timeout=max(1, round(timeout_seconds)),
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=max_retries),
                            AsyncServerErrorRetryHandler(max_retry_count=max_retries),
                            AsyncConnectionErrorRetryHandler(max_retry_count=max_retries)])

    async def values(self, members: Iterable[str]) -> dict[str, str | None]:
        """Member id (``U…``) → the field's value (None when empty or the member is unknown)."""
        found: dict[str, str | None] = {}
        for member in members:
            try:
                response = await self._client.users_profile_get(user=member)
            except SlackApiError as error:
                data = error.response.data if error.response is not None else None
                code = data.get("error") if isinstance(data, dict) else None
                if code == "user_not_found":
                    found[member] = None
                    continue
                status = error.response.status_code if error.response is not None else None
                raise SlackProfilesUnavailable(
                    f"Slack error {code or 'unknown'} (HTTP {status})") from None
            except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as error:
                raise SlackProfilesUnavailable(
                    f"Slack unreachable ({type(error).__name__})") from None
            profile = response.get("profile")
            fields = profile.get("fields") if isinstance(profile, dict) else None
            entry = fields.get(self._field) if isinstance(fields, dict) else None
            value = entry.get("value") if isinstance(entry, dict) else None
            found[member] = (str(value).strip() or None) if value else None
        return found

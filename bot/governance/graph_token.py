"""An application token for Microsoft Graph (client credentials through MSAL), shared by the
directory lookups and the Teams app installer."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.governance.app_credential import AppCredential, msal_credential


class GraphTokenUnavailable(Exception):
    """No token: the reason names the failure, never the secret."""


class GraphAppToken:
    """Builds the MSAL application on first use (its authority metadata is fetched then) and
    asks for a client-credential token; MSAL keeps tokens cached until they near expiry.

    ``credential`` is a client secret or a certificate (MSAL then signs a client assertion
    with its private key, read when the application is built: no secret crosses the wire).
    ``http_client`` replaces MSAL's HTTP client (tests point it at a loopback fake).
    """

    def __init__(self, *, authority: str, client_id: str, credential: str | AppCredential,
                 scope: str, timeout_seconds: float = 5.0,
                 http_client: Any | None = None) -> None:
        self._authority = authority
        self._client_id = client_id
        self._credential = credential
        self._scope = scope
        self._timeout = timeout_seconds
        self._http_client = http_client
        self._msal: Any | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        """A bearer token for ``scope``, or :class:`GraphTokenUnavailable`."""
        app: Any
        async with self._lock:
            if self._msal is None:
                try:
                    credential = await asyncio.to_thread(msal_credential, self._credential)
                except OSError as error:
                    raise GraphTokenUnavailable(
                        f"certificate unreadable ({type(error).__name__})") from None
                try:
                    self._msal = await asyncio.to_thread(self._new_msal_app, credential)
                except Exception as error:  # noqa: BLE001 (msal raises ValueError, requests' errors…)
                    raise GraphTokenUnavailable(
                        f"authority metadata unreadable ({type(error).__name__})") from None
            app = self._msal
        try:
            result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[self._scope])
        except Exception as error:  # noqa: BLE001 (any msal/requests failure means no token)
            code = getattr(error, "error", None)  # MsalServiceError carries the OAuth error code
            raise GraphTokenUnavailable(f"no token: {code}" if isinstance(code, str)
                                        else f"token request failed ({type(error).__name__})"
                                        ) from None
        token = result.get("access_token") if isinstance(result, dict) else None
        if not token:
            code = result.get("error", "unknown") if isinstance(result, dict) else "unknown"
            raise GraphTokenUnavailable(f"no token: {code}")
        return str(token)

    def _new_msal_app(self, credential: str | dict[str, str]) -> Any:
        import msal  # only when Graph is used (the Teams adapter's SDK loads it anyway)

        return msal.ConfidentialClientApplication(
            self._client_id, client_credential=credential, authority=self._authority,
            http_client=self._http_client, timeout=self._timeout)


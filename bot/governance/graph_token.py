"""An application token for Microsoft Graph (client credentials through MSAL), shared by the
directory lookups and the Teams app installer."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from bot.governance.app_credential import AppCredential, ManagedIdentity, msal_credential


class GraphTokenUnavailable(Exception):
    """No token: the reason names the failure, never the secret."""


class GraphAppToken:
    """Builds the MSAL application on first use (its authority metadata is fetched then) and
    asks for a client-credential token; MSAL keeps tokens cached until they near expiry.

    ``credential`` is a client secret, a certificate (MSAL then signs a client assertion
    with its private key, read when the application is built: no secret crosses the wire)
    or a managed identity (the Azure platform's token endpoint hands the token out).
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
                self._msal = await self._new_app()
            app = self._msal
        if isinstance(self._credential, ManagedIdentity):  # the platform's token, per resource
            acquire = partial(app.acquire_token_for_client, resource=_resource(self._scope))
        else:
            acquire = partial(app.acquire_token_for_client, scopes=[self._scope])
        try:
            result = await asyncio.to_thread(acquire)
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

    async def _new_app(self) -> Any:
        """MSAL's managed-identity client, or its confidential client application."""
        if isinstance(self._credential, ManagedIdentity):
            return await asyncio.to_thread(self._managed_identity_client, self._credential)
        try:
            credential = await asyncio.to_thread(msal_credential, self._credential)
        except OSError as error:
            raise GraphTokenUnavailable(
                f"certificate unreadable ({type(error).__name__})") from None
        try:
            return await asyncio.to_thread(self._new_msal_app, credential)
        except Exception as error:  # noqa: BLE001 (msal raises ValueError, requests' errors…)
            raise GraphTokenUnavailable(
                f"authority metadata unreadable ({type(error).__name__})") from None

    def _managed_identity_client(self, identity: ManagedIdentity) -> Any:
        import msal
        import requests

        return msal.ManagedIdentityClient(
            msal.UserAssignedManagedIdentity(client_id=identity.client_id),
            http_client=self._http_client or _TimedSession(requests.Session(), self._timeout))

    def _new_msal_app(self, credential: str | dict[str, str]) -> Any:
        import msal  # only when Graph is used (the Teams adapter's SDK loads it anyway)

        return msal.ConfidentialClientApplication(
            self._client_id, client_credential=credential, authority=self._authority,
            http_client=self._http_client, timeout=self._timeout)


def _resource(scope: str) -> str:
    """The resource a managed identity asks a token for: « https://graph.microsoft.com » for
    the scope « https://graph.microsoft.com/.default »."""
    return scope.removesuffix("/.default")


class _TimedSession:
    """A requests session whose calls time out (off Azure, the instance metadata address
    169.254.169.254 may never answer)."""

    def __init__(self, session: Any, timeout: float) -> None:
        self._session = session
        self._timeout = timeout

    def get(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.post(url, **kwargs)

    def close(self) -> None:
        self._session.close()

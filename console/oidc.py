"""Entra ID sign-in through MSAL: authorization code flow with PKCE, state and nonce.

MSAL builds the authorization URL (with a PKCE challenge, a state and a nonce), then
redeems the code at the token endpoint over TLS and checks the state and the nonce of
the ID token it receives from that endpoint. MSAL's calls block: they run in a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.governance.app_credential import msal_credential
from console.settings import OidcSettings


class SignInFailed(Exception):
    """The identity provider refused or the answer did not match the flow (no secret named)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in, from the ID token's claims."""

    object_id: str
    name: str
    groups: tuple[str, ...]
    app_roles: tuple[str, ...]


class EntraSignIn:
    """One MSAL confidential client, built on first use (its constructor fetches metadata)."""

    def __init__(self, settings: OidcSettings) -> None:
        self._settings = settings
        self._msal: Any | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> dict[str, Any]:
        """A new flow: ``flow["auth_uri"]`` is where to send the browser."""
        app = await self._app()
        flow = await asyncio.to_thread(
            app.initiate_auth_code_flow, [], redirect_uri=self._settings.redirect_url,
            response_mode="form_post")  # the code never sits in a URL (RFC 9700 §4.3.1)
        if not isinstance(flow, dict) or "auth_uri" not in flow:
            raise SignInFailed("no authorization URL")
        return flow

    async def finish(self, flow: dict[str, Any], answer: Mapping[str, str]) -> Identity:
        """Redeem the code of the provider's answer; the identity it proves."""
        app = await self._app()
        try:
            result = await asyncio.to_thread(
                app.acquire_token_by_auth_code_flow, flow, dict(answer))
        except ValueError as error:  # state mismatch, missing code…
            raise SignInFailed(f"invalid answer ({type(error).__name__})") from None
        except Exception as error:  # noqa: BLE001 (network or TLS failure: no token)
            raise SignInFailed(f"token request failed ({type(error).__name__})") from None
        if not isinstance(result, dict) or "error" in result:
            code = result.get("error", "unknown") if isinstance(result, dict) else "unknown"
            raise SignInFailed(f"refused: {code}")
        claims = result.get("id_token_claims") or {}
        object_id = str(claims.get("oid") or "")
        if not object_id:
            raise SignInFailed("no object id in the ID token")
        return Identity(
            object_id=object_id,
            name=str(claims.get("name") or claims.get("preferred_username") or object_id),
            groups=tuple(str(group) for group in claims.get("groups") or ()),
            app_roles=tuple(str(role) for role in claims.get("roles") or ()))

    async def _app(self) -> Any:
        async with self._lock:
            if self._msal is None:
                try:
                    self._msal = await asyncio.to_thread(self._new_app)
                except Exception as error:  # noqa: BLE001 (metadata unreadable, bad URL…)
                    raise SignInFailed(
                        f"authority metadata unreadable ({type(error).__name__})") from None
            return self._msal

    def _new_app(self) -> Any:
        import msal
        import requests

        settings = self._settings
        session: Any = requests.Session()
        if settings.ca_bundle is not None:
            session = _TrustingClient(session, str(settings.ca_bundle))
        credential = settings.credential
        return msal.ConfidentialClientApplication(
            settings.client_id,
            client_credential=msal_credential(credential) if credential is not None else None,
            authority=settings.resolved_authority, http_client=session,
            timeout=settings.timeout_seconds,
            # a private cloud's authority is not in Microsoft's instance list
            instance_discovery=settings.authority is None)


class _TrustingClient:
    """MSAL's HTTP client trusting a private CA on every call (``REQUESTS_CA_BUNDLE`` in the
    environment would otherwise take precedence over a session's ``verify``)."""

    def __init__(self, session: Any, bundle: str) -> None:
        self._session = session
        self._bundle = bundle

    def get(self, url: str, **options: Any) -> Any:
        """A GET verified against the bundle."""
        return self._session.get(url, verify=self._bundle, **options)

    def post(self, url: str, **options: Any) -> Any:
        """A POST verified against the bundle."""
        return self._session.post(url, verify=self._bundle, **options)

    def close(self) -> None:
        """Release the connections."""
        self._session.close()

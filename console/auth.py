"""Console sessions over HTTP: cookies, the one-time admin link, Entra ID sign-in, CSRF.

The session cookie is HTTP-only, ``SameSite=Lax`` (the identity provider's redirect is
a cross-site navigation) and ``Secure`` unless the settings turn that off for a plain
HTTP loopback server; the short-lived sign-in cookie is ``SameSite=None`` (the provider
posts the code back from its own site). Every change is a POST carrying the session's CSRF token.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.messages import User
from bot.store.console_sessions import ConsoleSessionStore, SessionView
from console.oidc import EntraSignIn, SignInFailed
from console.roles import ConsoleRole, ConsoleRoles
from console.settings import ConsoleSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = "almia_console"
LOGIN_COOKIE = "almia_console_login"
LOCAL_ADMIN = "console:local-admin"
_LOGIN_TTL = timedelta(minutes=10)


class NotSignedIn(Exception):
    """No live session: the person is sent to the sign-in page."""


class ConsoleAuth:
    """Signs people in and out and finds the session of a request."""

    def __init__(self, settings: ConsoleSettings, sessions: ConsoleSessionStore,
                 roles: ConsoleRoles) -> None:
        self._settings = settings
        self._sessions = sessions
        self._roles = roles
        self._entra = EntraSignIn(settings.oidc) if settings.oidc.enabled else None

    @property
    def entra_enabled(self) -> bool:
        """True when Entra ID sign-in is configured."""
        return self._entra is not None

    async def session(self, request: web.Request) -> SessionView | None:
        """The live session of the request's cookie (its idle clock restarts)."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        return await self._sessions.touch(token, timedelta(minutes=self._settings.idle_minutes))

    def check_csrf(self, session: SessionView, form: Any) -> bool:
        """True when the form carries the session's CSRF token."""
        given = str(form.get("csrf", "")).encode()
        return hmac.compare_digest(given, session.csrf.encode())

    async def redeem_link(self, token: str, response: web.StreamResponse) -> bool:
        """Sign the local administrator in with a one-time link's token."""
        if not token or not await self._sessions.redeem_link(token):
            return False
        await self._open(LOCAL_ADMIN, "Administrateur local",
                         frozenset({ConsoleRole.ADMIN}), response)
        return True

    async def start_entra(self, response: web.StreamResponse) -> str:
        """Begin an Entra ID sign-in: the authorization URL to redirect to."""
        if self._entra is None:
            raise SignInFailed("Entra ID sign-in is not configured")
        flow = await self._entra.start()
        token = await self._sessions.begin_login(flow, _LOGIN_TTL)
        # the provider POSTs back from its own site: only a SameSite=None cookie comes along
        response.set_cookie(LOGIN_COOKIE, token, path="/console/auth",
                            max_age=int(_LOGIN_TTL.total_seconds()), httponly=True,
                            samesite="None" if self._settings.secure_cookies else "Lax",
                            secure=self._settings.secure_cookies)
        return str(flow["auth_uri"])

    async def finish_entra(self, request: web.Request, answer: Mapping[str, str],
                           response: web.StreamResponse) -> frozenset[ConsoleRole]:
        """Complete the sign-in from the provider's redirect; the roles granted (may be none)."""
        if self._entra is None:
            raise SignInFailed("Entra ID sign-in is not configured")
        token = request.cookies.get(LOGIN_COOKIE, "")
        flow = await self._sessions.finish_login(token) if token else None
        response.del_cookie(LOGIN_COOKIE, path="/console/auth")
        if flow is None:
            raise SignInFailed("no sign-in under way in this browser (or it expired)")
        identity = await self._entra.finish(flow, answer)
        user = User(id=f"teams:{identity.object_id}", name=identity.name,
                    directory_id=identity.object_id)
        roles = await self._roles.roles_of(user, identity.groups, identity.app_roles)
        if roles:
            await self._open(user.id, identity.name, roles, response)
        return roles

    async def sign_out(self, request: web.Request, response: web.StreamResponse) -> None:
        """End the request's session and forget its cookie."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await self._sessions.close(token)
        response.del_cookie(SESSION_COOKIE, path="/console")

    async def _open(self, user_id: str, name: str, roles: frozenset[ConsoleRole],
                    response: web.StreamResponse) -> None:
        lifetime = timedelta(hours=self._settings.session_hours)
        token, _view = await self._sessions.open(user_id, name, frozenset(roles), lifetime)
        response.set_cookie(SESSION_COOKIE, token, path="/console", httponly=True,
                            samesite="Lax", secure=self._settings.secure_cookies)

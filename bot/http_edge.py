"""The HTTP edge every route shares: Host check, JSON errors, security headers.

- **Host check** (DNS-rebinding defence): a request whose ``Host`` is not a loopback name,
  ``web.host`` or one of ``web.allowed_hosts`` gets 421 (``/healthz``, ``/readyz``
  and ``/metrics`` excepted, for probes and scrapers).
- **Web API token**: when ``web.api_token`` is set, every ``/api/*`` route (chat, feedback,
  files, jobs, stats, and any added later) needs ``Authorization: Bearer <token>``, except
  the Bot Framework endpoint ``/api/messages``, which checks its own JWT (Teams adapter).
- **Errors**: 404/405/413 and any crash become ``{"error": {"status", "message",
  "message_en"}}`` (a crash is logged with a reference, never with the request's content).
- **Security headers** on every response, errors and streams included (``on_response_prepare``).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.settings import WebSettings

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_UNCHECKED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes, scrapes
_OWN_AUTHENTICATION = frozenset({"/api/messages"})  # Bot Framework JWT, checked by Teams
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 (names, not binds)
_HOST = re.compile(
    r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9_-][a-z0-9_.-]*?)\.?(?::(?P<port>[0-9]{1,5}))?")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, message_fr: str, message_en: str) -> web.Response:
    """A JSON error response."""
    return web.json_response(
        {"error": {"status": status, "message": message_fr, "message_en": message_en}},
        status=status,
    )


def split_host(value: str) -> tuple[str, int | None] | None:
    """``name[:port]`` (``[v6][:port]``) as a lower-case name and port; None if malformed."""
    match = _HOST.fullmatch(value.strip().lower())
    if match is None:
        return None
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    return match["name"], port


class HostCheck:
    """The Host header values this server answers."""

    def __init__(self, settings: WebSettings) -> None:
        entries = [*LOOPBACK_NAMES, *settings.allowed_hosts]
        bind = settings.host.strip().lower()
        if bind not in _WILDCARD_BINDS:
            entries.append(f"[{bind}]" if _is_ipv6(bind) else bind)
        self._allowed = {parsed for entry in entries if (parsed := split_host(entry))}

    def allows(self, host: str | None) -> bool:
        """True when ``host`` (the Host header) names this server."""
        parsed = split_host(host or "")
        if parsed is None:
            return False
        name, _port = parsed
        return parsed in self._allowed or (name, None) in self._allowed


class TokenCheck:
    """The web API's bearer token (``web.api_token``), compared in constant time."""

    def __init__(self, settings: WebSettings) -> None:
        token = settings.api_token
        self._expected = f"Bearer {token.get_secret_value()}".encode() if token else None

    def allows(self, request: web.Request) -> bool:
        """True when ``request`` needs no token or carries the right one."""
        if (self._expected is None or not request.path.startswith("/api/")
                or request.path in _OWN_AUTHENTICATION):
            return True
        given = request.headers.get("Authorization", "").encode("utf-8", "replace")
        return hmac.compare_digest(given, self._expected)


# what aiohttp itself raises, in French (its reasons are English)
_FRENCH_REASONS = {
    400: "Requête invalide.",
    404: "Page introuvable.",
    405: "Méthode non autorisée pour cette adresse.",
    406: "Format de réponse non disponible.",
    415: "Type de contenu non pris en charge.",
}


def edge_middleware(settings: WebSettings) -> Middleware:
    """The outermost middleware: Host and token checks, then JSON errors for what routes raise."""
    hosts = HostCheck(settings)
    token = TokenCheck(settings)

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in _UNCHECKED_PATHS and not hosts.allows(request.host):
            log.warning("request for an unknown host refused (see web.allowed_hosts)")
            return problem(421, "Nom d'hôte non servi ici (voir ALMIA_WEB__ALLOWED_HOSTS).",
                           "Host name not served here (see ALMIA_WEB__ALLOWED_HOSTS).")
        if not token.allows(request):
            return problem(401, "Jeton d'accès manquant ou invalide.",
                           "Missing or invalid access token.")
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return problem(413, "Requête trop volumineuse (1 Mo au plus).",
                           "Request too large (1 MB at most).")
        except web.HTTPException as error:
            if error.status < 400:
                raise  # redirects
            french = _FRENCH_REASONS.get(error.status, error.reason)
            return problem(error.status, french, error.reason)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("request to %s failed (reference %s)", request.path, reference)
            return problem(500, f"Erreur interne (référence {reference}).",
                           f"Internal error (reference {reference}).")

    return edge


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare`` hook: the security headers on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def install(app: web.Application, settings: WebSettings) -> None:
    """Put the edge in front of every route of ``app`` (call before adapters mount)."""
    app.middlewares.insert(0, edge_middleware(settings))
    app.on_response_prepare.append(add_security_headers)


def _is_ipv6(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).version == 6
    except ValueError:
        return False

"""Server-side rendering: Jinja2 templates (autoescaped), French first with English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.messages import Locale
from bot.typography import french_spacing
from console.roles import may

TEMPLATES = Path(__file__).with_name("templates")
LANG_COOKIE = "almia_console_lang"


def locale_of(request: web.Request) -> Locale:
    """``?lang=`` first, then the language cookie, then the browser's first language."""
    chosen = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in ("fr", "en"):
        return "en" if chosen == "en" else "fr"
    header = request.headers.get("Accept-Language", "")
    return "en" if header.lower().startswith("en") else "fr"


def number(value: float, locale: Locale, digits: int = 0) -> str:
    """A figure with the locale's thousands and decimal separators."""
    text = f"{value:,.{digits}f}"
    if locale == "en":
        return text
    return text.replace(",", "\u202f").replace(".", ",")



# the policy's words a French page shows in French (an English one shows them as written)
_TERMS = {
    "internal": "interne", "external": "externe", "public": "public",
    "confidential": "confidentiel", "secret": "secret", "employee": "collaborateur",
    "admin": "administrateur", "auditor": "auditeur", "champion": "référent",
}

class Renderer:
    """One Jinja2 environment per console (no module-level state)."""

    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True)
        self._env.globals["may"] = may

    def page(self, request: web.Request, template: str, status: int = 200,
             **values: Any) -> web.Response:
        """Render ``template`` in the request's language."""
        locale = locale_of(request)

        def t(french: str, english: str) -> str:
            return english if locale == "en" else french_spacing(french)

        def n(value: float, digits: int = 0) -> str:
            return number(value, locale, digits)

        def term(value: str) -> str:
            """A policy value (hosting, data class, role) in the page's language."""
            french = _TERMS.get(value)
            return french if french is not None and locale != "en" else value

        other = "fr" if locale == "en" else "en"
        # the same page in the other language, its filters (and a sign-in link's token) kept
        language_url = str(request.rel_url.update_query(lang=other))
        body = self._env.get_template(template).render(
            t=t, n=n, term=term, locale=locale, path=request.path, query=request.query,
            language_url=language_url, **values)
        response = web.Response(text=body, content_type="text/html", charset="utf-8",
                                status=status)
        response.headers["Cache-Control"] = "no-store"
        if request.query.get("lang") in ("fr", "en"):
            response.set_cookie(LANG_COOKIE, request.query["lang"], path="/console",
                                max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

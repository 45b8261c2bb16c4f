"""The governance console under ``/console``: sign-in, usage, data protection, audit, policy.

Every page states the roles that see it, every view and export is audited, every change
is a POST with the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.governance.audit import export_rows
from bot.messages import Channel, Message, Space, User
from bot.store.console_audit import COUNT_LIMIT, KNOWN_ACTIONS, AuditQuery, ConsoleAudit
from bot.store.console_departments import OTHER, ConsoleDepartments, merge_small
from bot.store.console_filters import PERIODS, ConsoleFilters
from bot.store.console_protection import ConsoleProtection
from bot.store.console_rollups import BOUNDS, ConsoleRollups
from bot.store.console_sessions import ConsoleSessionStore, SessionView
from bot.store.console_usage import UNKNOWN, ConsoleUsage
from bot.store.store import AuditEntry
from console.auth import ConsoleAuth
from console.charts import protection_charts, refusal_label, usage_charts
from console.departments import (
    DepartmentsUnavailable,
    DirectoryDepartments,
    department_lookup,
)
from console.oidc import SignInFailed
from console.policy_view import policy_view
from console.render import Renderer, locale_of
from console.roles import PAGES, ConsoleRoles, may

if TYPE_CHECKING:  # the app module imports this one when it wires the console
    from bot.app import Runtime

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
Page = Callable[[web.Request, SessionView], Awaitable[web.StreamResponse]]


class ConsoleEndpoint:
    """The console's routes on the shared aiohttp app."""

    name = "console"

    def __init__(self, runtime: Runtime, departments: DirectoryDepartments | None = None) -> None:
        """``departments`` replaces the directories the settings configure (tests)."""
        self._runtime = runtime
        settings = runtime.settings.console
        engine = runtime.store.engine
        self._settings = settings
        self._sessions = ConsoleSessionStore(engine)
        self._auth = ConsoleAuth(settings, self._sessions, ConsoleRoles(settings, runtime.roles))
        self._rollups = ConsoleRollups(engine)
        self._usage = ConsoleUsage(engine, self._rollups)
        self._protection = ConsoleProtection(engine, self._rollups)
        self._departments = ConsoleDepartments(engine, self._rollups)
        self._directory = departments or department_lookup(runtime.settings)
        self._audit = ConsoleAudit(engine)
        self._render = Renderer()
        self._refresher: asyncio.Task[None] | None = None

    def mount(self, app: web.Application) -> None:
        """Add the console's pages, actions and static files."""
        app.router.add_get("/console", self._home)
        app.router.add_get("/console/", self._home)
        app.router.add_get("/console/login", self._login)
        app.router.add_get("/console/auth/link", self._link_form)
        app.router.add_post("/console/auth/link", self._link)
        app.router.add_get("/console/auth/start", self._start)
        app.router.add_post("/console/auth/callback", self._callback)  # form_post
        app.router.add_post("/console/logout", self._guard("usage", self._logout))
        app.router.add_get("/console/usage", self._guard("usage", self._usage_page))
        app.router.add_get("/console/protection",
                           self._guard("protection", self._protection_page))
        app.router.add_get("/console/audit", self._guard("audit", self._audit_page))
        app.router.add_get("/console/audit/record/{id:[0-9]{1,18}}",
                           self._guard("audit", self._record_page))
        app.router.add_post("/console/audit/verify", self._guard("audit_verify", self._verify))
        app.router.add_get("/console/audit/export", self._guard("audit_export", self._export))
        app.router.add_post("/console/audit/purge", self._guard("purge", self._purge))
        app.router.add_get("/console/policy", self._guard("policy", self._policy_page))
        app.router.add_static("/console/static/", STATIC, show_index=False,
                              follow_symlinks=False)
        app.on_cleanup.append(self._stop_summaries)

    def _start_summaries(self) -> None:
        """Keep the daily summaries current in the background, from the first console request
        on (the schema is migrated by then; no work while nobody uses the console)."""
        if self._refresher is None:
            self._refresher = asyncio.create_task(self._refresh_forever())

    async def _stop_summaries(self, _app: web.Application) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self._rollups.refresh()
                await self.look_up_departments()
            except Exception:
                log.exception("console: refreshing the daily summaries failed; next try soon")
            await asyncio.sleep(self._settings.summary_seconds)

    async def look_up_departments(self) -> None:
        """Departments of people seen lately, from their directory (a few hundred a round)."""
        if self._directory is None:
            return
        stale = datetime.now(UTC) - timedelta(days=self._settings.department_days)
        pending = await self._departments.pending(stale, limit=200,
                                                  prefixes=self._directory.prefixes)
        if not pending:
            return
        try:
            found = await self._directory.departments(pending)
        except (DepartmentsUnavailable, aiohttp.ClientError, TimeoutError) as error:
            log.warning("console: departments unreadable from the directory (%s)",
                        error if isinstance(error, DepartmentsUnavailable)
                        else type(error).__name__)
            return
        await self._departments.save(found)

    # -- sign-in ---------------------------------------------------------------------

    def _guard(self, page: str, handler: Page) -> Callable[[web.Request],
                                                           Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            self._start_summaries()
            session = await self._auth.session(request)
            if session is None:
                if request.method != "GET":
                    return self._error(request, 401, "Session expirée : reconnectez-vous.",
                                       "Session expired: sign in again.")
                raise web.HTTPFound("/console/login?expired=1")
            if not may(session.roles, page):
                return self._error(request, 403, "Cette page n'est pas ouverte à votre rôle.",
                                   "This page is not open to your role.", session)
            if request.method == "POST":
                form = await request.post()
                if not self._auth.check_csrf(session, form):
                    return self._error(request, 403, "Jeton anti-falsification invalide : "
                                       "rechargez la page.", "Invalid anti-forgery token: "
                                       "reload the page.", session)
            return await handler(request, session)

        return guarded

    async def _home(self, request: web.Request) -> web.StreamResponse:
        session = await self._auth.session(request)
        raise web.HTTPFound("/console/usage" if session else "/console/login")

    async def _login(self, request: web.Request) -> web.StreamResponse:
        return self._render.page(request, "login.html", session=None,
                                 entra=self._auth.entra_enabled,
                                 expired=request.query.get("expired") == "1")

    async def _link_form(self, request: web.Request) -> web.StreamResponse:
        """The link opens a confirmation page: a link preview cannot spend the token."""
        return self._render.page(request, "link.html", session=None,
                                 token=request.query.get("token", ""))

    async def _link(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        response = web.HTTPFound("/console/usage")
        if not await self._auth.redeem_link(str(form.get("token", "")), response):
            return self._error(request, 403, "Lien invalide, expiré ou déjà utilisé : créez-en "
                               "un autre avec « almia admin link ».", "Invalid, expired or "
                               "already used link: create another with `almia admin link`.")
        await self._record("console_sign_in", "console:local-admin", "ok", {"method": "link"})
        raise response

    async def _start(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPFound("/console/login")
        try:
            response.headers["Location"] = await self._auth.start_entra(response)
        except SignInFailed as error:
            log.warning("console: Entra ID sign-in could not start (%s)", error)
            return self._error(request, 503, "Connexion Entra ID indisponible pour le moment.",
                               "Entra ID sign-in is unavailable for now.")
        raise response

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        response = web.HTTPFound("/console/usage")
        try:
            form = await request.post()
            answer = {name: str(value) for name, value in form.items()}
            roles = await self._auth.finish_entra(request, answer, response)
        except SignInFailed as error:
            log.warning("console: Entra ID sign-in failed (%s)", error)
            await self._record("console_sign_in", "console:unknown", "refused",
                               {"method": "entra", "reason": str(error)[:120]})
            return self._error(request, 401, "La connexion a échoué : réessayez.",
                               "Sign-in failed: try again.")
        if not roles:
            await self._record("console_sign_in", "console:unknown", "no_role",
                               {"method": "entra"})
            return self._error(request, 403, "Vous n'avez aucun rôle de gouvernance (admin, "
                               "dpo, auditor, champion).", "You hold no governance role "
                               "(admin, dpo, auditor, champion).")
        await self._record("console_sign_in", "console:entra", "ok",
                           {"method": "entra", "roles": sorted(roles)})
        raise response

    async def _logout(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        response = web.HTTPFound("/console/login")
        await self._auth.sign_out(request, response)
        raise response

    # -- pages -------------------------------------------------------------------------

    async def _filters(self, request: web.Request) -> tuple[str, ConsoleFilters, list[str]]:
        """The period, the filters, and the departments one may filter on."""
        period = request.query.get("period", "30d")
        period = period if period in PERIODS else "30d"
        query = request.query
        departments = await self._departments.choices(self._settings.min_group_size)
        department = query.get("department", "")
        return period, ConsoleFilters.last(
            period, channel=query.get("channel", "")[:16], skill=query.get("skill", "")[:64],
            space=query.get("space", "")[:256],
            department=department if department in departments else None), departments

    def _filter_values(self, period: str, filters: ConsoleFilters) -> dict[str, str]:
        return {"period": period, "channel": filters.channel or "",
                "skill": filters.skill or "", "space": filters.space or "",
                "department": filters.department or ""}

    async def _usage_page(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        period, filters, departments = await self._filters(request)
        report = await self._usage.report(filters, self._settings.min_group_size)
        adoption = merge_small(report.departments, self._settings.min_group_size)
        chosen = self._filter_values(period, filters)
        await self._viewed(session, "usage", chosen)
        return self._render.page(
            request, "usage.html", session=session, report=report, chosen=chosen,
            adoption=adoption, other=OTHER, unknown=UNKNOWN,
            periods=list(PERIODS), skills=sorted(self._runtime.policy.skills),
            departments=departments, roles_seeing=PAGES["usage"],
            charts={} if report.withheld else usage_charts(report, adoption, locale_of(request),
                                                           filters.since),
            min_group=self._settings.min_group_size, slowest=BOUNDS[-1])

    async def _protection_page(self, request: web.Request,
                               session: SessionView) -> web.StreamResponse:
        period, filters, departments = await self._filters(request)
        report = await self._protection.report(filters, self._settings.min_group_size)
        chosen = self._filter_values(period, filters)
        await self._viewed(session, "protection", chosen)
        return self._render.page(
            request, "protection.html", session=session, report=report, chosen=chosen,
            periods=list(PERIODS), skills=sorted(self._runtime.policy.skills),
            departments=departments, refusal_label=refusal_label, roles_seeing=PAGES["protection"],
            charts={} if report.withheld else protection_charts(report, locale_of(request)),
            min_group=self._settings.min_group_size)

    def _audit_query(self, request: web.Request) -> tuple[AuditQuery, dict[str, str]]:
        query = request.query
        chosen = {name: query.get(name, "").strip()[:256]
                  for name in ("user", "action", "skill", "outcome", "since", "until")}
        return AuditQuery(user=chosen["user"] or None, action=chosen["action"] or None,
                          skill=chosen["skill"] or None, outcome=chosen["outcome"] or None,
                          since=_date(chosen["since"]),
                          until=_date(chosen["until"], next_day=True)), chosen

    def _bad_filter(self, request: web.Request, session: SessionView) -> web.Response | None:
        """The error page for a filter that cannot be read (a date that is none, a record
        past any id), so that no auditor takes every record for the ones asked."""
        for name in ("since", "until"):
            value = request.query.get(name, "").strip()
            if value and _date(value, next_day=name == "until") is None:
                return self._error(request, 400, f"Date invalide pour « {name} » : attendu "
                                   "AAAA-MM-JJ.", f"Invalid date for “{name}”: expected "
                                   "YYYY-MM-DD.", session)
        before = request.query.get("before", "")
        if before and _RECORD_ID.fullmatch(before) is None:
            return self._error(request, 400, "Position « before » invalide.",
                               "Invalid “before” position.", session)
        form = request.query.get("format")
        if request.path.endswith("/export") and form not in (None, "csv", "jsonl"):
            return self._error(request, 400, "Format d'export inconnu : csv ou jsonl.",
                               "Unknown export format: csv or jsonl.", session)
        return None

    async def _audit_page(self, request: web.Request, session: SessionView,
                          verified: Any = None, purged: dict[str, int] | None = None,
                          status: int = 200, erased: str = "") -> web.StreamResponse:
        bad = self._bad_filter(request, session)
        if bad is not None:
            return bad
        query, chosen = self._audit_query(request)
        before = request.query.get("before", "")
        records = await self._audit.search(query, before=int(before) if before else None)
        total = await self._audit.count(query)
        await self._viewed(session, "audit", chosen)
        return self._render.page(
            request, "audit.html", status=status, session=session, records=records,
            total=total, count_limit=COUNT_LIMIT, chosen=chosen, actions=KNOWN_ACTIONS,
            verified=verified,
            purged=_purged_items(purged, locale_of(request)) if purged is not None else None,
            erased=erased, may_purge=may(session.roles, "purge"),
            export_query=urlencode({k: v for k, v in chosen.items() if v}),
            roles_seeing=PAGES["audit"])

    async def _record_page(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        record_id = int(request.match_info["id"])
        if record_id >= _MAX_RECORD_ID:  # past any id the database can hold
            return self._error(request, 404, "Enregistrement inconnu.", "Unknown record.",
                               session)
        found = await self._audit.search(AuditQuery(), before=record_id + 1, limit=1)
        if not found or found[0]["id"] != record_id:
            return self._error(request, 404, "Enregistrement inconnu.", "Unknown record.",
                               session)
        status = await self._audit.link_status(record_id)
        await self._viewed(session, "audit_record", {"id": str(record_id)})
        return self._render.page(request, "record.html", session=session, record=found[0],
                                 link=status, roles_seeing=PAGES["audit"])

    async def _verify(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        report = await self._audit.verify()
        await self._record("console_verify", session.user_id, "ok" if report.intact else
                           "broken", {"records": report.records, "head": report.head,
                                      "problems": len(report.problems)})
        return await self._audit_page(request, session, verified=report)

    async def _export(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        bad = self._bad_filter(request, session)
        if bad is not None:
            return bad
        form = "csv" if request.query.get("format") == "csv" else "jsonl"
        query, chosen = self._audit_query(request)
        await self._record("console_export", session.user_id, "ok",
                           {"format": form, "filters": {k: v for k, v in chosen.items() if v}})
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8" if form == "csv"
            else "application/x-ndjson; charset=utf-8",
            "Content-Disposition": f'attachment; filename="almia-audit-{stamp}.{form}"',
            "Cache-Control": "no-store"})
        await response.prepare(request)
        batch: list[dict[str, Any]] = []
        header = True
        async for record in self._audit.stream(query):
            batch.append(record)
            if len(batch) == 500:
                await response.write(_export_chunk(batch, form, header=header))
                header, batch = False, []
        await response.write(_export_chunk(batch, form, header=header))
        await response.write_eof()
        return response

    async def _purge(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        form = await request.post()
        user = str(form.get("user", "")).strip()
        confirmation = str(form.get("confirm", "")).strip()
        if not user or confirmation != user:
            return self._error(request, 400, "Pour effacer, recopiez exactement l'identifiant de "
                               "la personne dans la confirmation.", "To erase, type the person's "
                               "id exactly in the confirmation.", session)
        removed = await self._runtime.store.purge(user_id=user)
        removed["console_sessions"] = await self._sessions.close_user(user)
        removed["department"] = await self._departments.forget(user)
        await self._record("console_purge", session.user_id, "ok",
                           {"erased_user": user, **removed})
        return await self._audit_page(request, session, purged=removed, erased=user)

    async def _policy_page(self, request: web.Request, session: SessionView) -> web.StreamResponse:
        view = policy_view(self._runtime.policy, self._runtime.settings)
        await self._viewed(session, "policy", {})
        return self._render.page(request, "policy.html", session=session, view=view,
                                 roles_seeing=PAGES["policy"])

    # -- helpers -----------------------------------------------------------------------

    def _error(self, request: web.Request, status: int, french: str, english: str,
               session: SessionView | None = None) -> web.Response:
        return self._render.page(request, "error.html", status=status, session=session,
                                 message=english if locale_of(request) == "en" else french)

    async def _viewed(self, session: SessionView, page: str, filters: dict[str, str]) -> None:
        await self._record("console_view", session.user_id, "ok",
                           {"page": page, "filters": {k: v for k, v in filters.items() if v}})

    async def _record(self, action: str, user_id: str, outcome: str,
                      details: dict[str, Any]) -> None:
        message = Message(text="", user=User(user_id), space=Space("console"),
                          channel=Channel.WEB, thread_id="console")
        await self._runtime.store.record_event(message, AuditEntry(
            action=action, outcome=outcome, details=details))


# what an erasure removed, as a data protection officer reads it: (French one, French
# several, English one, English several)
_PURGED_LABELS = {
    "turns": ("message", "messages", "message", "messages"),
    "conversations": ("conversation", "conversations", "conversation", "conversations"),
    "feedback": ("avis sur une réponse", "avis sur des réponses", "answer rating",
                 "answer ratings"),
    "files": ("fichier", "fichiers", "file", "files"),
    "jobs": ("tâche", "tâches", "job", "jobs"),
    "waiting_messages": ("message en attente", "messages en attente", "waiting message",
                         "waiting messages"),
    "console_sessions": ("session de console", "sessions de console", "console session",
                         "console sessions"),
    "department": ("rattachement à un département", "rattachements à un département",
                   "department link", "department links"),
}


def _purged_items(purged: dict[str, int], locale: str) -> list[tuple[str, int]]:
    """The kinds of data an erasure removed (only those it found), named for people, in
    the singular for one (« 1 conversation ») and the plural otherwise."""
    items = []
    for name, count in purged.items():
        if not count:
            continue
        forms = _PURGED_LABELS.get(name)
        if forms is None:
            items.append((name.replace("_", " "), count))
            continue
        index = (2 if locale == "en" else 0) + (0 if count == 1 else 1)
        items.append((forms[index], count))
    return items


_RECORD_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only (« ² » is a digit to str.isdigit)
_MAX_RECORD_ID = 2**63 - 1  # a PostgreSQL bigint


def _date(value: str, *, next_day: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` as the start of that UTC day (or of the next one); None if invalid
    (also the day after 9999-12-31)."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        return day + timedelta(days=1) if next_day else day
    except (ValueError, OverflowError):
        return None


def _export_chunk(records: list[dict[str, Any]], form: str, *, header: bool) -> bytes:
    """Records as export text; the CSV header only in the first chunk."""
    lines = list(export_rows(records, form))
    if form == "csv" and not header:
        lines = lines[1:]
    return "".join(lines).encode("utf-8")

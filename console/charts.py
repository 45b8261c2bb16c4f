"""Chart data for the pages: plain JSON that ``console.js`` hands to Chart.js.

Each chart is also rendered as a table next to it (screen readers, no-script, tests).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.messages import Locale
from bot.store.console_departments import OTHER, DepartmentRow
from bot.store.console_protection import ProtectionReport
from bot.store.console_usage import UNKNOWN, UsageReport

TOP_USE_CASES = 12
_REASONS = {
    "rejected": ("message refusé (vide ou trop long)", "message refused (empty or too long)"),
    "role_refused": ("fonction non ouverte au rôle", "skill not open to the role"),
    "charter_required": ("charte pas encore acceptée", "charter not accepted yet"),
    "quota_exceeded": ("quota dépassé", "quota exceeded"),
    "quota_unavailable": ("quotas indisponibles", "quotas unavailable"),
    "unknown_command": ("commande inconnue", "unknown command"),
}
_ACTIONS = {"file_refused": ("fichier refusé", "file refused"),
            "job_refused": ("traitement refusé", "job refused")}


def _t(locale: Locale, french: str, english: str) -> str:
    return english if locale == "en" else french


def every_day(since: datetime, until: datetime) -> list[str]:
    """``YYYY-MM-DD`` of each UTC day from ``since`` to ``until`` (days without use count 0)."""
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    return [(first + timedelta(days=offset)).isoformat()
            for offset in range((last - first).days + 1)]


# a template's scope, beside its name (names repeat across scopes)
_SCOPES = {"personal": ("personnel", "personal"), "team": ("équipe", "team"),
           "company": ("entreprise", "company")}


def usage_charts(report: UsageReport, adoption: list[DepartmentRow], locale: Locale,
                 since: datetime) -> dict[str, dict[str, Any]]:
    """Activity per day, use cases ranked, adoption per department, tokens per model."""
    shown = [row for row in adoption if not row.hidden]
    top = report.use_cases[:TOP_USE_CASES]
    days = every_day(since, datetime.now(UTC))
    by_day = {day.day: day for day in report.days}
    return {
        "activity": {
            "type": "line",
            "labels": days,
            "datasets": [
                {"label": _t(locale, "Messages", "Messages"),
                 "data": [by_day[day].messages if day in by_day else 0 for day in days]},
                {"label": _t(locale, "Personnes actives", "Active people"),
                 "data": [by_day[day].people if day in by_day else 0 for day in days]},
            ],
        },
        "use_cases": {
            "type": "bar", "horizontal": True,
            "labels": [item.name + (f" ({_t(locale, *_SCOPES[item.scope])})" if item.scope
                                    else "") for item in top],
            "datasets": [{"label": _t(locale, "Utilisations", "Uses"),
                          "data": [item.uses for item in top]}],
        },
        "departments": {
            "type": "bar", "horizontal": True,
            "labels": [department_label(row.department, locale) for row in shown],
            "datasets": [{"label": _t(locale, "Personnes actives", "Active people"),
                          "data": [row.people for row in shown]}],
        },
        "tokens": {
            "type": "bar", "stacked": True,
            "labels": [row.alias for row in report.models],
            "datasets": [
                {"label": _t(locale, "Jetons envoyés", "Prompt tokens"),
                 "data": [row.prompt_tokens for row in report.models]},
                {"label": _t(locale, "Jetons générés", "Completion tokens"),
                 "data": [row.completion_tokens for row in report.models]},
            ],
        },
    }


def refusal_label(action: str, outcome: str, locale: Locale) -> str:
    """Why a request was refused, in words (the code when unknown)."""
    words = _REASONS.get(outcome) if action == "message" else _ACTIONS.get(action)
    if words is None:
        return f"{action} · {outcome}"
    label = _t(locale, *words)
    return label if action == "message" else f"{label} ({outcome})"


def department_label(name: str, locale: Locale) -> str:
    """A department's name, or the words for the merged small ones and the unknown."""
    if name == OTHER:
        return _t(locale, "Autres services (petits)", "Other (small) departments")
    if name == UNKNOWN:
        return _t(locale, "Service inconnu", "Unknown department")
    return name


def protection_charts(report: ProtectionReport, locale: Locale) -> dict[str, dict[str, Any]]:
    """DLP findings per kind over time, refusals by reason."""
    days = sorted({day for per_day in report.findings.values() for day in per_day})
    return {
        "findings": {
            "type": "bar", "stacked": True, "labels": days,
            "datasets": [{"label": kind, "data": [per_day.get(day, 0) for day in days]}
                         for kind, per_day in sorted(report.findings.items())],
        },
        "refusals": {
            "type": "bar", "horizontal": True,
            "labels": [refusal_label(action, outcome, locale)
                       for action, outcome, _ in report.refusals],
            "datasets": [{"label": _t(locale, "Refus", "Refusals"),
                          "data": [count for _, _, count in report.refusals]}],
        },
    }

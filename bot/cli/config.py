"""``almia config check``: settings and policy validated, then shown as tables or JSON.

Names (settings, aliases, models, skills) are never cut: long values wrap, long texts
(the charter) are summarised, and a terminal too narrow for a table gets one line per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

if TYPE_CHECKING:
    from bot.governance.policy import Policy
    from bot.settings import Settings
    from bot.skills import Skill
    from knowledge import Passage

SUMMARY_WORDS = 4  # first words shown of a long text
LONG_TEXT = 120  # characters above which a one-line text is summarised too
VALUE_WIDTH = 16  # narrowest useful width of a value column

# how a column may wrap: a name never; words between words; text anywhere
Fit = Literal["name", "words", "text"]


class NoKnowledge:
    """Stands in for the knowledge base where only skill metadata is needed."""

    async def search(self, query: str, *, space: str | None = None,
                     collections: Sequence[str] | None = None, k: int = 5) -> list[Passage]:
        del query, space, collections, k
        return []


def display_value(value: object) -> str:
    """A setting's value for the table: long texts summarised by length and first words."""
    if value is None:
        return "-"
    if isinstance(value, str):
        if not value:
            return '""'
        if "\n" in value or len(value) > LONG_TEXT:
            words = value.split()
            start = " ".join(words[:SUMMARY_WORDS]) + (" …" if len(words) > SUMMARY_WORDS else "")
            return f"{len(value)} characters: « {start} »"
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _value_at(data: dict[str, Any], key: str) -> object:
    """The value of a dotted setting path in ``model_dump()`` output (dict values kept whole)."""
    value: object = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _mask_url(url: str) -> str:
    """Hide a password in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_report(settings: Settings, policy: Policy, skills: Sequence[Skill]) -> dict[str, Any]:
    """Everything ``config check`` shows, as JSON-ready data (never a secret)."""
    from bot.gateway.llm import describe_models
    from bot.settings import setting_sources

    dumped = settings.model_dump(mode="json")
    versions = {entry.alias: entry.api_version or "-" for entry in policy.models}
    return {
        "policy_file": str(settings.resolved_policy_file),
        "database": _mask_url(settings.resolved_database_url),
        "models": [{**row, "api_version": versions[row["alias"]]}
                   for row in describe_models(policy.models)],
        "skills": {skill.name: {"commands": list(skill.commands),
                                "roles": {role: [e.alias for e in policy.approved(skill.name, role)]
                                          for role in skill.model_roles}}
                   for skill in skills},
        "settings": {key: {"value": _value_at(dumped, key), "source": source}
                     for key, source in setting_sources(settings).items()},
    }


def _column_widths(kinds: Sequence[Fit], headers: Sequence[str],
                   rows: Sequence[Sequence[str]], available: int) -> list[int] | None:
    """Content widths that fit ``available`` without cutting a name; None if impossible."""
    columns = [[header, *(row[i] for row in rows)] for i, header in enumerate(headers)]
    full = [max(len(cell) for cell in cells) for cells in columns]
    words = [max(len(word) for cell in cells for word in cell.split() or [""])
             for cells in columns]
    widths = [full[i] if kind == "name" else words[i] if kind == "words"
              else min(words[i], VALUE_WIDTH) for i, kind in enumerate(kinds)]
    spare = available - sum(widths)
    if spare < 0:
        return None
    order = sorted(range(len(widths)), key=lambda i: full[i] - widths[i])  # least needy first
    for position, i in enumerate(order):
        grow = min(full[i] - widths[i], spare // (len(order) - position))
        widths[i] += grow
        spare -= grow
    return widths


def print_rows(console: Console, title: str, columns: Sequence[tuple[str, Fit]],
               rows: Sequence[Sequence[str]]) -> None:
    """A table that never cuts a name (``name`` columns whole, ``words`` columns wrapped
    between words, ``text`` columns wrapped anywhere); one line per row when the terminal
    is too narrow for that."""
    headers = [header for header, _ in columns]
    kinds = [kind for _, kind in columns]
    widths = _column_widths(kinds, headers, rows, console.width - 3 * len(columns) - 1)
    if widths is not None:
        table = Table(*(Column(header, width=width, no_wrap=kind == "name", overflow="fold")
                        for (header, kind), width in zip(columns, widths, strict=True)),
                      title=title)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    console.print(Text(title, style="bold"))
    for row in rows:
        named = [cell for cell, kind in zip(row, kinds, strict=True) if kind == "name"]
        line = Text(" ".join(named), style="bold")
        line.append("  " + " · ".join(f"{header}: {cell}" for header, kind, cell
                                       in zip(headers, kinds, row, strict=True)
                                       if kind != "name"))
        console.print(line, overflow="fold")


def _endpoint(model: dict[str, str]) -> str:
    version = model["api_version"]
    return model["api_base"] + (f" (api_version {version})" if version != "-" else "")


def print_report(report: dict[str, Any], console: Console) -> None:
    """The report as three tables: approved models, skills, settings with their source."""
    console.print(Text.assemble(("Configuration valid.", "green"),
                                f" Policy: {report['policy_file']}"))
    print_rows(console, "Approved models",
               (("alias", "name"), ("model", "name"), ("provider", "words"),
                ("hosting", "words"), ("clearance", "words"), ("endpoint", "text")),
               [(m["alias"], m["model"], m["provider"], m["hosting"], m["clearance"],
                 _endpoint(m)) for m in report["models"]])
    print_rows(console, "Skills",
               (("skill", "name"), ("commands", "words"),
                ("model roles → approved aliases", "words")),
               [(name, ", ".join(skill["commands"]),
                 "; ".join(f"{role}: {', '.join(aliases)}"
                           for role, aliases in skill["roles"].items()) or "-")
                for name, skill in report["skills"].items()])
    print_rows(console, "Settings", (("setting", "name"), ("value", "text"), ("source", "text")),
               [(key, display_value(entry["value"]), entry["source"])
                for key, entry in report["settings"].items()])


__all__ = ["NoKnowledge", "build_report", "display_value", "print_report", "print_rows"]

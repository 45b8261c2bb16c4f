"""SQL scripts: the tables, views, procedures and functions they create, and what they touch."""

from __future__ import annotations

import re

from skills.codedoc.common import merge, sql_tables
from skills.codedoc.model import Access, DocSlot, SourceFile, Unit
from skills.codedoc.syntax import Parsers, errors_in, first_error_line

_CREATE = re.compile(
    r"(?im)^([ \t]*)CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(TABLE|VIEW|MATERIALIZED\s+VIEW|PROCEDURE|FUNCTION|TRIGGER|INDEX|UNIQUE\s+INDEX|SEQUENCE)"
    r"\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"`\[\]$#]+)")
_CALLS = re.compile(r"(?i)\b(?:EXEC(?:UTE)?|CALL)\s+([\w.]+)")


def extract(path: str, text: str, parsers: Parsers) -> SourceFile:
    """The inventory of one SQL script."""
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    tree = parsers.parse("sql", text)
    source = SourceFile(path, "sql", text, name, parse_errors=errors_in(tree),
                        first_error=first_error_line(tree))
    lines = text.split("\n")
    matches = list(_CREATE.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.start():end]
        row = text.count("\n", 0, match.start())
        kind = " ".join(match.group(2).lower().split())
        object_name = match.group(3).strip("\"`[]")
        unit = Unit(kind=kind, name=object_name, qualified=f"{path}:{object_name}", path=path,
                    line=row + 1, end_line=row + body.rstrip().count("\n") + 1,
                    signature=" ".join(body.split("(")[0].split())[:120],
                    doc=_comment_above(lines, row), slot=DocSlot(row, match.group(1), "sql"))
        if kind == "table":
            unit.params = _columns(body)
        reads, writes = sql_tables(body)
        unit.calls = tuple(dict.fromkeys(m.group(1) for m in _CALLS.finditer(body)))
        access = Access()
        access.add([f"table {r}" for r in reads if r != object_name.upper()],
                   [f"table {w}" for w in writes])
        access.give(unit, source)
        source.units.append(unit)
    rest = _CREATE.sub(" ", text) if not matches else ""
    if rest:
        reads, writes = sql_tables(rest)
        merge(source.reads, [f"table {r}" for r in reads])
        merge(source.writes, [f"table {w}" for w in writes])
    first = text.count("\n", 0, matches[0].start()) if matches else 0
    source.doc = _comment_above(lines, first)
    return source


def _comment_above(lines: list[str], row: int) -> str:
    block: list[str] = []
    cursor = row - 1
    while cursor >= 0 and lines[cursor].strip().startswith("--"):
        block.insert(0, lines[cursor].strip()[2:].strip())
        cursor -= 1
    return "\n".join(block).strip()


def _columns(body: str) -> tuple[str, ...]:
    inside = body[body.find("(") + 1: body.rfind(")")] if "(" in body else ""
    depth = 0
    current = ""
    columns = []
    for char in inside:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            columns.append(current)
            current = ""
        else:
            current += char
    columns.append(current)
    return tuple(" ".join(column.split()) for column in columns if column.strip())

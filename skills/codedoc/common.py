"""Small helpers every language extractor shares."""

from __future__ import annotations

import re
from collections.abc import Iterable

_SQL_READS = re.compile(r"(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][\w.$#-]*)")
_SQL_WRITES = re.compile(
    r"(?i)\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|TRUNCATE\s+TABLE)\s+"
    r"([A-Za-z_][\w.$#-]*)")
_SQL_VERBS = re.compile(r"(?i)\b(?:SELECT|INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b")
_NOT_TABLES = frozenset({"select", "dual", "where", "set", "values", "the", "a", "an", "to"})


def sql_tables(text: str) -> tuple[list[str], list[str]]:
    """Tables a piece of SQL reads and writes (upper-cased names, in order, no repeats)."""
    if not _SQL_VERBS.search(text):
        return [], []
    writes = _unique(m.group(1) for m in _SQL_WRITES.finditer(text))
    rest = _SQL_WRITES.sub(" ", text)
    reads = _unique(m.group(1) for m in _SQL_READS.finditer(rest))
    return [r for r in reads if r.lower() not in _NOT_TABLES], writes


def _unique(names: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        upper = str(name).upper().rstrip(".,;)")
        if upper and upper not in seen:
            seen.append(upper)
    return seen


def merge(target: list[str], names: list[str]) -> None:
    """Append ``names`` not already in ``target``."""
    for name in names:
        if name not in target:
            target.append(name)


def indent_of(line: str) -> str:
    """The leading whitespace of a line."""
    return line[:len(line) - len(line.lstrip(" \t"))]


def starts_line(lines: list[str], row: int, column: int) -> bool:
    """True when only whitespace precedes byte column ``column`` on line ``row``."""
    return 0 <= row < len(lines) and not lines[row].encode("utf-8")[:column].strip()


def clean_comment(text: str) -> str:
    """A comment's words without its markers (``/** */``, ``//``, ``#``, ``--``, ``*``)."""
    lines = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        for marker in ("/**", "/*", "*/", "//", "#", "--", "*>"):
            if line.startswith(marker):
                line = line[len(marker):]
        if line.endswith("*/"):
            line = line[:-2]
        line = line.strip().lstrip("*").strip()
        lines.append(line)
    return "\n".join(lines).strip()


def public_name(name: str) -> bool:
    """A name a module exports by convention (no leading underscore)."""
    return not name.startswith("_")

"""Every source parsed into one inventory, with calls resolved into a graph."""

from __future__ import annotations

from collections import defaultdict

from skills.codedoc import lang_cobol, lang_csharp, lang_curly, lang_python, lang_shell, lang_sql
from skills.codedoc.model import Inventory, SourceFile, Unit
from skills.codedoc.sources import Sources
from skills.codedoc.syntax import Parsers

_CASELESS = frozenset({"cobol", "jcl", "sql"})


def parse_file(path: str, language: str, text: str, parsers: Parsers,
               package: str = "") -> SourceFile:
    """One file's inventory, by its language (``package``: the folder's Python package)."""
    if language == "python":
        return lang_python.extract(path, text, parsers, package)
    if language in ("java", "javascript", "typescript"):
        return lang_curly.extract(path, text, language, parsers)
    if language == "csharp":
        return lang_csharp.extract(path, text, parsers)
    if language == "sql":
        return lang_sql.extract(path, text, parsers)
    if language == "cobol":
        return lang_cobol.extract(path, text)
    if language == "shell":
        return lang_shell.extract(path, text, parsers)
    return lang_cobol.extract_jcl(path, text)


def build(sources: Sources, parsers: Parsers | None = None) -> Inventory:
    """Parse every source and link callers to callees (by name, same file first)."""
    parsers = parsers or Parsers()
    inventory = Inventory(skipped=list(sources.skipped))
    for path, text in sources.texts.items():
        inventory.files.append(parse_file(path, sources.languages[path], text, parsers,
                                          sources.package))
    link(inventory)
    return inventory


def _key(name: str, language: str) -> str:
    if language == "shell":  # « load.sh » is a script's whole name
        return name
    last = name.rsplit(".", 1)[-1] if language not in _CASELESS else name
    return last.upper() if language in _CASELESS else last


def link(inventory: Inventory) -> None:
    """Fill ``callers`` and ``callees``: a call to a name goes to the units bearing it."""
    by_name: dict[str, list[tuple[SourceFile, Unit]]] = defaultdict(list)
    for source in inventory.files:
        for unit in source.units:
            if unit.kind not in ("record", "table", "index", "unique index", "sequence"):
                by_name[_key(unit.name, source.language)].append((source, unit))
    callers: dict[str, list[str]] = defaultdict(list)
    callees: dict[str, list[str]] = defaultdict(list)
    for source in inventory.files:
        for unit in source.units:
            for call in unit.calls:
                for target in _targets(call, source, unit, by_name):
                    if target.qualified != unit.qualified and (
                            target.qualified not in callees[unit.qualified]):
                        callees[unit.qualified].append(target.qualified)
                        callers[target.qualified].append(unit.qualified)
    inventory.callers = dict(callers)
    inventory.callees = dict(callees)
    inventory.index = {unit.qualified: unit for unit in inventory.units}
    members: dict[str, list[str]] = defaultdict(list)
    for unit in inventory.units:
        owner = unit.qualified.rsplit(".", 1)[0]
        if owner != unit.qualified and owner in inventory.index and unit.kind in (
                "method", "constructor", "class", "function"):
            members[owner].append(unit.name)
    inventory.members = dict(members)


def _targets(call: str, source: SourceFile, unit: Unit,
             by_name: dict[str, list[tuple[SourceFile, Unit]]]) -> list[Unit]:
    language = source.language
    candidates = by_name.get(_key(call, language if language in _CASELESS else "python"), [])
    if language == "shell":  # a script runs functions and scripts, never a Python function
        candidates = [(s, u) for s, u in by_name.get(call, []) if s.language == "shell"]
    if language in ("cobol", "jcl") and not candidates:
        candidates = by_name.get(call.upper(), [])
    if not candidates:
        return []
    same_file = [u for s, u in candidates if s.path == source.path]
    if call.startswith(("self.", "this.", "cls.")):
        owner = unit.qualified.rsplit(".", 1)[0]
        return [u for u in same_file if u.qualified.rsplit(".", 1)[0] == owner][:1]
    if same_file:
        return same_file[:1]
    if "." in call and language == "python":  # module.function: the module must match
        module = call.rsplit(".", 1)[0]
        chosen = [u for s, u in candidates if s.name.endswith(module)]
        return chosen[:1]
    if language in ("cobol", "jcl"):
        return [u for _, u in candidates if u.kind in ("program", "job")][:1]
    return [u for _, u in candidates][:1] if len(candidates) == 1 else []

"""Test skeletons (pytest, JUnit 5) for public functions no test calls yet.

Each test is named after what it should check (its return, each exception it raises) and is
skipped/disabled with the reason « skeleton »: the arrange/act/assert steps are for a person
(or an approved model) to write.
"""

from __future__ import annotations

import re

from bot.i18n import Text
from bot.messages import Locale
from skills.codedoc.describe import clipped
from skills.codedoc.guards import caught
from skills.codedoc.model import Inventory, SourceFile, Unit

_REASON = Text("squelette Almia : écrire les étapes préparer / agir / vérifier",
               "Almia skeleton: write the arrange / act / assert steps")
_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[^A-Za-z0-9]+")


def _snake(name: str) -> str:
    return "_".join(part.lower() for part in _SNAKE.split(name) if part) or "unit"


def untested(inventory: Inventory) -> list[Unit]:
    """Public functions and methods of non-test files that no test file calls."""
    tests = {source.path for source in inventory.files if source.is_test}
    found = []
    for source in inventory.files:
        if source.path in tests or source.language not in ("python", "java"):
            continue
        for unit in source.units:
            if not unit.public or unit.kind not in ("function", "method"):
                continue
            callers = inventory.callers.get(unit.qualified, [])
            if not any(inventory.index[c].path in tests for c in callers if c in inventory.index):
                found.append(unit)
    return found


def _cases(unit: Unit) -> list[tuple[str, str | None]]:
    """Each test's name, with the exception it expects (None: a return or an effect)."""
    base = _snake(unit.name)
    cases: list[tuple[str, str | None]] = [
        (f"{base}_raises_{_snake(raised.rsplit('.', 1)[-1])}", raised) for raised in unit.raises]
    if unit.returns and unit.returns not in ("None", "void"):
        cases.insert(0, (f"{base}_returns_{_snake(unit.returns.split('[')[0].split('<')[0])}",
                         None))
    elif unit.returned == ("yield",):
        cases.insert(0, (f"{base}_yields_the_expected_values", None))
    elif unit.returned:
        cases.insert(0, (f"{base}_returns_the_expected_value", None))
    return cases or [(f"{base}_has_the_expected_effect", None)]


def _act_assert(unit: Unit, java: bool = False) -> tuple[str, str]:
    """The act and assert steps of a test of what a unit returns or changes, from the code."""
    if (unit.returns and unit.returns not in ("None", "void")) or unit.returned:
        act = f"act: result = {_call(unit, java)}"
        if unit.returned and unit.returned != ("yield",):
            return act, f"assert: result == … (the code returns {clipped(unit.returned[0], 80)})"
        return act, "assert"
    effects = [*unit.sets, *unit.writes]
    if effects:
        return "act", "assert: the effect on " + ", ".join(clipped(e, 80) for e in effects[:4])
    return "act", "assert"



def _call(unit: Unit, java: bool = False) -> str:
    """« encode(…) », « Codec(…).encode(…) » for a method (« new Codec(…) » in Java)."""
    owner = unit.qualified.rsplit(":", 1)[-1].rpartition(".")[0]
    if unit.kind == "method" and owner:
        return f"{'new ' if java else ''}{owner}(…).{unit.name}(…)"
    return f"{unit.name}(…)"


def _arrange(unit: Unit, raised: str | None) -> str:
    """What the arrange step must bring about, from the code: « errors != "strict" »."""
    conditions = unit.raised_when.get(raised, []) if raised else []
    said = []
    for condition in conditions[:2]:
        exception = caught(condition)
        said.append(f"a call inside raises {exception}" if exception else condition)
    return "arrange: " + " or ".join(said) if said else "arrange"


def build(inventory: Inventory, locale: Locale) -> dict[str, str]:
    """Skeleton test files by path (``tests_skeletons/…``)."""
    reason = _REASON(locale)
    by_file: dict[str, list[Unit]] = {}
    for unit in untested(inventory):
        by_file.setdefault(unit.path, []).append(unit)
    files: dict[str, str] = {}
    for source in inventory.files:
        units = by_file.get(source.path)
        if not units:
            continue
        if source.language == "python":
            files[f"tests_skeletons/test_{_snake(source.name.rsplit('.', 1)[-1])}_skeleton.py"] = (
                _pytest(source, units, reason))
        else:
            stem = source.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            package = _PACKAGE.search(source.text)
            files[f"tests_skeletons/{stem}SkeletonTest.java"] = _junit(
                stem, units, reason, package.group(1) if package else None)
    return files


def _pytest(source: SourceFile, units: list[Unit], reason: str) -> str:
    imported = sorted({unit.qualified.rsplit(":", 1)[-1].split(".")[0] for unit in units})
    lines = [f'"""Skeleton tests for {source.name} ({reason})."""', "", "import pytest", "",
             f"from {source.name} import {', '.join(imported)}  # noqa: F401", "",
             f"pytestmark = pytest.mark.skip(reason={reason!r})", ""]
    for unit in units:
        for name, raised in _cases(unit):
            act, check = _act_assert(unit)
            if raised:
                act = (f"act and assert: with pytest.raises({raised.rsplit('.', 1)[-1]}): "
                       f"{_call(unit)}")
            lines += ["", f"def test_{name}() -> None:",
                      f'    """{_shown(unit.signature)}"""',
                      f"    # {_arrange(unit, raised)}", f"    # {act}",
                      *([] if raised else [f"    # {check}"]),
                      f"    pytest.skip({reason!r})", ""]
    return "\n".join(lines).rstrip() + "\n"


_PACKAGE = re.compile(r"(?m)^\s*package\s+([\w.]+)\s*;")


def _junit(stem: str, units: list[Unit], reason: str, package: str | None = None) -> str:
    """A JUnit 5 class in the tested class's package (its classes then need no import)."""
    lines = [*([f"package {package};", ""] if package else []),
             "import org.junit.jupiter.api.Disabled;", "import org.junit.jupiter.api.Test;", "",
             f'@Disabled("{reason}")', f"class {stem}SkeletonTest {{"]
    for unit in units:
        for name, raised in _cases(unit):
            camel = "".join(part.capitalize() for part in name.split("_"))
            act, check = _act_assert(unit, java=True)
            if raised:
                act = (f"act and assert: assertThrows({raised.rsplit('.', 1)[-1]}.class, () -> "
                       f"{_call(unit, java=True)})")
            lines += ["", f"    /** {_shown(unit.signature)} */", "    @Test",
                      f"    void {camel[0].lower()}{camel[1:]}() {{",
                      f"        // {_arrange(unit, raised)}", f"        // {act}",
                      *([] if raised else [f"        // {check}"]), "    }"]
    return "\n".join([*lines, "}"]) + "\n"


def _shown(signature: str) -> str:
    text = signature.replace('"""', "'''").replace("*/", "* /").replace("\\", "/")
    return text if len(text) <= 100 else text[:99] + "…"

"""The house rules of the source tree: no import cycles, each SDK imported in its home only.

Read from the sources, so a new module that breaks a rule fails here, not in a review. For
cycles, module-level imports count (those under ``TYPE_CHECKING`` and inside functions run
later); for SDK homes, every import does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "adapters", "skills", "knowledge", "console")
# SDK → the modules allowed to import it (a path prefix: a module or a family of modules)
HOMES = {
    "slack_bolt": ("adapters/slack.py",),
    "slack_sdk": ("adapters/slack",),
    "botbuilder": ("adapters/teams",),
    "botframework": ("adapters/teams",),
    "litellm": ("bot/gateway/llm.py",),
    "chromadb": ("knowledge/",),
    "msal": ("adapters/teams_auth.py", "bot/governance/graph_token.py", "console/oidc.py"),
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(nodes: list[ast.stmt]) -> Iterator[str]:
    """Module names imported at module level (``TYPE_CHECKING`` blocks left out)."""
    for node in nodes:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.dump(node.test):
                continue
            yield from _imports(node.body)
            yield from _imports(node.orelse)
        elif isinstance(node, ast.Try):
            yield from _imports(node.body)
            for handler in node.handlers:
                yield from _imports(handler.body)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    def known(name: str) -> str | None:
        while name not in modules:
            if "." not in name:
                return None
            name = name.rsplit(".", 1)[0]
        return name

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported = (known(target) for target in _imports(ast.parse(path.read_text()).body))
        graph[name] = {target for target in imported if target and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(_graph(_modules())) == []


def test_each_sdk_is_imported_in_its_home_only() -> None:
    misplaced = []
    for name, path in _modules().items():
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):  # in functions too
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            targets = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""])
            misplaced.extend(f"{name} imports {target.split('.')[0]}" for target in targets
                             if _misplaced(target.split(".")[0], relative))
    assert sorted(set(misplaced)) == []


def _misplaced(sdk: str, relative: str) -> bool:
    return sdk in HOMES and not relative.startswith(HOMES[sdk])


"""Renders the Helm chart without the helm binary (absent here): the subset of Go templates
and Sprig functions the chart uses, with Helm's semantics, and an error for anything else.

Supported: ``{{- … -}}`` whitespace trimming, comments, ``define``/``include``,
``if``/``else``/``end`` (``not``), ``range $v := list`` and ``range $k, $v := map`` (sorted
keys, as Go does), ``.Values…``/``.Release…``/``.Chart…``/``$``/``$var.field`` values,
string and number literals, pipelines into ``quote``, ``toYaml``, ``nindent``, ``indent``,
``default``, ``trunc``, ``trimSuffix``, ``add``. A missing value is an error (Helm would
print ``<no value>``), so a typo in a template fails the test.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)


class TemplateError(Exception):
    """A construct outside the supported subset, or a missing value."""


@dataclass
class _Node:
    kind: str  # text, expr, if, range, define
    text: str = ""
    children: list[_Node] = field(default_factory=list)
    otherwise: list[_Node] = field(default_factory=list)


@dataclass
class _Scope:
    dot: Any
    root: Any
    variables: dict[str, Any]
    defines: Mapping[str, list[_Node]]


def _tokens(source: str) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []
    position = 0
    trim_next = False
    for match in _ACTION.finditer(source):
        text = source[position:match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        body = match.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            pieces.append(("action", body))
        trim_next = bool(match.group(3))
        position = match.end()
    tail = source[position:]
    pieces.append(("text", tail.lstrip() if trim_next else tail))
    return pieces


def _parse(tokens: list[tuple[str, str]]) -> list[_Node]:
    root: list[_Node] = []
    stack: list[tuple[_Node | None, list[_Node]]] = [(None, root)]
    for kind, body in tokens:
        current = stack[-1][1]
        if kind == "text":
            if body:
                current.append(_Node("text", body))
            continue
        word = body.split(None, 1)[0]
        rest = body[len(word):].strip()
        if word in {"if", "range", "define"}:
            node = _Node(word, rest)
            current.append(node)
            stack.append((node, node.children))
        elif word == "else":
            owner = stack[-1][0]
            if owner is None or owner.kind != "if":
                raise TemplateError("else outside if")
            stack[-1] = (owner, owner.otherwise)
        elif word == "end":
            if len(stack) == 1:
                raise TemplateError("end without a block")
            stack.pop()
        else:
            current.append(_Node("expr", body))
    if len(stack) != 1:
        raise TemplateError("a block is not closed")
    return root


def _empty(value: Any) -> bool:
    return value is None or value is False or value == 0 or value in ("", [], {})


def _text(value: Any) -> str:
    if value is None:
        raise TemplateError("missing value")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(count: Any, text: Any) -> str:
    pad = " " * int(count)
    return "\n".join(pad + line if line else line for line in str(text).split("\n"))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "quote": lambda value: json.dumps(_text(value)),
    "toYaml": _to_yaml,
    "nindent": lambda count, text: "\n" + _indent(count, text),
    "indent": _indent,
    "default": lambda fallback, value=None: fallback if _empty(value) else value,
    "trunc": lambda count, text: str(text)[:int(count)],
    "trimSuffix": lambda suffix, text: str(text).removesuffix(suffix),
    "add": lambda *numbers: sum(int(number) for number in numbers),
    "not": _empty,
}


def _lookup(base: Any, path: str, where: str) -> Any:
    value = base
    for part in [part for part in path.split(".") if part]:
        if not isinstance(value, Mapping) or part not in value:
            raise TemplateError(f"missing value {where}")
        value = value[part]
    return value


def _argument(token: str, scope: _Scope) -> Any:
    if token.startswith('"'):
        return json.loads(token)
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if token == ".":
        return scope.dot
    if token.startswith("."):
        return _lookup(scope.dot, token, token)
    if token.startswith("$"):
        name, _, path = token.partition(".")
        base = scope.root if name == "$" else scope.variables.get(name)
        if name != "$" and name not in scope.variables:
            raise TemplateError(f"unknown variable {name}")
        return _lookup(base, path, token)
    raise TemplateError(f"unsupported argument {token!r}")


def _call(command: str, scope: _Scope, piped: list[Any]) -> Any:
    words = shlex.split(command, posix=False)
    name, arguments = words[0], [_argument(word, scope) for word in words[1:]]
    if name == "include":
        template, context = arguments
        return _render(scope.defines[template], _Scope(context, scope.root, {}, scope.defines))
    if name in _FUNCTIONS:
        return _FUNCTIONS[name](*arguments, *piped)
    if piped or len(words) > 1:
        raise TemplateError(f"unsupported function {name!r}")
    return _argument(name, scope)


def _evaluate(expression: str, scope: _Scope) -> Any:
    piped: list[Any] = []
    for command in re.split(r"\|(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", expression):
        piped = [_call(command.strip(), scope, piped)]
    return piped[0]


def _render(nodes: list[_Node], scope: _Scope) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "expr":
            out.append(_text(_evaluate(node.text, scope)))
        elif node.kind == "if":
            branch = node.otherwise if _empty(_evaluate(node.text, scope)) else node.children
            out.append(_render(branch, scope))
        elif node.kind == "range":
            out.append(_range(node, scope))
    return "".join(out)


def _range(node: _Node, scope: _Scope) -> str:
    match = re.fullmatch(r"(\$\w+)(?:\s*,\s*(\$\w+))?\s*:=\s*(.+)", node.text)
    if match is None:
        raise TemplateError(f"unsupported range {node.text!r}")
    first, second, expression = match.groups()
    collection = _evaluate(expression, scope)
    items = (sorted(collection.items()) if isinstance(collection, Mapping)
             else list(enumerate(collection or [])))
    out = []
    for key, value in items:
        variables = {**scope.variables, **({first: key, second: value} if second
                                           else {first: value})}
        out.append(_render(node.children, _Scope(value, scope.root, variables, scope.defines)))
    return "".join(out)


def render_chart(chart: Path, values: Mapping[str, Any] | None = None,
                 release: str = "almia", namespace: str = "almia") -> dict[str, str]:
    """Every template of ``chart`` rendered (file name → YAML text), ``values`` merged over
    the chart's ``values.yaml`` (maps merged, other values replaced, as ``helm -f`` does)."""
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    merged = _merge(yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8")),
                    values or {})
    root = {"Values": merged, "Release": {"Name": release, "Namespace": namespace,
                                          "Service": "Helm"},
            "Chart": {"Name": meta["name"], "Version": meta["version"],
                      "AppVersion": meta["appVersion"]}}
    defines: dict[str, list[_Node]] = {}
    templates = sorted((chart / "templates").iterdir())
    for path in templates:
        if path.suffix == ".tpl":
            for node in _parse(_tokens(path.read_text(encoding="utf-8"))):
                if node.kind == "define":
                    defines[json.loads(node.text)] = node.children
    scope = _Scope(root, root, {}, defines)
    return {path.name: _render(_parse(_tokens(path.read_text(encoding="utf-8"))), scope)
            for path in templates if path.suffix == ".yaml"}


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, Mapping):
        return {**base, **{key: _merge(base.get(key), value) for key, value in override.items()}}
    return override

"""Python files: classes, functions and methods, with their signatures, docstrings and calls."""

from __future__ import annotations

import ast
import inspect
import re
from typing import TYPE_CHECKING

from skills.codedoc.common import indent_of, merge, public_name, sql_tables, starts_line
from skills.codedoc.guards import condition_of
from skills.codedoc.model import Access, DocSlot, SourceFile, Unit
from skills.codedoc.syntax import Parsers, errors_in, first_error_line, text_of

if TYPE_CHECKING:
    from tree_sitter import Node

_ROUTE_DECORATOR = re.compile(
    r"^@\w+(?:\.\w+)*\.(get|post|put|patch|delete|route|websocket|api_route)\(\s*[rbf]?['\"]"
    r"([^'\"]*)")
_OPEN_MODE = re.compile(r"['\"]([rwax+bt]{1,3})['\"]")


def module_name(path: str, package: str = "") -> str:
    """``pkg/sub/mod.py`` → ``pkg.sub.mod`` (``__init__`` names the package); ``package``
    prefixes it when the folder read is itself a package."""
    parts = [*filter(None, [package]), *path.removesuffix(".py").split("/")]
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def extract(path: str, text: str, parsers: Parsers, package: str = "") -> SourceFile:
    """The inventory of one Python file."""
    tree = parsers.parse("python", text)
    source = SourceFile(path, "python", text, module_name(path, package),
                        parse_errors=errors_in(tree),
                        first_error=first_error_line(tree))
    lines = text.split("\n")
    root = tree.root_node
    source.doc = _docstring(root)
    for child in root.named_children:
        _top_level(child, source, lines)
    return source


def absolute(name: str, source: SourceFile) -> str:
    """``.rules`` imported by ``pkg.parser`` → ``pkg.rules`` (absolute names stay as they are)."""
    dots = len(name) - len(name.lstrip("."))
    if not dots:
        return name
    package = source.name.split(".")
    if not source.path.endswith("__init__.py"):
        package = package[:-1]
    base = package[:len(package) - (dots - 1)] if dots - 1 <= len(package) else []
    return ".".join([*base, name[dots:]] if name[dots:] else base) or name


def _top_level(node: Node, source: SourceFile, lines: list[str]) -> None:
    if node.type in ("import_statement", "import_from_statement"):
        module = node.child_by_field_name("module_name")
        names = [text_of(module)] if module is not None else [
            text_of(n) for n in node.children_by_field_name("name")]
        merge(source.imports, [absolute(name.split(" as ")[0], source)
                               for name in names if name])
    elif node.type == "if_statement" and "__name__" in text_of(
            node.child_by_field_name("condition")) and "__main__" in text_of(node):
        merge(source.entry_points, ["__main__"])
        _scan_effects(node, source)
    elif _definition(node) is not None:
        _unit(node, source, lines, owner="", public=True)
    else:
        _scan_effects(node, source)


def _definition(node: Node) -> Node | None:
    if node.type == "decorated_definition":
        return node.child_by_field_name("definition")
    return node if node.type in ("function_definition", "class_definition") else None


def _unit(node: Node, source: SourceFile, lines: list[str], owner: str, public: bool) -> None:
    definition = _definition(node)
    if definition is None:
        return
    name = text_of(definition.child_by_field_name("name"))
    is_class = definition.type == "class_definition"
    kind = "class" if is_class else ("method" if owner else "function")
    body = definition.child_by_field_name("body")
    decorators = [text_of(d) for d in node.children if d.type == "decorator"]
    dunder = name.startswith("__") and name.endswith("__")
    overload = any(d.removeprefix("@").split("(")[0].rsplit(".", 1)[-1] == "overload"
                   for d in decorators)  # a typing stub: the implementation is documented
    unit = Unit(kind=kind, name=name, qualified=f"{source.name}:{owner}{name}", path=source.path,
                line=node.start_point.row + 1, end_line=node.end_point.row + 1,
                signature=_signature(definition, body),
                doc=_docstring(body) if body is not None else "",
                public=public and public_name(name) and not dunder and not overload)
    if not is_class:
        unit.params = _params(definition.child_by_field_name("parameters"))
        unit.returns = text_of(definition.child_by_field_name("return_type"))
    if body is not None and body.start_point.row > definition.start_point.row and starts_line(
            lines, body.start_point.row, body.start_point.column) and (  # not « ) -> T: ... »
            _leading_string(body) is None):  # an empty docstring (« """ """ ») stays alone
        first = body.start_point.row
        unit.slot = DocSlot(first, indent_of(lines[first]), "python")
    for decorator in decorators:
        match = _ROUTE_DECORATOR.match(decorator)
        if match:
            verb = match.group(1).upper()
            if verb in ("ROUTE", "API_ROUTE"):  # Flask: « methods=["POST"] », else GET
                methods = re.findall(r"['\"](GET|POST|PUT|PATCH|DELETE)['\"]",
                                     decorator.split("methods", 1)[1].upper()
                                     if "methods" in decorator else "")
                verb = "/".join(methods) or "GET"
            unit.route = f"{verb} {match.group(2)}"
            merge(source.entry_points, [f"{unit.route} → {name}"])
    if name == "main" and not owner:
        merge(source.entry_points, ["main()"])
    source.units.append(unit)
    if body is None:
        return
    if is_class:
        for child in body.named_children:
            _unit(child, source, lines, owner=f"{owner}{name}.", public=unit.public)
    else:
        access = Access()
        unit.calls, unit.raises = _scan(body, access, unit.raised_when)
        access.give(unit, source)
        returned, unit.sets = _results(body)
        if not unit.returns:
            unit.returned = returned


def _signature(definition: Node, body: Node | None) -> str:
    """The header up to its colon, without comments (``# type: ignore``, one per parameter)."""
    start = definition.start_byte
    colons = [child for child in definition.children if child.type == ":"
              and (body is None or child.end_byte <= body.start_byte)]
    end = (colons[-1].start_byte if colons else body.start_byte if body is not None
           else definition.end_byte)
    comments = [node for node in _descendants(definition, end) if node.type == "comment"]
    data = definition.text or b""
    kept, at = [], start
    for comment in comments:
        kept.append(data[at - start:comment.start_byte - start])
        at = comment.end_byte
    kept.append(data[at - start:end - start])
    text = b"".join(kept).decode("utf-8", "replace")
    return " ".join(text.split()).rstrip(":").strip()


def _descendants(node: Node, end: int) -> list[Node]:
    """Nodes under ``node`` that start before byte ``end``, in order."""
    found: list[Node] = []
    for child in node.children:
        if child.start_byte >= end:
            break
        found.append(child)
        found += _descendants(child, end)
    return found


def _params(parameters: Node | None) -> tuple[str, ...]:
    if parameters is None:
        return ()
    names = []
    for child in parameters.named_children:
        text = text_of(child)
        if child.type in ("identifier",):
            names.append(text)
        elif child.type in ("typed_parameter", "default_parameter", "typed_default_parameter",
                            "list_splat_pattern", "dictionary_splat_pattern"):
            names.append(" ".join(text.split()))
    return tuple(name for name in names if name.split(":")[0] not in ("self", "cls"))


def _scan(body: Node, access: Access, when: dict[str, list[str]] | None = None,
          ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Calls and raised exceptions in ``body`` (nested definitions left out); tables and
    files it uses go to ``access``, the conditions each exception is raised under to
    ``when``."""
    calls: list[str] = []
    raises: list[str] = []
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "call":
            function = node.child_by_field_name("function")
            name = text_of(function)
            if name and len(name) < 80 and "(" not in name:
                merge(calls, [name])
            _effect_of_call(name, node, access)
        elif node.type == "raise_statement" and node.named_child_count:
            raised = node.named_children[0]
            target = raised.child_by_field_name("function") if raised.type == "call" else raised
            merge(raises, [text_of(target)])
            if when is not None and text_of(target):
                condition = condition_of(node, body, python=True)
                if condition:
                    merge(when.setdefault(text_of(target), []), [condition])
        elif node.type == "string":
            reads, writes = sql_tables(text_of(node))
            access.add([f"table {name}" for name in reads], [f"table {name}" for name in writes])
        if node.type in ("function_definition", "class_definition") and node != body:
            continue
        stack.extend(reversed(node.named_children))
    return tuple(calls), tuple(name for name in raises if name)


_MAX_RETURNED = 3


def _results(body: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a function's ``return`` statements give (« a generator » for ``yield``) and
    the ``self`` attributes it assigns, nested definitions left out."""
    returned: list[str] = []
    sets: list[str] = []
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "return_statement" and node.named_child_count:
            value = " ".join(text_of(node.named_children[0]).split())
            if value and value != "None" and len(returned) < _MAX_RETURNED:
                merge(returned, [value])
        elif node.type in ("yield", "yield_statement") and "yield" not in returned:
            returned.insert(0, "yield")
        elif node.type in ("assignment", "augmented_assignment"):
            target = node.child_by_field_name("left")
            for name in _self_attributes(target):
                merge(sets, [name])
        if node.type in ("function_definition", "class_definition", "lambda") and node != body:
            continue
        stack.extend(reversed(node.named_children))
    if "yield" in returned:
        return ("yield",), tuple(sets)
    return tuple(returned), tuple(sets)


def _self_attributes(target: Node | None) -> list[str]:
    """``self.x`` (or several, « self.a, self.b = … ») in an assignment's left side."""
    if target is None:
        return []
    if target.type == "attribute":
        owner = target.child_by_field_name("object")
        return [text_of(target)] if owner is not None and text_of(owner) == "self" else []
    if target.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        return [name for child in target.named_children for name in _self_attributes(child)]
    return []


def _scan_effects(node: Node, source: SourceFile) -> None:
    access = Access()
    _scan(node, access)
    source.access(access.reads, access.writes)


def _effect_of_call(name: str, node: Node, access: Access) -> None:
    if name not in ("open", "io.open", "Path.open") and not name.endswith((".open_text",)):
        return
    arguments = node.child_by_field_name("arguments")
    if arguments is None or not arguments.named_children:
        return
    target = text_of(arguments.named_children[0])[:80]
    mode = _OPEN_MODE.search(text_of(arguments)[len(target):])
    if mode is not None and any(flag in mode.group(1) for flag in "wax+"):
        access.add([], [f"file {target}"])
    else:
        access.add([f"file {target}"], [])


def _leading_string(block: Node) -> Node | None:
    """The string that opens a module or body (its docstring, maybe empty), if any."""
    for child in block.named_children:
        if child.type == "comment":
            continue
        string = child
        if child.type == "expression_statement" and child.named_child_count == 1:
            string = child.named_children[0]
        return string if string.type in ("string", "concatenated_string") else None
    return None


def _docstring(block: Node) -> str:
    string = _leading_string(block)
    if string is None:
        return ""
    try:
        value = ast.literal_eval(text_of(string))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return ""
    return inspect.cleandoc(value) if isinstance(value, str) else ""

"""Java, JavaScript and TypeScript files: classes, methods and functions, Javadoc/JSDoc, calls."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from skills.codedoc.common import clean_comment, indent_of, merge, public_name, sql_tables
from skills.codedoc.guards import condition_of
from skills.codedoc.model import Access, DocSlot, SourceFile, Unit
from skills.codedoc.syntax import Parsers, errors_in, first_error_line, text_of

if TYPE_CHECKING:
    from tree_sitter import Node

_JAVA_TYPES = ("class_declaration", "interface_declaration", "enum_declaration",
               "record_declaration")
_JAVA_MEMBERS = ("method_declaration", "constructor_declaration")
_JAVA_ROUTE = re.compile(r"@(Get|Post|Put|Delete|Patch|Request)Mapping\s*\(\s*(?:value\s*=\s*|"
                         r"path\s*=\s*)?\"([^\"]*)\"|@Path\s*\(\s*\"([^\"]*)\"")
_JS_FUNCTIONS = ("function_declaration", "generator_function_declaration")
_JS_CLASSES = ("class_declaration", "abstract_class_declaration", "interface_declaration")
_JS_ROUTE = re.compile(r"^(?:app|router|server)\.(get|post|put|patch|delete|all|use)$")
_FUNCTION_VALUES = ("arrow_function", "function_expression", "function",
                    "generator_function")


def extract(path: str, text: str, language: str, parsers: Parsers) -> SourceFile:
    """The inventory of one Java, JavaScript or TypeScript file."""
    tree = parsers.parse(language, text)
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    source = SourceFile(path, language, text, name, parse_errors=errors_in(tree),
                        first_error=first_error_line(tree))
    lines = text.split("\n")
    walker = _Java(source, lines) if language == "java" else _Script(source, lines)
    walker.file(tree.root_node)
    return source


class Walker:
    """What every brace-language reader shares: units, doc slots, calls and data access."""

    def __init__(self, source: SourceFile, lines: list[str]) -> None:
        self.source = source
        self.lines = lines

    def slot(self, node: Node, style: str) -> DocSlot | None:
        row = node.start_point.row
        line = self.lines[row] if row < len(self.lines) else ""
        if line[:len(indent_of(line))].encode("utf-8") != line.encode("utf-8")[
                :node.start_point.column]:
            return None  # something else precedes it on its line
        return DocSlot(row, indent_of(line), style)

    def unit(self, kind: str, name: str, node: Node, anchor: Node, owner: str,
             public: bool, style: str, doc: str | None = None) -> Unit:
        """Record a unit; its doc is the ``/** … */`` just above ``anchor`` unless given."""
        previous = anchor.prev_named_sibling
        if doc is None:
            doc = ""
            if (previous is not None and previous.type in ("comment", "block_comment")
                    and text_of(previous).startswith("/**")
                    and previous.end_point.row >= anchor.start_point.row - 1):
                doc = clean_comment(text_of(previous))
        body = node.child_by_field_name("body")
        signature = text_of(node)[: (body.start_byte - node.start_byte) if body else 200]
        unit = Unit(kind=kind, name=name, qualified=f"{self.source.path}:{owner}{name}",
                    path=self.source.path, line=anchor.start_point.row + 1,
                    end_line=node.end_point.row + 1, signature=" ".join(signature.split()),
                    doc=doc, public=public, slot=self.slot(anchor, style))
        self.source.units.append(unit)
        return unit

    def effects(self, node: Node, call_types: tuple[str, ...], throw_type: str,
                unit: Unit | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Calls and thrown exceptions in ``node``; SQL tables in its strings go to ``unit``
        (when given) and to the file."""
        access = Access()
        calls: list[str] = []
        raises: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            kind = current.type
            if kind in call_types:
                callee = self.callee(current)
                if callee:
                    merge(calls, [callee])
            elif kind == throw_type:
                created = re.search(r"new\s+([\w.]+)", text_of(current))
                if created:
                    merge(raises, [created.group(1)])
                    condition = condition_of(current, node, python=False)
                    if unit is not None and condition:
                        merge(unit.raised_when.setdefault(created.group(1), []), [condition])
            elif kind in ("string_literal", "string", "template_string", "text_block"):
                reads, writes = sql_tables(text_of(current))
                access.add([f"table {name}" for name in reads],
                           [f"table {name}" for name in writes])
            stack.extend(reversed(current.named_children))
        if unit is not None:
            access.give(unit, self.source)
        else:
            self.source.access(access.reads, access.writes)
        return tuple(calls), tuple(raises)

    def callee(self, call: Node) -> str:
        return ""


class _Java(Walker):
    def file(self, root: Node) -> None:
        for child in root.named_children:
            if child.type == "import_declaration":
                merge(self.source.imports, [text_of(child).removeprefix("import").strip(" ;")
                                            .removeprefix("static ").strip()])
            elif child.type in _JAVA_TYPES:
                self.type_declaration(child, owner="", public=True)

    def type_declaration(self, node: Node, owner: str, public: bool) -> None:
        name = text_of(node.child_by_field_name("name"))
        modifiers = self.modifiers(node)
        visible = public and ("public" in modifiers or "protected" in modifiers)
        kind = node.type.removesuffix("_declaration")
        self.unit(kind, name, node, node, owner, visible, "javadoc")
        body = node.child_by_field_name("body")
        if body is None:
            return
        interface = node.type == "interface_declaration"
        members = [m for child in body.named_children for m in (
            child.named_children if child.type == "enum_body_declarations" else [child])]
        for member in members:
            if member.type in _JAVA_TYPES:
                self.type_declaration(member, f"{owner}{name}.", visible)
            elif member.type in _JAVA_MEMBERS:
                self.member(member, f"{owner}{name}.", visible, interface)

    def member(self, node: Node, owner: str, public: bool, interface: bool) -> None:
        modifiers = self.modifiers(node)
        name = text_of(node.child_by_field_name("name"))
        visible = public and ((interface and "private" not in modifiers)
                              or "public" in modifiers or "protected" in modifiers)
        kind = "constructor" if node.type == "constructor_declaration" else "method"
        unit = self.unit(kind, name, node, node, owner, visible, "javadoc")
        parameters = node.child_by_field_name("parameters")
        unit.params = tuple(" ".join(text_of(p).split()) for p in (
            parameters.named_children if parameters else ()) if p.type.endswith("parameter"))
        unit.returns = text_of(node.child_by_field_name("type"))
        body = node.child_by_field_name("body")
        declared = [text_of(c).removeprefix("throws").strip() for c in node.named_children
                    if c.type == "throws"]
        if body is not None:
            unit.calls, thrown = self.effects(body, ("method_invocation",
                                                     "object_creation_expression"),
                                              "throw_statement", unit)
            unit.raises = tuple(dict.fromkeys(
                [name.strip() for text in declared for name in text.split(",")] + list(thrown)))
        route = _JAVA_ROUTE.search(modifiers)
        if route:
            unit.route = f"{(route.group(1) or 'ANY').upper()} {route.group(2) or route.group(3)}"
            merge(self.source.entry_points, [f"{unit.route} → {owner}{name}"])
        if name == "main" and "static" in modifiers and "public" in modifiers:
            merge(self.source.entry_points, [f"{owner}main()"])

    @staticmethod
    def modifiers(node: Node) -> str:
        return " ".join(text_of(child) for child in node.children if child.type == "modifiers")

    def callee(self, call: Node) -> str:
        if call.type == "object_creation_expression":
            return text_of(call.child_by_field_name("type")).split("<")[0]
        return text_of(call.child_by_field_name("name"))


class _Script(Walker):
    def file(self, root: Node) -> None:
        for child in root.named_children:
            self.statement(child, exported=False)

    def statement(self, node: Node, exported: bool, anchor: Node | None = None) -> None:
        kind = node.type
        anchor = anchor or node
        if kind == "export_statement":
            declaration = node.child_by_field_name("declaration")
            if declaration is not None:
                self.statement(declaration, exported=True, anchor=node)
            return
        if kind == "import_statement":
            merge(self.source.imports, [text_of(node.child_by_field_name("source")).strip("'\"`")])
        elif kind in _JS_FUNCTIONS:
            self.function(node, anchor, text_of(node.child_by_field_name("name")), "", True)
        elif kind in _JS_CLASSES:
            self.class_(node, anchor)
        elif kind in ("lexical_declaration", "variable_declaration"):
            declarators = [c for c in node.named_children if c.type == "variable_declarator"]
            if len(declarators) == 1 and declarators[0].child_by_field_name("value") is not None:
                value = declarators[0].child_by_field_name("value")
                if value is not None and value.type in _FUNCTION_VALUES:
                    name = text_of(declarators[0].child_by_field_name("name"))
                    self.function(value, anchor, name, "", True)
                    return
            self.top_level_effects(node)
        elif kind == "expression_statement" and self.assigned_function(node):
            return
        else:
            self.top_level_effects(node)

    def assigned_function(self, statement: Node) -> bool:
        """``a.b.prototype.f = function () {…}``, ``exports.f = (x) => …``: a function unit."""
        assignment = statement.named_children[0] if statement.named_child_count else None
        if assignment is None or assignment.type != "assignment_expression":
            return False
        left = assignment.child_by_field_name("left")
        value = assignment.child_by_field_name("right")
        if left is None or value is None or value.type not in _FUNCTION_VALUES:
            return False
        target = text_of(left)
        owner, _, name = target.rpartition(".")
        owner = owner.removesuffix(".prototype").removeprefix("module.")
        owner = "" if owner in ("exports", "") else f"{owner}."
        self.function(value, statement, name, owner, True, kind="method" if owner else "function")
        return True

    def top_level_effects(self, node: Node) -> None:
        self.effects(node, ("call_expression",), "throw_statement")  # SQL in strings
        for call in self.calls_in(node):
            function = text_of(call.child_by_field_name("function"))
            arguments = call.child_by_field_name("arguments")
            first = arguments.named_children[0] if arguments and arguments.named_children else None
            if function == "require" and first is not None:
                merge(self.source.imports, [text_of(first).strip("'\"`")])
            elif _JS_ROUTE.match(function) and first is not None and first.type == "string":
                method = function.rsplit(".", 1)[-1].upper()
                merge(self.source.entry_points, [f"{method} {text_of(first).strip(chr(39) + chr(34))}"])

    @staticmethod
    def calls_in(node: Node) -> list[Node]:
        found = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "call_expression":
                found.append(current)
            stack.extend(current.named_children)
        return found

    def function(self, node: Node, anchor: Node, name: str, owner: str, exported: bool,
                 kind: str = "function") -> None:
        public = exported and public_name(name) and not name.startswith("#")
        unit = self.unit(kind, name, node, anchor, owner, public, "jsdoc")
        parameters = node.child_by_field_name("parameters") or node.child_by_field_name(
            "parameter")
        if parameters is not None:
            unit.params = tuple(" ".join(text_of(p).split()) for p in (
                parameters.named_children if parameters.type == "formal_parameters"
                else [parameters]) if p.type not in ("comment",))
        unit.returns = text_of(node.child_by_field_name("return_type")).lstrip(": ")
        body = node.child_by_field_name("body")
        if body is not None:
            unit.calls, unit.raises = self.effects(body, ("call_expression", "new_expression"),
                                                   "throw_statement", unit)

    def class_(self, node: Node, anchor: Node) -> None:
        name = text_of(node.child_by_field_name("name"))
        public = public_name(name)
        self.unit("class", name, node, anchor, "", public, "jsdoc")
        body = node.child_by_field_name("body")
        for member in body.named_children if body is not None else ():
            if member.type in ("method_definition", "method_signature",
                               "abstract_method_signature"):
                method = text_of(member.child_by_field_name("name"))
                self.function(member, member, method, f"{name}.", public,
                              kind="constructor" if method == "constructor" else "method")

    def callee(self, call: Node) -> str:
        target = call.child_by_field_name("function") or call.child_by_field_name("constructor")
        if target is None:
            return ""
        if target.type == "member_expression":
            return text_of(target.child_by_field_name("property"))
        name = text_of(target)
        return name if len(name) < 80 else ""

"""C# files: namespaces, classes, structs, records, interfaces, their methods, XML doc comments,
calls, thrown exceptions and ASP.NET routes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from skills.codedoc.common import merge
from skills.codedoc.lang_curly import Walker
from skills.codedoc.model import SourceFile
from skills.codedoc.syntax import Parsers, errors_in, first_error_line, text_of

if TYPE_CHECKING:
    from tree_sitter import Node

_TYPES = ("class_declaration", "interface_declaration", "struct_declaration",
          "record_declaration", "enum_declaration")
_MEMBERS = ("method_declaration", "constructor_declaration")
_ROUTE = re.compile(r"\[\s*(Http(Get|Post|Put|Delete|Patch)|Route)\s*\(\s*\"([^\"]*)\"")
_XML_TAG = re.compile(r"<[^>]{1,200}>")


def extract(path: str, text: str, parsers: Parsers) -> SourceFile:
    """The inventory of one C# file."""
    tree = parsers.parse("csharp", text)
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    source = SourceFile(path, "csharp", text, name, parse_errors=errors_in(tree),
                        first_error=first_error_line(tree))
    _CSharp(source, text.split("\n")).declarations(tree.root_node, "", True)
    return source


def xml_doc(anchor: Node) -> str:
    """The ``///`` lines just above ``anchor``, without their XML tags."""
    lines: list[str] = []
    previous = anchor.prev_named_sibling
    row = anchor.start_point.row
    while (previous is not None and previous.type == "comment"
           and text_of(previous).startswith("///") and previous.end_point.row >= row - 1):
        lines.insert(0, text_of(previous)[3:].strip())
        row = previous.start_point.row
        previous = previous.prev_named_sibling
    return " ".join(" ".join(_XML_TAG.sub(" ", line).split()) for line in lines).strip()


class _CSharp(Walker):
    def declarations(self, node: Node, owner: str, public: bool) -> None:
        for child in node.named_children:
            kind = child.type
            if kind == "using_directive":
                merge(self.source.imports, [text_of(child).removeprefix("using").strip(" ;")
                                            .removeprefix("static ").strip()])
            elif kind in ("namespace_declaration", "file_scoped_namespace_declaration"):
                body = child.child_by_field_name("body")
                if body is not None:
                    self.declarations(body, owner, public)
            elif kind in _TYPES:
                self.type_declaration(child, owner, public)
            elif kind in _MEMBERS and owner:
                self.member(child, owner, public)

    @staticmethod
    def modifiers(node: Node) -> set[str]:
        return {text_of(child) for child in node.named_children if child.type == "modifier"}

    def type_declaration(self, node: Node, owner: str, public: bool) -> None:
        name = text_of(node.child_by_field_name("name"))
        visible = public and bool(self.modifiers(node) & {"public", "protected"})
        self.unit(node.type.removesuffix("_declaration"), name, node, node, owner, visible,
                  "xmldoc", doc=xml_doc(node))
        body = node.child_by_field_name("body")
        if body is not None:
            self.declarations(body, f"{owner}{name}.", visible or (
                node.type == "interface_declaration" and public))

    def member(self, node: Node, owner: str, public: bool) -> None:
        name = text_of(node.child_by_field_name("name"))
        modifiers = self.modifiers(node)
        interface = node.parent is not None and node.parent.parent is not None and (
            node.parent.parent.type == "interface_declaration")
        visible = public and (bool(modifiers & {"public", "protected"}) or interface)
        kind = "constructor" if node.type == "constructor_declaration" else "method"
        unit = self.unit(kind, name, node, node, owner, visible, "xmldoc", doc=xml_doc(node))
        parameters = node.child_by_field_name("parameters")
        unit.params = tuple(" ".join(text_of(p).split()) for p in (
            parameters.named_children if parameters else ()) if p.type == "parameter")
        unit.returns = text_of(node.child_by_field_name("returns"))
        body = node.child_by_field_name("body")
        if body is not None:
            unit.calls, unit.raises = self.effects(
                body, ("invocation_expression", "object_creation_expression"),
                "throw_statement", unit)
        route = _ROUTE.search(" ".join(text_of(c) for c in node.named_children
                                       if c.type == "attribute_list"))
        if route:
            unit.route = f"{(route.group(2) or 'ANY').upper()} {route.group(3)}"
            merge(self.source.entry_points, [f"{unit.route} → {owner}{name}"])
        if name == "Main" and "static" in modifiers:
            merge(self.source.entry_points, [f"{owner}Main()"])

    def callee(self, call: Node) -> str:
        if call.type == "object_creation_expression":
            return text_of(call.child_by_field_name("type")).split("<")[0]
        function = call.child_by_field_name("function")
        if function is not None and function.type == "member_access_expression":
            return text_of(function.child_by_field_name("name"))
        return text_of(function) if function is not None and len(text_of(function)) < 80 else ""

"""Tree-sitter parsing (grammars shipped in ``tree-sitter-language-pack``, nothing downloaded)
and the comparison of two syntax trees with comments and docstrings left out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree
    from tree_sitter_language_pack import SupportedLanguage

COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "marginalia",
                           "html_comment"})
_STRINGS = ("string", "concatenated_string")
_DOC_CANDIDATES = frozenset({"expression_statement", *_STRINGS})
GRAMMARS = {"python": "python", "java": "java", "javascript": "javascript",
            "typescript": "typescript", "sql": "sql", "cobol": "cobol", "csharp": "csharp",
            "shell": "bash"}


class Parsers:
    """One tree-sitter parser per language, made on first use."""

    def __init__(self) -> None:
        self._parsers: dict[str, Parser] = {}

    def parse(self, language: str, text: str | bytes) -> Tree:
        """The syntax tree of ``text`` (errors are recovered into ERROR nodes)."""
        parser = self._parsers.get(language)
        if parser is None:
            from tree_sitter_language_pack import get_parser

            parser = get_parser(cast("SupportedLanguage", GRAMMARS[language]))
            self._parsers[language] = parser
        return parser.parse(text.encode("utf-8") if isinstance(text, str) else text)


def text_of(node: Node | None) -> str:
    """The source text of a node ('' for none)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")


def errors_in(tree: Tree) -> int:
    """How many ERROR or MISSING nodes the parser had to make (0 for clean code)."""
    if not tree.root_node.has_error:
        return 0
    return sum(1 for node in _walk(tree.root_node) if node.is_error or node.is_missing)


def first_error_line(tree: Tree) -> int:
    """The 1-based line of the first ERROR or MISSING node (0 for clean code)."""
    if not tree.root_node.has_error:
        return 0
    return next((node.start_point.row + 1 for node in _walk(tree.root_node)
                 if node.is_error or node.is_missing), 0)


def _walk(node: Node) -> Iterator[Node]:
    cursor = node.walk()
    while True:
        current = cursor.node
        if current is not None:
            yield current
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def is_python_docstring(node: Node) -> bool:
    """An expression statement holding only a string, first in its module, class or function."""
    if node.type == "expression_statement":
        if node.named_child_count != 1 or node.named_children[0].type not in _STRINGS:
            return False
    elif node.type not in _STRINGS:
        return False
    parent = node.parent
    if parent is None or parent.type not in ("module", "block"):
        return False
    for sibling in parent.named_children:
        if sibling.type in COMMENT_TYPES:
            continue
        return sibling == node
    return False


def shape(tree: Tree, source: bytes) -> list[str | bytes]:
    """The tree as node types and leaf texts (``source`` is what was parsed), without comments
    and docstrings."""
    out: list[str | bytes] = []
    cursor = tree.walk()
    while True:
        node = cursor.node
        skip = True
        if node is not None:
            kind = node.type
            skip = kind in COMMENT_TYPES or (kind in _DOC_CANDIDATES
                                             and is_python_docstring(node))
            if not skip:
                out.append(kind)
                if node.child_count == 0:
                    out.append(source[node.start_byte:node.end_byte])
        if not skip and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out

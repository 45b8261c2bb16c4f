"""Under which condition a statement runs: the innermost ``if``, ``elif``, ``else`` or
``except``/``catch`` around it, read from the syntax tree (Python, Java, JavaScript/TypeScript,
C#). Used to say when a function raises what it raises."""

from __future__ import annotations

from tree_sitter import Node

from skills.codedoc.syntax import text_of

MAX_CONDITION = 90  # characters: a longer condition is not quoted
_CATCHES = frozenset({"except_clause", "catch_clause"})
_IFS = frozenset({"if_statement", "elif_clause"})
_SCOPES = frozenset({"function_definition", "class_definition", "lambda", "method_declaration",
                     "constructor_declaration", "function_declaration", "arrow_function",
                     "function_expression", "function", "local_function_statement",
                     "lambda_expression", "class_declaration", "class_body"})
# what a condition must not hold to be quoted inside a comment or a docstring
_UNSAFE = ('"""', "'''", "*/", "\\", "\n", "\r", "`", "--")


def _same(first: Node | None, second: Node | None) -> bool:
    return (first is not None and second is not None and first.type == second.type
            and first.start_byte == second.start_byte and first.end_byte == second.end_byte)


def _shown(node: Node | None) -> str:
    text = " ".join(text_of(node).split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def _negated(condition: str, python: bool) -> str:
    if python:
        return condition[4:] if condition.startswith("not ") else f"not ({condition})"
    return condition[1:] if condition.startswith("!") and " " not in condition else (
        f"!({condition})")


def _caught(clause: Node) -> str:
    """« except OSError », « catch IOException »: what a handler catches."""
    python = clause.type == "except_clause"
    for child in clause.named_children:
        if child.type in ("block", "statement_block"):
            break
        if child.type == "as_pattern" and child.named_children:
            child = child.named_children[0]
        if child.type in ("catch_formal_parameter", "catch_declaration"):
            kind = child.child_by_field_name("type") or next(
                (c for c in child.named_children if c.type in ("catch_type", "identifier",
                                                               "qualified_name")), None)
            child = kind or child
        caught = _shown(child)
        if caught:
            return f"except {caught}" if python else f"catch {caught}"
    return "except" if python else "catch"


def caught(condition: str) -> str | None:
    """The exception a handler's condition catches (« except OSError » → « OSError », '' for
    a bare handler); None for an ``if`` condition."""
    for keyword in ("except", "catch"):
        if condition == keyword or condition.startswith(keyword + " "):
            return condition.removeprefix(keyword).strip()
    return None


def condition_of(node: Node, stop: Node, python: bool) -> str:
    """The condition under which ``node`` runs inside ``stop`` (a function's body): the
    innermost one only; '' when it always runs, or when the condition is long or could not
    be quoted safely."""
    child, parent = node, node.parent
    found = ""
    while parent is not None and not _same(child, stop) and parent.type not in _SCOPES:
        if parent.type in _IFS:
            condition = _shown(parent.child_by_field_name("condition"))
            if _same(child, parent.child_by_field_name("consequence")):
                found = condition
                break
            if _same(child, parent.child_by_field_name("alternative")) and (
                    child.type != "elif_clause" and child.type != "else_clause"):
                found = _negated(condition, python)  # Java and C#: the else branch itself
                break
        elif parent.type == "else_clause" and parent.parent is not None and (
                parent.parent.type == "if_statement"):
            owner = parent.parent
            if any(c.type == "elif_clause" for c in owner.children):
                return ""  # after several branches: no single condition to quote
            found = _negated(_shown(owner.child_by_field_name("condition")), python)
            break
        elif parent.type in _CATCHES:
            found = _caught(parent)
            break
        child, parent = parent, parent.parent
    if len(found) > MAX_CONDITION or any(mark in found for mark in _UNSAFE):
        return ""
    return found

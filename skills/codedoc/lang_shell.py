"""Shell scripts (sh, bash, ksh) read with the bash grammar: the script and its functions, the
functions, scripts and programs they run, the files they redirect to or copy, the variables
they export."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from skills.codedoc.common import indent_of, merge
from skills.codedoc.model import Access, DocSlot, SourceFile, Unit
from skills.codedoc.syntax import Parsers, errors_in, first_error_line, text_of

if TYPE_CHECKING:
    from tree_sitter import Node

SCRIPT_SUFFIXES = (".sh", ".bash", ".ksh")
# builtins and everyday utilities: not worth naming as « programs run »
_QUIET = frozenset("""
. : [ [[ alias awk basename bg break builtin cat cd chmod chown command continue cp cut date
declare dirname echo eval exec exit export false fg find getopts grep head hash kill let local
ls mkdir mktemp mv printf pwd read readonly return rm rmdir sed set shift sleep sort source tail
tee test touch tr trap true type typeset ulimit umask unalias uniq unset wait wc xargs
for in do done if then elif else fi while until case esac select function { } !
""".split())
_WRAPPERS = frozenset({"exec", "nohup", "time", "nice", "env", "command", "sudo"})
_SHELLS = frozenset({"sh", "bash", "ksh", "dash", "zsh"})
_WRITE_OPERATORS = frozenset({">", ">>", ">|", "&>", "&>>"})
_READ_OPERATORS = frozenset({"<"})
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")
_NOT_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "-"})
_ARGUMENT = re.compile(r"\$\{?[0-9@*#?]\}?")  # « $1 », « $@ »: whatever the caller gives


@dataclass(slots=True)
class _Found:
    """What one piece of a script does."""

    calls: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)  # scripts run or sourced (base names)
    sourced: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)
    access: Access = field(default_factory=Access)


def script_name(path: str) -> str:
    """The name a script is known by: its file name."""
    return path.rsplit("/", 1)[-1]


def extract(path: str, text: str, parsers: Parsers) -> SourceFile:
    """The inventory of one shell script."""
    tree = parsers.parse("shell", text)
    name = script_name(path)
    source = SourceFile(path, "shell", text, name, parse_errors=errors_in(tree),
                        first_error=first_error_line(tree))
    lines = text.split("\n")
    root = tree.root_node
    values = _literals(root)
    functions = [node for node in _walk(root, into_functions=True)
                 if node.type == "function_definition"]
    top = _scan(root, values)
    script = Unit(kind="script", name=name, qualified=f"{path}:{name}", path=path, line=1,
                  end_line=max(1, source.lines), signature=(lines[0] if lines[0].startswith(
                      "#!") else name)[:120], doc=_header(lines))
    if not script.doc:  # a header, set apart by a blank line unless one follows already
        first = 1 if lines[0].startswith("#!") else 0
        apart = first < len(lines) and not lines[first].strip()
        script.slot = DocSlot(first, "", "shell" if apart else "shell-header")
    _give(script, top, source)
    founds = [top]
    source.units.append(script)
    source.doc = script.doc
    source.entry_points.append(name)
    for node in functions:
        function_name = text_of(node.child_by_field_name("name"))
        row = node.start_point.row
        qualified = f"{path}:{function_name}"  # defined twice (if/else): the line tells them
        if any(u.qualified == qualified for u in source.units):
            qualified += f"@{row + 1}"
        unit = Unit(kind="function", name=function_name, qualified=qualified,
                    path=path, line=row + 1, end_line=node.end_point.row + 1,
                    signature=lines[row].strip()[:120], doc=_comment_above(lines, row),
                    public=not function_name.startswith("_"))
        if not unit.doc and not lines[row][:node.start_point.column].strip():
            unit.slot = DocSlot(row, indent_of(lines[row]), "shell")
        body = node.child_by_field_name("body")
        founds.append(_scan(body, values) if body is not None else _Found())
        _give(unit, founds[-1], source)
        source.units.append(unit)
    own = {unit.name for unit in source.units}
    for found in founds:
        merge(source.imports, found.sourced + found.scripts
              + [p for p in found.programs if p not in own])
    return source


def _give(unit: Unit, found: _Found, source: SourceFile) -> None:
    unit.calls = tuple(found.calls)
    unit.exports = tuple(found.exports)
    merge(source.exports, found.exports)
    found.access.give(unit, source)


def _walk(node: Node, into_functions: bool) -> list[Node]:
    """Every node under ``node`` (function bodies only when ``into_functions``)."""
    out: list[Node] = []
    stack = list(reversed(node.children))
    while stack:
        current = stack.pop()
        out.append(current)
        if current.type != "function_definition" or into_functions:
            stack += reversed(current.children)
    return out


def _scan(node: Node, values: dict[str, str]) -> _Found:
    """The calls, files and exports of ``node``'s own code (not of functions defined in it)."""
    found = _Found()
    for child in _walk(node, into_functions=False):
        if child.type == "command":
            _command(child, found, values)
        elif child.type == "file_redirect":
            _redirect(child, found, values)
        elif child.type == "declaration_command" and text_of(child).startswith("export"):
            merge(found.exports, [text_of(c).split("=")[0] for c in child.named_children
                                  if c.type in ("variable_name", "variable_assignment")])
    return found


def _command(node: Node, found: _Found, values: dict[str, str]) -> None:
    words = [_word(c, values) for c in node.named_children
             if c.type not in ("variable_assignment", "file_redirect", "comment")]
    words = [w for w in words if w]
    while words and words[0] in _WRAPPERS:
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    if not words:
        return
    command = words[0].rsplit("/", 1)[-1]
    arguments = words[1:]
    if "$" in command or not command:
        return
    if command in (".", "source") and arguments:
        sourced = script_name(arguments[0])
        merge(found.sourced, [sourced])
        merge(found.calls, [sourced])
    elif command.endswith(SCRIPT_SUFFIXES):
        merge(found.scripts, [command])
        merge(found.calls, [command])
    elif command in _SHELLS:
        scripts = [script_name(a) for a in arguments if not a.startswith("-")][:1]
        merge(found.scripts, scripts)
        merge(found.calls, scripts)
    elif command == "export":
        merge(found.exports, [a.split("=")[0] for a in arguments if not a.startswith("-")])
    elif command not in _QUIET:
        merge(found.calls, [command])
        merge(found.programs, [command])
    _file_command(command, arguments, found)


def _file_command(command: str, arguments: list[str], found: _Found) -> None:
    """Files that cp, mv, tee, touch and cat read or write (best effort: options dropped)."""
    paths = [a for a in arguments if not a.startswith("-")]
    if command in ("cp", "mv") and len(paths) >= 2:
        found.access.add(_files(paths[:-1]), _files(paths[-1:]))
    elif command in ("tee", "touch"):
        found.access.add([], _files(paths))
    elif command == "cat":
        found.access.add(_files(paths), [])


def _redirect(node: Node, found: _Found, values: dict[str, str]) -> None:
    operator = next((text_of(c) for c in node.children if not c.is_named), "")
    target = node.child_by_field_name("destination") or (
        node.named_children[-1] if node.named_children else None)
    if target is None or target.type in ("number", "file_descriptor"):
        return
    name = _word(target, values)
    if operator in _WRITE_OPERATORS:
        found.access.add([], _files([name]))
    elif operator in _READ_OPERATORS:
        found.access.add(_files([name]), [])


def _files(paths: list[str]) -> list[str]:
    return [f"file {path}" for path in paths
            if path and path not in _NOT_FILES and not _ARGUMENT.fullmatch(path)
            and "$(" not in path and "`" not in path]  # a command's output: no name to give


def _word(node: Node, values: dict[str, str]) -> str:
    """A word as written, quotes removed, ``$NAME`` replaced by a literal the script assigns."""
    text = text_of(node)
    if node.type == "raw_string" or (node.type == "string" and "$" not in text):
        return text[1:-1]
    text = text.strip('"')
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _literals(root: Node) -> dict[str, str]:
    """Top-level ``NAME=value`` assignments whose value is a plain word once earlier ones are
    substituted (a name assigned twice is left out)."""
    values: dict[str, str] = {}
    seen: set[str] = set()
    for child in _walk(root, into_functions=False):
        if child.type != "variable_assignment":
            continue
        name = text_of(child.child_by_field_name("name"))
        value = child.child_by_field_name("value")
        text = _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)),
                             text_of(value).strip("\"'"))
        if name in seen or value is None or "$" in text or "`" in text:
            values.pop(name, None)
        else:
            values[name] = text
        seen.add(name)
    return values


def _header(lines: list[str]) -> str:
    """The first comment block of the script (after the ``#!`` line)."""
    row = 1 if lines and lines[0].startswith("#!") else 0
    while row < len(lines) and not lines[row].strip():
        row += 1
    block: list[str] = []
    while row < len(lines) and lines[row].lstrip().startswith("#"):
        block.append(lines[row].lstrip()[1:].strip())
        row += 1
    return "\n".join(line for line in block if not line.startswith("shellcheck")).strip()


def _comment_above(lines: list[str], row: int) -> str:
    block: list[str] = []
    cursor = row - 1
    while cursor >= 0 and lines[cursor].lstrip().startswith("#") and not (
            cursor == 0 and lines[0].startswith("#!")):
        block.insert(0, lines[cursor].lstrip()[1:].strip())
        cursor -= 1
    return "\n".join(block).strip()

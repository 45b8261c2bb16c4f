"""A unified diff adding documentation where a unit has none, in each language's convention.

Only comment or docstring lines are inserted (never a changed line), each before an existing
line, so the patch changes no code: :mod:`skills.codedoc.verify` checks it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from bot.messages import Locale
from skills.codedoc.describe import facts, sentence
from skills.codedoc.model import Inventory, SourceFile, Unit

CONTEXT = 3
_WIDTH = 88
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class PythonStyle:
    """How a project writes docstrings: sections (google, numpy, rest or none), summary line."""

    sections: str = "none"
    summary_on_first_line: bool = True


@dataclass(slots=True)
class Patch:
    """The patched texts, the diff (one part per file) and the units it documents."""

    texts: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)
    documented: list[str] = field(default_factory=list)  # qualified names

    @property
    def diff(self) -> str:
        """The whole unified diff."""
        return "".join(self.diffs[path] for path in sorted(self.diffs))


def python_style(inventory: Inventory) -> PythonStyle:
    """The docstring style most of the project's existing docstrings follow."""
    counts = {"google": 0, "numpy": 0, "rest": 0}
    first_line = other = 0
    for source in inventory.files:
        if source.language != "python":
            continue
        for unit in source.units:
            doc = unit.doc
            if not doc:
                continue
            counts["google"] += bool(re.search(r"(?m)^\s*(Args|Returns|Raises):\s*$", doc))
            counts["numpy"] += bool(re.search(r"(?m)^\s*Parameters\s*\n\s*-{3,}", doc))
            counts["rest"] += ":param " in doc or ":return" in doc
        text = source.text
        first_line += len(re.findall(r'(?m)^\s*(?:"""|\'\'\')\S', text))
        other += len(re.findall(r'(?m)^\s*(?:"""|\'\'\')\s*$', text)) // 2
    best = max(counts, key=lambda key: counts[key])
    return PythonStyle(best if counts[best] else "none", first_line >= other)


def clean(text: str) -> str:
    """Text safe inside any comment or docstring, on one line: no closing markers, no control
    characters (a line break would leave a raw line in the diff)."""
    text = " ".join(_UNSAFE.sub(" ", text).split())
    text = text.replace("\\", "/").replace('"""', "''").replace("'''", "''")
    return text.replace("*/", "* /").replace("-->", "- ->").strip()


def _type(text: str) -> str:
    """A type annotation on one line, at most 100 characters."""
    text = clean(text)
    return text if len(text) <= 100 else text[:99] + "…"


def build(inventory: Inventory, locale: Locale, purposes: Mapping[str, str] | None = None,
          style: PythonStyle | None = None) -> Patch:
    """Documentation for every undocumented unit that has a safe place for it."""
    purposes = purposes or {}
    style = style or python_style(inventory)
    patch = Patch()
    for source in inventory.files:
        inserts: dict[int, list[str]] = {}
        for unit in source.units:
            if unit.doc or unit.slot is None or unit.kind == "module":
                continue
            body = _body(unit, inventory, locale, purposes.get(unit.qualified))
            lines = [" ".join(line.splitlines()) for line in _render(unit, body, style, locale)]
            if lines:
                inserts.setdefault(unit.slot.line, []).extend(lines)
                patch.documented.append(unit.qualified)
        if inserts:
            patch.texts[source.path], patch.diffs[source.path] = _apply(source, inserts)
    return patch


def _body(unit: Unit, inventory: Inventory, locale: Locale, purpose: str | None) -> list[str]:
    found = sentence(facts(unit, inventory, locale, quote="`"), locale)
    return [clean(purpose), clean(found)] if purpose else [clean(found)]


def _render(unit: Unit, body: list[str], style: PythonStyle, locale: Locale) -> list[str]:
    slot = unit.slot
    assert slot is not None
    indent = slot.indent
    if slot.style == "python":
        return _python(unit, body, style, indent, locale)
    if slot.style in ("javadoc", "jsdoc"):
        return _block(unit, body, indent, slot.style)
    if slot.style == "xmldoc":
        return _xml_doc(unit, body, indent)
    if slot.style == "cobol-fixed":
        return _prefixed(f"{unit.name}: " + " ".join(body), "      * ", 72, frame="      *" + "-" * 50)
    if slot.style == "cobol-free":
        return _prefixed(f"{unit.name}: " + " ".join(body), indent + "*> ", _WIDTH)
    if slot.style == "sql":
        return _prefixed(f"{unit.kind} {unit.name}: " + " ".join(body), indent + "-- ", _WIDTH)
    if slot.style == "jcl":
        return _prefixed(f"{unit.name}: " + " ".join(body), "//* ", 71)
    if slot.style in ("shell", "shell-header"):  # a header is set apart from what follows
        lines = _prefixed(f"{unit.name}: " + " ".join(body), indent + "# ", _WIDTH)
        return [*lines, ""] if slot.style == "shell-header" else lines
    return []


def _prefixed(text: str, prefix: str, width: int, frame: str = "") -> list[str]:
    wrapped = textwrap.wrap(text, max(20, width - len(prefix)), break_long_words=True,
                            break_on_hyphens=False)
    lines = [prefix + line for line in wrapped]
    return [frame, *lines, frame] if frame else lines


def _python(unit: Unit, body: list[str], style: PythonStyle, indent: str,
            locale: Locale) -> list[str]:
    width = max(40, _WIDTH - len(indent))
    paragraphs = [textwrap.wrap(part, width) for part in body if part]
    sections: list[str] = []
    params = [p for p in unit.params if not p.startswith(("*", "/")) or p.startswith(("*a", "**"))]
    if style.sections == "google" and params:
        sections += ["Args:"] + [f"    {_param(p)}" for p in params]
    elif style.sections == "rest" and params:
        sections += [f":param {_param(p)}" for p in params]
    elif style.sections == "numpy" and params:
        sections += ["Parameters", "----------"] + [_param(p).replace(": ", " : ", 1)
                                                    for p in params]
    lines: list[str] = []
    for number, paragraph in enumerate(paragraphs):
        if number:
            lines.append("")
        lines += paragraph
    if sections:
        lines += ["", *sections]
    if not lines:
        return []
    if len(lines) == 1 and len(lines[0]) + 6 <= width:
        return [f'{indent}"""{lines[0]}"""']
    first = [f'{indent}"""{lines[0]}'] if style.summary_on_first_line else [
        f'{indent}"""', f"{indent}{lines[0]}"]
    rest = [f"{indent}{line}" if line else "" for line in lines[1:]]
    return [*first, *rest, f'{indent}"""']


def _param(parameter: str) -> str:
    name, _, annotation = parameter.partition(":")
    annotation = annotation.split("=")[0].strip()
    name = name.split("=")[0].strip()
    return f"{name}: ``{_type(annotation)}``." if annotation else f"{name}: —"


def _block(unit: Unit, body: list[str], indent: str, style: str) -> list[str]:
    width = max(40, _WIDTH - len(indent) - 3)
    lines = [f"{indent}/**"]
    for number, part in enumerate(body):
        if number:
            lines.append(f"{indent} *")
        if style == "javadoc":  # Javadoc is HTML: « amount < 0 », « List<Order> » escaped
            part = escape(part, quote=False)
        lines += [f"{indent} * {line}" for line in textwrap.wrap(part, width)]
    tags: list[str] = []
    for parameter in unit.params:
        words = parameter.split("=")[0].strip().split()
        if style == "javadoc" and len(words) > 1:
            tags.append(f"@param {clean(words[-1])} {{@code {_type(' '.join(words[:-1]))}}}")
        else:
            name, _, kind = parameter.split("=")[0].partition(":")
            typed = f" {{{_type(kind)}}}" if kind.strip() else ""
            tags.append(f"@param{typed} {clean(name.strip().lstrip('.'))}")
    if unit.returns and unit.returns not in ("void", "None") and unit.kind != "constructor":
        tags.append(f"@return {{@code {_type(unit.returns)}}}" if style == "javadoc"
                    else f"@returns {{{_type(unit.returns)}}}")
    for raised in unit.raises:
        tags.append(f"@throws {clean(raised)}" if style == "javadoc"
                    else f"@throws {{{clean(raised)}}}")
    if tags:
        lines.append(f"{indent} *")
        lines += [f"{indent} * {tag}" for tag in tags]
    return [*lines, f"{indent} */"]


def _xml_doc(unit: Unit, body: list[str], indent: str) -> list[str]:
    """C# XML documentation: ``/// <summary>``, ``<param>``, ``<returns>``, ``<exception>``."""
    width = max(40, _WIDTH - len(indent) - 4)
    lines = [f"{indent}/// <summary>"]
    for part in body:
        lines += [f"{indent}/// {line}" for line in textwrap.wrap(escape(part), width)]
    lines.append(f"{indent}/// </summary>")
    for parameter in unit.params:
        words = parameter.split("=")[0].split()
        if len(words) > 1:
            lines.append(f'{indent}/// <param name="{escape(clean(words[-1]))}">'
                         f"{escape(_type(' '.join(words[:-1])))}</param>")
    if unit.returns and unit.returns != "void" and unit.kind != "constructor":
        lines.append(f"{indent}/// <returns>{escape(_type(unit.returns))}</returns>")
    lines += [f'{indent}/// <exception cref="{escape(clean(raised))}"/>' for raised in unit.raises]
    return lines


def _apply(source: SourceFile, inserts: dict[int, list[str]]) -> tuple[str, str]:
    """The new text and the unified diff of inserting ``inserts`` (row → lines before it)."""
    text = source.text
    raw = text.split("\n")
    final_newline = text.endswith("\n")
    if final_newline:
        raw.pop()
    old = raw
    new: list[str] = []
    for row, line in enumerate(old):
        ending = "\r" if line.endswith("\r") else ""
        new += [added + ending for added in inserts.get(row, [])]
        new.append(line)
    new_text = "\n".join(new) + ("\n" if final_newline else "")
    return new_text, _diff(source.path, old, inserts, final_newline)


def _diff(path: str, old: list[str], inserts: dict[int, list[str]], final_newline: bool) -> str:
    rows = sorted(inserts)
    groups: list[list[int]] = []
    for row in rows:
        if groups and row - groups[-1][-1] <= 2 * CONTEXT:
            groups[-1].append(row)
        else:
            groups.append([row])
    out = [f"diff --git a/{path} b/{path}\n", f"--- a/{path}\n", f"+++ b/{path}\n"]
    shift = 0
    for group in groups:
        start = max(0, group[0] - CONTEXT)
        end = min(len(old), group[-1] + CONTEXT + 1)
        added = sum(len(inserts[row]) for row in group)
        old_count = end - start
        out.append(f"@@ -{start + 1},{old_count} +{start + 1 + shift},{old_count + added} @@\n")
        for row in range(start, end):
            ending = "\r" if old[row].endswith("\r") else ""
            out += [f"+{line}{ending}\n" for line in inserts.get(row, [])]
            out.append(f" {old[row]}\n")
            if row == len(old) - 1 and not final_newline:
                out.append("\\ No newline at end of file\n")
        shift += added
    return "".join(out)

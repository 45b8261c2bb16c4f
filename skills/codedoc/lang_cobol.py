"""COBOL programs and copybooks, and JCL jobs, read line by line.

The COBOL grammar of ``tree-sitter-language-pack`` (0.13) stops at the first ``EXEC SQL``
block and cannot read a copybook on its own, so the structure is read here from the
language's own layout: divisions, sections, paragraphs (area A), ``COPY``, ``CALL``,
``PERFORM``/``GO TO``, ``SELECT … ASSIGN``, ``OPEN``/``READ``/``WRITE`` and ``EXEC SQL``.
Fixed format (sequence area, indicator in column 7) and free format (``*>``) are both read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from skills.codedoc.common import merge, sql_tables
from skills.codedoc.model import Access, DocSlot, SourceFile, Unit

_VERBS = frozenset("""ACCEPT ADD ALTER CALL CANCEL CLOSE COMPUTE CONTINUE DELETE DISPLAY DIVIDE
ELSE END-IF END-PERFORM END-READ END-EVALUATE END-EXEC EVALUATE EXEC EXIT GOBACK GO IF
INITIALIZE INSPECT MOVE MULTIPLY OPEN PERFORM READ RELEASE RETURN REWRITE SEARCH SET SORT
START STOP STRING SUBTRACT UNSTRING WHEN WRITE NOT AT INVALID""".split())
_INLINE_PERFORM = frozenset({"UNTIL", "VARYING", "WITH", "TEST", "FOREVER"})
_NAME = r"[A-Z0-9][A-Z0-9-]*"
_PROGRAM_ID = re.compile(rf"\bPROGRAM-ID\.?\s+['\"]?({_NAME})", re.I)
_DIVISION = re.compile(r"^\s*(IDENTIFICATION|ID|ENVIRONMENT|DATA|PROCEDURE)\s+DIVISION\b", re.I)
_SECTION = re.compile(rf"^\s*({_NAME})\s+SECTION\s*\.", re.I)
_PARAGRAPH = re.compile(rf"^\s*({_NAME})\s*\.\s*$", re.I)
_COPY = re.compile(rf"\bCOPY\s+['\"]?({_NAME})", re.I)
_CALL = re.compile(rf"\bCALL\s+(?:'({_NAME})'|\"({_NAME})\"|({_NAME}))", re.I)
_PERFORM = re.compile(rf"\bPERFORM\s+({_NAME})(?:\s+(?:THRU|THROUGH)\s+({_NAME}))?", re.I)
_GO_TO = re.compile(rf"\bGO\s+TO\s+({_NAME})", re.I)
_SELECT = re.compile(rf"\bSELECT\s+(?:OPTIONAL\s+)?({_NAME})\s+ASSIGN\s+(?:TO\s+)?['\"]?"
                     rf"([\w.-]+)", re.I)
_OPEN = re.compile(r"\bOPEN\s+(.*)", re.I)
_OPEN_MODES = frozenset({"INPUT", "OUTPUT", "I-O", "EXTEND"})
_READ = re.compile(rf"\bREAD\s+({_NAME})", re.I)
_RECORD = re.compile(rf"^\s*(01|77)\s+({_NAME})", re.I)
_USING = re.compile(r"\bPROCEDURE\s+DIVISION\s+USING\s+([A-Z0-9\s-]+?)\s*\.", re.I)
_EXEC = re.compile(r"\bEXEC\s+(SQL|CICS)\b(.*?)\bEND-EXEC\b", re.I | re.S)

_JCL_JOB = re.compile(r"^//(\S+)\s+JOB\b")
_JCL_STEP = re.compile(r"^//(\S+)\s+EXEC\s+(?:PGM=([\w$#@]+)|(?:PROC=)?([\w$#@]+))")
_JCL_DSN = re.compile(r"\bDSN(?:AME)?=([\w.$#@()&+-]+)")
_JCL_DISP = re.compile(r"\bDISP=\(?(\w+)")


@dataclass(frozen=True, slots=True)
class CobolLine:
    """One source line: its code area (comment lines have none) and whether it is a comment."""

    row: int
    code: str
    comment: str | None
    area_a: bool  # the code starts in area A (columns 8-11), where paragraph names live


def is_fixed(lines: list[str]) -> bool:
    """Fixed format: code from column 8, an indicator in column 7, no ``*>`` comments."""
    meaningful = [line for line in lines if line.strip()]
    if not meaningful:
        return True
    fixed = sum(1 for line in meaningful
                if len(line) > 6 and (line[:6].strip() == "" or line[:6].isdigit())
                and (line[6] in " *-/Dd"))
    return fixed >= 0.8 * len(meaningful)


def read_lines(text: str) -> tuple[list[CobolLine], bool]:
    """The program's lines as code areas and comments, and whether it is fixed format."""
    raw = text.split("\n")
    fixed = is_fixed(raw)
    lines = []
    for row, line in enumerate(raw):
        if fixed:
            indicator = line[6] if len(line) > 6 else " "
            body = line[7:72]
            if indicator in "*/":
                lines.append(CobolLine(row, "", body.strip(), False))
                continue
            lines.append(CobolLine(row, body.rstrip(), None, bool(body[:4].strip())))
        else:
            stripped = line.strip()
            if stripped.startswith("*>") or stripped.startswith("*"):
                lines.append(CobolLine(row, "", stripped.lstrip("*>").strip(), False))
                continue
            code = line.split("*>", 1)[0].rstrip()
            lines.append(CobolLine(row, code, None, len(line) - len(line.lstrip()) < 4))
    return lines, fixed


def code_lines(text: str) -> list[str]:
    """Code without comments, sequence numbers or trailing blanks: what a compiler reads."""
    return [" ".join(line.code.split()) for line in read_lines(text)[0]
            if line.comment is None and line.code.strip()]


def _comment_above(lines: list[CobolLine], index: int) -> str:
    block: list[str] = []
    cursor = index - 1
    while cursor >= 0 and lines[cursor].comment is not None:
        block.insert(0, lines[cursor].comment or "")
        cursor -= 1
    return "\n".join(part.strip("*- ") for part in block if part.strip("*- ")).strip()


def extract(path: str, text: str) -> SourceFile:
    """The inventory of a COBOL program or copybook."""
    lines, fixed = read_lines(text)
    style = "cobol-fixed" if fixed else "cobol-free"
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].upper()
    joined = "\n".join(line.code for line in lines)
    program = _PROGRAM_ID.search(joined)
    source = SourceFile(path, "cobol", text, program.group(1).upper() if program else stem)
    merge(source.imports, [m.group(1).upper() for m in _COPY.finditer(joined)])
    if program is None:
        _copybook(source, lines, style)
        return source
    head = next((i for i, line in enumerate(lines) if _DIVISION.match(line.code)), 0)
    top = Unit(kind="program", name=source.name, qualified=source.name, path=path,
               line=head + 1, end_line=len(lines), signature=f"PROGRAM-ID. {source.name}",
               doc=_comment_above(lines, head) or _leading_comments(lines, head),
               slot=DocSlot(head, "", style))
    source.doc = top.doc
    source.units.append(top)
    assigned = {m.group(1).upper(): m.group(2).upper().rstrip(".")
                for m in _SELECT.finditer(joined)}
    _procedure(source, lines, top, assigned, style)
    using = _USING.search(joined)
    if using:
        top.params = tuple(using.group(1).upper().split())
    merge(source.entry_points, [f"PROGRAM {source.name}"])
    _data_access(top, source, joined, assigned)
    return source


def _leading_comments(lines: list[CobolLine], head: int) -> str:
    texts = [line.comment.strip("*- ") for line in lines[:head + 4]
             if line.comment is not None and line.comment.strip("*- ")]
    return "\n".join(texts)


def _copybook(source: SourceFile, lines: list[CobolLine], style: str) -> None:
    fields: list[str] = []
    current: Unit | None = None
    for index, line in enumerate(lines):
        match = _RECORD.match(line.code)
        if match:
            current = Unit(kind="record", name=match.group(2).upper(),
                           qualified=f"{source.name}.{match.group(2).upper()}", path=source.path,
                           line=line.row + 1, end_line=line.row + 1,
                           signature=" ".join(line.code.split()), doc=_comment_above(lines, index),
                           slot=DocSlot(line.row, "", style))
            source.units.append(current)
            fields = []
        elif current is not None and line.code.strip():
            fields.append(" ".join(line.code.split()).rstrip("."))
            current.end_line = line.row + 1
            current.params = tuple(fields)


def _procedure(source: SourceFile, lines: list[CobolLine], top: Unit,
               assigned: dict[str, str], style: str) -> None:
    in_procedure = False
    current = top
    calls: dict[str, list[str]] = {top.qualified: []}
    bodies: dict[str, list[str]] = {top.qualified: []}
    for index, line in enumerate(lines):
        code = line.code
        if line.comment is not None or not code.strip():
            continue
        if current is not top:
            current.end_line = line.row + 1
        if _DIVISION.match(code):
            in_procedure = code.strip().upper().startswith("PROCEDURE")
            continue
        if not in_procedure:
            continue
        header = _SECTION.match(code) or _PARAGRAPH.match(code)
        if header and line.area_a and header.group(1).upper() not in _VERBS:
            name = header.group(1).upper()
            kind = "section" if _SECTION.match(code) else "paragraph"
            current = Unit(kind=kind, name=name, qualified=f"{source.name}.{name}",
                           path=source.path, line=line.row + 1, end_line=line.row + 1,
                           signature=" ".join(code.split()), doc=_comment_above(lines, index),
                           slot=DocSlot(line.row, "", style))
            source.units.append(current)
            calls[current.qualified] = []
            bodies[current.qualified] = []
            continue
        bodies[current.qualified].append(code)
        found = calls[current.qualified]
        for match in _PERFORM.finditer(code):
            target = match.group(1).upper()
            after = code[match.end():].split()
            if target in _INLINE_PERFORM or (after[:1] == ["TIMES"]) or target.isdigit():
                continue
            merge(found, [t.upper() for t in match.groups() if t])
        merge(found, [m.group(1).upper() for m in _GO_TO.finditer(code)])
        for match in _CALL.finditer(code):
            merge(found, [next(g for g in match.groups() if g).upper()])
    for unit in source.units:
        unit.calls = tuple(calls.get(unit.qualified, ()))
        if unit is not top:
            _data_access(unit, source, "\n".join(bodies[unit.qualified]), assigned)


def _data_access(unit: Unit, source: SourceFile, joined: str, assigned: dict[str, str]) -> None:
    """Files opened and SQL tables used by ``joined`` (a paragraph, or the whole program)."""
    access = Access()
    for line in joined.split("\n"):
        match = _OPEN.search(line)
        mode = ""
        for word in (match.group(1).upper().replace(".", " . ").split() if match else ()):
            if word in _OPEN_MODES:
                mode = word
            elif word == "." or word in _VERBS or not mode:
                break
            else:
                name = f"file {assigned.get(word, word)}"
                access.add([name] if mode in ("INPUT", "I-O") else [],
                           [name] if mode != "INPUT" else [])
    access.add([f"file {assigned.get(m.group(1).upper(), m.group(1).upper())}"
                for m in _READ.finditer(joined)], [])
    for match in _EXEC.finditer(joined):
        if match.group(1).upper() == "SQL":
            reads, writes = sql_tables(match.group(2))
            access.add([f"table {name}" for name in reads], [f"table {name}" for name in writes])
    access.give(unit, source)


def extract_jcl(path: str, text: str) -> SourceFile:
    """The inventory of a JCL job: the job, its steps, the programs and datasets they use."""
    lines = text.split("\n")
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].upper()
    source = SourceFile(path, "jcl", text, name)
    comments: list[str] = []
    current: Unit | None = None
    for row, line in enumerate(lines):
        if line.startswith("//*"):
            if current is not None and current.kind == "job" and current.end_line == row:
                current.doc = "\n".join(filter(None, (current.doc, line[3:].strip())))
                current.end_line = row + 1
            else:
                comments.append(line[3:].strip())
            continue
        job = _JCL_JOB.match(line)
        step = _JCL_STEP.match(line)
        if job:
            source.name = job.group(1).upper()
            # a comment goes after the JOB statement (and its continuation lines): one
            # before it would be read as the first statement of another job
            end = row
            while end + 1 < len(lines) and lines[end].rstrip().endswith(",") and \
                    lines[end + 1].startswith("//") and not lines[end + 1].startswith("//*"):
                end += 1
            current = Unit(kind="job", name=source.name, qualified=f"JOB {source.name}",
                           path=path, line=row + 1, end_line=end + 1,
                           signature=" ".join(line.split())[:120], doc="\n".join(comments),
                           slot=DocSlot(end + 1, "", "jcl"))
            source.units.append(current)
        elif step:
            program = (step.group(2) or step.group(3) or "").upper()
            current = Unit(kind="step", name=step.group(1).upper(),
                           qualified=f"{source.name}.{step.group(1).upper()}", path=path,
                           line=row + 1, end_line=row + 1, signature=" ".join(line.split()),
                           doc="\n".join(comments), calls=(program,) if program else (),
                           slot=DocSlot(row, "", "jcl"))
            source.units.append(current)
            merge(source.entry_points, [f"{current.name} → {program}"])
        elif line.startswith("//") and current is not None:
            _jcl_dataset(current, source, line)
            current.end_line = row + 1
        if not line.startswith("//*"):
            comments = []
    if source.units and source.units[0].kind == "job" and not source.doc:
        source.doc = source.units[0].doc or next(
            (u.doc for u in source.units if u.doc), "")
    return source


def _jcl_dataset(step: Unit, source: SourceFile, line: str) -> None:
    dataset = _JCL_DSN.search(line)
    if dataset is None:
        return
    disposition = _JCL_DISP.search(line)
    mode = disposition.group(1).upper() if disposition else "SHR"
    name = f"dataset {dataset.group(1)}"
    access = Access(list(step.reads), list(step.writes))
    access.add([] if mode in ("NEW", "MOD") else [name], [name] if mode in ("NEW", "MOD") else [])
    access.give(step, source)

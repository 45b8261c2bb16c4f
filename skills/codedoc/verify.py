"""Proof that a documentation patch changes no code.

The patch is applied by ``git apply`` (after ``git apply --check``) to a temporary copy of
the files it touches; each patched file must equal the text the patch was built from, parse
to the same syntax tree once comments and docstrings are left out, and (Python) compile to the same bytecode once docstrings are dropped.
"""

from __future__ import annotations

import dis
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType

from skills.codedoc import lang_cobol
from skills.codedoc.patch import Patch
from skills.codedoc.sources import Sources
from skills.codedoc.syntax import Parsers, errors_in, shape

_NOP = dis.opmap["NOP"]


@dataclass(slots=True)
class Verification:
    """What the checks found: files preserved, files that failed and why."""

    preserved: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    git_checked: bool = False

    @property
    def ok(self) -> bool:
        """Every patched file keeps its code."""
        return not self.failed


def verify(sources: Sources, patch: Patch, parsers: Parsers | None = None) -> Verification:
    """Apply ``patch`` to a copy of ``sources`` and compare syntax trees (never executes code)."""
    parsers = parsers or Parsers()
    result = Verification()
    if not patch.diffs:
        return result
    applied = _git_apply(sources, patch, result)
    for path in sorted(patch.diffs):
        if path in result.failed:
            continue
        before = sources.texts[path]
        after = applied.get(path, patch.texts[path])
        if after != patch.texts[path]:
            result.failed[path] = "git apply gave another text"
            continue
        reason = same_code(sources.languages[path], path, before, after, parsers)
        if reason:
            result.failed[path] = reason
        else:
            result.preserved.append(path)
    return result


def same_code(language: str, path: str, before: str, after: str, parsers: Parsers) -> str:
    """'' when ``after`` is ``before`` plus comments/docstrings only; else the reason."""
    if language == "cobol":
        if lang_cobol.code_lines(before) != lang_cobol.code_lines(after):
            return "COBOL code lines differ"
        old, new = before.encode(), after.encode()
        tree = parsers.parse("cobol", old)
        if errors_in(tree):  # EXEC SQL, a lone copybook: the grammar cannot read it
            return ""
        return "" if shape(tree, old) == shape(parsers.parse("cobol", new), new) else (
            "syntax tree differs")
    if language == "jcl":
        def statements(text: str) -> list[str]:
            return [line for line in text.split("\n") if not line.startswith("//*")]
        return "" if statements(before) == statements(after) else "JCL statements differ"
    old, new = before.encode(), after.encode()
    if shape(parsers.parse(language, old), old) != shape(parsers.parse(language, new), new):
        return "syntax tree differs"
    if language == "python":
        try:
            original = compile(before, path, "exec", dont_inherit=True, optimize=2)
        except (SyntaxError, ValueError):
            return ""  # not Python 3 (Python 2, a template…): the tree-sitter check stands
        try:
            patched = compile(after, path, "exec", dont_inherit=True, optimize=2)
        except (SyntaxError, ValueError) as error:
            return f"does not compile ({type(error).__name__})"
        if not same_bytecode(original, patched):
            return "Python bytecode differs"
    return ""


def same_bytecode(first: CodeType, second: CodeType) -> bool:
    """Same instructions, names and constants. ``optimize=2`` drops docstrings but leaves a
    ``NOP`` where one was (at the start of its body, spanned by no jump): no-ops are left out
    of the comparison, and so are line numbers, which a docstring shifts."""
    if (_without_nops(first.co_code) != _without_nops(second.co_code)
            or first.co_names != second.co_names
            or first.co_varnames != second.co_varnames or first.co_flags != second.co_flags
            or first.co_freevars != second.co_freevars
            or first.co_cellvars != second.co_cellvars
            or len(first.co_consts) != len(second.co_consts)):
        return False
    for one, other in zip(first.co_consts, second.co_consts, strict=True):
        if isinstance(one, CodeType) and isinstance(other, CodeType):
            if not same_bytecode(one, other):
                return False
        elif type(one) is not type(other) or one != other:
            return False
    return True


def _without_nops(code: bytes) -> bytes:
    """Bytecode (2-byte units since Python 3.6) without its no-op instructions."""
    return b"".join(code[index:index + 2] for index in range(0, len(code), 2)
                    if code[index] != _NOP)


def _git_apply(sources: Sources, patch: Patch, result: Verification) -> dict[str, str]:
    """The patched texts as ``git apply`` writes them ({} when git is not installed).

    The whole patch is checked and applied at once; if git refuses it, each file's part is
    tried alone, so that one bad part costs only its own file.
    """
    git = shutil.which("git")
    if git is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="almia-codedoc-") as folder:
        root = Path(folder)
        for path in patch.diffs:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(sources.texts[path].encode(sources.encodings.get(path, "utf-8")))
        applied = sorted(patch.diffs)
        if not _apply(git, root, sources, patch, applied):
            applied = [path for path in sorted(patch.diffs)
                       if _apply(git, root, sources, patch, [path])]
            for path in patch.diffs:
                if path not in applied:
                    result.failed[path] = "git apply --check refused the patch"
        result.git_checked = True
        return {path: (root / path).read_bytes().decode(sources.encodings.get(path, "utf-8"))
                for path in applied}


def _apply(git: str, root: Path, sources: Sources, patch: Patch, paths: list[str]) -> bool:
    """``git apply --check`` then ``git apply`` of the parts of ``paths``; False if refused."""
    diff = root / ".almia.patch"
    diff.write_bytes(b"".join(patch.diffs[p].encode(sources.encodings.get(p, "utf-8"))
                              for p in paths))
    for arguments in (["--check"], []):
        run = subprocess.run(  # noqa: S603 (git itself, fixed arguments, no shell)
            [git, "apply", *arguments, "--whitespace=nowarn", diff.name],
            cwd=root, capture_output=True, check=False, timeout=120,
            env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root),
                 "GIT_CEILING_DIRECTORIES": str(root)})
        if run.returncode != 0:
            return False
    return True

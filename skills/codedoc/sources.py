"""Source files from a folder, a ZIP or a pasted snippet: read as text, never executed.

A ZIP passes the same checks as any uploaded file (:func:`bot.files.intake.check_file`:
entry count, expansion, ratio, traversal, links, encryption, nesting) and is read in memory,
entry by entry; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from bot.files.intake import check_file
from bot.files.settings import FileSettings

LANGUAGES: dict[str, str] = {
    ".py": "python", ".java": "java", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".cs": "csharp",
    ".sql": "sql",
    ".cbl": "cobol", ".cob": "cobol", ".cobol": "cobol", ".pco": "cobol", ".cpy": "cobol",
    ".copy": "cobol", ".jcl": "jcl", ".job": "jcl", ".prc": "jcl",
    ".sh": "shell", ".bash": "shell", ".ksh": "shell",
}
# an extensionless file is read as a script when its first line says so
_SHEBANG = re.compile(rb"\A#![ \t]*/\S*?/(?:env[ \t]+)?(?:ba|k)?sh\b")
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv",
                          ".tox", ".mypy_cache", ".ruff_cache", "build", "dist", "target",
                          ".idea", ".vscode", "site-packages"})
MAX_FILE_BYTES = 2 * 1_048_576  # a larger « source » is generated or data: skipped
MAX_FILES = 5000


@dataclass(slots=True)
class Sources:
    """Texts by relative POSIX path, with the files left aside and why."""

    texts: dict[str, str] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    package: str = ""  # the Python package the folder is (its paths stay relative to it)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str, data: bytes, language: str | None = None) -> None:
        """Keep ``data`` as the text of ``path`` if it is a supported, readable source
        (``language``: when the content, not the extension, tells it)."""
        language = language or language_of(path)
        if language is None:
            self.skipped.append((path, "unsupported"))
        elif len(data) > MAX_FILE_BYTES:
            self.skipped.append((path, "too large"))
        elif len(self.texts) >= MAX_FILES:
            self.skipped.append((path, "too many files"))
        elif b"\x00" in data[:8192]:
            self.skipped.append((path, "binary"))
        elif language in ("javascript", "typescript") and _minified(path, data):
            self.skipped.append((path, "minified or generated"))
        else:
            encoding = encoding_of(data)
            try:
                self.texts[path] = data.decode(encoding)
            except UnicodeDecodeError:
                self.skipped.append((path, "unknown encoding"))
                return
            self.languages[path] = language
            self.encodings[path] = encoding


def _minified(path: str, data: bytes) -> bool:
    """A bundle or minified script: nothing to document, and no line a person wrote."""
    if path.lower().endswith((".min.js", ".bundle.js")):
        return True
    lines = data.count(b"\n") + 1
    return len(data) / lines > 300


def language_of(path: str) -> str | None:
    """The language of a file by its extension (``None``: not a source we read)."""
    return LANGUAGES.get(PurePosixPath(path.lower()).suffix)


def script_language(path: str, head: bytes) -> str | None:
    """``shell`` for a file without extension whose first line is a ``#!`` of sh, bash or
    ksh (``head``: its first bytes)."""
    if PurePosixPath(path).suffix or not _SHEBANG.match(head):
        return None
    return "shell"


def encoding_of(data: bytes) -> str:
    """``utf-8`` when the bytes decode so, else ``cp1252`` (every byte decodes, or is refused)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def from_folder(root: Path) -> Sources:
    """Every supported source under ``root`` (symbolic links are not followed)."""
    sources = Sources(package=root.resolve().name if (root / "__init__.py").is_file() else "")
    for path in _walk(root):
        relative = path.relative_to(root).as_posix()
        language = language_of(relative)
        if language is None and not PurePosixPath(relative).suffix:
            with path.open("rb") as stream:
                language = script_language(relative, stream.read(128))
        if language is None:
            continue
        sources.add(relative, path.read_bytes(), language)
    return sources


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.iterdir()):
        if path.is_symlink():
            continue
        if path.is_dir():
            if path.name not in SKIPPED_DIRS and not path.name.startswith("."):
                yield from _walk(path)
        elif path.is_file():
            yield path


def from_zip(name: str, data: bytes, settings: FileSettings | None = None) -> Sources:
    """Every supported source in a ZIP that passed the upload checks (raises ``FileRejected``)."""
    stream = io.BytesIO(data)
    check_file(name, stream, settings or FileSettings())
    sources = Sources()
    with zipfile.ZipFile(stream) as archive:
        # a ZIP of one folder (« sinistres/… »): paths from inside it, as the repository has
        # them, so that « git apply documentation.patch » works at its root
        files = [info.filename for info in archive.infolist() if not info.is_dir()]
        tops = {PurePosixPath(path).parts[0] for path in files}
        top = (next(iter(tops)) + "/" if len(tops) == 1 and files
               and all(len(PurePosixPath(path).parts) > 1 for path in files) else "")
        for info in archive.infolist():
            path = info.filename.removeprefix(top)
            parts = PurePosixPath(path).parts
            if info.is_dir() or any(part in SKIPPED_DIRS or part.startswith(".")
                                    for part in parts[:-1]):
                continue
            language = language_of(path)
            if language is None and not PurePosixPath(path).suffix:
                with archive.open(info) as entry:
                    language = script_language(path, entry.read(128))
            if language is None:
                sources.skipped.append((path, "unsupported"))
                continue
            if info.file_size > MAX_FILE_BYTES:
                sources.skipped.append((path, "too large"))
                continue
            with archive.open(info) as entry:
                sources.add(path, entry.read(MAX_FILE_BYTES + 1), language)
    return sources


_SNIPPET_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("shell", re.compile(r"\A\s*#![ \t]*/\S*?/(?:env[ \t]+)?(?:ba|k)?sh\b")),
    ("cobol", re.compile(r"(?im)^.{0,7}\b(?:IDENTIFICATION|PROCEDURE|DATA)\s+DIVISION\b|"
                         r"^\s{4,}[A-Z0-9][A-Z0-9-]*\.\s*$\n\s+(?:PERFORM|MOVE|IF|CALL)\b")),
    ("jcl", re.compile(r"(?m)^//\S*\s+(?:JOB|EXEC)\b")),
    ("python", re.compile(r"(?m)^\s*(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->.*)?:\s*$|"
                          r"^\s*class\s+\w+.*:\s*$|^\s*(?:from\s+\S+\s+)?import\s+\w")),
    ("java", re.compile(r"\b(?:public|private|protected)\s+(?:static\s+)?[\w<>\[\],]+\s+\w+\s*\(")),
    ("sql", re.compile(r"(?i)^\s*(?:CREATE|SELECT|INSERT|UPDATE|DELETE|ALTER)\b")),
    ("javascript", re.compile(r"\bfunction\b|=>|\bconst\s+\w+\s*=|\bexport\s+")),
)
_EXTENSION = {"python": ".py", "java": ".java", "javascript": ".js", "sql": ".sql",
              "cobol": ".cbl", "jcl": ".jcl", "shell": ".sh"}
_FENCE = re.compile(r"```[ \t]*([\w+#-]*)[ \t]*\n(.*?)```", re.S)


def snippet_language(code: str) -> str | None:
    """The language a pasted piece of code is written in (``None``: not code)."""
    for language, hint in _SNIPPET_HINTS:
        if hint.search(code):
            return language
    return None


def from_snippet(text: str) -> Sources:
    """The code pasted in a message (a fenced block or the whole text) as one source file."""
    fenced = _FENCE.search(text)
    code = fenced.group(2) if fenced else text
    declared = fenced.group(1).lower() if fenced else ""
    aliases = {"py": "python", "js": "javascript", "cbl": "cobol", "cob": "cobol",
               "sh": "shell", "bash": "shell", "ksh": "shell"}
    language = aliases.get(declared, declared) if declared in (*aliases, *_EXTENSION) else (
        snippet_language(code))
    sources = Sources()
    if language is not None and code.strip():
        sources.add(f"snippet{_EXTENSION[language]}", code.encode("utf-8"))
    return sources


def from_text_file(name: str, data: bytes) -> Sources:
    """A text file holding code (``.txt``): its language from its content, its own name and
    encoding kept, so that the patch applies to the file as sent."""
    sources = Sources()
    encoding = encoding_of(data)
    language = language_of(name) or snippet_language(data.decode(encoding))
    if language is not None and data.strip():
        sources.add(name, data, language)
    return sources

"""Secrets in code: keys, passwords, tokens and connection strings, found and redacted.

Code is scanned before anything of it reaches a model (and before it is quoted in the
documentation): each value is replaced by ``[SECRET_n]``. Findings name the kind, file and
line, never the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# the keyword ends a name (« DB_PASSWORD », « apiKey », « secret_key_prod »), so that
# « token_type » or « tokenizer » are not taken for secrets; the match starts at the keyword
_NAME = (r"(?:password|passwd|passphrase|pwd|(?<![a-z])pass|mot_?de_?passe|mdp|"
         r"secret(?:_?key)?|api_?key|"
         r"access_?key|private_?key|auth_?token|access_?token|token|credentials?)"
         r"(?:[_-]?(?:prod|preprod|dev|test|qa|value|plain))?(?![\w-])")


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A secret pattern; ``folded`` ones are written in lower case and run on an ASCII
    lower-cased copy of the text (same offsets; far faster than ``re.IGNORECASE``), and only
    when one of their ``hints`` appears in it."""

    kind: str
    regex: re.Pattern[str]
    hints: tuple[str, ...] = ()
    folded: bool = False


_PATTERNS: tuple[_Pattern, ...] = (
    _Pattern("private key", re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"),
        ("PRIVATE KEY",)),
    _Pattern("cloud key", re.compile(r"(?<![\w])(?:AKIA|ASIA)[A-Z0-9]{16}(?![\w])|(?<![\w])AIza"
                                     r"[0-9A-Za-z_\-]{35}"), ("AKIA", "ASIA", "AIza")),
    _Pattern("token", re.compile(r"(?<![\w\-])(?:sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}|"
                                 r"xox[abposr]-[A-Za-z0-9\-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|"
                                 r"github_pat_[A-Za-z0-9_]{22,}|"
                                 r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+)"),
             ("sk-", "xox", "gh", "github_pat_", "eyJ")),
    # scheme://user:password@host — only the password part
    _Pattern("connection string", re.compile(r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@'\"]+:"
                                             r"(?P<value>[^\s@'\"/]{1,200})@"), ("://",), True),
    # Server=…;Password=…; / jdbc:…;password=… / ?password=…
    _Pattern("connection string", re.compile(r"(?<=[;?&'\"])\s*(?:password|pwd)\s*=(?!=)\s*"
                                             r"(?P<value>[^;&'\"\s=]{1,200})"),
             ("password", "pwd"), True),
    # key = "value", key: 'value', KEY => "value", VALUE 'value' (COBOL)
    _Pattern("password or key", re.compile(
        rf"{_NAME}['\"]?\s*(?::\s*[\w.\[\]| ]+?\s*=|:|=|=>|:=|"
        r"\s+pic\s+[x9()\d]+\s+value)\s*(?P<q>['\"])(?P<value>[^'\"\n]{3,200})(?P=q)"),
        folded=True),
    # jdbc:oracle:thin:scott/tiger@host, jdbc:oracle:thin:scott:tiger@host
    _Pattern("connection string", re.compile(r"jdbc:oracle:[a-z]+:[^\s:/@'\"]+[:/]"
                                             r"(?P<value>[^\s@'\"/]{3,200})@"),
             ("jdbc:oracle",), True),
    # sqlplus user/password@base, curl -u user:password
    _Pattern("connection string", re.compile(r"\bsqlplus\s+(?:-\w+\s+)*[^\s/@'\"]+/"
                                             r"(?P<value>[^\s@'\"]{3,200})@"), ("sqlplus",), True),
    _Pattern("password or key", re.compile(r"\bcurl\b[^\n]*?\s(?:-u|--user)\s+['\"]?[^\s:'\"]+:"
                                           r"(?P<value>[^\s'\"]{3,200})"), ("curl",), True),
    # auth=("user", "password") (Python requests), Authorization: Bearer <token>
    _Pattern("password or key", re.compile(r"\bauth\s*=\s*\(\s*(['\"])[^'\"\n]*\1\s*,\s*"
                                           r"(?P<q>['\"])(?P<value>[^'\"\n]{3,200})(?P=q)"),
             ("auth",), True),
    _Pattern("token", re.compile(r"\bbearer\s+(?P<value>[a-z0-9\-._~+/]{16,}=*)"), ("bearer",),
             True),
    # setPassword("value")
    _Pattern("password or key", re.compile(rf"\bset[\w-]*{_NAME}\s*\(\s*(?P<q>['\"])"
                                           r"(?P<value>[^'\"\n]{3,200})(?P=q)"), ("set",), True),
)
_LABEL_WORDS = ("password", "passwd", "secret", "token", "apikey", "credential")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# values that stand for a secret in examples and templates, not secrets themselves
_PLACEHOLDERS = re.compile(r"(?i)^(?:\$\{.*\}|\$\w+|%\(.*\)s|\{\{.*\}\}|\{\w*\}|<.*>|\*+|x+|"
                           r"\.\.\.|…|changeme|change_me|your[_-].*|my[_-]?(?:password|secret)|"
                           r"dummy|example|sample|fake|redacted|hidden|none|null|test|pass|"
                           r"passwd|pwd|password|secret|foo|bar|baz|"
                           r"os\.environ.*|env\(.*\))$")


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """A secret found in a file: its kind and line (the value is never kept)."""

    path: str
    line: int
    kind: str


def _spans(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    folded = text.translate(_ASCII_LOWER)
    for pattern in _PATTERNS:
        searched = folded if pattern.folded else text
        if pattern.hints and not any(hint in searched for hint in pattern.hints):
            continue
        kind = pattern.kind
        for match in pattern.regex.finditer(searched):
            start, end = (match.span("value") if "value" in pattern.regex.groupindex
                          else match.span())
            value = text[start:end]
            if (_PLACEHOLDERS.match(value.strip()) or value.startswith("[SECRET_")
                    or not _plausible(kind, value)):
                continue
            if not any(s <= start < e or start <= s < end for s, e, _ in found):
                found.append((start, end, kind))
    return sorted(found)


def _plausible(kind: str, value: str) -> bool:
    """Rules out look-alikes: a CSS class « sk-toggleable__label » (keys mix digits and capitals),
    a label « X-Chroma-Token » or « password_field » (the value names a secret, is not one)."""
    if kind == "token" and value.startswith("sk-"):
        return any(c.isdigit() for c in value) and any(c.isupper() for c in value)
    if kind == "password or key":
        squeezed = value.lower().replace("-", "").replace("_", "").replace(" ", "")
        return not any(word in squeezed for word in _LABEL_WORDS)
    return True


def find(path: str, text: str) -> list[SecretFinding]:
    """The secrets in one file (kind and line)."""
    return [SecretFinding(path, text.count("\n", 0, start) + 1, kind)
            for start, _, kind in _spans(text)]


class Redactor:
    """Replaces secrets by ``[SECRET_n]``, the same value by the same placeholder."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    @property
    def count(self) -> int:
        """Distinct secret values redacted so far."""
        return len(self._numbers)

    def redact(self, text: str) -> str:
        """``text`` with every secret value replaced."""
        spans = _spans(text)
        if not spans:
            return text
        out: list[str] = []
        last = 0
        for start, end, _ in spans:
            value = text[start:end]
            number = self._numbers.setdefault(value, len(self._numbers) + 1)
            out += [text[last:start], f"[SECRET_{number}]"]
            last = end
        out.append(text[last:])
        return "".join(out)

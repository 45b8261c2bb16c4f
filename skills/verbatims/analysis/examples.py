"""Representative verbatims per theme: close to the centroid, unlike each other, pseudonymised."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.governance.dlp import Detector
from knowledge.embeddings import Vectors

_CANDIDATES = 40
_TOO_SIMILAR = 0.9
_MAX_CHARS = 300
PLACEHOLDERS = {
    "PERSONNE": "[NOM]", "TELEPHONE": "[TÉLÉPHONE]", "EMAIL": "[E-MAIL]", "IBAN": "[IBAN]",
    "NIR": "[NIR]", "CARTE": "[CARTE]", "SECRET": "[SECRET]",
}
# Contract, member and claim references: a run of 6+ digits, maybe with letters and dashes.
_REFERENCE = re.compile(r"\b(?:[A-Z]{2,5}[- ]?)?(?:\d[\d -]{4,}\d)(?:[- ]?\d+)*\b")


def pseudonymise(text: str, detector: Detector) -> str:
    """``text`` with names, phones, e-mails, IBANs, NIRs and references replaced."""
    findings = detector.detect(text)
    parts: list[str] = []
    last = 0
    for finding in findings:
        parts.append(text[last : finding.start])
        parts.append(PLACEHOLDERS.get(finding.kind, "[DONNÉE]"))
        last = finding.end
    parts.append(text[last:])
    masked = "".join(parts)
    return _REFERENCE.sub(
        lambda match: "[NUMÉRO]" if sum(c.isdigit() for c in match.group()) >= 6 else match.group(),
        masked)


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_CHARS else flat[: _MAX_CHARS - 1].rsplit(" ", 1)[0] + " …"


def pick(
    clause_rows: npt.NDArray[np.int64],
    vectors: Vectors,
    centroid: Vectors,
    verbatim_of: Sequence[int],
    texts: Sequence[str],
    count: int = 5,
) -> list[int]:
    """Verbatim indices of up to ``count`` clauses near the centroid and unlike each other."""
    if not len(clause_rows):
        return []
    closeness = vectors[clause_rows] @ centroid
    order = clause_rows[np.argsort(-closeness)[: _CANDIDATES * 3]]
    chosen: list[int] = []
    chosen_vectors: list[Vectors] = []
    verbatims: set[int] = set()
    said: set[str] = set()
    for clause in order:
        owner = verbatim_of[int(clause)]
        if owner in verbatims or texts[owner] in said:
            continue
        vector = vectors[int(clause)]
        if any(float(vector @ other) >= _TOO_SIMILAR for other in chosen_vectors):
            continue
        chosen.append(owner)
        chosen_vectors.append(vector)
        verbatims.add(owner)
        said.add(texts[owner])
        if len(chosen) == count:
            break
    for clause in order:  # too few unlike each other: the closest others fill up to three
        owner = verbatim_of[int(clause)]
        if len(chosen) >= min(3, count):
            break
        if owner not in verbatims and texts[owner] not in said:
            chosen.append(owner)
            verbatims.add(owner)
            said.add(texts[owner])
    return chosen


def examples_for(indices: Sequence[int], texts: Sequence[str], detector: Detector) -> list[str]:
    """The pseudonymised, shortened texts of the chosen verbatims (repeats dropped)."""
    found: list[str] = []
    for index in indices:
        text = _shorten(pseudonymise(texts[index], detector))
        if text not in found:
            found.append(text)
    return found

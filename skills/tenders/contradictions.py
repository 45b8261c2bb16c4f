"""Statements that disagree between documents: flagged with every source, never resolved."""

from __future__ import annotations

from collections.abc import Sequence

from skills.tenders.model import Contradiction, Source


def disagreement(topic: str, statements: Sequence[tuple[str, Source]]) -> Contradiction | None:
    """A contradiction when the statements hold more than one value (one source per value
    and document, so a value repeated on a cover page does not count twice)."""
    values = {value for value, _ in statements}
    if len(values) < 2:
        return None
    kept: list[tuple[str, Source]] = []
    seen: set[tuple[str, str]] = set()
    for value, source in statements:
        key = (value, source.document)
        if key not in seen:
            seen.add(key)
            kept.append((value, source))
    return Contradiction(topic, tuple(kept))

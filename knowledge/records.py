"""Value types shared by the knowledge package."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

ATTACHED_COLLECTION = "pièces jointes"  # the collection name attached passages carry


class KnowledgeError(Exception):
    """A refusal or failure that can be shown to an admin or a user as is."""


class DataClass(enum.StrEnum):
    """Sensitivity of a collection's documents (public < internal < confidential < secret)."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"  # noqa: S105 - a data class, not a password


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk, with everything needed to cite it.

    ``score`` is in [0, 1]: ``dense_weight`` x dense relevance (cosine similarity
    rescaled so that an unrelated pair is about 0 and an identical text 1) plus
    the rest x lexical relevance (BM25 score divided by the best score each query
    term can reach in the searched collection); ``dense`` and ``lexical`` are those
    two halves. Whether passages answer a question at all is not one threshold on
    ``score``: see :class:`knowledge.relevance.RelevanceJudge`.
    """

    chunk_id: str
    document: str
    path: str
    title: str
    section: str | None
    page: int | None
    url: str | None
    text: str
    score: float
    collection: str
    data_class: str
    # The two halves of ``score`` (None when unknown, e.g. a passage made elsewhere).
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class CollectionInfo:
    """A knowledge collection as kept in the registry (Chroma collection metadata)."""

    name: str
    title: str
    spaces: tuple[str, ...]
    company_wide: bool
    data_class: DataClass
    created_at: datetime
    embedder: str
    revision: str
    chunk_count: int | None = None

    def visible_from(self, space: str | None) -> bool:
        """True if a search asked from ``space`` may read this collection."""
        return self.company_wide or (space is not None and space in self.spaces)


class Outcome(enum.StrEnum):
    """What ingesting one file did."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class FileOutcome:
    """The result of ingesting one file."""

    path: str
    outcome: Outcome
    chunks: int = 0
    message: str = ""


@dataclass
class IngestReport:
    """Per-file outcomes of one ingestion run."""

    collection: str
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: Outcome) -> int:
        """Number of files with this outcome."""
        return sum(1 for item in self.files if item.outcome is outcome)

    @property
    def failed(self) -> bool:
        """True if at least one file could not be ingested."""
        return any(item.outcome is Outcome.FAILED for item in self.files)

    @property
    def chunks_written(self) -> int:
        """Chunks embedded and stored during the run."""
        return sum(
            item.chunks for item in self.files if item.outcome in (Outcome.ADDED, Outcome.UPDATED)
        )

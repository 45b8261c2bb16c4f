"""BM25 over one collection's chunks: updated in place, saved to a file, scored in [0, 1].

The scoring is BM25's Lucene variant (the one ``bm25s`` computes; a test checks
both agree). ``bm25s`` itself cannot add or remove documents: rebuilding a
100,000-chunk index after each ingestion took 20-45 s on 2 cores. Here postings
live in immutable sorted segments (one per batch of added chunks, merged
logarithmically), removals only clear a chunk's "alive" flag until the next
compaction, and document frequencies, average length and the per-term best
score are computed at query time from the postings of the query's terms, so
the scores are always exactly those of a fresh index over the live chunks.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.french import ANALYZER_VERSION

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Segment:
    """Postings sorted by term then chunk position; never modified once built."""

    terms: Ints  # distinct term ids, ascending
    starts: Ints  # postings of terms[i] are [starts[i], starts[i + 1])
    positions: npt.NDArray[np.int32]
    frequencies: Floats

    @property
    def size(self) -> int:
        return len(self.positions)

    @classmethod
    def from_occurrences(cls, term_column: Ints, position_column: Ints) -> _Segment:
        """One row per term occurrence; repeated (term, position) rows make the frequency."""
        keys, counts = np.unique((term_column << _SHIFT) | position_column, return_counts=True)
        return cls.from_sorted(keys >> _SHIFT, keys & _MASK, counts)

    @classmethod
    def from_sorted(
        cls, posting_terms: Ints, positions: npt.ArrayLike, frequencies: npt.ArrayLike
    ) -> _Segment:
        terms, starts = np.unique(posting_terms, return_index=True)
        return cls(
            terms.astype(np.int64),
            np.append(starts, len(posting_terms)).astype(np.int64),
            np.asarray(positions, dtype=np.int32),
            np.asarray(frequencies, dtype=np.float32),
        )

    def postings(self, term: int) -> tuple[npt.NDArray[np.int32], Floats]:
        at = int(np.searchsorted(self.terms, term))
        if at == len(self.terms) or self.terms[at] != term:
            return self.positions[:0], self.frequencies[:0]
        start, end = self.starts[at], self.starts[at + 1]
        return self.positions[start:end], self.frequencies[start:end]

    def posting_terms(self) -> Ints:
        return np.repeat(self.terms, np.diff(self.starts))


def _merge(segments: Sequence[_Segment], alive: npt.NDArray[np.bool_],
           renumber: Ints | None = None) -> _Segment:
    """One segment holding the live postings of ``segments`` (positions renumbered if asked)."""
    terms = np.concatenate([segment.posting_terms() for segment in segments])
    positions = np.concatenate([segment.positions for segment in segments]).astype(np.int64)
    frequencies = np.concatenate([segment.frequencies for segment in segments])
    live = alive[positions]
    terms, positions, frequencies = terms[live], positions[live], frequencies[live]
    if renumber is not None:
        positions = renumber[positions]
    # Segments are listed oldest first and positions only grow, so within a term the
    # postings are already in position order: a stable sort by term (timsort merging
    # sorted runs, close to linear) is enough.
    order = np.argsort(terms, kind="stable")
    return _Segment.from_sorted(terms[order], positions[order], frequencies[order])


@dataclass(frozen=True)
class LexicalMatch:
    """Normalised scores of one query over the chunks indexed when it was scored."""

    values: Floats
    _ids: Sequence[str | None]
    _positions: Mapping[str, int]

    def score(self, chunk_id: str) -> float:
        """The chunk's score (0 for a chunk unknown to the index)."""
        position = self._positions.get(chunk_id)
        if position is None or position >= len(self.values):
            return 0.0
        return float(self.values[position])

    def best(self, n: int) -> list[tuple[str, float]]:
        """The ``n`` best chunks as ``(id, score)``, zero scores left out."""
        values = self.values
        if n <= 0 or not len(values):
            return []
        n = min(n, len(values))
        best = np.argpartition(-values, n - 1)[:n]
        best = best[np.argsort(-values[best], kind="stable")]
        found = []
        for position in best:
            chunk_id = self._ids[position]
            if values[position] > 0 and chunk_id is not None:
                found.append((chunk_id, float(values[position])))
        return found


class LexicalIndex:
    """A BM25 index over one collection's chunks, scored in [0, 1].

    The normalised score of a chunk is its BM25 score divided by the sum, over the
    query terms, of the best score each term reaches in this collection (times
    the share of query terms the collection knows at all): 1 means every term
    matched as well as it ever does here, 0 means none matched.

    Thread-safe: writers (``add``, ``remove``, ``save``) run one at a time and
    publish their result at once; readers (``match``) never see half an update.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._writing = threading.Lock()
        self._reading = threading.Lock()
        self._vocabulary: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._positions: dict[str, int] = {}
        self._lengths: Floats = np.zeros(0, dtype=np.float32)
        self._alive: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._segments: list[_Segment] = []
        self._live = 0
        self._total_length = 0.0

    def __len__(self) -> int:
        return self._live

    def chunk_ids(self) -> set[str]:
        """Ids of the indexed chunks."""
        with self._reading:
            return set(self._positions)

    @property
    def segment_count(self) -> int:
        """Number of posting segments (a handful: batches are merged logarithmically)."""
        return len(self._segments)

    # ------------------------------------------------------------ writing

    def add(self, ids: Sequence[str], token_lists: Sequence[Sequence[str]]) -> int:
        """Index new chunks; returns how many. An id already indexed is skipped: a chunk
        id names one content (changed content gets new ids)."""
        with self._writing:
            new: dict[str, Sequence[str]] = {}
            for chunk_id, tokens in zip(ids, token_lists, strict=True):
                if chunk_id not in self._positions:
                    new.setdefault(chunk_id, tokens)
            if not new:
                return 0
            rows = list(new.items())
            lengths = np.fromiter((len(tokens) for _, tokens in rows), np.int64, len(rows))
            first = len(self._ids)
            segment = None
            if lengths.sum():
                term_column = self._term_numbers([token for _, tokens in rows for token in tokens])
                position_column = np.repeat(np.arange(first, first + len(rows)), lengths)
                segment = _Segment.from_occurrences(term_column, position_column)
            grown_lengths = np.concatenate([self._lengths, lengths.astype(np.float32)])
            grown_alive = np.concatenate([self._alive, np.ones(len(rows), dtype=bool)])
            with self._reading:
                for offset, (chunk_id, _) in enumerate(rows):
                    self._positions[chunk_id] = first + offset
                self._ids.extend(chunk_id for chunk_id, _ in rows)
                self._lengths, self._alive = grown_lengths, grown_alive
                if segment is not None:
                    self._segments = [*self._segments, segment]
                self._live += len(rows)
                self._total_length += float(lengths.sum())
            self._merge_tail()
            return len(rows)

    def _term_numbers(self, tokens: list[str]) -> Ints:
        """Vocabulary numbers of ``tokens``, new terms numbered as they come."""
        vocabulary = self._vocabulary
        if None in map(vocabulary.get, tokens):  # ~40 ns a token: the common case stays in C
            for token in dict.fromkeys(tokens):
                vocabulary.setdefault(token, len(vocabulary))
        return np.fromiter(map(vocabulary.__getitem__, tokens), np.int64, len(tokens))

    def remove(self, ids: Iterable[str]) -> int:
        """Forget chunks; returns how many were indexed."""
        with self._writing:
            removed = 0
            with self._reading:
                for chunk_id in ids:
                    position = self._positions.pop(chunk_id, None)
                    if position is None:
                        continue
                    self._ids[position] = None
                    self._alive[position] = False
                    self._live -= 1
                    self._total_length -= float(self._lengths[position])
                    removed += 1
            dead = len(self._ids) - self._live
            if dead > 1024 and dead > self._live:
                self._compact()
            return removed

    def _merge_tail(self) -> None:
        """Merge the newest segments while the last is at least half the one before it."""
        while len(self._segments) > 1 and (
            2 * self._segments[-1].size >= self._segments[-2].size or len(self._segments) > 16
        ):
            merged = _merge(self._segments[-2:], self._alive)
            with self._reading:
                self._segments = [*self._segments[:-2], merged]

    def _compact(self) -> None:
        """One segment of live postings, positions renumbered without the removed chunks."""
        alive = self._alive
        renumber = (np.cumsum(alive) - 1).astype(np.int64)
        segments = [_merge(self._segments, alive, renumber)] if self._segments else []
        ids: list[str | None] = [chunk_id for chunk_id in self._ids if chunk_id is not None]
        positions = {chunk_id: position for position, chunk_id in enumerate(ids) if chunk_id}
        lengths = self._lengths[alive]
        with self._reading:  # new objects: matches already handed out keep the old ones
            self._ids, self._positions, self._segments = ids, positions, segments
            self._lengths, self._alive = lengths, np.ones(len(ids), dtype=bool)

    # ------------------------------------------------------------ reading

    def match(self, query_terms: Sequence[str]) -> LexicalMatch:
        """Normalised score of every indexed chunk for ``query_terms``."""
        return self.match_groups([(term,) for term in query_terms])

    def match_groups(self, groups: Sequence[Sequence[str]]) -> LexicalMatch:
        """Normalised score of every indexed chunk for a query of synonym groups.

        Each group counts as one query term whose occurrences are those of all its terms
        (a structured query, Pirkola 1998): an English question's word and its French
        renderings (« loan » → prêt, emprunt) weigh as the one word it was, whatever
        the number of renderings, with the document frequency of any of them. A group of
        one term is plain BM25 (``match``).
        """
        with self._reading:
            values = np.zeros(len(self._ids), dtype=np.float32)
            empty = LexicalMatch(values, self._ids, self._positions)
            if not groups or not self._live:
                return empty
            average_length = self._total_length / self._live or 1.0
            scored: dict[tuple[int, ...], tuple[npt.NDArray[np.int32], Floats] | None] = {}
            ceiling = 0.0
            counted = 0
            for group in groups:
                known = tuple(sorted({self._vocabulary[term] for term in group
                                      if term in self._vocabulary}))
                if not known:
                    continue
                if known not in scored:
                    scored[known] = self._group_scores(known, average_length)
                found = scored[known]
                if found is None:
                    continue
                positions, contributions = found
                values[positions] += contributions  # a chunk appears once per group
                ceiling += float(contributions.max())
                counted += 1
            if ceiling <= 0:
                return empty
            coverage = counted / len(groups)
            normalised = np.clip(values / ceiling, 0.0, 1.0) * coverage
            return LexicalMatch(normalised.astype(np.float32), self._ids, self._positions)

    def _group_scores(
        self, terms: tuple[int, ...], average_length: float
    ) -> tuple[npt.NDArray[np.int32], Floats] | None:
        """Live postings of a synonym group (frequencies of its terms summed per chunk) with
        their BM25 contributions (None if it has none)."""
        parts = [segment.postings(term) for term in terms for segment in self._segments]
        positions = np.concatenate([part[0] for part in parts])
        frequencies = np.concatenate([part[1] for part in parts])
        live = self._alive[positions]
        positions, frequencies = positions[live], frequencies[live]
        if not len(positions):
            return None
        if len(terms) > 1:
            positions, where = np.unique(positions, return_inverse=True)
            frequencies = np.bincount(where, weights=frequencies).astype(np.float32)
        frequency = len(positions)
        idf = math.log(1.0 + (self._live - frequency + 0.5) / (frequency + 0.5))
        norms = self.k1 * (1.0 - self.b + self.b * self._lengths[positions] / average_length)
        contributions = (idf * frequencies / (frequencies + norms)).astype(np.float32)
        return positions, contributions

    def top(self, query_terms: Sequence[str], n: int) -> list[tuple[str, float]]:
        """The ``n`` best chunks as ``(id, normalised score)``, zero scores left out."""
        return self.match(query_terms).best(n)

    # ------------------------------------------------------------ files

    def save(self, path: Path, header: Mapping[str, str] | None = None) -> None:
        """Write the index to ``path`` atomically (mode 0600), compacted, with ``header``."""
        with self._writing:
            if len(self._segments) > 1 or len(self._ids) > self._live:
                self._compact()
            segment = self._segments[0] if self._segments else _Segment.from_sorted(
                np.zeros(0, np.int64), [], []
            )
            meta = {
                **(header or {}),
                "format": FORMAT_VERSION,
                "analyzer": ANALYZER_VERSION,
                "k1": self.k1,
                "b": self.b,
            }
            arrays: dict[str, npt.NDArray[np.generic]] = {
                "header": _json_bytes(meta),
                "ids": _json_bytes(self._ids),
                "vocabulary": _json_bytes(list(self._vocabulary)),
                "lengths": self._lengths,
                "terms": segment.terms,
                "starts": segment.starts,
                "positions": segment.positions,
                "frequencies": segment.frequencies,
            }
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".lexical-", suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as stream:  # mkstemp creates the file with mode 0600
                np.savez(stream, allow_pickle=False, **arrays)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> tuple[LexicalIndex, dict[str, object]] | None:
        """An index saved by :meth:`save` and its header; None if missing, stale or damaged."""
        try:
            with path.open("rb") as stream, np.load(stream, allow_pickle=False) as data:
                meta = json.loads(bytes(data["header"]))
                if meta.get("format") != FORMAT_VERSION or meta.get("analyzer") != ANALYZER_VERSION:
                    logger.info("lexical index %s is of an older format: rebuilt", path.name)
                    return None
                index = cls(k1=float(meta["k1"]), b=float(meta["b"]))
                ids: list[str] = json.loads(bytes(data["ids"]))
                vocabulary: list[str] = json.loads(bytes(data["vocabulary"]))
                segment = _Segment(
                    data["terms"].astype(np.int64),
                    data["starts"].astype(np.int64),
                    data["positions"].astype(np.int32),
                    data["frequencies"].astype(np.float32),
                )
                lengths = data["lengths"].astype(np.float32)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            logger.warning("lexical index %s unreadable (%s): rebuilt", path.name, error)
            return None
        if not _consistent(segment, len(ids), len(vocabulary), len(lengths)):
            logger.warning("lexical index %s is inconsistent: rebuilt", path.name)
            return None
        index._vocabulary = {term: number for number, term in enumerate(vocabulary)}
        index._ids = list(ids)
        index._positions = {chunk_id: position for position, chunk_id in enumerate(ids)}
        index._lengths = lengths
        index._alive = np.ones(len(ids), dtype=bool)
        index._segments = [segment] if segment.size else []
        index._live = len(ids)
        index._total_length = float(lengths.sum())
        return index, meta


def _json_bytes(value: object) -> npt.NDArray[np.uint8]:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def _consistent(segment: _Segment, chunks: int, terms: int, lengths: int) -> bool:
    """Whether saved arrays fit together (a damaged file must not index out of bounds)."""
    return (
        lengths == chunks
        and len(segment.starts) == len(segment.terms) + 1
        and int(segment.starts[0] if len(segment.starts) else -1) == 0
        and int(segment.starts[-1]) == segment.size == len(segment.frequencies)
        and bool(np.all(np.diff(segment.starts) >= 0))
        and (not segment.size or int(segment.positions.min()) >= 0)
        and (not segment.size or int(segment.positions.max()) < chunks)
        and (not len(segment.terms) or int(segment.terms.min()) >= 0)
        and (not len(segment.terms) or int(segment.terms.max()) < terms)
        and bool(np.all(np.diff(segment.terms) > 0))
    )

"""One lexical index per collection, kept in step with Chroma and saved in the data dir.

Chroma is the source of truth. A chunk id names one content (source, content
hash, ordinal), so an index is brought up to date by comparing id sets: ids
that Chroma no longer holds are removed, ids it holds that the index lacks are
read and added. Listing 100,000 ids takes ~0.2-0.4 s; reading and analysing
100,000 chunks from scratch takes much longer, which is why indexes are saved
(``<data dir>/lexical/<collection>.npz``, derived data that may be deleted at
any time) and reloaded at start-up.

A collection's registry ``revision`` changes after every write, from any
replica. An index is current when it was brought up to date while the
collection had the revision now in the registry (the revision is read before
the ids are listed, so a write that lands meanwhile changes it again). A stale
large index keeps answering while a background thread updates it; a small one
is updated before the search.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from knowledge.collections import chroma_name
from knowledge.french import FrenchAnalyzer
from knowledge.index import ChromaIndex, StoredChunk
from knowledge.lexical import LexicalIndex
from knowledge.records import CollectionInfo

logger = logging.getLogger(__name__)

_READ_BATCH = 5000


def lexical_text(chunk: StoredChunk) -> str:
    """What the lexical index reads of a chunk: its document title, headings and text."""
    metadata = chunk.metadata
    return f"{metadata.get('title', '')}\n{metadata.get('sections', '')}\n{chunk.text}"


@dataclass(frozen=True)
class _Entry:
    index: LexicalIndex
    revision: str


class LexicalIndexes:
    """The lexical indexes of every collection this process has searched."""

    def __init__(
        self,
        chroma: ChromaIndex,
        analyzer: FrenchAnalyzer,
        directory: Path | None,
        *,
        background_from: int = 20_000,
    ) -> None:
        self._chroma = chroma
        self._analyzer = analyzer
        self._directory = directory
        self._background_from = background_from
        self._entries: dict[str, _Entry] = {}
        self._guard = threading.Lock()
        self._updating: dict[str, threading.Lock] = {}
        self._scheduled: set[tuple[str, str]] = set()  # (work, collection) queued or running
        self._worker: ThreadPoolExecutor | None = None
        self._closed = False

    def holds(self, name: str) -> bool:
        """Whether this process keeps an index for collection ``name``."""
        return name in self._entries

    def get(self, info: CollectionInfo) -> LexicalIndex:
        """Blocking: the index of ``info``, current or (large and stale) being updated."""
        entry = self._entries.get(info.name)
        if entry is not None and entry.revision == info.revision:
            return entry.index
        if entry is not None and len(entry.index) >= self._background_from:
            self._in_background(info)
            return entry.index
        return self.update(info)

    def update(self, info: CollectionInfo) -> LexicalIndex:
        """Blocking: bring the index of ``info`` up to date (loading the saved one first)."""
        with self._lock_of(info.name):
            entry = self._entries.get(info.name)
            if entry is not None and entry.revision == info.revision:
                return entry.index
            saved_revision = None
            if entry is None:
                index, saved_revision = self._load(info.name)
            else:
                index = entry.index
            saved_is_current = saved_revision == info.revision
            if not saved_is_current:
                self._reconcile(info.name, index)
            self._entries[info.name] = _Entry(index, info.revision)
        if not saved_is_current:
            self._submit("save", info.name, lambda: self._save(info.name))
        return index

    def forget(self, name: str) -> None:
        """Drop the index of a deleted collection, in memory and on disk."""
        with self._lock_of(name):
            self._entries.pop(name, None)
            path = self._path(name)
            if path is not None:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Finish the running update or save (queued ones are dropped) and forget everything."""
        with self._guard:
            self._closed = True
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)
        self._entries.clear()

    # ------------------------------------------------------------ internals

    def _lock_of(self, name: str) -> threading.Lock:
        with self._guard:
            return self._updating.setdefault(name, threading.Lock())

    def _path(self, name: str) -> Path | None:
        return None if self._directory is None else self._directory / f"{chroma_name(name)}.npz"

    def _load(self, name: str) -> tuple[LexicalIndex, str | None]:
        path = self._path(name)
        loaded = LexicalIndex.load(path) if path is not None else None
        if loaded is None or loaded[1].get("collection") != name:
            return LexicalIndex(), None
        index, header = loaded
        revision = header.get("revision")
        return index, revision if isinstance(revision, str) else None

    def _reconcile(self, name: str, index: LexicalIndex) -> None:
        """Make ``index`` hold exactly Chroma's chunks of ``name``."""
        if not len(index):
            for page in self._chroma.chunk_pages(name, _READ_BATCH):
                self._add(index, page)
            return
        current = self._chroma.chunk_ids(name)
        known = index.chunk_ids()
        removed = index.remove(known.difference(current))
        missing = [chunk_id for chunk_id in current if chunk_id not in known]
        added = 0
        for start in range(0, len(missing), _READ_BATCH):
            chunks = self._chroma.chunks(name, missing[start : start + _READ_BATCH])
            added += self._add(index, list(chunks.values()))
        if removed or added:
            logger.info("lexical index %s: %d chunks added, %d removed", name, added, removed)

    def _add(self, index: LexicalIndex, chunks: Sequence[StoredChunk]) -> int:
        tokens = [self._analyzer(lexical_text(chunk)) for chunk in chunks]
        return index.add([chunk.chunk_id for chunk in chunks], tokens)

    def _save(self, name: str) -> None:
        with self._lock_of(name):  # never after forget() deleted the collection's file
            entry = self._entries.get(name)
            path = self._path(name)
            if entry is None or path is None:
                return
            try:
                entry.index.save(path, {"collection": name, "revision": entry.revision})
            except OSError as error:  # a cache: searching goes on without the file
                logger.warning("lexical index %s not saved: %s", name, error)

    def _in_background(self, info: CollectionInfo) -> None:
        self._submit("update", info.name, lambda: self.update(info))

    def _submit(self, kind: str, name: str, work: Callable[[], object]) -> None:
        """Run ``work`` on the worker thread unless the same work is already queued."""
        key = (kind, name)

        def run() -> None:
            with self._guard:
                self._scheduled.discard(key)  # from now on, a new request queues again
            try:
                work()
            except Exception:  # the index in memory keeps answering; the next search retries
                logger.exception("lexical index %s: %s failed", name, kind)

        with self._guard:
            if self._closed or key in self._scheduled:
                return
            self._scheduled.add(key)
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="almia-lexical")
            self._worker.submit(run)

    def warm(self, infos: Iterable[CollectionInfo]) -> None:
        """Blocking: load or build the indexes of ``infos`` now (start-up)."""
        for info in infos:
            self.update(info)

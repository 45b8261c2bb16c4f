"""Lexical indexes follow Chroma: other replicas' writes, saved files, background updates."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from knowledge import CollectionInfo, KnowledgeBase, KnowledgeSettings
from knowledge.french import FrenchAnalyzer
from knowledge.index import ChromaIndex, StoredChunk
from knowledge.lexical_sync import LexicalIndexes
from tests.fakes.loopback import poll
from tests.knowledge.helpers import HashingEmbedder

TELETRAVAIL = "# Télétravail\n\nTrois jours de télétravail par semaine avec l'accord du manager.\n"
SINISTRE = "# Sinistre\n\nDéclarer le sinistre habitation dans les cinq jours ouvrés.\n"
MUTUELLE = "# Mutuelle\n\nLes soins dentaires sont remboursés sous huit jours.\n"


class CountingChroma(ChromaIndex):
    """The real Chroma index, counting what the lexical side reads; ``gate`` can hold it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[str] = Counter()
        self.chunks_read = 0
        self.gate = threading.Event()
        self.gate.set()

    def chunk_ids(self, name: str) -> list[str]:
        self.calls["chunk_ids"] += 1
        assert self.gate.wait(10)
        return super().chunk_ids(name)

    def chunk_pages(self, name: str, size: int = 5000) -> Iterator[list[StoredChunk]]:
        self.calls["chunk_pages"] += 1
        yield from super().chunk_pages(name, size)

    def chunks(self, name: str, ids: Sequence[str]) -> dict[str, StoredChunk]:
        self.calls["chunks"] += 1
        self.chunks_read += len(ids)
        return super().chunks(name, ids)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


async def info_of(kb: KnowledgeBase, name: str) -> CollectionInfo:
    return next(info for info in await kb.list_collections() if info.name == name)


def lexical_hits(indexes: LexicalIndexes, info: CollectionInfo, query: str) -> set[str]:
    index = indexes.get(info)
    return {chunk_id for chunk_id, _ in index.top(FrenchAnalyzer()(query), 50)}


async def test_saved_index_is_reused_and_only_the_difference_is_read(
    kb: KnowledgeBase, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    await kb.ingest(
        [write(tmp_path, "rh.md", TELETRAVAIL), write(tmp_path, "sinistre.md", SINISTRE)], "docs"
    )
    data = tmp_path / "data"
    first = LexicalIndexes(CountingChroma.open(data, embedder), FrenchAnalyzer(), data / "lexical")
    built = await asyncio.to_thread(first.update, await info_of(kb, "docs"))
    assert len(built) == 2
    first.close()  # waits for the save
    assert (data / "lexical" / "kb_docs.npz").exists()

    chroma = CountingChroma.open(data, embedder)
    restarted = LexicalIndexes(chroma, FrenchAnalyzer(), data / "lexical")
    reloaded = await asyncio.to_thread(restarted.update, await info_of(kb, "docs"))
    assert reloaded.chunk_ids() == built.chunk_ids()
    assert chroma.calls == {}  # same revision: nothing read from Chroma at all

    report = await kb.ingest([write(tmp_path, "mutuelle.md", MUTUELLE)], "docs")
    await kb.delete_document("docs", "rh.md")
    updated = await asyncio.to_thread(restarted.update, await info_of(kb, "docs"))

    assert chroma.calls["chunk_pages"] == 0 and chroma.calls["chunk_ids"] == 1
    assert chroma.chunks_read == report.chunks_written  # only the new chunks were read
    assert updated.chunk_ids() == set(ChromaIndex.open(data, embedder).chunk_ids("docs"))
    assert lexical_hits(restarted, await info_of(kb, "docs"), "télétravail manager") == set()
    assert lexical_hits(restarted, await info_of(kb, "docs"), "soins dentaires")
    restarted.close()


async def test_damaged_saved_index_is_rebuilt_from_chroma(
    kb: KnowledgeBase, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    await kb.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "docs")
    data = tmp_path / "data"
    saved = data / "lexical" / "kb_docs.npz"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(b"PK\x03\x04 truncated")
    chroma = CountingChroma.open(data, embedder)
    indexes = LexicalIndexes(chroma, FrenchAnalyzer(), data / "lexical")

    assert lexical_hits(indexes, await info_of(kb, "docs"), "télétravail")
    assert chroma.calls["chunk_pages"] == 1
    indexes.close()
    again = LexicalIndexes(CountingChroma.open(data, embedder), FrenchAnalyzer(), data / "lexical")
    assert lexical_hits(again, await info_of(kb, "docs"), "télétravail")  # rewritten, readable
    again.close()


async def test_large_stale_index_answers_while_it_is_updated_in_the_background(
    kb: KnowledgeBase, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    await kb.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "docs")
    chroma = CountingChroma.open(tmp_path / "data", embedder)
    indexes = LexicalIndexes(chroma, FrenchAnalyzer(), None, background_from=1)
    index = await asyncio.to_thread(indexes.update, await info_of(kb, "docs"))
    await kb.ingest([write(tmp_path, "sinistre.md", SINISTRE)], "docs")
    stale_info = await info_of(kb, "docs")
    chroma.gate.clear()  # the update will wait here

    answered = await asyncio.to_thread(indexes.get, stale_info)

    assert answered is index and len(answered) == 1  # the search did not wait
    chroma.gate.set()
    await poll(lambda: len(index) == 2, 10, lambda: f"{len(index)} chunks indexed")
    assert lexical_hits(indexes, stale_info, "sinistre habitation")
    indexes.close()


async def test_another_replica_sees_ingestion_and_deletion(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    data = tmp_path / "data"
    writer = KnowledgeBase.open(data, settings, embedder=embedder)
    reader = KnowledgeBase.open(data, settings, embedder=embedder)
    await writer.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "docs", company_wide=True)
    assert [hit.document for hit in await reader.search("télétravail")] == ["rh.md"]

    await writer.ingest([write(tmp_path, "sinistre.md", SINISTRE)], "docs")
    lexical_only = await reader.search("sinistre habitation", dense_weight=0.0)
    assert lexical_only[0].document == "sinistre.md" and lexical_only[0].score > 0.5

    await writer.delete_document("docs", "sinistre.md")
    after = await reader.search("sinistre habitation", dense_weight=0.0)
    assert [(hit.document, hit.score) for hit in after] == [("rh.md", 0.0)]
    writer.close()
    reader.close()


async def test_deleting_a_collection_deletes_its_saved_index(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    await kb.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "docs", company_wide=True)
    assert await kb.search("télétravail")
    saved = tmp_path / "data" / "lexical" / "kb_docs.npz"
    await poll(saved.exists, 10, lambda: f"{saved} not written")

    await kb.delete_collection("docs")

    assert not saved.exists()
    assert await kb.search("télétravail") == []


async def test_an_unwritable_index_directory_only_costs_the_saved_file(
    kb: KnowledgeBase, tmp_path: Path, embedder: HashingEmbedder, caplog: Any
) -> None:
    await kb.ingest([write(tmp_path, "rh.md", TELETRAVAIL)], "docs")
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the index directory should be")
    indexes = LexicalIndexes(ChromaIndex.open(tmp_path / "data", embedder), FrenchAnalyzer(), blocked)

    assert lexical_hits(indexes, await info_of(kb, "docs"), "télétravail")
    indexes.close()  # waits for the failed save
    assert "not saved" in caplog.text

"""The embedded Chroma store shared by two processes: ``almia ingest`` next to ``almia serve``."""

from __future__ import annotations

import asyncio
import fcntl
import sys
from pathlib import Path
from typing import Any

import pytest

from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.index import ChromaIndex, _opening_lock
from tests.knowledge.helpers import HashingEmbedder

REPOSITORY = Path(__file__).resolve().parents[2]
INGEST = """
import asyncio, sys
from pathlib import Path
from typing import Any
sys.path.insert(0, sys.argv[1])
from knowledge import KnowledgeBase, KnowledgeSettings
from knowledge.index import ChromaIndex
from tests.knowledge.helpers import HashingEmbedder

async def main() -> None:
    settings = KnowledgeSettings(chunk_size=400, chunk_overlap=60, max_file_mb=1)
    kb = KnowledgeBase.open(Path(sys.argv[2]), settings, embedder=HashingEmbedder())
    report = await kb.ingest([Path(sys.argv[3])], "docs")
    kb.close()
    assert not report.failed, report.files

asyncio.run(main())
"""


async def ingest_in_another_process(data: Path, document: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "error", "-c", INGEST, str(REPOSITORY), str(data), str(document),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()


async def test_a_running_process_sees_chunks_another_process_ingested(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    data = tmp_path / "data"
    server = KnowledgeBase.open(data, settings, embedder=embedder)
    rh = tmp_path / "rh.md"
    rh.write_text("# Télétravail\n\nTrois jours de télétravail par semaine.\n", encoding="utf-8")
    await server.ingest([rh], "docs", company_wide=True)
    assert (await server.search("télétravail"))[0].document == "rh.md"  # vectors now in memory
    sinistre = tmp_path / "sinistre.md"
    sinistre.write_text(
        "# Sinistre\n\nDéclarer le sinistre habitation sous cinq jours ouvrés.\n", encoding="utf-8"
    )

    await ingest_in_another_process(data, sinistre)

    dense_only = await server.search("déclarer sinistre habitation", dense_weight=1.0)
    assert dense_only[0].document == "sinistre.md"
    hybrid = await server.search("déclarer sinistre habitation")
    assert hybrid[0].document == "sinistre.md" and hybrid[0].score > 0.5
    assert (await server.search("télétravail"))[0].document == "rh.md"
    server.close()


class CountingReopens(ChromaIndex):
    """The real index, counting reloads."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reopened = 0

    def reopen(self) -> None:
        self.reopened += 1
        super().reopen()


async def test_only_writes_from_elsewhere_reload_the_store(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    data = tmp_path / "data"
    index = CountingReopens.open(data, embedder)
    server = KnowledgeBase(index, embedder, settings, lexical_dir=data / "lexical")
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    first.write_text("# Congés\n\nVingt-cinq jours de congés payés.\n", encoding="utf-8")
    second.write_text("# Mutuelle\n\nRemboursement des soins sous huit jours.\n", encoding="utf-8")
    await server.ingest([first], "docs", company_wide=True)
    await server.search("congés")
    await server.ingest([second], "docs")
    await server.delete_document("docs", "a.md")
    await server.search("mutuelle")
    assert index.reopened == 0  # its own writes

    other = KnowledgeBase.open(data, settings, embedder=embedder)
    await other.ingest([first], "docs")
    other.close()
    assert (await server.search("congés payés"))[0].document == "a.md"
    assert index.reopened == 1
    server.close()


def test_processes_open_a_new_embedded_store_one_at_a_time(tmp_path: Path) -> None:
    # two processes creating the store's tables at once: one failed with « table
    # collections already exists » (``serve --workers 2`` on a fresh data folder)
    lock_file = tmp_path / "chroma" / ".almia-open.lock"
    lock_file.parent.mkdir()
    with _opening_lock(lock_file), lock_file.open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with lock_file.open("a") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # released
    index = ChromaIndex.open(tmp_path, HashingEmbedder())  # takes and releases it
    assert index.list_collections() == []
    with lock_file.open("a") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

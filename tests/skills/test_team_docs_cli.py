"""``almia ingest`` as a job: files kept for the job, same source keys, outcomes printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, load_settings
from knowledge import KnowledgeBase
from knowledge.records import Outcome
from skills.team_docs_cli import IngestRequest, ingest_as_job
from tests.knowledge.helpers import HashingEmbedder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", _env_file=None)


def _knowledge(settings: Settings) -> KnowledgeBase:
    return KnowledgeBase.open(settings.data_dir / "knowledge", settings.knowledge,
                              embedder=HashingEmbedder())


def _folder(root: Path) -> Path:
    folder = root / "procedures"
    (folder / "auto").mkdir(parents=True)
    (folder / "auto" / "constat.md").write_text(
        "# Constat amiable\n\nLe constat se transmet sous cinq jours ouvrés.\n")
    (folder / "habitation.txt").write_text("Le dégât des eaux se déclare sous cinq jours.\n")
    (folder / "logo.png").write_bytes(b"\x89PNG")
    (folder / ".brouillon.md").write_text("pas à indexer")
    return folder


async def test_a_folder_is_ingested_by_a_job_with_its_source_keys(
        settings: Settings, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    seen: list[float] = []
    request = IngestRequest([folder, tmp_path / "absent.pdf"], "procedures", "public", True,
                            "Procédures")
    report = await ingest_as_job(settings, request, lambda done, _: seen.append(done),
                                 poll_seconds=0.02, knowledge=_knowledge(settings))
    assert report is not None
    assert report.count(Outcome.ADDED) == 2 and report.chunks_written >= 2
    assert report.count(Outcome.SKIPPED) == 1 and report.count(Outcome.FAILED) == 1
    assert seen and seen[-1] == 1.0
    knowledge = _knowledge(settings)
    try:
        assert await knowledge.documents("procedures") == [
            "procedures/auto/constat.md", "procedures/habitation.txt"]
        [info] = await knowledge.list_collections()
        assert info.company_wide and info.data_class.value == "public"
        assert info.title == "Procédures" and not info.spaces
        [hit] = await knowledge.search("constat amiable", collections=["procedures"], k=1)
        assert hit.path == "procedures/auto/constat.md"  # not the job's temporary folder
    finally:
        knowledge.close()
    again = await ingest_as_job(settings, IngestRequest([folder], "procedures"),
                                lambda *_: None, poll_seconds=0.02,
                                knowledge=_knowledge(settings))
    assert again is not None and again.count(Outcome.UNCHANGED) == 2


async def test_without_files_and_jobs_the_command_ingests_itself(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", _env_file=None,
                             files={"enabled": False})
    report = await ingest_as_job(settings, IngestRequest([_folder(tmp_path)], "c"),
                                 lambda *_: None, knowledge=_knowledge(settings))
    assert report is None

"""Fixtures for knowledge tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, KnowledgeSettings
from tests.knowledge.helpers import HashingEmbedder


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def settings() -> KnowledgeSettings:
    return KnowledgeSettings(chunk_size=400, chunk_overlap=60, max_file_mb=1, registry_ttl_s=0.0)


@pytest.fixture
def kb(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> Iterator[KnowledgeBase]:
    knowledge = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    yield knowledge
    knowledge.close()

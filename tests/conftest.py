"""Shared fixtures: settings in a temporary data dir, a loopback fake model, databases."""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.gateway.llm import prepare_offline_environment
from bot.settings import Settings, load_settings
from knowledge import Passage
from tests.fakes.model_server import FakeModelServer, write_policy

prepare_offline_environment()

POSTGRES_URL = os.environ.get(
    "ALMIA_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass
class FakeSearch:
    """A knowledge base stand-in returning fixed passages (dependency injection, no patching)."""

    passages: list[Passage] = field(default_factory=list)
    queries: list[tuple[str, str | None]] = field(default_factory=list)

    async def search(self, query: str, *, space: str | None = None,
                     collections: Sequence[str] | None = None, k: int = 5) -> list[Passage]:
        del collections
        self.queries.append((query, space))
        return self.passages[:k]

    async def warm_up(self) -> None:
        """Nothing to prepare."""

    def close(self) -> None:
        """Nothing to release."""


def passage(number: int, text: str, *, title: str = "Guide sinistres", score: float = 0.8,
            data_class: str = "internal") -> Passage:
    """A retrieved passage for tests."""
    return Passage(chunk_id=f"c{number}", document=f"doc{number}.md", path=f"/docs/doc{number}.md",
                   title=title, section="Déclaration", page=None, url=None, text=text,
                   score=score, collection="tests", data_class=data_class)


@pytest.fixture(autouse=True)
def _no_charter_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of other features skip the usage charter; its own tests turn it on explicitly."""
    monkeypatch.setenv("ALMIA_CHARTER__ENABLED", "false")


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Commands under test configure the root logger (a handler on the runner's stderr, a
    log file, warnings captured): undo it, or later tests log into a closed stream."""
    root = logging.getLogger()
    before, level, showwarning = list(root.handlers), root.level, warnings.showwarning
    yield
    for handler in list(root.handlers):
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
            handler.close()
    for handler in before:  # put back what a command removed (pytest's own handlers too)
        if handler not in root.handlers and not type(handler).__module__.startswith("_pytest"):
            root.addHandler(handler)
    root.setLevel(level)
    warnings.showwarning = showwarning


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults in a temporary data dir (SQLite, embedded Chroma, extractive model)."""
    return load_settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture
async def fake_model() -> AsyncIterator[FakeModelServer]:
    """An OpenAI-compatible model on loopback."""
    async with FakeModelServer() as model:
        yield model


@pytest.fixture
def model_settings(tmp_path: Path, fake_model: FakeModelServer) -> Settings:
    """Settings whose skills use the fake model through litellm."""
    policy = write_policy(tmp_path / "policy.yaml", fake_model.url)
    return load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)


@pytest.fixture
def postgres_schema() -> str:
    """A schema name unique to the test: tests never touch data they did not create."""
    return f"almia_test_{uuid.uuid4().hex[:12]}"

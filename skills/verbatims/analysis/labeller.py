"""The optional model step: a generative model names themes and writes improvement axes.

It only ever sees cluster samples (pseudonymised examples and keywords), one entry per theme,
never one call per verbatim. The implementation (gateway, batching, retries, DLP) lives with
the skill; offline there is none and themes keep their keyword labels, axes stay empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ThemeSample:
    """What a model may read about one theme."""

    theme: int
    label: str  # the keyword label
    keywords: tuple[str, ...]
    examples: tuple[str, ...]  # pseudonymised verbatims
    share: float
    negative_share: float


@runtime_checkable
class ThemeLabeller(Protocol):
    """Names themes and writes axes from samples; ``None`` in a result keeps the default."""

    async def name_themes(self, samples: Sequence[ThemeSample]) -> list[str | None]:
        """A short French label per sample (a few words, as an analyst would name it)."""

    async def write_axes(self, samples: Sequence[ThemeSample]) -> list[str | None]:
        """Per sample, what customers ask for, in a sentence or two."""

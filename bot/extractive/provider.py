"""The extractive provider as the gateway calls it: one stream of the selected text."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.extractive.answer import select_answer
from bot.extractive.outline import select_outline
from bot.gateway.types import CompletionRequest, StreamBase, TokenUsage
from bot.governance.policy import ModelEntry


class _ExtractiveStream(StreamBase):
    async def __aiter__(self) -> AsyncIterator[str]:
        request = self._request
        text = select_outline(request) if request.outline else select_answer(request)
        prompt_words = sum(len(passage.text.split()) for passage in request.passages)
        self._usage = TokenUsage(
            prompt_tokens=prompt_words + len(request.question.split()),
            completion_tokens=len(text.split()),
        )
        for line in text.splitlines(keepends=True):
            yield line


class ExtractiveProvider:
    """Provider ``extractive``: offline, deterministic, cites what it selects."""

    def open_stream(self, entry: ModelEntry, request: CompletionRequest) -> _ExtractiveStream:
        """Select sentences for ``request`` (the entry has no settings to honour)."""
        return _ExtractiveStream(entry, request)

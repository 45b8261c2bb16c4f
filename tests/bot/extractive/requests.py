"""A Q&A or summary request to the extractive provider, from plain passages."""

from __future__ import annotations

from bot.gateway.llm import ChatTurn, CompletionRequest, ContextPassage, OutlineSection


def completion_request(question: str, passages: list[str], outline: tuple[OutlineSection, ...] = (),
             locale: str = "fr") -> CompletionRequest:
    return CompletionRequest(
        skill="qa", role="answer", messages=(ChatTurn("user", question),), question=question,
        passages=tuple(ContextPassage(n, f"Doc {n}", text) for n, text in enumerate(passages, 1)),
        outline=outline, locale=locale,  # type: ignore[arg-type]
    )

"""A fake OpenAI-compatible chat-completions server on loopback, speaking the real protocol.

Used through litellm's real code path (``model: openai/<name>``, ``api_base: <url>``):
it streams Server-Sent Events chunks like the OpenAI API, records every request
body, and can be told to be slow, to fail, to hang, or to misbehave in ways a real
server does (``fault``): an HTML page with status 200 (a proxy's login or error page),
an empty stream, or a stream cut before its ``[DONE]`` line.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.loopback import LoopbackServer

Responder = Callable[[dict[str, Any]], str]
Fault = Literal["html", "empty", "no_done"]


def echo_last_user_message(body: dict[str, Any]) -> str:
    """Default answer: quotes the end of the last user message, citing [1]."""
    last = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"][-1:]
    tail = last[0][-80:] if last else ""
    return f"Réponse du modèle factice [1] : {tail}"


def fixed_failure(_body: dict[str, Any]) -> str:
    """Default error message of a failing fake."""
    return "fake failure"


@dataclass
class FakeModelServer(LoopbackServer):
    """``async with FakeModelServer() as model: model.url`` → ``http://127.0.0.1:PORT/v1``."""

    responder: Responder = echo_last_user_message
    delay_seconds: float = 0.0  # before the first chunk
    chunk_words: int = 3
    fail_status: int | None = None  # answer every request with this HTTP status
    error_responder: Responder = fixed_failure  # the error message then sent
    hang: bool = False  # never answer (for timeout tests)
    gate: asyncio.Event | None = None  # when given, answer only once the test sets it
    fault: Fault | None = None  # a 200 answer that is not a whole stream
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    _server: TestServer | None = None

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``…/v1``)."""
        return f"{self.base_url}/v1"

    def routes(self, app: web.Application) -> None:
        """The chat-completions endpoint."""
        app.router.add_post("/v1/chat/completions", self._completions)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self.fail_status is not None:
            return web.json_response(
                {"error": {"message": self.error_responder(body), "type": "server_error"}},
                status=self.fail_status,
            )
        if self.hang:
            await asyncio.sleep(3600)
        if self.gate is not None:
            await self.gate.wait()
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.fault == "html":
            return web.Response(text="<html><body><h1>Connexion requise</h1></body></html>",
                                content_type="text/html")
        text = self.responder(body)
        created = int(time.time())
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                "model": body.get("model", "fake")}
        if not body.get("stream"):
            return web.json_response({
                **base, "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 11, "completion_tokens": len(text.split()),
                          "total_tokens": 11 + len(text.split())},
            })
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if self.fault == "empty":
            await response.write_eof()
            return response
        words = text.split(" ")
        for start in range(0, len(words), self.chunk_words):
            piece = " ".join(words[start:start + self.chunk_words])
            if start + self.chunk_words < len(words):
                piece += " "
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece},
                                          "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if self.fault == "no_done":  # cut after the first chunk, cleanly
                await response.write_eof()
                return response
        final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await response.write(f"data: {json.dumps(final)}\n\n".encode())
        usage = {**base, "choices": [], "usage": {"prompt_tokens": 11,
                                                  "completion_tokens": len(words),
                                                  "total_tokens": 11 + len(words)}}
        await response.write(f"data: {json.dumps(usage)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def write_policy(path: Path, model_url: str, *, hosting: str = "internal",
                 clearance: str = "confidential", timeout_seconds: float = 10.0,
                 retries: int = 0, fallback_extractive: bool = False,
                 provider: str = "litellm") -> Path:
    """A policy file whose skills use the fake model (alias ``fake``)."""
    approved = ["fake", "extractive"] if fallback_extractive else ["fake"]
    policy = {
        "models": [
            {"alias": "fake", "provider": provider,
             "model": "openai/fake-model" if provider == "litellm" else "fake-model",
             "api_base": model_url,
             "api_key": "sk-test-not-secret", "hosting": hosting, "clearance": clearance,
             "timeout_seconds": timeout_seconds, "first_token_timeout_seconds": timeout_seconds,
             "retries": retries},
            {"alias": "extractive", "provider": "extractive", "hosting": "internal",
             "clearance": "secret"},
        ],
        "skills": {
            "qa": {"roles": {"answer": approved}},
            "call_summary": {"roles": {"summarise": approved}},
            "templates": {"roles": {"generate": approved}},
            "verbatims": {"roles": {"verbatims": approved}},
            "codedoc": {"roles": {"code": approved}},
            "campaigns": {"roles": {"marketing": approved}},
            "tenders": {"roles": {"tenders": approved}},
            "help": {"roles": {}},
        },
    }
    path.write_text(json.dumps(policy), encoding="utf-8")  # JSON is valid YAML
    return path

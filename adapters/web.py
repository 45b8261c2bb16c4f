"""The local web chat: a page, a JSON endpoint and a streaming (SSE) endpoint.

``POST /api/chat``         ``{"text", "user"?, "user_name"?, "locale"?, "space"?, "thread"?}``
                           → ``{"reply": {...}, "thread": "..."}``
``POST /api/chat/stream``  same body → ``text/event-stream`` of ``progress``, ``delta``, ``reply``
``POST /api/feedback``     ``{"turn_id", "value": 1 | -1, "user"?}`` → ``{"ok": true}``
``POST /api/action``       ``{"action": "skill:verb", "values", "user"?, …}`` → ``{"reply"}``
                           (a card button; replies may carry ``cards``, see ``bot.cards``)
``GET /api/stats/templates?since=30d``  template usage analytics (JSON)
A ``/template use`` lacking variables is answered with a reply carrying ``form``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.assistant import Assistant
from bot.cards import action_values
from bot.files.service import stored_attachment
from bot.http_edge import problem
from bot.messages import (
    Action,
    Attachment,
    Channel,
    Delta,
    Message,
    Progress,
    Reply,
    Space,
    User,
)
from bot.settings import WebSettings
from bot.store.templates import TemplateStore, parse_period
from skills.templates import find_form

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
_SPACE_ID = re.compile(r"^[A-Za-z0-9:_.-]{1,200}$")


class ChatRequest(BaseModel):
    """Body of ``/api/chat`` and ``/api/chat/stream``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    text: str = Field(max_length=200_000)
    user: str = Field(default="web-local", min_length=1, max_length=200)
    user_name: str = Field(default="", max_length=200)
    locale: Literal["fr", "en"] | None = None
    space: str = Field(default="web:default", max_length=200)
    thread: str | None = Field(default=None, max_length=200)
    attachments: list[str] = Field(default_factory=list, max_length=200)  # ids from /api/files


class ActionRequest(BaseModel):
    """Body of ``/api/action``: a card button (``skill:verb``), its values and the inputs."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^[a-z_]{1,40}:[a-z_]{1,40}$")
    values: dict[str, str] = Field(default_factory=dict, max_length=40)
    user: str = Field(default="web-local", min_length=1, max_length=200)
    user_name: str = Field(default="", max_length=200)
    locale: Literal["fr", "en"] | None = None
    space: str = Field(default="web:default", max_length=200)
    thread: str | None = Field(default=None, max_length=200)


class FeedbackRequest(BaseModel):
    """Body of ``/api/feedback``."""

    model_config = ConfigDict(extra="forbid")

    turn_id: str = Field(min_length=1, max_length=64)
    value: Literal[1, -1]
    user: str = Field(default="web-local", min_length=1, max_length=200)
    comment: str | None = Field(default=None, max_length=2000)


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-ready data."""
    return {
        "text": reply.text,
        "kind": reply.kind,
        "skill": reply.skill,
        "model": reply.model,
        "locale": reply.locale,
        "turn_id": reply.turn_id,
        "job_id": reply.job_id,
        "citations": [dataclasses.asdict(citation) for citation in reply.citations],
        "cards": [card.as_json() for card in reply.cards],
    }


class WebChatAdapter:
    """Channel ``web``: the chat page and its JSON API, on the shared aiohttp app."""

    name = "web"

    def __init__(self, assistant: Assistant, settings: WebSettings) -> None:
        self._assistant = assistant
        self._settings = settings

    def mount(self, app: web.Application) -> None:
        """Add the page, static files and the API routes (``bot.http_edge`` checks the
        host and, when configured, the API token)."""
        app.router.add_get("/", self._index)
        app.router.add_get("/favicon.ico", self._favicon)
        app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
        app.router.add_post("/api/chat", self._chat)
        app.router.add_post("/api/chat/stream", self._chat_stream)
        app.router.add_post("/api/feedback", self._feedback)
        app.router.add_post("/api/action", self._action)
        app.router.add_get("/api/stats/templates", self._template_stats)

    async def _index(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def _favicon(self, _request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "favicon.ico",
                                headers={"Cache-Control": "max-age=86400"})

    async def _read_json(self, request: web.Request) -> Any:
        if request.content_type != "application/json":
            raise _BadRequest("Le corps doit être du JSON (Content-Type: application/json).",
                              "The body must be JSON (Content-Type: application/json).")
        body = await request.read()
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise _BadRequest("Le corps n'est pas de l'UTF-8 valide.",
                              "The body is not valid UTF-8.") from None
        except json.JSONDecodeError as error:
            raise _BadRequest(f"JSON invalide (ligne {error.lineno}, colonne {error.colno}).",
                              f"Invalid JSON (line {error.lineno}, column {error.colno}).") from None
        except (RecursionError, ValueError):  # nesting too deep, integer over the digit limit
            raise _BadRequest("JSON invalide (imbrication trop profonde ou nombre trop long).",
                              "Invalid JSON (nesting too deep or number too long).") from None

    async def _message(self, request: web.Request) -> Message:
        payload = await self._read_json(request)
        try:
            chat = ChatRequest.model_validate(payload)
        except ValidationError as error:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in error.errors())
            raise _BadRequest(f"Champs invalides : {fields}.", f"Invalid fields: {fields}.") from None
        space = chat.space if chat.space.startswith("web:") else f"web:{chat.space}"
        if not _SPACE_ID.match(space):
            raise _BadRequest("Identifiant d'espace invalide.", "Invalid space id.")
        user_id = f"web:{chat.user}"
        return Message(
            text=chat.text,
            user=User(id=user_id, name=chat.user_name, locale=chat.locale),
            space=Space(id=space, kind="personal", name=space),
            channel=Channel.WEB,
            thread_id=chat.thread or uuid.uuid4().hex,
            locale=chat.locale,
            attachments=await self._attachments(chat.attachments, user_id),
        )

    async def _attachments(self, ids: list[str], owner: str) -> tuple[Attachment, ...]:
        """Files uploaded through ``/api/files`` by the same user."""
        files = self._assistant.files
        if not ids:
            return ()
        found = [await stored_attachment(files, file_id, owner)
                 for file_id in ids] if files is not None else []
        if files is None or any(attachment is None for attachment in found):
            raise _BadRequest("Pièce jointe inconnue ou expirée : renvoyez le fichier.",
                              "Unknown or expired attachment: upload the file again.")
        return tuple(attachment for attachment in found if attachment is not None)

    async def _chat(self, request: web.Request) -> web.Response:
        try:
            message = await self._message(request)
        except _BadRequest as bad:
            return bad.response()
        form = await self._template_form(message)
        if form is not None:
            return web.json_response({"reply": form, "thread": message.thread_id})
        reply = await self._assistant.answer(message)
        return web.json_response({"reply": reply_payload(reply), "thread": message.thread_id})

    async def _template_form(self, message: Message) -> dict[str, Any] | None:
        """A reply carrying a form when a ``/template use`` lacks variables (app.js renders it)."""
        form = await find_form(self._assistant.router, message,
                               lambda: self._assistant.locale_of(message))
        if form is None:
            return None
        locale = self._assistant.locale_of(message)
        reply = Reply(form.prompt, kind="info", skill="templates", locale=locale)
        return {**reply_payload(reply), "form": form.as_json()}

    async def _template_stats(self, request: web.Request) -> web.Response:
        try:
            since = parse_period(request.query.get("since", "30d"))
        except ValueError:
            return problem(400, "Période invalide : par exemple since=30d, 12w ou 48h.",
                            "Invalid period: for example since=30d, 12w or 48h.")
        stats = await TemplateStore(self._assistant.store.engine).stats(since)
        return web.json_response(stats.as_json())

    async def _chat_stream(self, request: web.Request) -> web.StreamResponse:
        try:
            message = await self._message(request)
        except _BadRequest as bad:
            return bad.response()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8",
                     "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        await _send_event(response, "thread", {"thread": message.thread_id})
        form = await self._template_form(message)
        if form is not None:
            await _send_event(response, "reply", form)
            await response.write_eof()
            return response
        async for event in self._assistant.respond(message):
            if isinstance(event, Delta):
                await _send_event(response, "delta", {"text": event.text})
            elif isinstance(event, Progress):
                await _send_event(response, "progress", {"text": event.text})
            else:
                await _send_event(response, "reply", reply_payload(event))
        await response.write_eof()
        return response

    async def _action(self, request: web.Request) -> web.Response:
        """A card button: the skill named by the action answers (it checks who pressed it)."""
        try:
            body = ActionRequest.model_validate(await self._read_json(request))
        except _BadRequest as bad:
            return bad.response()
        except ValidationError:
            return problem(400, "Action invalide.", "Invalid action.")
        space = body.space if body.space.startswith("web:") else f"web:{body.space}"
        if not _SPACE_ID.match(space):
            return problem(400, "Identifiant d'espace invalide.", "Invalid space id.")
        message = Message(
            text="", user=User(id=f"web:{body.user}", name=body.user_name, locale=body.locale),
            space=Space(id=space, kind="personal", name=space), channel=Channel.WEB,
            thread_id=body.thread or uuid.uuid4().hex, locale=body.locale,
            action=Action(body.action, action_values(body.values, {})))
        reply = await self._assistant.answer(message)
        return web.json_response({"reply": reply_payload(reply), "thread": message.thread_id})

    async def _feedback(self, request: web.Request) -> web.Response:
        try:
            payload = await self._read_json(request)
            feedback = FeedbackRequest.model_validate(payload)
        except _BadRequest as bad:
            return bad.response()
        except ValidationError:
            return problem(400, "Retour invalide : turn_id et value (1 ou -1) sont attendus.",
                            "Invalid feedback: turn_id and value (1 or -1) are expected.")
        stored = await self._assistant.store.record_feedback(
            feedback.turn_id, f"web:{feedback.user}", feedback.value, feedback.comment
        )
        if not stored:
            return problem(404, "Réponse inconnue.", "Unknown answer.")
        return web.json_response({"ok": True})


class _BadRequest(Exception):
    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_fr = message_fr
        self.message_en = message_en

    def response(self) -> web.Response:
        return problem(400, self.message_fr, self.message_en)


async def _send_event(response: web.StreamResponse, name: str, data: dict[str, Any]) -> None:
    payload = json.dumps(data, ensure_ascii=False)
    await response.write(f"event: {name}\ndata: {payload}\n\n".encode())

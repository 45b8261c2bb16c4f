"""HTTP endpoints for files and jobs: web upload, signed downloads, job lists, progress over SSE.

Mounted whenever files are enabled: the signed download route serves artefacts to every
channel (links posted in Teams and Slack point here), the ``/api/…`` routes serve the web
chat and scripts (behind the web chat's token check when one is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from bot.files.intake import FileRejected
from bot.jobs.model import JobView
from bot.messages import Attachment, Channel, Locale, Message, Space, User
from bot.store import AuditEntry
from bot.store.files import FileInfo, FileNotFound

_USER = re.compile(r"^[A-Za-z0-9@._:-]{1,200}$")
_SPACE = re.compile(r"^[A-Za-z0-9:_.-]{1,200}$")
_ID = re.compile(r"^[0-9a-f]{32}$")
_READ = 256 * 1024
_POLL_SECONDS = 1.0


def problem(status: int, message_fr: str, message_en: str) -> web.Response:
    """A JSON error body like the rest of the API's."""
    return web.json_response(
        {"error": {"status": status, "message": message_fr, "message_en": message_en}},
        status=status)


def web_message(user: str, space: str, locale: Locale | None = None) -> Message:
    """A content-less message standing for a web user (audit, file ownership)."""
    space_id = space if space.startswith("web:") else f"web:{space}"
    return Message(text="", user=User(id=f"web:{user}", locale=locale),
                   space=Space(id=space_id, kind="personal", name=space_id),
                   channel=Channel.WEB, thread_id="files", locale=locale)


def job_payload(job: JobView) -> dict[str, Any]:
    """A job as the API shows it (no parameters, no checkpoint)."""
    return {
        "id": job.id, "skill": job.skill, "task": job.task, "title": job.title,
        "state": job.state.value, "progress": round(job.progress, 3),
        "status": job.progress_text, "attempts": job.attempts,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": ({"text": job.result.text, "kind": job.result.kind,
                    "cards": [card.as_json() for card in job.result.cards]}
                   if job.result is not None else None),
    }


class FilesEndpoint:
    """Upload (multipart), signed download, jobs list, job progress and cancellation."""

    name = "files"

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime

    def mount(self, app: web.Application) -> None:
        """Add the routes."""
        app.router.add_post("/api/files", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_get("/api/jobs", self._jobs)
        app.router.add_get("/api/jobs/{job_id}", self._job)
        app.router.add_get("/api/jobs/{job_id}/events", self._events)
        app.router.add_post("/api/jobs/{job_id}/cancel", self._cancel)

    # -- upload ----------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        intake = self._runtime.intake
        if not request.content_type.startswith("multipart/"):
            return problem(400, "Envoyez les fichiers en multipart/form-data (champ « file »).",
                           "Send files as multipart/form-data (field “file”).")
        user = request.query.get("user", "web-local")
        space = request.query.get("space", "web:default")
        locale: Locale = "en" if request.query.get("locale") == "en" else "fr"
        if not _USER.match(user) or not _SPACE.match(space):
            return problem(400, "Utilisateur ou espace invalide.", "Invalid user or space.")
        message = web_message(user, space, locale)
        accepted: list[Attachment] = []
        try:
            reader = await request.multipart()
            count = 0
            async for part in _file_parts(reader):
                count += 1
                intake.check_count(count)
                accepted.append(await intake.receive(message, part.filename or "fichier",
                                                     _chunks(part)))
        except FileRejected as refusal:
            await self._discard(accepted)
            return problem(422, refusal.message_for("fr"), refusal.message_for("en"))
        except (ValueError, AssertionError, asyncio.IncompleteReadError):
            await self._discard(accepted)
            return problem(400, "Envoi incomplet ou mal formé : réessayez.",
                           "Incomplete or malformed upload: try again.")
        if not accepted:
            return problem(400, "Aucun fichier reçu (champ « file »).",
                           "No file received (field “file”).")
        return web.json_response({"files": [
            {"id": a.file_id, "name": a.name, "kind": a.kind, "size": a.size,
             "data_class": a.data_class} for a in accepted]})

    async def _discard(self, accepted: list[Attachment]) -> None:
        for attachment in accepted:
            if attachment.file_id is not None:
                await self._runtime.files.delete_one(attachment.file_id)

    # -- download --------------------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        links = self._runtime.intake.links
        if not _ID.match(file_id) or not links.verify(
                file_id, request.query.get("expires", ""), request.query.get("signature", "")):
            return problem(403, "Lien de téléchargement invalide ou expiré : demandez-en un "
                           "nouveau dans la conversation.",
                           "Invalid or expired download link: ask for a new one in the "
                           "conversation.")
        files = self._runtime.files
        try:
            info = await files.info(file_id)
        except FileNotFound:
            return problem(404, "Ce fichier n'existe plus (expiré ou effacé).",
                           "This file no longer exists (expired or erased).")
        response = web.StreamResponse(headers={
            "Content-Type": info.media_type,
            "Content-Length": str(info.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.name)}",
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        })
        # recorded before the first byte leaves: a download is audited even if it is cut
        await self._runtime.store.record_event(
            _owner_message(info),
            AuditEntry(action="file_download", outcome="ok",
                       details={"file": file_id, "sha256": info.sha256, "size": info.size,
                                "job": info.job_id}))
        await response.prepare(request)
        async for piece in files.chunks(file_id):
            await response.write(piece)
        await response.write_eof()
        return response

    # -- jobs ------------------------------------------------------------------------------

    async def _jobs(self, request: web.Request) -> web.Response:
        user = request.query.get("user", "web-local")
        if not _USER.match(user):
            return problem(400, "Utilisateur invalide.", "Invalid user.")
        jobs = await self._runtime.jobs.mine(f"web:{user}")
        return web.json_response({"jobs": [job_payload(job) for job in jobs]})

    async def _own_job(self, request: web.Request) -> JobView | None:
        job_id = request.match_info["job_id"]
        user = request.query.get("user", "web-local")
        if not _ID.match(job_id) or not _USER.match(user):
            return None
        job: JobView | None = await self._runtime.jobs.jobs.get(job_id)
        return job if job is not None and job.user_id == f"web:{user}" else None

    async def _job(self, request: web.Request) -> web.Response:
        job = await self._own_job(request)
        if job is None:
            return problem(404, "Tâche introuvable.", "Job not found.")
        return web.json_response({"job": await self._with_artefacts(job)})

    async def _with_artefacts(self, job: JobView) -> dict[str, Any]:
        payload = job_payload(job)
        if job.result is not None:
            links = self._runtime.intake.links
            payload["artefacts"] = [
                {"name": info.name, "size": info.size, "media_type": info.media_type,
                 "url": links.url(info.id, info.name)}
                for info in await self._runtime.files.list_for_job(job.id)]
        return payload

    async def _events(self, request: web.Request) -> web.StreamResponse:
        job = await self._own_job(request)
        if job is None:
            return problem(404, "Tâche introuvable.", "Job not found.")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        last: dict[str, Any] | None = None
        with contextlib.suppress(ConnectionResetError):
            while True:
                current = await self._runtime.jobs.jobs.get(job.id)
                if current is None:
                    break
                payload = await self._with_artefacts(current)
                if payload != last:
                    name = "done" if current.state.terminal else "progress"
                    data = json.dumps(payload, ensure_ascii=False)
                    await response.write(f"event: {name}\ndata: {data}\n\n".encode())
                    last = payload
                if current.state.terminal:
                    break
                await asyncio.sleep(_POLL_SECONDS)
        return response

    async def _cancel(self, request: web.Request) -> web.Response:
        job = await self._own_job(request)
        if job is None:
            return problem(404, "Tâche introuvable.", "Job not found.")
        message = web_message(job.user_id.removeprefix("web:"), job.reply_to.space_id)
        cancelled = await self._runtime.jobs.cancel(job.id, message)
        return web.json_response({"job": job_payload(cancelled or job)})


def _owner_message(info: FileInfo) -> Message:
    """A content-less message standing for a file's owner, in the channel it came from."""
    try:
        channel = Channel(info.channel)
    except ValueError:
        channel = Channel.CLI
    return Message(text="", user=User(info.owner_id), space=Space(info.space_id),
                   channel=channel, thread_id="files")


async def _file_parts(reader: Any) -> AsyncIterator[BodyPartReader]:
    while True:
        part = await reader.next()
        if part is None:
            return
        if isinstance(part, BodyPartReader) and part.filename:
            yield part
        elif isinstance(part, BodyPartReader):
            await part.release()


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(_READ):
        yield chunk

"""Accepting a file from any channel: check, classify, keep (sealed), audit — or refuse politely."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.files.intake import CheckedFile, FileRejected, check_count, check_file, rejected
from bot.files.links import LinkSigner
from bot.files.settings import FileSettings
from bot.files.text import file_text
from bot.governance.dlp import Detector, DlpSettings
from bot.messages import Attachment, Message
from bot.store import AuditEntry, Store
from bot.store.files import FileNotFound, FileStore, NewFile

_SPOOL_MEMORY = 4 * 1_048_576  # larger files go to an owner-only temporary file
_INLINE_TEXT = 256 * 1024  # text files this small travel with the message as well


@dataclass(frozen=True, slots=True)
class Classification:
    """What the content of a file holds, by kind of data (never the values)."""

    data_class: str
    findings: Mapping[str, int]


class FileClassifier:
    """Classifies file content like a message: identifier patterns and secrets, no NER.

    As in the gateway's classification of requests for internal models, names do not raise
    the data class; the gateway still pseudonymises every prompt built from a file before
    any external model sees it.
    """

    def __init__(self, dlp: DlpSettings) -> None:
        self._settings = dlp
        self._detector = Detector(dlp.model_copy(update={"ner": False})) if dlp.enabled else None

    def classify(self, checked: CheckedFile, stream: IO[bytes]) -> Classification:
        """The file's data class and the counts of each kind of finding."""
        if self._detector is None:
            return Classification("internal", {})
        text = file_text(checked.kind, stream, self._settings.max_chars)
        counts: dict[str, int] = {}
        for finding in self._detector.detect(text):
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        order = ("public", "internal", "confidential", "secret")
        data_class = max(["internal", *(self._settings.kind_classes.get(kind, "internal")
                                        for kind in counts)], key=order.index)
        return Classification(data_class, counts)


class FileIntake:
    """The one way a file enters Almia, whatever the channel."""

    def __init__(self, files: FileStore, settings: FileSettings, classifier: FileClassifier,
                 store: Store, links: LinkSigner, spool_dir: Path) -> None:
        self.files = files
        self.settings = settings
        self.links = links
        self._classifier = classifier
        self._store = store
        self._spool_dir = spool_dir

    def spool(self) -> IO[bytes]:
        """A temporary file to receive a download (memory, then an owner-only file on disk)."""
        self._spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        spooled: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (the caller closes it)
            max_size=_SPOOL_MEMORY, dir=str(self._spool_dir))
        return spooled

    async def receive(self, message: Message, name: str,
                      pieces: AsyncIterable[bytes]) -> Attachment:
        """Spool a download within the size limit, then :meth:`accept` it."""
        with self.spool() as spooled:
            size = 0
            async for piece in pieces:
                size += len(piece)
                if size > self.settings.max_bytes:
                    await self._refused(message, "too_large", size)
                    raise rejected("too_large", name=name, size=f"> {self.settings.max_file_mb}",
                                   limit=self.settings.max_file_mb)
                spooled.write(piece)
            return await self.accept(message, name, spooled)

    async def accept(self, message: Message, name: str, stream: IO[bytes]) -> Attachment:
        """Check, classify, store sealed and audit one file; :class:`FileRejected` otherwise."""
        try:
            checked = await asyncio.to_thread(check_file, name, stream, self.settings)
        except FileRejected as refusal:
            await self._refused(message, refusal.code, stream.seek(0, 2))
            raise
        classification = await asyncio.to_thread(self._classifier.classify, checked, stream)
        info = await self.files.save(NewFile(
            owner_id=message.user.id, space_id=message.space.id, channel=message.channel.value,
            purpose="upload", name=checked.name, kind=checked.kind.value,
            media_type=checked.media_type, sha256=checked.sha256,
            data_class=classification.data_class, findings=classification.findings), stream)
        await self._store.record_event(message, AuditEntry(
            action="file_received", outcome="ok", data_class=classification.data_class,
            details={"file": info.id, "name": checked.name, "sha256": checked.sha256,
                     "size": checked.size, "kind": checked.kind.value,
                     "findings": dict(classification.findings),
                     "entries": len(checked.entries)}))
        inline = None
        if checked.kind.is_text and checked.size <= _INLINE_TEXT:  # pasted-note-sized texts
            stream.seek(0)
            inline = stream.read()
        return Attachment(name=checked.name, content_type=checked.media_type, data=inline,
                          size=checked.size, file_id=info.id, sha256=checked.sha256,
                          kind=checked.kind.value, data_class=classification.data_class)

    def check_count(self, count: int) -> None:
        """Refuse a message carrying too many files."""
        check_count(count, self.settings)

    async def _refused(self, message: Message, code: str, size: int) -> None:
        await self._store.record_event(message, AuditEntry(
            action="file_refused", outcome=code, details={"size": size}))



async def stored_attachment(files: FileStore, file_id: str, owner_id: str) -> Attachment | None:
    """An upload of ``owner_id`` as an attachment (None when not theirs, expired or unknown)."""
    try:
        info = await files.info(file_id)
    except FileNotFound:
        return None
    if info.owner_id != owner_id or info.purpose != "upload":
        return None
    inline = None
    if info.kind in ("txt", "csv", "md") and info.size <= _INLINE_TEXT:
        inline = await files.read(file_id)
    return Attachment(name=info.name, content_type=info.media_type, data=inline,
                      size=info.size, file_id=info.id, sha256=info.sha256, kind=info.kind,
                      data_class=info.data_class)

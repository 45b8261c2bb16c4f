"""Files kept for skills and jobs: sealed 1 MiB chunks in the database, readable by every replica."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.file_tables import FileChunk, StoredFile
from bot.store.sealing import OwnerSealer, seal_text, unseal_text
from bot.store.store import writer

CHUNK_BYTES = 1_048_576
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What is known of a stored file without reading its bytes."""

    id: str
    owner_id: str
    space_id: str
    channel: str
    purpose: str
    job_id: str | None
    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    data_class: str | None
    findings: Mapping[str, int]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to store: where it comes from and what the checks found."""

    owner_id: str
    space_id: str
    channel: str
    purpose: str  # upload | artefact
    name: str
    kind: str
    media_type: str
    sha256: str
    data_class: str | None = None
    findings: Mapping[str, int] = field(default_factory=dict)
    job_id: str | None = None


class FileNotFound(Exception):
    """No such file, it expired, or its owner's content was erased."""


class FileStore:
    """Uploads and artefacts, sealed with their owner's key, erased at expiry or on purge."""

    def __init__(self, engine: AsyncEngine, sealer: OwnerSealer, *,
                 retention: timedelta = timedelta(days=30), clock: Clock = _now) -> None:
        self._engine = engine
        self._sealer = sealer
        self._retention = retention
        self._clock = clock

    async def save(self, new: NewFile, stream: IO[bytes],
                   retention: timedelta | None = None) -> FileInfo:
        """Store ``stream`` (read in 1 MiB pieces, sealed one by one) in one transaction."""
        file_id = uuid.uuid4().hex
        now = self._clock()
        expires = now + (retention or self._retention)
        stream.seek(0)
        size = 0
        count = 0
        # sealing first creates the owner's key if need be: before the write transaction
        name = await seal_text(self._sealer, new.owner_id, new.name, f"file-name:{file_id}")
        async with writer(self._engine).begin() as connection:
            await connection.execute(insert(StoredFile).values(
                id=file_id, owner_id=new.owner_id, space_id=new.space_id, channel=new.channel,
                purpose=new.purpose, job_id=new.job_id, name=name, kind=new.kind,
                media_type=new.media_type, size=0, sha256=new.sha256,
                data_class=new.data_class, findings=json.dumps(dict(new.findings)),
                chunks=0, created_at=now, expires_at=expires))
            while block := stream.read(CHUNK_BYTES):
                sealed = await self._sealer.seal_bytes(new.owner_id, block,
                                                       f"file:{file_id}:{count}")
                await connection.execute(insert(FileChunk).values(
                    file_id=file_id, seq=count, data=sealed))
                size += len(block)
                count += 1
            await connection.execute(update(StoredFile)
                                     .where(StoredFile.id == file_id)
                                     .values(size=size, chunks=count))
        return FileInfo(file_id, new.owner_id, new.space_id, new.channel, new.purpose,
                        new.job_id, new.name, new.kind, new.media_type, size, new.sha256,
                        new.data_class, dict(new.findings), now, expires)

    async def save_bytes(self, new: NewFile, data: bytes,
                         retention: timedelta | None = None) -> FileInfo:
        """Store bytes held in memory (artefacts a job produced)."""
        return await self.save(new, io.BytesIO(data), retention)

    async def info(self, file_id: str) -> FileInfo:
        """The file's description; :class:`FileNotFound` when gone or expired."""
        files = StoredFile.__table__
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(files).where(files.c.id == file_id))).mappings().first()
        if row is None or row["expires_at"].replace(tzinfo=UTC) <= self._clock():
            raise FileNotFound(file_id)
        name = await unseal_text(self._sealer, row["owner_id"], row["name"],
                                 f"file-name:{file_id}")
        if name is None:
            raise FileNotFound(file_id)
        return FileInfo(row["id"], row["owner_id"], row["space_id"], row["channel"],
                        row["purpose"], row["job_id"], name, row["kind"], row["media_type"],
                        row["size"], row["sha256"], row["data_class"],
                        json.loads(row["findings"]), row["created_at"], row["expires_at"])

    async def chunks(self, file_id: str) -> AsyncIterator[bytes]:
        """The file's bytes, one unsealed piece at a time (for streaming downloads)."""
        info = await self.info(file_id)
        table = FileChunk.__table__
        for seq in range(await self._chunk_count(file_id)):
            async with self._engine.connect() as connection:
                stored = await connection.scalar(
                    select(table.c.data).where(table.c.file_id == file_id, table.c.seq == seq))
            if stored is None:
                raise FileNotFound(file_id)
            plain = await self._sealer.unseal_bytes(info.owner_id, stored,
                                                    f"file:{file_id}:{seq}")
            if plain is None:
                raise FileNotFound(file_id)
            yield plain

    async def read(self, file_id: str) -> bytes:
        """The whole file in memory (skills that parse it)."""
        return b"".join([piece async for piece in self.chunks(file_id)])

    async def _chunk_count(self, file_id: str) -> int:
        files = StoredFile.__table__
        async with self._engine.connect() as connection:
            count = await connection.scalar(select(files.c.chunks).where(files.c.id == file_id))
        return int(count or 0)

    async def list_for_job(self, job_id: str, purpose: str = "artefact") -> list[FileInfo]:
        """Files attached to a job (its artefacts by default), oldest first."""
        files = StoredFile.__table__
        async with self._engine.connect() as connection:
            ids = (await connection.scalars(
                select(files.c.id).where(files.c.job_id == job_id, files.c.purpose == purpose)
                .order_by(files.c.created_at, files.c.id))).all()
        found = []
        for file_id in ids:
            try:
                found.append(await self.info(file_id))
            except FileNotFound:
                continue
        return found

    async def delete(self, *, owner_id: str | None = None,
                     expired: bool = False) -> int:
        """Erase one person's files, or every expired file; the number of files erased."""
        files = StoredFile.__table__
        condition = []
        if owner_id is not None:
            condition.append(files.c.owner_id == owner_id)
        if expired:
            condition.append(files.c.expires_at <= self._clock())
        if not condition:
            raise ValueError("delete needs owner_id or expired")
        async with writer(self._engine).begin() as connection:
            doomed = select(files.c.id).where(*condition)
            await connection.execute(delete(FileChunk).where(FileChunk.file_id.in_(doomed)))
            removed = (await connection.execute(delete(StoredFile).where(*condition))).rowcount
        return int(removed or 0)

    async def delete_one(self, file_id: str) -> None:
        """Erase one file (an upload refused as part of a batch)."""
        async with writer(self._engine).begin() as connection:
            await connection.execute(delete(FileChunk).where(FileChunk.file_id == file_id))
            await connection.execute(delete(StoredFile).where(StoredFile.id == file_id))

    async def count(self) -> int:
        """Files stored (tests and diagnostics)."""
        async with self._engine.connect() as connection:
            return int(await connection.scalar(
                select(func.count()).select_from(StoredFile)) or 0)


"""Tables of stored files (uploads and job artefacts) and durable jobs (migration 0007)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.tables import Base


class StoredFile(Base):
    """A file a person sent or a job produced; its bytes live in :class:`FileChunk` rows.

    The name is sealed like message text (it often names a customer); the digest and size
    are what the audit trail records.
    """

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_owner", "owner_id"),
        Index("ix_files_expires", "expires_at"),
        Index("ix_files_job", "job_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(256))
    space_id: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))  # upload | artefact
    job_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)  # sealed
    kind: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data_class: Mapped[str | None] = mapped_column(String(16))
    findings: Mapped[str] = mapped_column(Text)  # JSON {kind: count}, never values
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FileChunk(Base):
    """One sealed piece (at most 1 MiB of plaintext) of a stored file."""

    __tablename__ = "file_chunks"

    file_id: Mapped[str] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JobRecord(Base):
    """A durable job: who asked, where to report, state, progress, checkpoint, result.

    ``params`` (with the thread and the channel's reference), ``checkpoint``, ``result``,
    ``progress_text`` and ``notice`` are sealed with the owner's key. A worker owns a running job while ``lease_until`` is in the
    future; a job whose lease ran out (its worker died) is taken up again from its last
    checkpoint. ``delivered_at`` is set once the result reached the conversation.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_state", "user_id", "state"),
        Index("ix_jobs_state_lease", "state", "lease_until"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    skill: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(256))
    space_id: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float)
    progress_text: Mapped[str | None] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text)  # title, parameters, thread, channel reference
    checkpoint: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(64))  # a short code, never content
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notice: Mapped[str | None] = mapped_column(Text)  # channel handle of the progress message
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

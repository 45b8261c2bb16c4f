"""Erasing files and jobs with the rest of a person's content (called inside ``Store.purge``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.jobs.model import ACTIVE_STATES
from bot.store.file_tables import FileChunk, JobRecord, StoredFile


async def purge_files_and_jobs(connection: AsyncConnection, *, user_id: str | None,
                               older_than: datetime | None) -> dict[str, int]:
    """Inside a purge transaction: a person's files and jobs, or those older than a date."""
    files, jobs = StoredFile.__table__, JobRecord.__table__
    file_condition = []
    job_condition = []
    if user_id is not None:
        file_condition.append(files.c.owner_id == user_id)
        job_condition.append(jobs.c.user_id == user_id)
    if older_than is not None:
        file_condition.append(files.c.created_at < older_than)
        job_condition.append(jobs.c.created_at < older_than)
        job_condition.append(jobs.c.state.not_in(ACTIVE_STATES))
    doomed = select(files.c.id).where(*file_condition)
    await connection.execute(delete(FileChunk).where(FileChunk.file_id.in_(doomed)))
    removed_files = (await connection.execute(delete(StoredFile).where(*file_condition))).rowcount
    removed_jobs = (await connection.execute(delete(JobRecord).where(*job_condition))).rowcount
    return {"files": int(removed_files or 0), "jobs": int(removed_jobs or 0)}

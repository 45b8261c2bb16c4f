"""Durable job records: creation within limits, leases, progress, checkpoints, delivery."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cards import ButtonStyle, Card, CardButton, CardInput
from bot.jobs.model import ACTIVE_STATES, JobResult, JobSpec, JobState, JobView, ReplyTo
from bot.store.file_tables import JobRecord
from bot.store.sealing import OwnerSealer, seal_text, unseal_text
from bot.store.store import writer

Clock = Callable[[], datetime]
_JOBS = JobRecord.__table__
_LIMIT_LOCK = 0x616C6D6A6F  # one creation at a time per database (limits are counted)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they were written in UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class JobLimitReached(Exception):
    """Too many active jobs for this person or this skill."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"{scope} limit {limit}")
        self.scope = scope
        self.limit = limit


class JobStore:
    """Jobs in the relational store; sealed fields with the owner's key."""

    def __init__(self, engine: AsyncEngine, sealer: OwnerSealer, *, clock: Clock = _now) -> None:
        self._engine = engine
        self._sealer = sealer
        self._clock = clock

    # -- creation ------------------------------------------------------------------------

    async def create(self, spec: JobSpec, reply_to: ReplyTo, *, max_attempts: int,
                     per_user: int, per_skill: int) -> str:
        """A new queued job; :class:`JobLimitReached` when the person or skill has too many."""
        job_id = uuid.uuid4().hex
        owner = reply_to.user_id
        now = self._clock()
        # one sealed blob: each sealing looks up the owner's key in the database
        sealed = await self._seal_json(owner, {
            "title": spec.title, "params": dict(spec.params), "thread": reply_to.thread_id,
            "reference": dict(reply_to.reference)}, job_id, "params")
        values = {
            "id": job_id, "skill": spec.skill, "task": spec.task, "user_id": owner,
            "space_id": reply_to.space_id, "channel": reply_to.channel,
            "locale": reply_to.locale, "state": JobState.QUEUED.value, "progress": 0.0,
            "progress_text": None, "params": sealed, "checkpoint": None, "result": None,
            "error": None, "attempts": 0, "max_attempts": max_attempts,
            "cancel_requested": False, "lease_owner": None, "lease_until": None,
            "notice": None, "created_at": now, "started_at": None, "finished_at": None,
            "deadline_at": None, "delivered_at": None, "delivery_until": None,
        }
        async with self._writer() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": _LIMIT_LOCK})
            active = _JOBS.c.state.in_(ACTIVE_STATES)
            mine = await connection.scalar(select(func.count()).select_from(_JOBS)
                                           .where(active, _JOBS.c.user_id == owner))
            if int(mine or 0) >= per_user:
                raise JobLimitReached("user", per_user)
            skill = await connection.scalar(select(func.count()).select_from(_JOBS)
                                            .where(active, _JOBS.c.skill == spec.skill))
            if int(skill or 0) >= per_skill:
                raise JobLimitReached("skill", per_skill)
            await connection.execute(insert(JobRecord).values(**values))
        return job_id

    # -- reading -------------------------------------------------------------------------

    async def get(self, job_id: str) -> JobView | None:
        """The job, or None."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(_JOBS).where(_JOBS.c.id == job_id))).mappings().first()
        return await self._view(dict(row)) if row is not None else None

    async def list_for_user(self, user_id: str, limit: int = 20) -> list[JobView]:
        """A person's jobs, newest first."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(
                select(_JOBS).where(_JOBS.c.user_id == user_id)
                .order_by(_JOBS.c.created_at.desc()).limit(limit))).mappings().all()
        return [await self._view(dict(row)) for row in rows]

    async def due(self, limit: int = 100) -> tuple[list[str], list[str]]:
        """Jobs to run (queued, or running with an expired lease) and finished ones to deliver."""
        now = self._clock()
        async with self._engine.connect() as connection:
            runnable = (await connection.scalars(
                select(_JOBS.c.id).where(or_(
                    _JOBS.c.state == JobState.QUEUED.value,
                    and_(_JOBS.c.state == JobState.RUNNING.value, _JOBS.c.lease_until < now),
                )).order_by(_JOBS.c.created_at).limit(limit))).all()
            undelivered = (await connection.scalars(
                select(_JOBS.c.id).where(
                    _JOBS.c.state.not_in(ACTIVE_STATES), _JOBS.c.delivered_at.is_(None),
                    or_(_JOBS.c.delivery_until.is_(None), _JOBS.c.delivery_until < now),
                ).order_by(_JOBS.c.finished_at).limit(limit))).all()
        return list(runnable), list(undelivered)

    # -- running -------------------------------------------------------------------------

    async def claim(self, job_id: str, worker: str, lease: timedelta,
                    limit: timedelta) -> JobView | None:
        """Lease the job to ``worker`` if it is queued or its last worker went silent.

        None when it is not runnable now (finished, cancelled, leased to a live worker). A job
        whose attempts are used up is closed as failed instead.
        """
        now = self._clock()
        runnable = or_(_JOBS.c.state == JobState.QUEUED.value,
                       and_(_JOBS.c.state == JobState.RUNNING.value, _JOBS.c.lease_until < now))
        async with self._writer() as connection:
            exhausted = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, runnable,
                                        _JOBS.c.attempts >= _JOBS.c.max_attempts)
                .values(state=JobState.FAILED.value, error="attempts_exhausted",
                        lease_owner=None, lease_until=None, finished_at=now))
            if exhausted.rowcount:
                return None
            claimed = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, runnable,
                                        _JOBS.c.cancel_requested.is_(False))
                .values(state=JobState.RUNNING.value, lease_owner=worker,
                        lease_until=now + lease, attempts=_JOBS.c.attempts + 1,
                        started_at=func.coalesce(_JOBS.c.started_at, now),
                        deadline_at=now + limit))
            if not claimed.rowcount:
                return None
        return await self.get(job_id)

    async def renew(self, job_id: str, worker: str, lease: timedelta) -> tuple[bool, bool]:
        """Extend the lease: (still ours, cancellation requested)."""
        now = self._clock()
        async with self._writer() as connection:
            result = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, _JOBS.c.lease_owner == worker,
                                        _JOBS.c.state == JobState.RUNNING.value)
                .values(lease_until=now + lease))
            cancel = await connection.scalar(
                select(_JOBS.c.cancel_requested).where(_JOBS.c.id == job_id))
        return bool(result.rowcount), bool(cancel)

    async def report(self, job_id: str, worker: str, fraction: float, status: str,
                     owner: str) -> bool:
        """Store progress; False when the lease is no longer ours."""
        sealed = await self._seal(owner, status, job_id, "progress") if status else None
        async with self._writer() as connection:
            result = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, _JOBS.c.lease_owner == worker,
                                        _JOBS.c.state == JobState.RUNNING.value)
                .values(progress=max(0.0, min(1.0, fraction)), progress_text=sealed))
        return bool(result.rowcount)

    async def save_checkpoint(self, job_id: str, worker: str, state: Mapping[str, Any],
                              owner: str) -> bool:
        """Remember where the task is; False when the lease is no longer ours."""
        sealed = await self._seal_json(owner, dict(state), job_id, "checkpoint")
        async with self._writer() as connection:
            result = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, _JOBS.c.lease_owner == worker,
                                        _JOBS.c.state == JobState.RUNNING.value)
                .values(checkpoint=sealed))
        return bool(result.rowcount)

    async def finish(self, job_id: str, worker: str, state: JobState, owner: str,
                     result: JobResult | None = None, error: str | None = None) -> bool:
        """Close the job (only by the worker holding its lease); False if it was not ours."""
        sealed = (await self._seal_json(owner, result_json(result), job_id, "result")
                  if result is not None else None)
        now = self._clock()
        async with self._writer() as connection:
            done = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, _JOBS.c.lease_owner == worker,
                                        _JOBS.c.state == JobState.RUNNING.value)
                .values(state=state.value, result=sealed, error=error, lease_owner=None,
                        lease_until=None, finished_at=now,
                        progress=1.0 if state is JobState.SUCCEEDED else _JOBS.c.progress,
                        # a finished job no longer says the step it was at (« lecture du code »)
                        progress_text=None if state is JobState.SUCCEEDED
                        else _JOBS.c.progress_text))
        return bool(done.rowcount)

    async def release(self, job_id: str, worker: str, error: str, *,
                      refund: bool = False) -> bool:
        """Give a running job back to the queue: after a retryable failure, or when its worker
        stops (``refund``: the interrupted attempt does not count)."""
        attempts = _JOBS.c.attempts - 1 if refund else _JOBS.c.attempts
        async with self._writer() as connection:
            done = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id, _JOBS.c.lease_owner == worker,
                                        _JOBS.c.state == JobState.RUNNING.value)
                .values(state=JobState.QUEUED.value, lease_owner=None, lease_until=None,
                        error=error, attempts=attempts))
        return bool(done.rowcount)

    async def request_cancel(self, job_id: str) -> JobView | None:
        """Ask for cancellation: a queued job is cancelled now, a running one at its next step."""
        now = self._clock()
        async with self._writer() as connection:
            await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id,
                                        _JOBS.c.state == JobState.QUEUED.value)
                .values(state=JobState.CANCELLED.value, cancel_requested=True, finished_at=now))
            await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id,
                                        _JOBS.c.state == JobState.RUNNING.value)
                .values(cancel_requested=True))
        return await self.get(job_id)

    async def close_cancelled(self, job_id: str) -> bool:
        """Close a running job whose worker is gone after a cancellation was asked for."""
        now = self._clock()
        async with self._writer() as connection:
            done = await connection.execute(
                update(JobRecord).where(_JOBS.c.id == job_id,
                                        _JOBS.c.state == JobState.RUNNING.value,
                                        _JOBS.c.cancel_requested.is_(True),
                                        _JOBS.c.lease_until < now)
                .values(state=JobState.CANCELLED.value, lease_owner=None, lease_until=None,
                        finished_at=now))
        return bool(done.rowcount)

    # -- delivery ------------------------------------------------------------------------

    async def claim_delivery(self, job_id: str, lease: timedelta) -> JobView | None:
        """Take the right to post a finished job's result (one poster at a time)."""
        now = self._clock()
        async with self._writer() as connection:
            claimed = await connection.execute(
                update(JobRecord).where(
                    _JOBS.c.id == job_id, _JOBS.c.state.not_in(ACTIVE_STATES),
                    _JOBS.c.delivered_at.is_(None),
                    or_(_JOBS.c.delivery_until.is_(None), _JOBS.c.delivery_until < now))
                .values(delivery_until=now + lease))
            if not claimed.rowcount:
                return None
        return await self.get(job_id)

    async def mark_delivered(self, job_id: str) -> None:
        """The result reached the conversation."""
        async with self._writer() as connection:
            await connection.execute(update(JobRecord).where(_JOBS.c.id == job_id)
                                     .values(delivered_at=self._clock(), delivery_until=None))

    async def set_notice(self, job_id: str, owner: str, notice: Mapping[str, Any]) -> None:
        """Remember the channel's progress message handle."""
        sealed = await self._seal_json(owner, dict(notice), job_id, "notice")
        async with self._writer() as connection:
            await connection.execute(update(JobRecord).where(_JOBS.c.id == job_id)
                                     .values(notice=sealed))

    async def delete_for_user(self, user_id: str) -> int:
        """Erase a person's jobs (purge)."""
        async with self._writer() as connection:
            removed = await connection.execute(delete(JobRecord)
                                               .where(_JOBS.c.user_id == user_id))
        return int(removed.rowcount or 0)

    # -- helpers -------------------------------------------------------------------------

    def _writer(self) -> Any:
        return writer(self._engine).begin()

    async def _seal(self, owner: str, value: str, job_id: str, part: str) -> str:
        return await seal_text(self._sealer, owner, value, f"job:{job_id}:{part}")

    async def _seal_json(self, owner: str, value: Any, job_id: str, part: str) -> str:
        return await self._seal(owner, json.dumps(value, ensure_ascii=False), job_id, part)

    async def _open(self, owner: str, stored: str | None, job_id: str, part: str) -> str | None:
        if stored is None:
            return None
        return await unseal_text(self._sealer, owner, stored, f"job:{job_id}:{part}")

    async def _open_json(self, owner: str, stored: str | None, job_id: str, part: str) -> Any:
        opened = await self._open(owner, stored, job_id, part)
        return json.loads(opened) if opened else None

    async def _view(self, row: Mapping[str, Any]) -> JobView:
        owner = row["user_id"]
        job_id = row["id"]
        params = await self._open_json(owner, row["params"], job_id, "params") or {}
        result = await self._open_json(owner, row["result"], job_id, "result")
        reference = params.get("reference") or {}
        thread = params.get("thread") or ""
        return JobView(
            id=job_id, skill=row["skill"], task=row["task"], title=params.get("title", ""),
            user_id=owner,
            reply_to=ReplyTo(row["channel"], row["space_id"], thread, owner,
                             "en" if row["locale"] == "en" else "fr", reference),
            state=JobState(row["state"]), progress=float(row["progress"]),
            progress_text=await self._open(owner, row["progress_text"], job_id, "progress")
            or "",
            params=params.get("params", {}),
            checkpoint=await self._open_json(owner, row["checkpoint"], job_id, "checkpoint"),
            result=result_from_json(result) if result else None,
            error=row["error"], attempts=row["attempts"], max_attempts=row["max_attempts"],
            cancel_requested=bool(row["cancel_requested"]),
            notice=await self._open_json(owner, row["notice"], job_id, "notice"),
            created_at=_aware(row["created_at"]) or self._clock(),
            started_at=_aware(row["started_at"]), finished_at=_aware(row["finished_at"]),
            delivered=row["delivered_at"] is not None,
        )


def result_json(result: JobResult) -> dict[str, Any]:
    """A job result as stored (sealed): text, artefacts, kind and cards (``Card.as_json``)."""
    return {"text": result.text, "artefacts": list(result.artefacts), "kind": result.kind,
            "cards": [card.as_json() for card in result.cards]}


def result_from_json(data: Mapping[str, Any]) -> JobResult:
    """The inverse of :func:`result_json`; rows written before cards existed have none."""
    return JobResult(str(data["text"]), tuple(data.get("artefacts") or ()),
                     str(data.get("kind") or "answer"),
                     tuple(card_from_json(card) for card in data.get("cards") or ()))


def card_from_json(data: Mapping[str, Any]) -> Card:
    """A card from :meth:`bot.cards.Card.as_json` (stored by Almia itself, sealed)."""
    return Card(
        title=str(data.get("title") or ""), text=str(data.get("text") or ""),
        facts=tuple((str(label), str(value)) for label, value in data.get("facts") or ()),
        inputs=tuple(CardInput(str(item["id"]), str(item.get("label") or ""),
                               bool(item.get("multiline")), str(item.get("value") or ""),
                               str(item.get("placeholder") or ""),
                               tuple((str(value), str(title))
                                     for value, title in item.get("choices") or ()))
                     for item in data.get("inputs") or ()),
        buttons=tuple(CardButton(str(item.get("label") or ""), str(item["action"]),
                                 {str(key): str(value) for key, value
                                  in (item.get("values") or {}).items()},
                                 _style(item.get("style")))
                      for item in data.get("buttons") or ()))


def _style(value: object) -> ButtonStyle:
    if value == "primary":
        return "primary"
    return "danger" if value == "danger" else "default"


__all__ = ["JobLimitReached", "JobStore", "card_from_json", "result_from_json", "result_json"]

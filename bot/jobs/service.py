"""Starting, listing and cancelling jobs on behalf of a person (what skills and commands use)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bot.gateway.types import UsageRecord
from bot.i18n import Refusal, Text, plural
from bot.jobs.engine import JobEngine
from bot.jobs.model import JobSpec, JobView, ReplyTo
from bot.jobs.settings import JobSettings
from bot.messages import Channel, Locale, Message, Space, User
from bot.store import AuditEntry, Store
from bot.store.jobs import JobLimitReached, JobStore

log = logging.getLogger(__name__)

LIMIT_MESSAGES = {
    "user": Text(
        "Vous avez déjà {limit} tâche{s} en cours : attendez qu'une se termine, ou annulez-en "
        "une avec « /almia jobs cancel ID ».",
        "You already have {limit} job{s} running: wait for one to finish, or cancel one with "
        "“/almia jobs cancel ID”.",
    ),
    "skill": Text(
        "Cette fonction traite déjà {limit} tâche{s} pour l'ensemble des utilisateurs. "
        "Réessayez dans quelques minutes.",
        "This feature is already running {limit} job{s} for all users. Try again in a few "
        "minutes.",
    ),
}


class JobRefused(Refusal):
    """A job that may not start now, with the reason the person reads."""


class JobService:
    """Jobs for people: start within limits (audited), list one's own, cancel."""

    def __init__(self, jobs: JobStore, engine: JobEngine, settings: JobSettings,
                 store: Store, *, per_user: int | None = None,
                 per_skill: Mapping[str, int] | None = None) -> None:
        self.jobs = jobs
        self.engine = engine
        self._settings = settings
        self._store = store
        self._per_user = per_user or settings.max_active_per_user
        self._per_skill = dict(per_skill or {})

    def limits(self, skill: str) -> tuple[int, int]:
        """Active jobs allowed per person and for ``skill`` (what :meth:`start` applies)."""
        return self._per_user, self._per_skill.get(skill, self._settings.max_active_per_skill)

    async def start(self, spec: JobSpec, message: Message, locale: Locale) -> JobView:
        """Queue a job that reports to ``message``'s conversation; :class:`JobRefused` if over
        the limits."""
        reply_to = ReplyTo(message.channel.value, message.space.id, message.thread_id,
                           message.user.id, locale, dict(message.reference))
        try:
            job_id = await self.jobs.create(
                spec, reply_to, max_attempts=self._settings.max_attempts,
                per_user=self._per_user, per_skill=self.limits(spec.skill)[1])
        except JobLimitReached as reached:
            await self._store.record_event(message, AuditEntry(
                action="job_refused", outcome="limit", skill=spec.skill,
                details={"task": spec.task, "scope": reached.scope}))
            raise JobRefused(LIMIT_MESSAGES[reached.scope], limit=reached.limit,
                             s=plural(reached.limit, locale)) from None
        await self._store.record_event(message, AuditEntry(
            action="job_queued", outcome="ok", skill=spec.skill,
            details={"job": job_id, "task": spec.task}))
        try:
            await self.engine.submit(job_id)
        except Exception:  # the job is in the store: a sweep submits it again
            log.exception("job %s queued in the store but not in the engine yet", job_id)
        job = await self.jobs.get(job_id)
        assert job is not None
        return job

    async def mine(self, user_id: str, limit: int = 20) -> list[JobView]:
        """A person's latest jobs."""
        return await self.jobs.list_for_user(user_id, limit)

    async def cancel(self, job_id: str, message: Message) -> JobView | None:
        """Cancel one of the sender's jobs; None when it is not theirs or does not exist."""
        job = await self.jobs.get(job_id)
        if job is None or job.user_id != message.user.id:
            return None
        if job.state.terminal:
            return job
        cancelled = await self.jobs.request_cancel(job_id)
        await self._store.record_event(message, AuditEntry(
            action="job_cancel", outcome="ok", skill=job.skill,
            details={"job": job_id, "task": job.task}))
        return cancelled

    async def audit(self, job: JobView, action: str, outcome: str, details: dict[str, Any],
                    usage: Sequence[UsageRecord] = ()) -> None:
        """An audit record for a job event (with the model calls it made), for its owner."""
        data_class = max((record.data_class for record in usage), default=None)
        await self._store.record_event(job_message(job), AuditEntry(
            action=action, outcome=outcome, skill=job.skill,
            model_alias=next((u.alias for u in usage if u.outcome == "ok"), None),
            data_class=data_class.label if data_class is not None else None,
            details={"job": job.id, **details}), usage)


def job_message(job: JobView) -> Message:
    """A content-less message standing for the job's owner and conversation (audit records)."""
    reply_to = job.reply_to
    try:
        channel = Channel(reply_to.channel)
    except ValueError:
        channel = Channel.CLI
    return Message(text="", user=User(reply_to.user_id), space=Space(reply_to.space_id),
                   channel=channel, thread_id=reply_to.thread_id,
                   reference=dataclasses.asdict(reply_to)["reference"])

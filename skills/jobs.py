"""``/almia jobs``: my jobs with their state and progress; ``/almia jobs cancel ID``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType

from bot.i18n import Text
from bot.jobs.labels import STATE_NAMES
from bot.jobs.model import JobContext, JobResult, JobState, JobTask, JobView
from bot.messages import Locale, Reply, ReplyEvent
from bot.skills import SkillError, SkillRequest

_NONE = Text("Vous n'avez aucune tâche pour le moment.", "You have no jobs at the moment.")
_HEADER = Text("**Vos tâches** (les plus récentes d'abord) :",
               "**Your jobs** (most recent first):")
_FOOTER = Text("Annuler une tâche : `/almia jobs cancel ID`.",
               "Cancel a job: `/almia jobs cancel ID`.")
_UNAVAILABLE = Text("Les tâches de fond ne sont pas activées sur ce serveur.",
                    "Background jobs are not enabled on this server.")
_UNKNOWN = Text("Je ne trouve pas de tâche « {id} » parmi les vôtres (voir `/almia jobs`).",
                "I cannot find a job “{id}” among yours (see `/almia jobs`).")
_CANCELLING = Text("Annulation demandée pour la tâche {id} : elle s'arrêtera à sa prochaine "
                   "étape.", "Cancellation requested for job {id}: it will stop at its next step.")
_CANCELLED = Text("Tâche {id} annulée.", "Job {id} cancelled.")
_ALREADY = Text("La tâche {id} est déjà {state} : rien à annuler.",
                "Job {id} is already {state}: nothing to cancel.")
_USAGE = Text("Usage : `/almia jobs` ou `/almia jobs cancel ID`.",
              "Usage: `/almia jobs` or `/almia jobs cancel ID`.")
_PROBE_STEP = Text("étape {done}/{steps}", "step {done}/{steps}")
_PROBE_DONE = Text(
    "Sonde terminée : {steps} étapes, {attempts} tentative(s), reprise à l'étape {start}.",
    "Probe finished: {steps} steps, {attempts} attempt(s), resumed at step {start}.")
SHORT_ID = 8


def describe(job: JobView, locale: Locale) -> str:
    """One line: short id, title, state, progress."""
    state = STATE_NAMES[job.state](locale)
    line = f"- `{job.id[:SHORT_ID]}` {job.title or job.skill} — {state}"
    if job.state is JobState.RUNNING:
        line += f" ({job.progress:.0%}"
        line += f", {job.progress_text})" if job.progress_text else ")"
    return line


class ProbeTask:
    """A health check of the job pipeline: N timed steps with a checkpoint after each.

    Operators run it (``almia jobs probe``) to see that workers take jobs, report progress,
    survive a restart (the probe resumes from its last step) and deliver results.
    """

    async def run(self, context: JobContext) -> JobResult:
        """Count the steps, resuming after the last one saved."""
        job = context.job
        steps = max(1, min(int(job.params.get("steps", 5)), 10_000))
        pause = max(0.0, min(float(job.params.get("step_seconds", 0.5)), 60.0))
        start = int((job.checkpoint or {}).get("done", 0))
        locale = job.reply_to.locale
        for done in range(start, steps):
            await context.progress(done / steps, _PROBE_STEP(locale, done=done, steps=steps))
            await asyncio.sleep(pause)
            await context.checkpoint({"done": done + 1, "resumed_at": start})
        text = _PROBE_DONE(locale, steps=steps, attempts=job.attempts, start=start)
        return JobResult(text, kind="info")


class JobsSkill:
    """Lists and cancels the sender's jobs."""

    name = "jobs"
    title = Text("Mes tâches", "My jobs")
    description = Text("Liste vos tâches de fond et leur avancement ; « cancel ID » en annule "
                       "une.", "Lists your background jobs and their progress; “cancel ID” "
                       "cancels one.")
    commands = ("jobs", "taches")
    model_roles: tuple[str, ...] = ()
    job_tasks: Mapping[str, JobTask] = MappingProxyType({"probe": ProbeTask()})

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """List, or cancel the job named by its id (or the first characters of it)."""
        if request.jobs is None:
            raise SkillError(_UNAVAILABLE)
        locale = request.locale
        words = request.text.split()
        if not words:
            jobs = await request.jobs.mine(request.message.user.id)
            if not jobs:
                yield Reply(_NONE(locale), kind="info", skill=self.name, locale=locale)
                return
            lines = [_HEADER(locale), *(describe(job, locale) for job in jobs), "",
                     _FOOTER(locale)]
            yield Reply("\n".join(lines), kind="info", skill=self.name, locale=locale)
            return
        if words[0].lower() not in ("cancel", "annuler", "annule") or len(words) != 2:
            raise SkillError(_USAGE)
        wanted = words[1].strip("`").lower()
        mine = await request.jobs.mine(request.message.user.id, limit=100)
        matches = [job for job in mine if job.id.startswith(wanted)] if len(wanted) >= 4 else []
        if len(matches) != 1:
            raise SkillError(_UNKNOWN, id=wanted)
        job = matches[0]
        short = job.id[:SHORT_ID]
        if job.state.terminal:
            yield Reply(_ALREADY(locale, id=short, state=STATE_NAMES[job.state](locale)),
                        kind="info", skill=self.name, locale=locale)
            return
        cancelled = await request.jobs.cancel(job.id, request.message)
        text = (_CANCELLED if cancelled is not None and cancelled.state is JobState.CANCELLED
                else _CANCELLING)
        yield Reply(text(locale, id=short), kind="info", skill=self.name, locale=locale)

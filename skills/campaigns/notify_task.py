"""The notice job: tells a campaign's author, in the conversation the campaign came from, of
a decision taken elsewhere (durable, retried, delivered by that channel's reporter)."""

from __future__ import annotations

from bot.jobs.model import JobContext, JobResult


class NotifyTask:
    """Posts the notice text it was queued with."""

    async def run(self, context: JobContext) -> JobResult:
        """Nothing to compute: the notice was written when the decision was recorded."""
        return JobResult(str(context.job.params.get("text", ""))[:4000], kind="info")

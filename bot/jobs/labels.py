"""How a job's state reads in every channel (Markdown; Slack converts it to mrkdwn)."""

from __future__ import annotations

from bot.i18n import Text
from bot.jobs.model import JobState, JobView
from bot.messages import Locale

STATE_NAMES = {
    JobState.QUEUED: Text("en attente", "queued"),
    JobState.RUNNING: Text("en cours", "running"),
    JobState.SUCCEEDED: Text("terminée", "done"),
    JobState.FAILED: Text("échouée", "failed"),
    JobState.CANCELLED: Text("annulée", "cancelled"),
    JobState.TIMED_OUT: Text("arrêtée (durée dépassée)", "stopped (time limit)"),
}
_ICONS = {JobState.QUEUED: "⏳", JobState.RUNNING: "⏳", JobState.SUCCEEDED: "✅",
          JobState.FAILED: "❌", JobState.CANCELLED: "⏹️", JobState.TIMED_OUT: "⌛"}


def headline(job: JobView, locale: Locale) -> str:
    """« ⏳ **Title** — 42 % step 3/7 » while it runs; « ✅ **Title** — terminée » at the end."""
    title = job.title or job.skill
    state = STATE_NAMES[job.state](locale)
    if job.state.terminal:
        return f"{_ICONS[job.state]} **{title}** — {state}"
    percent = f"{job.progress:.0%}".replace("%", " %") if locale == "fr" else f"{job.progress:.0%}"
    status = f" {job.progress_text}" if job.progress_text else ""
    return f"{_ICONS[job.state]} **{title}** — {percent}{status}"

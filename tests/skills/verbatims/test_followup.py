"""Follow-ups on the last analysis: one change at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.jobs.model import JobState, JobView, ReplyTo
from skills.verbatims.followup import change_under_way


def _job(job_id: str, task: str, state: JobState, space: str = "web:s") -> JobView:
    moment = datetime(2026, 12, 5, tzinfo=UTC)
    return JobView(
        id=job_id, skill="verbatims", task=task, title="", user_id="web:alice",
        reply_to=ReplyTo("web", space, "t", "web:alice", "fr"), state=state, progress=0.0,
        progress_text="", params={}, checkpoint=None, result=None, error=None, attempts=0,
        max_attempts=3, cancel_requested=False, notice=None, created_at=moment,
        started_at=None, finished_at=None, delivered=False)


def test_a_change_waits_for_the_one_under_way_in_the_same_space() -> None:
    done = _job("a1", "analyse", JobState.SUCCEEDED)
    renaming = _job("r1", "relabel", JobState.RUNNING)
    assert change_under_way([renaming, done], "web:s", "verbatims") is renaming
    assert change_under_way([replace(renaming, state=JobState.QUEUED)], "web:s",
                            "verbatims") is not None
    # finished, failed, in another space, or another skill's: nothing under way
    assert change_under_way([done, _job("r2", "relabel", JobState.FAILED)], "web:s",
                            "verbatims") is None
    assert change_under_way([_job("r3", "relabel", JobState.RUNNING, "web:other")], "web:s",
                            "verbatims") is None
    assert change_under_way([replace(renaming, skill="tenders")], "web:s", "verbatims") is None

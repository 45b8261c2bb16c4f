"""The notice job's review part: the card only while the version awaits that person."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.governance.roles import RoleResolver
from bot.jobs.model import JobResult, JobState, JobView, ReplyTo
from bot.store import Store
from bot.store.campaigns import CampaignStore, NewCampaign
from skills.campaigns.access import AccessRules, CampaignAccess
from skills.campaigns.notify_task import NotifyTask
from skills.campaigns.rules import load_rules

AUTHOR, CLAIRE = "slack:T1:UAUTHOR", "slack:T1:UCLAIRE"


class _Context:
    """The part of a job context the notice task reads."""

    def __init__(self, user_id: str, params: Mapping[str, Any]) -> None:
        now = datetime.now(UTC)
        self.job = JobView(
            id="j1", skill="campaigns", task="notify", title="", user_id=user_id,
            reply_to=ReplyTo("slack", "slack:T1:U", "", user_id, "fr"),
            state=JobState.RUNNING, progress=0.0, progress_text="", params=params,
            checkpoint=None, result=None, error=None, attempts=1, max_attempts=3,
            cancel_requested=False, notice=None, created_at=now, started_at=now,
            finished_at=None, delivered=False)


@pytest.fixture
async def campaigns(tmp_path: Path) -> AsyncIterator[CampaignStore]:
    store = Store.open(f"sqlite+aiosqlite:///{tmp_path / 'almia.db'}")
    await store.migrate()
    yield CampaignStore(store.engine, sealer=store)
    await store.close()


async def _run(campaigns: CampaignStore, user: str, campaign: str,
               version: int) -> JobResult:
    task = NotifyTask(campaigns, CampaignAccess(AccessRules.from_rules(load_rules(None)),
                                                RoleResolver({})))
    context = _Context(user, {"text": "📝 à relire",
                              "review": {"campaign": campaign, "version": version}})
    return await task.run(context)  # type: ignore[arg-type]


async def test_the_card_goes_only_with_the_version_still_awaiting_the_reviewer(
        campaigns: CampaignStore) -> None:
    created = await campaigns.create(NewCampaign(
        title="Printemps", author_id=AUTHOR, space_id="slack:T1:C1", channel="slack",
        thread_id="1.1", locale="fr", brief={"title": "Printemps"}, approval="all",
        reviewers=(CLAIRE, "slack:T1:UCORA"), deadline=None), "### sms 1\nBonjour", [],
        "library")
    await campaigns.submit(created.id, 1, AUTHOR, created.reviewers)

    asked = await _run(campaigns, CLAIRE, created.id, 1)
    assert asked.text.startswith("📝 à relire") and "Bonjour" in asked.text
    [card] = asked.cards
    assert {b.values.get("decision") for b in card.buttons} >= {"approve", "changes", "reject"}
    assert all(b.values.get("version") == "1" for b in card.buttons)

    # not a reviewer of it (the author, someone else): the notice alone, no draft
    for user in (AUTHOR, "slack:T1:UOTHER"):
        alone = await _run(campaigns, user, created.id, 1)
        assert (alone.text, alone.cards) == ("📝 à relire", ())
    # replaced before the notice was posted: no buttons, a pointer to where it stands
    await campaigns.add_version(created.id, 1, AUTHOR, "### sms 1\nSalut", [])
    stale = await _run(campaigns, CLAIRE, created.id, 1)
    assert stale.cards == () and "n'attend plus de relecture" in stale.text
    assert "version 2" in stale.text and "Bonjour" not in stale.text
    gone = await _run(campaigns, CLAIRE, "0" * 32, 1)
    assert (gone.text, gone.cards) == ("📝 à relire", ())

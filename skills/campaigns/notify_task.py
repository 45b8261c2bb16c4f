"""The notice job: tells a campaign's author, in the conversation the campaign came from, of
a decision taken elsewhere, and asks a reviewer, in their direct conversation, to decide
(durable, retried, delivered by that channel's reporter).

A review request carries the campaign's current version and its review card (approve,
request changes, edit, reject), read when the job runs: a version decided or replaced in
the meantime gets no buttons, only a pointer to where it stands. The buttons are checked
again by the skill when pressed (who, which version, four eyes), wherever they are pressed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.jobs.model import JobContext, JobResult, JobView
from bot.messages import Locale, User
from bot.store.campaigns import CampaignNotFound, CampaignStore
from skills.campaigns.access import CampaignAccess
from skills.campaigns.present import STATUS, campaign_card, version_block
from skills.campaigns.texts import T

_MAX_TEXT = 20_000


class NotifyTask:
    """Posts the notice text it was queued with, and the review card when one was asked."""

    def __init__(self, store: CampaignStore, access: CampaignAccess) -> None:
        self._store = store
        self._access = access

    async def run(self, context: JobContext) -> JobResult:
        """The notice was written when it was queued; the review part is read now."""
        job = context.job
        text = str(job.params.get("text", ""))[:4000]
        review = job.params.get("review")
        if not isinstance(review, Mapping):
            return JobResult(text, kind="info")
        return await self._with_review(job, text, review)

    async def _with_review(self, job: JobView, text: str,
                           review: Mapping[str, Any]) -> JobResult:
        locale: Locale = "en" if job.reply_to.locale == "en" else "fr"
        try:
            campaign = await self._store.find(str(review.get("campaign", "")))
        except CampaignNotFound:  # erased or purged since: the notice alone
            return JobResult(text, kind="info")
        if not await self._access.slots(User(job.user_id), campaign):
            return JobResult(text, kind="info")  # no longer a reviewer: no draft, no buttons
        if campaign.status != "in_review" or campaign.current.number != review.get("version"):
            stale = T["notice_stale"](locale, status=STATUS[campaign.status](locale),
                                      version=campaign.current.number, id=campaign.id[:8])
            return JobResult(f"{text}\n\n{stale}", kind="info")
        body = "\n".join([text, "", *version_block(campaign, locale), "",
                          T["notice_card"](locale)])
        card = campaign_card(campaign, locale, review=True, author=False,
                             approve=await self._access.may_decide(User(job.user_id),
                                                                   "approve"))
        return JobResult(body[:_MAX_TEXT], kind="info", cards=(card,))

"""Reminders before review deadlines: once per campaign, in its conversation, in the
reviewers' direct conversations (with the review card) and inboxes.

The app runs :meth:`Reminders.forever` in the background (hourly); the store marks each
campaign reminded in the same transaction that selects it, so several replicas remind once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from bot.i18n import Text
from bot.jobs.service import JobService
from bot.messages import Locale
from bot.store.campaigns import CampaignStore, CampaignView
from skills.campaigns.notices import (
    PersonalChats,
    author_conversation,
    queue_notice,
    reviewer_conversation,
)
from skills.campaigns.present import people
from skills.campaigns.rules import CampaignRules

log = logging.getLogger(__name__)

_REMINDER = Text("⏰ Rappel : « {title} » ({id}, version {version}) attend encore l'avis de "
                 "{waiting} avant le {deadline}. « /almia campagne voir {id} » pour relire.",
                 "⏰ Reminder: “{title}” ({id}, version {version}) still awaits {waiting} "
                 "before {deadline}. “/almia campaign show {id}” to review.")


class Reminders:
    """Finds reviews due soon and posts one reminder per campaign."""

    def __init__(self, store: CampaignStore, rules: CampaignRules,
                 people: Callable[[str], Iterable[str]] = lambda slot: (slot,),
                 chats: PersonalChats | None = None,
                 interval_seconds: float = 3600, first_after_seconds: float = 60) -> None:
        self._store = store
        self._chats = chats
        self._rules = rules
        self._people = people  # the ids a reminder for a reviewer slot is written to
        self._interval = interval_seconds
        # not at start-up: a replica that starts and stops at once (a deploy, a probe, a
        # test) never leaves a database query in flight behind it
        self._first_after = first_after_seconds

    async def once(self, jobs: JobService | None, today: date | None = None) -> list[str]:
        """Remind what is due now; the ids of the campaigns reminded."""
        days = max(1, self._rules.remind_hours_before // 24)
        due = await self._store.due_reminders(today or datetime.now(UTC).date(), days)
        for campaign in due:
            await self._post(jobs, campaign)
        return [campaign.id for campaign in due]

    async def forever(self, jobs: JobService | None) -> None:
        """:meth:`once` every interval until cancelled (failures logged, retried later)."""
        await asyncio.sleep(self._first_after)
        while True:
            try:
                await self.once(jobs)
            except Exception:
                log.exception("campaign reminders failed; next try in an hour")
            await asyncio.sleep(self._interval)

    async def _post(self, jobs: JobService | None, campaign: CampaignView) -> None:
        locale: Locale = "en" if campaign.locale == "en" else "fr"
        waiting = [slot for slot in campaign.reviewers if campaign.decision_of(slot) is None]
        text = _REMINDER(locale, title=campaign.title, id=campaign.id[:8],
                         version=campaign.current.number, waiting=people(waiting, locale),
                         deadline=campaign.deadline.isoformat() if campaign.deadline else "-")
        await queue_notice(jobs, author_conversation(campaign), text, locale,
                           f"Rappel — {campaign.title}")
        for person in dict.fromkeys(member for slot in waiting
                                    for member in self._people(slot)):
            await queue_notice(jobs, await reviewer_conversation(self._store, person,
                                                                 self._chats), text,
                               locale, f"Rappel — {campaign.title}", review=campaign)

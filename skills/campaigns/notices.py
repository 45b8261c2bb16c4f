"""Pushed notices: a short text posted by a ``notify`` job where a person will see it.

The author's conversation (where the campaign was created) and, for Slack reviewers, a
direct message (Slack opens the app's DM when a user id is the channel) that carries the
review card (draft, checks, buttons: see :mod:`skills.campaigns.notify_task`). Teams and
web reviewers have no conversation Almia may open by itself: their inbox (``/almia
campagne``) holds every notice.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.i18n import Refusal
from bot.jobs.model import JobSpec
from bot.jobs.service import JobService
from bot.messages import Channel, Locale, Message, Space, User
from bot.store.campaigns import CampaignView

log = logging.getLogger(__name__)


def author_conversation(campaign: CampaignView) -> Message | None:
    """Where the campaign was created: a Slack or Teams conversation (None for the web chat
    and the command line, which Almia cannot write to by itself: the inbox tells)."""
    if campaign.channel not in (Channel.SLACK.value, Channel.TEAMS.value):
        return None
    if not campaign.reference:  # the author was erased: their conversation is forgotten
        return None
    channel = Channel(campaign.channel)
    return Message(text="", user=User(campaign.author_id), space=Space(campaign.space_id),
                   channel=channel, thread_id=campaign.thread_id, reference=campaign.reference)


def slack_direct(user_id: str) -> Message | None:
    """A Slack user's direct conversation with the app (``slack:T…:U…`` ids only)."""
    parts = user_id.split(":")
    if len(parts) != 3 or parts[0] != "slack" or not parts[2]:
        return None
    return Message(text="", user=User(user_id, directory_id=parts[2]),
                   space=Space(f"slack:{parts[1]}:{parts[2]}"), channel=Channel.SLACK,
                   thread_id="", reference={"channel": parts[2]})


async def queue_notice(jobs: JobService | None, where: Message | None, text: str,
                       locale: Locale, title: str, *, review: CampaignView | None = None) -> bool:
    """Post ``text`` at ``where`` through a durable job; False when it could not be queued.

    With ``review``, the job adds that campaign's current version and its review card when
    it runs, if that version still awaits the person's decision."""
    if jobs is None or where is None:
        return False
    params: dict[str, Any] = {"text": text[:4000]}
    if review is not None:
        params["review"] = {"campaign": review.id, "version": review.current.number}
    try:
        await jobs.start(JobSpec(skill="campaigns", task="notify", title=title[:120],
                                 params=params), where, locale)
    except Refusal:
        log.info("campaign notice not queued (job limits); the inbox has it")
        return False
    return True

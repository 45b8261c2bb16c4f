"""Pushed notices: a short text posted by a ``notify`` job where a person will see it.

The author's conversation (where the campaign was created) and, for reviewers, their
direct conversation with the bot, with the review card (draft, checks, buttons: see
:mod:`skills.campaigns.notify_task`): on Slack the app's DM (Slack opens it when a user id
is the channel); on Teams the personal chat the reviewer last used the campaigns skill in
(remembered by the store) or, when the installation configures proactive installation
(``teams.app_catalog_id``: :mod:`adapters.teams_install`), a personal chat opened by
installing the app for them, remembered too; on the web, the person's job panel. Without
either, a Teams reviewer finds every notice in their inbox (``/almia campagne``), like
everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from bot.i18n import Refusal
from bot.jobs.model import JobSpec
from bot.jobs.service import JobService
from bot.messages import Channel, Locale, Message, Space, User
from bot.store.campaigns import CampaignStore, CampaignView, Route

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


def teams_personal(route: Route | None) -> Message | None:
    """A Teams person's remembered personal chat with the bot (None when unknown)."""
    if route is None or route.channel != Channel.TEAMS.value or not route.reference:
        return None
    return Message(text="", user=User(route.user_id),
                   space=Space(route.space_id, kind="personal"), channel=Channel.TEAMS,
                   thread_id="", reference=route.reference)


class PersonalChats(Protocol):
    """Opens a Teams personal chat with someone (e.g. by installing the app for them)."""

    async def open(self, user_id: str) -> Mapping[str, Any] | None:
        """The chat's conversation reference, or None when it cannot be opened."""
        ...


async def reviewer_conversation(store: CampaignStore, person: str,
                                chats: PersonalChats | None = None) -> Message | None:
    """Where a reviewer can be written to directly: Slack DM, Teams personal chat (opened
    through ``chats`` when none is remembered), web job panel, or None."""
    if person.startswith("slack:"):
        return slack_direct(person)
    if person.startswith("teams:"):
        route = await store.route(person)
        if route is None and chats is not None:
            reference = await chats.open(person)
            conversation = reference.get("conversation") if reference else None
            if reference and isinstance(conversation, Mapping) and conversation.get("id"):
                route = Route(person, Channel.TEAMS.value, str(conversation["id"]),
                              dict(reference))
                await store.remember_route(route)
        return teams_personal(route)
    if person.startswith("web:") and len(person) > 4:
        return web_jobs(person)
    return None


def web_jobs(user_id: str) -> Message:
    """A web user's job panel (the web chat lists each person's jobs, cards included)."""
    return Message(text="", user=User(user_id),
                   space=Space("web:campaigns", kind="personal", name="web:campaigns"),
                   channel=Channel.WEB, thread_id="campaigns")


def route_of(message: Message) -> Route | None:
    """The route to remember from a Teams personal-chat message (None otherwise)."""
    if message.channel is not Channel.TEAMS or message.space.kind != "personal" \
            or not message.reference or not message.user.id.startswith("teams:"):
        return None
    return Route(message.user.id, Channel.TEAMS.value, message.space.id,
                 dict(message.reference))


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

"""What the Slack adapter keeps in the chat inbox (:mod:`bot.inbox`) and reads back: an
event, a slash command, or a card button press, with the id of the progress message posted
for it, so that another replica can answer it (or tell its sender) if this one dies."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.inbox import Held
from bot.messages import Action, Channel, Message, Space, User
from bot.store.inbox import InboxEntry


@dataclasses.dataclass(frozen=True)
class Kept:
    """A message's inbox entry (or the write giving it; None when the inbox was unavailable)
    and what it keeps."""

    entry: Held
    payload: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Press:
    """A card button press (``bot.cards``): the action message and where to answer it."""

    message: Message
    team: str
    channel: str
    user: str
    thread_ts: str
    response_url: str
    ephemeral: bool
    label: str


def kept_command(entry: InboxEntry) -> tuple[dict[str, Any], str, str] | None:
    """The slash command, question and command name an inbox entry kept; None otherwise."""
    payload = entry.payload or {}
    command = payload.get("command")
    if not isinstance(command, dict):
        return None
    return command, str(payload.get("question") or ""), str(payload.get("name") or "almia")


def kept_press(entry: InboxEntry) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The interaction payload and action of a card button an inbox entry kept; None
    otherwise."""
    payload = entry.payload or {}
    body, action = payload.get("card"), payload.get("action")
    if not isinstance(body, dict) or not isinstance(action, dict):
        return None
    return body, action


def kept_event(entry: InboxEntry) -> tuple[str, dict[str, Any], str | None]:
    """The team, event and bot user id an inbox entry kept (written by this adapter)."""
    payload = entry.payload or {}
    bot = payload.get("bot")
    return str(payload.get("team") or ""), as_object(payload.get("event")), \
        str(bot) if bot else None


def press_of(body: dict[str, Any], parsed: tuple[str, dict[str, str]] | None,
             action: dict[str, Any]) -> Press | None:
    """A button press from Slack's interaction payload and the parsed ``bot.cards`` action;
    None when its context (user, team, channel) is missing."""
    member, container = as_object(body.get("user")), as_object(body.get("container"))
    posted = as_object(body.get("message"))
    user = str(member.get("id") or "")
    team = str(as_object(body.get("team")).get("id") or member.get("team_id") or "")
    channel = str(as_object(body.get("channel")).get("id") or container.get("channel_id") or "")
    thread_ts = str(posted.get("thread_ts") or container.get("thread_ts")
                    or posted.get("ts") or container.get("message_ts") or "")
    if parsed is None or not (user and team and channel):
        return None
    name, values = parsed
    message = Message(
        text="", user=User(id=f"slack:{team}:{user}", name=str(member.get("username") or ""),
                           directory_id=user),
        space=Space(id=f"slack:{team}:{channel}",
                    kind="personal" if channel.startswith("D") else "channel"),
        channel=Channel.SLACK, thread_id=thread_ts or f"card:{channel}:{user}",
        action=Action(name, values), raw=body,
        reference={"channel": channel, "thread_ts": thread_ts} if thread_ts
        else {"channel": channel})
    url = body.get("response_url")
    label = as_object(action.get("text")).get("text")
    return Press(message, team, channel, user, thread_ts,
                 url if isinstance(url, str) else "", bool(container.get("is_ephemeral")),
                 " ".join(label.split())[:80] if isinstance(label, str) and label.strip()
                 else name)


def as_object(value: object) -> dict[str, Any]:
    """``value`` when it is an object, or the object a JSON text holds; else empty."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return value if isinstance(value, dict) else {}


__all__ = ["Kept", "Press", "as_object", "kept_command", "kept_event", "kept_press",
           "press_of"]

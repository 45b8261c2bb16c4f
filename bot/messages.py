"""Channel-neutral messages and replies.

Adapters turn a platform event into a :class:`Message` and render the
:class:`ReplyEvent` stream that a skill produces. Nothing platform-specific
crosses into ``bot/`` or ``skills/``; :attr:`Message.raw` is for the adapter alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from bot.cards import Card

Locale = Literal["fr", "en"]


class Channel(StrEnum):
    """Where a message came from."""

    WEB = "web"
    SLACK = "slack"
    TEAMS = "teams"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class User:
    """The person who sent a message, as the channel identifies them."""

    id: str
    name: str = ""
    locale: Locale | None = None
    email: str | None = None
    directory_id: str | None = None  # Entra object id, Slack user id…


@dataclass(frozen=True, slots=True)
class Space:
    """Where the conversation happens: a Teams team/channel, a Slack channel, a web space.

    ``id`` is stable and prefixed by channel (``teams:…``, ``slack:T…:C…``, ``web:default``);
    document collections are attached to spaces by this id.
    """

    id: str
    kind: Literal["personal", "group", "channel"] = "personal"
    name: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message, checked and kept by the adapter.

    Small texts may come with their ``data``; every file that passed the intake checks is in
    the file store under ``file_id`` (read it with ``SkillRequest.files``). ``content_type``
    is the type sniffed from the content, never the one the sender declared.
    """

    name: str
    content_type: str
    data: bytes | None = None
    size: int = 0
    file_id: str | None = None
    sha256: str = ""
    kind: str = ""  # pdf, docx, xlsx, csv, txt, md, zip
    data_class: str | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A button or card submission (feedback, form)."""

    name: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    """One user message, whatever the channel."""

    text: str
    user: User
    space: Space
    channel: Channel
    thread_id: str
    command: str | None = None  # e.g. "almia" for "/almia …"; None for plain chat
    action: Action | None = None
    attachments: tuple[Attachment, ...] = ()
    locale: Locale | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    raw: Any = field(default=None, compare=False, repr=False)
    # the channel's routing data to reach this conversation later (jobs): a Teams
    # conversation reference, a Slack channel id… never message content
    reference: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # when this process received it (time.monotonic), for the latency metrics
    received_at: float = field(default_factory=time.monotonic, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source passage an answer relies on."""

    number: int
    document: str
    title: str
    passage: str
    section: str | None = None
    page: int | None = None
    url: str | None = None
    score: float | None = None
    # from a file the person attached, not a collection: its name is theirs (« Lettre de
    # Mme Durand.pdf »), so the audit trail counts such sources without naming them
    attached: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """The final, complete reply of a skill."""

    text: str
    citations: tuple[Citation, ...] = ()
    kind: Literal["answer", "error", "info"] = "answer"
    skill: str | None = None
    model: str | None = None
    ephemeral: bool = False
    locale: Locale = "fr"
    turn_id: str | None = None
    job_id: str | None = None  # a job this reply started (channels show its progress)
    cards: tuple[Card, ...] = ()  # buttons and forms (bot.cards), rendered by each channel


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of reply text, streamed as it is produced."""

    text: str


@dataclass(frozen=True, slots=True)
class Progress:
    """A short status shown while the reply is being prepared."""

    text: str


ReplyEvent = Delta | Progress | Reply

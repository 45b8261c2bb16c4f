"""The skill protocol: one class per file in ``skills/``, one registry line each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.gateway.llm import ChatTurn, ModelGateway
from bot.i18n import Refusal, Text
from bot.jobs.model import JobTask
from bot.jobs.service import JobService
from bot.messages import Locale, Message, ReplyEvent
from bot.store.files import FileStore


@dataclass(frozen=True, slots=True)
class SkillRequest:
    """What a skill receives: the message, its argument text, the thread's memory."""

    message: Message
    text: str  # the message text without the command words
    locale: Locale
    models: ModelGateway
    history: tuple[ChatTurn, ...] = ()
    turn_id: str = ""  # the id the answer will be stored under (feedback links to it)
    files: FileStore | None = None  # reads attachments kept by the adapter (file_id)
    jobs: JobService | None = None  # hands long work to a durable job
    # the ids of the files the person attached earlier in the thread, newest first, at most
    # the count given (read from the store only when a skill asks)
    thread_files: Callable[[int], Awaitable[tuple[str, ...]]] | None = None


class Skill(Protocol):
    """A capability of the assistant.

    ``commands`` are the words that select it after ``/almia`` (or as the first word
    of a message); ``model_roles`` are the roles the policy must map to approved
    models. ``handle`` yields :class:`~bot.messages.Progress` and
    :class:`~bot.messages.Delta` events and ends with exactly one
    :class:`~bot.messages.Reply`.
    """

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> Text: ...

    @property
    def description(self) -> Text: ...

    @property
    def commands(self) -> tuple[str, ...]: ...

    @property
    def model_roles(self) -> tuple[str, ...]: ...

    def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Answer the request."""
        ...


def job_tasks(skill: Skill) -> Mapping[str, JobTask]:
    """The job tasks a skill offers (``job_tasks`` attribute; none by default)."""
    tasks: Mapping[str, JobTask] = getattr(skill, "job_tasks", {})
    return tasks


class SkillError(Refusal):
    """A refusal shown to the user as it is (no stack trace, no incident)."""

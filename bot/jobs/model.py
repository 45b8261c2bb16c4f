"""What a job is, what a skill's job task sees, and how channels are told of progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from bot.cards import Card
from bot.i18n import Refusal
from bot.messages import Locale

if TYPE_CHECKING:
    from bot.gateway.llm import ModelGateway


class JobState(StrEnum):
    """A job's life: queued → running → one of the terminal states."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        """True once the job will not run again."""
        return self not in (JobState.QUEUED, JobState.RUNNING)


ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where a job reports: the conversation it came from, as its channel needs it.

    ``reference`` holds the channel's routing data for proactive messages (a Teams
    conversation reference, a Slack channel id…), never message content.
    """

    channel: str
    space_id: str
    thread_id: str
    user_id: str
    locale: Locale
    reference: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job a skill asks for: which of its tasks, with which parameters and input files."""

    skill: str
    task: str
    params: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""  # shown in lists (« Ajout de 3 documents »); no personal data


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a finished job says in the conversation, and the artefacts it produced.

    ``cards`` (:mod:`bot.cards`) are shown after the text by each channel's reporter; the
    text stays complete on its own (notifications, channels without cards)."""

    text: str
    artefacts: tuple[str, ...] = ()  # file ids
    kind: str = "answer"  # answer | error | info
    cards: tuple[Card, ...] = ()


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as read from the store (sealed fields opened)."""

    id: str
    skill: str
    task: str
    title: str
    user_id: str
    reply_to: ReplyTo
    state: JobState
    progress: float
    progress_text: str
    params: Mapping[str, Any]
    checkpoint: Mapping[str, Any] | None
    result: JobResult | None
    error: str | None
    attempts: int
    max_attempts: int
    cancel_requested: bool
    notice: Mapping[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    delivered: bool


class JobFailed(Refusal):
    """A job task's refusal or failure the person should read (no retry)."""


class JobCancelled(Exception):
    """Raised inside a task when its job was cancelled."""


class JobContext(Protocol):
    """What a running job task may do."""

    @property
    def job(self) -> JobView:
        """The job being run (as claimed: params, last checkpoint, locale…)."""
        ...

    async def progress(self, fraction: float, text: str = "") -> None:
        """Report progress (0–1) and a short status; raises :class:`JobCancelled` if cancelled."""
        ...

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        """Save where the task is, so a retaken job resumes from here."""
        ...

    async def read_file(self, file_id: str) -> bytes:
        """An input file's bytes."""
        ...

    async def add_artefact(self, name: str, media_type: str, data: bytes) -> str:
        """Store a file the job produced (posted with the result); its file id."""
        ...

    @property
    def models(self) -> ModelGateway | None:
        """The model gateway (approved model per skill role, DLP, usage recorded for the
        job's owner); None where no gateway is wired (tests of the runner alone)."""
        ...


class JobTask(Protocol):
    """Long work a skill hands to a job (``skill.job_tasks[name]``)."""

    async def run(self, context: JobContext) -> JobResult:
        """Do the work, reporting progress and checkpoints; the result for the conversation."""
        ...


class JobReporter(Protocol):
    """A channel's way of showing a job's progress and posting its result."""

    channel: str

    async def progress(self, job: JobView) -> Mapping[str, Any] | None:
        """Show or update the progress message; returns its handle to keep (or None)."""
        ...

    async def deliver(self, job: JobView, artefacts: Sequence[Artefact]) -> None:
        """Post the result and its files in the job's conversation."""
        ...


@dataclass(frozen=True, slots=True)
class Artefact:
    """A job output ready to post: its name, type, size and a signed download link."""

    file_id: str
    name: str
    media_type: str
    size: int
    url: str

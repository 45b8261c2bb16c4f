"""One path for every message: check, route, run the skill, persist, turn failures into replies."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.files.service import stored_attachment
from bot.gateway.llm import (
    ModelGateway,
    ModelUnavailable,
    NeedsGeneration,
    NoApprovedModel,
    NoClearedModel,
    ProtectionBlocked,
    ProtectionUnavailable,
    UsageRecord,
)
from bot.governance.quotas import CounterUnavailable, QuotaExceeded, Quotas
from bot.governance.roles import Role, RoleResolver
from bot.i18n import Text, detect_locale, t
from bot.jobs.service import JobRefused, JobService
from bot.messages import Delta, Locale, Message, Progress, Reply, ReplyEvent
from bot.pending import PendingQuestions, PendingStore
from bot.presses import MemoryPresses, PressGuard
from bot.routing import SkillRouter, UnknownCommand
from bot.settings import CharterSettings
from bot.skills import SkillError, SkillRequest
from bot.store import AuditEntry, Store
from bot.store.files import FileStore

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_CLOSING_ROUNDS = 8  # event-loop iterations given to abandoned model streams to report


@dataclass(frozen=True, slots=True)
class AssistantLimits:
    """Bounds applied to every message."""

    max_message_chars: int = 32_000
    memory_turns: int = 10
    skill_timeout_seconds: float = 120.0


_ACCEPTANCES = frozenset({"j'accepte", "jaccepte", "j’accepte", "accepte", "j'accepte la charte",
                          "i accept", "accept", "/almia accepte", "/almia accept"})
CHARTER_ACTION = "charter:accept"
_ACCEPTED_ANSWERING = Text("Merci, la charte (version {version}) est acceptée. Voici la réponse "
                           "à votre question :",
                           "Thank you, the charter (version {version}) is accepted. Here is the "
                           "answer to your question:")
_ACCEPTED = Text("Merci, la charte (version {version}) est acceptée.",
                 "Thank you, the charter (version {version}) is accepted.")
_ACCEPTED_FILE_GONE = Text(
    "Merci, la charte (version {version}) est acceptée. Le fichier « {name} » envoyé avec "
    "votre demande n'est plus disponible : renvoyez-le avec elle.",
    "Thank you, the charter (version {version}) is accepted. The file “{name}” sent with "
    "your request is no longer available: send it again with it.")


class Assistant:
    """The channel-neutral bot core that every adapter calls."""

    def __init__(
        self,
        router: SkillRouter,
        gateway: ModelGateway,
        store: Store,
        limits: AssistantLimits | None = None,
        *,
        charter: CharterSettings | None = None,
        quotas: Quotas | None = None,
        roles: RoleResolver | None = None,
        skill_roles: Mapping[str, Sequence[str]] | None = None,
        pending: PendingStore | None = None,
        presses: PressGuard | None = None,
    ) -> None:
        self.router = router
        self.store = store
        self._gateway = gateway
        self._limits = limits or AssistantLimits()
        self._charter = charter if charter is not None and charter.enabled else None
        self._quotas = quotas
        self.roles = roles or RoleResolver({})
        self._skill_roles = dict(skill_roles or {})
        self._settling: set[asyncio.Task[Any]] = set()  # persistence that outlives a client
        # asked before the charter was accepted (in Redis when replicas share one)
        self.pending: PendingStore = pending or PendingQuestions()
        # a card button pressed twice within seconds runs once (in Redis with replicas)
        self.presses: PressGuard = presses or MemoryPresses()
        self.files: FileStore | None = None  # set by the wiring when files are enabled
        self.jobs: JobService | None = None

    def locale_of(self, message: Message) -> Locale:
        """The language to answer in: explicit locale, else the user's, else guessed."""
        return message.locale or message.user.locale or detect_locale(message.text)

    async def respond(self, message: Message) -> AsyncIterator[ReplyEvent]:
        """Progress and text deltas as they come, then exactly one final :class:`Reply`."""
        locale = self.locale_of(message)
        problem = self._check(message, locale)
        if problem is not None:
            await self._record_refusal(message, problem, "rejected")
            yield problem
            return
        gate = await self._charter_gate(message, locale)
        if isinstance(gate, Message):  # just accepted: answer the question asked before
            async for event in self._answer_pending(gate, locale):
                yield event
            return
        if gate is not None:
            yield gate
            return
        if message.action is None:
            async for event in self._admitted(message, locale):
                yield event
            return
        if not await self.presses.first(message):
            repeated = Reply(t("press_repeated", locale), kind="info", locale=locale,
                             ephemeral=True)  # only the presser needs to see it
            await self._record_refusal(message, repeated, "press_repeated")
            yield repeated
            return
        try:
            async for event in self._admitted(message, locale):
                yield event
        finally:
            await asyncio.shield(self.presses.release(message))

    async def _admitted(self, message: Message, locale: Locale) -> AsyncIterator[ReplyEvent]:
        """:meth:`respond` once the message passed its checks and the charter."""
        over_budget = await self._admit(message, locale)
        if over_budget is not None:
            yield over_budget
            return
        try:
            route = self.router.route(message)
            if message.locale is None and message.user.locale is None:
                locale = detect_locale(route.text)  # the command word says nothing of the language
        except UnknownCommand as unknown:
            commands = ", ".join(f"/almia {command}" for command in unknown.known) or "-"
            reply = Reply(t("unknown_command", locale, command=unknown.command, commands=commands),
                          kind="error", locale=locale)
            await self._record_refusal(message, reply, "unknown_command")
            yield reply
            return

        allowed = self._skill_roles.get(route.skill.name, ("employee",))
        if not await self.roles.has(message.user, *(Role(name) for name in allowed)):
            reply = Reply(t("role_required", locale, skill=route.skill.title(locale),
                            roles=", ".join(allowed)), kind="error", locale=locale)
            await self._record_refusal(message, reply, "role_refused")
            yield reply
            return

        usage: list[UsageRecord] = []

        async def collect(record: UsageRecord) -> None:
            usage.append(record)

        final: Reply | None = None
        turn_id = uuid.uuid4().hex
        streamed: list[str] = []
        try:
            history = await self.store.history(message, self._limits.memory_turns)
            request = SkillRequest(
                message=message,
                text=route.text,
                locale=locale,
                models=self._gateway.with_usage_sink(collect),
                history=history,
                turn_id=turn_id,
                files=self.files,
                jobs=self.jobs,
                # past what the memory keeps, the thread's files are looked up in the store
                thread_files=(functools.partial(self.store.thread_files, message)
                              if len(history) >= self._limits.memory_turns > 0 else None),
            )
            async with (asyncio.timeout(self._limits.skill_timeout_seconds),
                        _closing(route.skill.handle(request)) as events):
                async for event in events:
                    if isinstance(event, Reply):
                        final = event
                        break
                    if isinstance(event, Delta):
                        streamed.append(event.text)
                    yield event
            if final is None:
                raise RuntimeError(f"skill {route.skill.name} ended without a reply")
        except (SkillError, JobRefused) as refusal:
            final = Reply(refusal.message_for(locale), kind="error", locale=locale)
        except NoApprovedModel as error:
            final = Reply(t("no_model", locale, skill=error.skill), kind="error", locale=locale)
        except NoClearedModel as error:
            final = Reply(t("no_clearance", locale, skill=error.skill,
                            data_class=error.data_class.label), kind="error", locale=locale)
        except NeedsGeneration as error:
            final = Reply(t("needs_generation", locale, skill=error.skill), kind="error",
                          locale=locale)
        except ProtectionBlocked as error:
            final = Reply(t("protection_blocked", locale, skill=error.skill,
                            kinds=", ".join(sorted(error.counts))), kind="error", locale=locale)
        except ProtectionUnavailable:
            log.error("personal-data detection unavailable: request %s not sent", message.id)
            final = Reply(t("protection_unavailable", locale), kind="error", locale=locale)
        except (ModelUnavailable, TimeoutError):
            final = Reply(t("model_unavailable", locale), kind="error", locale=locale)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception("skill %s failed (reference %s)", route.skill.name, reference)
            final = Reply(t("internal_error", locale, reference=reference), kind="error",
                          locale=locale)
        except BaseException:
            # the client went away (GeneratorExit) or the task was cancelled: the model was
            # called all the same, so usage, audit and quota are recorded before leaving
            await self._shielded(self._settle_abandoned(message, route.skill.name, usage,
                                                        "".join(streamed)))
            raise

        final = dataclasses.replace(final, skill=final.skill or route.skill.name)
        # recorded before the reply is handed over: a client leaving then changes nothing
        yield await self._shielded(self._settle(message, final, usage, turn_id))

    async def answer(self, message: Message) -> Reply:
        """The final reply only (for channels that cannot stream)."""
        final: Reply | None = None
        async for event in self.respond(message):
            if isinstance(event, Reply):
                final = event
        assert final is not None  # respond() always ends with a Reply
        return final

    async def _charter_gate(self, message: Message, locale: Locale) -> Reply | Message | None:
        """None when the user accepted the current charter; else the charter or a thank-you,
        or, on acceptance, the question asked just before (to answer now).

        An acceptance counts only for the current version, from the user's own message
        (typed « J'accepte », or the channel's accept button carrying that version).
        """
        charter = self._charter
        if charter is None:
            return None
        if await self.store.charter_accepted(message.user.id, charter.version):
            if self._is_acceptance(message, charter.version):  # typed again, or pressed twice
                return Reply(t("charter_already", locale, version=charter.version),
                             kind="info", locale=locale, skill="charter")
            return None
        if self._is_acceptance(message, charter.version):
            await self.store.accept_charter(message, charter.version)
            pending = await self.pending.take(message)
            if pending is not None:
                return await self._with_files(pending, locale)
            return Reply(t("charter_accepted", locale, version=charter.version), kind="info",
                         locale=locale, skill="charter")
        await self.pending.keep(message)
        await self._record_refusal(message, Reply("", kind="info"), "charter_required")
        text = charter.text_en if locale == "en" else charter.text_fr
        return Reply(t("charter_required", locale, charter=text, version=charter.version),
                     kind="info", locale=locale, skill="charter")

    async def _with_files(self, question: Message, locale: Locale) -> Message | Reply:
        """The question asked before the charter with its files read back from the file
        store, or, when one is gone (expired, erased), a thank-you asking to send it again."""
        if not question.attachments:
            return question
        assert self._charter is not None
        restored = []
        for kept in question.attachments:
            found = (await stored_attachment(self.files, kept.file_id, question.user.id)
                     if self.files is not None and kept.file_id else None)
            if found is None:
                return Reply(_ACCEPTED_FILE_GONE(locale, version=self._charter.version,
                                                 name=kept.name), kind="info", locale=locale,
                             skill="charter")
            restored.append(found)
        return dataclasses.replace(question, attachments=tuple(restored))

    async def _answer_pending(self, question: Message,
                              locale: Locale) -> AsyncIterator[ReplyEvent]:
        """The answer to the question asked before the charter, under a thank-you line."""
        assert self._charter is not None
        version = self._charter.version
        yield Progress(_ACCEPTED_ANSWERING(locale, version=version))
        async for event in self.respond(question):
            if isinstance(event, Reply):
                # « voici la réponse » heads an answer, not a greeting or a « je ne sais pas »
                thanks = (_ACCEPTED_ANSWERING if event.kind == "answer" else _ACCEPTED)(
                    locale, version=version)
                event = dataclasses.replace(event, text=f"{thanks}\n\n{event.text}")
            yield event

    @staticmethod
    def _is_acceptance(message: Message, version: str) -> bool:
        if message.action is not None:
            return (message.action.name == CHARTER_ACTION
                    and message.action.values.get("version") == version)
        typed = " ".join(message.text.replace("’", "'").split()).strip(".! ").lower()
        return typed in _ACCEPTANCES or typed.replace("' ", "'").replace("j accepte",
                                                                          "j'accepte") \
            in _ACCEPTANCES

    async def _admit(self, message: Message, locale: Locale) -> Reply | None:
        """None when the message fits today's budgets; else a polite refusal."""
        if self._quotas is None:
            return None
        try:
            await self._quotas.admit(message)
        except QuotaExceeded as exceeded:
            measure = {"requests": ("demandes", "requests"),
                       "tokens": ("jetons", "tokens")}[exceeded.measure]
            scope = {"user": ("personnel", "for you"),
                     "space": ("de cet espace", "for this space")}[exceeded.scope]
            reply = Reply(t("quota_exceeded", locale, limit=exceeded.limit,
                            measure=measure[locale == "en"], scope=scope[locale == "en"]),
                          kind="error", locale=locale)
            await self._record_refusal(message, reply, "quota_exceeded")
            return reply
        except CounterUnavailable:
            log.error("quota counters unavailable: message %s refused", message.id)
            reply = Reply(t("quota_unavailable", locale), kind="error", locale=locale)
            await self._record_refusal(message, reply, "quota_unavailable")
            return reply
        return None

    def _check(self, message: Message, locale: Locale) -> Reply | None:
        if message.action is None and not message.text.strip() and not message.attachments:
            return Reply(t("empty", locale), kind="error", locale=locale)
        if len(message.text) > self._limits.max_message_chars:
            return Reply(
                t("too_long", locale, length=len(message.text),
                  limit=self._limits.max_message_chars),
                kind="error",
                locale=locale,
            )
        return None

    async def settle_pending(self, seconds: float) -> None:
        """Wait (``seconds`` at most) for answers still being stored (graceful shutdown)."""
        if self._settling:
            await asyncio.wait(set(self._settling), timeout=seconds)

    async def _shielded(self, work: Coroutine[Any, Any, _T]) -> _T:
        """Run ``work`` to its end even if the caller is cancelled meanwhile."""
        task = asyncio.ensure_future(work)
        self._settling.add(task)  # a reference, so that it is not collected mid-way
        task.add_done_callback(self._settling.discard)
        return await asyncio.shield(task)

    async def _settle(self, message: Message, reply: Reply, usage: list[UsageRecord],
                      turn_id: str) -> Reply:
        """Store the exchange, then charge its tokens to the quotas."""
        reply = await self._persist(message, reply, usage, turn_id)
        await self._spend(message, sum(u.prompt_tokens + u.completion_tokens for u in usage))
        return reply

    async def _settle_abandoned(self, message: Message, skill: str, usage: list[UsageRecord],
                                streamed: str) -> None:
        """Record a request whose client left mid-answer: no turn, but usage, audit, quota.

        Model streams the skill left open are closed by the event loop a few iterations
        later and only then report their call: they are let run first. Tokens a provider
        did not get to report are estimated (four characters a token).
        """
        for _ in range(_CLOSING_ROUNDS):
            await asyncio.sleep(0)
        audit = AuditEntry(
            action="message", outcome="client_gone", skill=skill,
            model_alias=next((u.alias for u in reversed(usage)), None),
            data_class=usage[-1].data_class.label if usage else None,
            details={"chars": len(message.text), "attachments": len(message.attachments),
                     "streamed_chars": len(streamed), "model_calls": len(usage),
                     "redactions": _redactions(usage)},
        )
        try:
            await self.store.record_event(message, audit, usage)
        except Exception:
            log.exception("could not store the abandoned request %s", message.id)
        reported = sum(u.prompt_tokens + u.completion_tokens for u in usage)
        estimated = (len(message.text) + len(streamed)) // 4 if usage else 0
        await self._spend(message, max(reported, estimated))

    async def _spend(self, message: Message, tokens: int) -> None:
        if self._quotas is None or tokens <= 0:
            return
        try:
            await self._quotas.spend_tokens(message, tokens)
        except CounterUnavailable:
            log.error("quota counters unavailable: tokens of message %s not counted", message.id)

    async def _persist(self, message: Message, reply: Reply, usage: list[UsageRecord],
                       turn_id: str) -> Reply:
        model = reply.model or next((u.alias for u in usage if u.outcome == "ok"), None)
        reply = dataclasses.replace(reply, model=model)
        data_class = usage[-1].data_class.label if usage else None
        audit = AuditEntry(
            action="message",
            outcome="ok" if reply.kind != "error" else "error",
            skill=reply.skill,
            model_alias=model,
            data_class=data_class,
            details={
                "chars": len(message.text),
                "attachments": len(message.attachments),
                "documents": sorted({citation.document for citation in reply.citations
                                     if not citation.attached}),
                "attached_sources": len({citation.document for citation in reply.citations
                                         if citation.attached}),
                "model_calls": len(usage),
                "redactions": _redactions(usage),
            },
        )
        try:
            if reply.kind == "error":
                await self.store.record_event(message, audit, usage)
                return reply
            turn_id = await self.store.record_exchange(message, reply, usage, audit,
                                                       answer_id=turn_id)
        except Exception:
            # the user still gets the answer; the incident is in the log
            log.exception("could not store the exchange of message %s", message.id)
            return reply
        return dataclasses.replace(reply, turn_id=turn_id)

    async def _record_refusal(self, message: Message, reply: Reply, outcome: str) -> None:
        try:
            await self.store.record_event(
                message, AuditEntry(action="message", outcome=outcome,
                                    details={"chars": len(message.text)})
            )
        except Exception:
            log.exception("could not store the refusal of message %s", message.id)


@asynccontextmanager
async def _closing(events: AsyncIterator[ReplyEvent]) -> AsyncIterator[AsyncIterator[ReplyEvent]]:
    """A skill's events, closed on leaving (its model streams then report their calls)."""
    try:
        yield events
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def _redactions(usage: list[UsageRecord]) -> dict[str, int]:
    """Kinds and counts of values pseudonymised for the calls that were sent (no raw data)."""
    totals: dict[str, int] = {}
    for record in usage:
        for kind, count in record.redactions:
            totals[kind] = max(totals.get(kind, 0), count)
    return totals


__all__ = ["Assistant", "AssistantLimits", "Delta", "Progress"]

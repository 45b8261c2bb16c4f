"""``/almia campagne …``: marketing campaigns from brief to approved, exportable content.

``campagne`` (inbox and brief form), ``nouvelle`` + YAML brief, ``liste``, ``voir ID``,
``historique ID``, ``soumettre ID``, ``approuver ID [commentaire]``, ``modifications ID
commentaire``, ``rejeter ID commentaire``, ``modifier ID`` + the edited sections,
``export ID``. Buttons of the cards send the same as actions (``campaigns:decide``…). Only
an approved exact version is exported; every step is in the audit trail.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from bot.cards import Card
from bot.governance.dlp import Detector, DlpSettings
from bot.governance.policy import CampaignPolicy
from bot.governance.roles import RoleResolver
from bot.i18n import Refusal, Text, plural
from bot.jobs.model import JobSpec, JobTask
from bot.jobs.service import JobService
from bot.messages import Locale, Message, Reply, ReplyEvent, User
from bot.skills import SkillError, SkillRequest
from bot.store.campaign_sealing import is_erased
from bot.store.campaigns import (
    AlreadyDecided,
    CampaignNotFound,
    CampaignStore,
    CampaignStoreError,
    CampaignView,
    Decision,
    DecisionConflict,
    ErasedReviewer,
    NewCampaign,
    SelfReview,
    WrongState,
)
from bot.store.store import ERASED_PERSON, AuditEntry
from skills.campaigns.access import CampaignAccess, access_rules
from skills.campaigns.brief import Brief, brief_from_mapping, check_dates, parse_brief
from skills.campaigns.checks import CampaignChecker, blocking
from skills.campaigns.draft_library import load_library
from skills.campaigns.drafts import ROLE, SKILL, Drafter, channel_names
from skills.campaigns.export import approved_version
from skills.campaigns.export_task import ExportTask
from skills.campaigns.notices import (
    PersonalChats,
    author_conversation,
    queue_notice,
    reviewer_conversation,
    route_of,
)
from skills.campaigns.notify_task import NotifyTask
from skills.campaigns.pieces import parse_pieces, serialise
from skills.campaigns.present import (
    DECISIONS,
    STATUS,
    as_mapping,
    brief_card,
    campaign_card,
    checks_lines,
    checks_of,
    checks_summary,
    diff_lines,
    notice_line,
    people,
    person,
    reviewers_line,
    title_line,
    trail_lines,
    version_block,
)
from skills.campaigns.reminders import Reminders
from skills.campaigns.rules import CampaignRules, load_rules
from skills.campaigns.texts import USAGE, T

AuditSink = Callable[[Message, AuditEntry], Awaitable[None]]
_FENCE = re.compile(r"^```[a-z]*\n|\n?```\s*$", re.MULTILINE)
_SUBCOMMANDS = {
    "new": "new", "nouvelle": "new", "nouveau": "new", "creer": "new", "créer": "new",
    "list": "list", "liste": "list", "lister": "list",
    "show": "show", "voir": "show", "afficher": "show",
    "history": "history", "historique": "history",
    "submit": "submit", "soumettre": "submit",
    "approve": "approve", "approuver": "approve", "valider": "approve",
    "changes": "changes", "modifications": "changes",
    "reject": "reject", "rejeter": "reject", "refuser": "reject",
    "edit": "edit", "modifier": "edit",
    "export": "export", "exporter": "export",
}
_DECISION_WORDS: dict[str, Decision] = {"approve": "approve", "changes": "changes",
                                        "reject": "reject"}

@dataclass(frozen=True, slots=True)
class CampaignServices:
    """What the skill is wired with: the store, the audit trail, the rules file, the policy's
    ``campaigns:`` section (who may do what; None: the rules file's deprecated one)."""

    store: CampaignStore
    audit: AuditSink | None = None
    rules_file: Path | None = None
    dlp: DlpSettings | None = None  # the installation's patterns (custom kinds too), no NER
    policy: CampaignPolicy | None = None
    personal_chats: PersonalChats | None = None  # Teams: install the app to open a chat


class CampaignsSkill:
    """Brief → drafts → checks → review with approvals → approved-only export."""

    name = SKILL
    title = Text("Campagnes marketing", "Marketing campaigns")
    description = Text(
        "Du brief aux textes approuvés : brouillons, contrôles, relecture, export "
        "(« /almia campagne »).",
        "From brief to approved copy: drafts, checks, review, export (“/almia campaign”).")
    commands = ("campaign", "campagne", "campagnes", "campaigns")
    model_roles = (ROLE,)

    def __init__(self, services: CampaignServices | None = None,
                 roles: RoleResolver | None = None, *, rules: CampaignRules | None = None,
                 detector: Detector | None = None) -> None:
        self._services = services
        self.rules = rules or load_rules(services.rules_file if services else None)
        self._access = CampaignAccess(
            access_rules(services.policy if services else None, self.rules),
            roles or RoleResolver({}))
        if detector is None and services is not None and services.dlp is not None:
            detector = Detector(services.dlp.model_copy(update={"enabled": True, "ner": False}))
        self.checker = CampaignChecker(self.rules, detector)
        self._drafter = Drafter({"fr": load_library(), "en": load_library(language="en")},
                                self.rules)
        self._chats = services.personal_chats if services else None
        self.reminders = (Reminders(services.store, self.rules, self._access.people,
                                    self._chats) if services else None)
        self.job_tasks: Mapping[str, JobTask] = (
            {"export": ExportTask(services.store, self.rules),
             "notify": NotifyTask(services.store, self._access)}
            if services else {})

    async def periodic(self, jobs: JobService | None) -> None:
        """Background work the app runs: reminders before review deadlines."""
        if self.reminders is not None:
            await self.reminders.forever(jobs)

    def wants(self, message: Message) -> bool:
        """« campagne liste », « /almia campagne nouvelle … »: a command word then a
        sub-command (the router takes only the canonical word without a colon)."""
        words = _command_words(message.text)
        return bool(words) and words[0] in self.commands and (
            len(words) == 1 or words[1] in _SUBCOMMANDS or words[1] in ("aide", "help"))

    @property
    def store(self) -> CampaignStore:
        """The campaign store (refuses politely when none is wired)."""
        if self._services is None:
            raise SkillError(T["unavailable"])
        return self._services.store

    async def handle(self, request: SkillRequest) -> AsyncIterator[ReplyEvent]:
        """Dispatch a sub-command or a card action."""
        try:
            yield await self._dispatch(request)
        except CampaignStoreError as error:
            raise self._refusal(error, request.locale) from None

    async def _dispatch(self, request: SkillRequest) -> Reply:
        message = request.message
        route = route_of(message)
        if route is not None and self._services is not None:
            await self.store.remember_route(route)  # review cards can reach this person
        if message.action is not None:
            return await self._on_action(request, message.action.name.partition(":")[2],
                                         dict(message.action.values))
        return await self._on_command(request)

    async def _on_action(self, request: SkillRequest, verb: str,
                         values: dict[str, str]) -> Reply:
        """A card button: its values say which campaign and version it was shown for."""
        message = request.message
        if verb == "create":
            return await self._create(request, brief_from_mapping(as_mapping(values)))
        campaign = await self._campaign(message.user, values.get("campaign", ""))
        version = int(values["version"]) if values.get("version", "").isdigit() else None
        if verb == "submit":
            return await self._submit(request, campaign, version)
        if verb == "decide" and values.get("decision") in _DECISION_WORDS:
            return await self._decide(request, campaign, _DECISION_WORDS[values["decision"]],
                                      values.get("comment", ""), version)
        if verb == "edit":
            return await self._edit(request, campaign, values.get("text", ""), version)
        if verb == "export":
            return await self._export(request, campaign)
        raise SkillError(T["unknown"], word=verb[:30], usage=USAGE(request.locale))

    async def _on_command(self, request: SkillRequest) -> Reply:
        """``campagne <sub-command> …`` typed in a message."""
        message = request.message
        text = request.text.strip()
        first = _command_words(text)[:1]
        if first and first[0] in self.commands:
            text = text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
        word, _, rest = _split_word(text)
        if not word or word.lower() in ("help", "aide"):
            return await self._home(request)
        command = _SUBCOMMANDS.get(word.lower())
        if command is None:
            raise SkillError(T["unknown"], word=word[:30], usage=USAGE(request.locale))
        if command == "new":
            if not await self._access.may_create(message.user):  # before reading the brief
                raise SkillError(T["no_create"])
            return await self._create(request, self._brief_text(rest))
        if command == "list":
            return await self._list(request)
        target, _, tail = rest.strip().partition("\n") if command == "edit" else \
            rest.strip().partition(" ")
        target = target.strip()
        if command == "edit" and " " in target:
            target, _, head = target.partition(" ")
            tail = f"{head}\n{tail}"
        if not target:
            raise SkillError(T["need_id"], command=word.lower())
        campaign = await self._campaign(message.user, target)
        if command == "show":
            return await self._show(request, campaign)
        if command == "history":
            return await self._history(request, campaign)
        if command == "submit":
            return await self._submit(request, campaign, None)
        if command == "edit":
            return await self._edit(request, campaign, tail, None)
        if command == "export":
            return await self._export(request, campaign)
        return await self._decide(request, campaign, _DECISION_WORDS[command], tail.strip(),
                                  None)

    # -- creation -------------------------------------------------------------------------

    @staticmethod
    def _brief_text(text: str) -> Brief:
        text = _FENCE.sub("", text.strip()).strip()
        if not text:
            raise SkillError(T["no_brief"])
        return parse_brief(text)

    async def _create(self, request: SkillRequest, brief: Brief) -> Reply:
        message, locale = request.message, request.locale
        store = self.store
        if not await self._access.may_create(message.user):
            raise SkillError(T["no_create"])
        check_dates(brief, datetime.now(UTC).date())
        for entry in brief.reviewers:
            if not self._access.known_entry(entry):
                raise SkillError(T["bad_reviewer"], entry=entry[:80],
                                 groups=self._access.role_names())
            if self._access.rules.roles.get(entry) == ():
                raise SkillError(T["empty_role"], role=entry[:80])
        if all(entry == message.user.id for entry in brief.reviewers):
            raise SkillError(T["self_only"])
        drafts = await self._drafter.draft(brief, request.models, locale)
        checks = self.checker.check(drafts.pieces, brief)
        campaign = await store.create(
            NewCampaign(title=brief.title, author_id=message.user.id, space_id=message.space.id,
                        channel=message.channel.value, thread_id=message.thread_id,
                        locale=locale, brief=brief.model_dump(mode="json"),
                        approval=brief.approval, reviewers=brief.reviewers,
                        deadline=brief.deadline, reference=message.reference),
            serialise(drafts.pieces, brief.language or locale),
            [check.as_json() for check in checks], drafts.source)
        await self._audit(message, "campaign_created", campaign, source=drafts.source,
                          model=drafts.source.removeprefix("model:")
                          if drafts.source.startswith("model:") else None)
        origin = (T["by_model"](locale, alias=drafts.source.removeprefix("model:"))
                  if drafts.source.startswith("model:") else T["offline"](locale))
        lines = [T["created"](locale, title=brief.title, id=campaign.id[:8],
                              count=len(drafts.pieces),
                              s=plural(len(drafts.pieces), locale), channels=channel_names(brief, locale)),
                 origin]
        if drafts.note:
            lines.append(f"_{drafts.note}_")
        lines += ["", *version_block(campaign, locale),
                  "", T["next_draft"](locale, id=campaign.id[:8])]
        return self._reply(lines, locale, campaign_card(campaign, locale, review=False,
                                                        author=True))

    # -- reading --------------------------------------------------------------------------

    async def _home(self, request: SkillRequest) -> Reply:
        locale, user = request.locale, request.message.user
        lines = [USAGE(locale)]
        inbox = await self._inbox(user, locale) if self._services is not None else []
        if inbox:
            lines += ["", T["inbox"](locale), *(f"- {line}" for line in inbox)]
        return self._reply(lines, locale, brief_card(locale))

    async def _inbox(self, user: User, locale: Locale) -> list[str]:
        notices = await self.store.notices(await self._access.recipients(user))
        lines = [notice_line(n.kind, n.title, n.campaign_id, n.version, n.actor_id, n.comment,
                             locale) for n in notices if n.kind != "submitted"]
        for campaign in await self.store.recent(statuses=("in_review",)):
            slots = await self._access.slots(user, campaign)
            if any(campaign.decision_of(slot) is None for slot in slots):
                lines.append(T["waiting_review"](locale, title=campaign.title,
                                                 id=campaign.id[:8],
                                                 version=campaign.current.number))
        return lines

    async def _list(self, request: SkillRequest) -> Reply:
        locale, user = request.locale, request.message.user
        lines: list[str] = []
        for campaign in await self.store.recent():
            if not await self._access.may_see(user, campaign):
                continue
            slots = await self._access.slots(user, campaign)
            mine = campaign.status == "in_review" and any(
                campaign.decision_of(slot) is None for slot in slots)
            lines.append(f"- **{campaign.id[:8]}** « {campaign.title} » — v"
                         f"{campaign.current.number}, {STATUS[campaign.status](locale)}"
                         f"{T['to_review'](locale) if mine else ''}")
        if not lines:
            return self._reply([T["list_empty"](locale)], locale)
        return self._reply([T["list_header"](locale, count=len(lines)), *lines], locale)

    async def _show(self, request: SkillRequest, campaign: CampaignView) -> Reply:
        locale = request.locale
        return self._reply(version_block(campaign, locale), locale,
                           await self._card(request.message.user, campaign, locale))

    async def _history(self, request: SkillRequest, campaign: CampaignView) -> Reply:
        locale = request.locale
        versions = await self.store.history(campaign.id)
        lines = [T["history_header"](locale, title=campaign.title)]
        lines += [T["version_line"](locale, number=v.number, when=f"{v.created_at:%Y-%m-%d %H:%M}",
                                    author=person(v.author_id, locale),
                                    source=T[f"source_{v.source}"](locale)
                                    if f"source_{v.source}" in T else v.source,
                                    checks=checks_summary(checks_of(v), locale))
                  for v in versions]
        for old, new in list(pairwise(versions))[-3:]:
            lines += ["", T["diff_header"](locale, old=old.number, new=new.number), "```",
                      *diff_lines(old.text, new.text), "```"]
        trail = await self.store.decisions(campaign.id)
        if trail:
            lines += ["", T["trail"](locale), *(f"- {line}" for line in trail_lines(trail,
                                                                                  locale))]
        return self._reply(lines, locale)

    # -- review ---------------------------------------------------------------------------

    async def _submit(self, request: SkillRequest, campaign: CampaignView,
                      version: int | None) -> Reply:
        message, locale = request.message, request.locale
        if not await self._may_edit(message.user, campaign):
            raise SkillError(T["not_author"])
        failed = blocking(checks_of(campaign.current))
        if failed:
            raise SkillError(T["blocked"], version=campaign.current.number, count=len(failed),
                             s="" if len(failed) == 1 else "s",
                             id=campaign.id[:8])
        authors = {campaign.author_id, campaign.current.author_id}
        if campaign.reviewers and all(":" in reviewer and reviewer in authors
                                      for reviewer in campaign.reviewers):
            # four-eyes: no reviewer could decide on a version they wrote or edited
            raise SkillError(T["no_other_reviewer"],
                             reviewers_fr=people(campaign.reviewers, "fr"),
                             reviewers_en=people(campaign.reviewers, "en"))
        try:
            submitted = await self.store.submit(campaign.id, version or campaign.current.number,
                                                message.user.id, campaign.reviewers)
        except CampaignStoreError as error:
            raise self._refusal(error, locale, campaign) from None
        await self._audit(message, "campaign_submitted", submitted)
        unreached = await self._ask_reviewers(request, submitted)
        mode = "tous requis" if submitted.approval == "all" else "un seul suffit"
        if locale == "en":
            mode = "all required" if submitted.approval == "all" else "any one"
        lines = [T["submitted"](locale, version=submitted.current.number,
                                reviewers=people(submitted.reviewers, locale), mode=mode)]
        if unreached:
            teams = any(member.startswith("teams:") for member in unreached)
            lines.append(T["inbox_only"](locale, people=people(unreached, locale)) +
                         (T["inbox_teams"](locale) if teams and self._chats is None else ""))
        return self._reply(lines, locale, campaign_card(submitted, locale, review=True,
                                                        author=False))

    async def _decide(self, request: SkillRequest, campaign: CampaignView, decision: Decision,
                      comment: str, version: int | None) -> Reply:
        message, locale = request.message, request.locale
        user = message.user
        if user.id == campaign.author_id or user.id == campaign.current.author_id:
            await self._audit(message, "campaign_decision", campaign, outcome="four_eyes",
                              decision=decision)
            raise SkillError(T["four_eyes"])
        slots = await self._access.slots(user, campaign)
        if not slots:
            raise SkillError(T["not_reviewer"], title=campaign.title,
                             reviewers=people(campaign.reviewers, locale))
        if not await self._access.may_decide(user, decision):
            await self._audit(message, "campaign_decision", campaign, outcome="not_permitted",
                              decision=decision)
            raise SkillError(T["no_approve"], allowed=self._access.named("approve"))
        if decision != "approve" and not comment.strip():
            raise SkillError(T["need_comment"])
        open_slots = [s for s in slots if campaign.decision_of(s) is None]
        if not open_slots and any(is_erased(s, ERASED_PERSON) and campaign.decision_of(s) is None
                                  for s in campaign.reviewers):
            raise self._refusal(ErasedReviewer(""), locale, campaign)
        slot = open_slots[0] if open_slots else slots[0]
        try:
            decided = await self.store.decide(campaign.id, version or campaign.current.number,
                                              slot, user.id, decision, comment.strip())
        except (DecisionConflict, AlreadyDecided) as lost:
            await self._audit(message, "campaign_decision", campaign, outcome="conflict",
                              decision=decision, version=version)
            raise self._refusal(lost, locale, campaign, slot) from None
        await self._audit(message, "campaign_decision", decided, decision=decision, slot=slot,
                          version=version or campaign.current.number)
        await self._tell_author(request, decided, notice_line(
            decision, decided.title, decided.id, version or campaign.current.number, user.id,
            comment.strip(), _locale(decided.locale)))
        lines = [T["decided"](locale, version=version or campaign.current.number, user=user.id,
                              decision=DECISIONS[decision](locale),
                              status=STATUS[decided.status](locale),
                              author=person(decided.author_id, locale)),
                 reviewers_line(decided, locale)]
        return self._reply(lines, locale, await self._card(user, decided, locale))

    async def _edit(self, request: SkillRequest, campaign: CampaignView, text: str,
                    version: int | None) -> Reply:
        message, locale = request.message, request.locale
        if not await self._may_edit(message.user, campaign):
            raise SkillError(T["not_author"])
        text = _FENCE.sub("", text.strip()).strip()
        if not text:
            raise SkillError(T["no_edit_text"])
        pieces = parse_pieces(text)
        # the pieces the text leaves out are kept as they were: sending only the banner
        # edits the banner, it does not delete the e-mails (nothing is lost by omission)
        given = {piece.key for piece in pieces}
        before = parse_pieces(campaign.current.text)
        kept = tuple(piece for piece in before if piece.key not in given)
        if kept:
            order = [piece.key for piece in before]
            pieces = tuple(sorted((*pieces, *kept), key=lambda piece: (
                order.index(piece.key) if piece.key in order else len(order))))
        brief = Brief.model_validate(campaign.brief)
        new_text = serialise(pieces, brief.language or campaign.locale)
        if new_text == campaign.current.text and (version or campaign.current.number) \
                == campaign.current.number:
            raise SkillError(T["no_change"], version=campaign.current.number)
        checks = self.checker.check(pieces, brief)
        try:
            edited = await self.store.add_version(
                campaign.id, version or campaign.current.number, message.user.id, new_text,
                [check.as_json() for check in checks])
        except CampaignStoreError as error:
            raise self._refusal(error, locale, campaign) from None
        await self._audit(message, "campaign_edited", edited)
        if campaign.status == "in_review" and not blocking(checks):
            edited = await self.store.submit(edited.id, edited.current.number, message.user.id,
                                             edited.reviewers)
        lines = [T["edited"](locale, version=edited.current.number,
                             checks=checks_summary(checks, locale)),
                 *([T["kept_pieces"](locale, keys=", ".join(
                     f"“{piece.key}”" if locale == "en" else f"« {piece.key} »"
                     for piece in kept))] if kept else []),
                 f"{title_line(edited, locale)}", "",
                 T["diff_header"](locale, old=campaign.current.number,
                                  new=edited.current.number),
                 "```", *diff_lines(campaign.current.text, new_text), "```"]
        problems = checks_lines(checks, locale)
        if problems:
            lines += ["", T["problems"](locale, summary=checks_summary(checks, locale)),
                      *problems]
        return self._reply(lines, locale, await self._card(message.user, edited, locale))

    async def _export(self, request: SkillRequest, campaign: CampaignView) -> Reply:
        message, locale = request.message, request.locale
        if not await self._access.may_export(message.user, campaign):
            raise SkillError(T["no_export"])
        version, _stamp = approved_version(campaign, locale)
        if request.jobs is None:
            raise SkillError(T["no_jobs"], id=campaign.id[:8])
        job = await request.jobs.start(
            JobSpec(skill=self.name, task="export", title=f"Export — {campaign.title[:80]}",
                    params={"campaign": campaign.id, "version": version.number}),
            message, locale)
        await self._audit(message, "campaign_export", campaign, version=version.number,
                          job=job.id)
        return Reply(T["export_started"](locale, version=version.number), kind="info",
                     skill=self.name, locale=locale, job_id=job.id)

    # -- helpers --------------------------------------------------------------------------

    async def _tell_author(self, request: SkillRequest, campaign: CampaignView,
                           text: str) -> None:
        """A notice in the author's conversation when the decision was taken elsewhere (the
        author's inbox has it anyway)."""
        message = request.message
        if message.space.id == campaign.space_id and message.thread_id == campaign.thread_id:
            return
        await queue_notice(request.jobs, author_conversation(campaign), text,
                           _locale(campaign.locale), f"Campagne — {campaign.title}")

    async def _ask_reviewers(self, request: SkillRequest, campaign: CampaignView) -> list[str]:
        """A direct message with the review card to each reviewer Almia can write to (slot
        ids and named members: Slack DM, Teams personal chat remembered or opened by
        installing the app, web job panel); the people it could not write to."""
        members = [member for slot in campaign.reviewers for member in self._access.people(slot)]
        text = T["review_request"](_locale(campaign.locale), title=campaign.title,
                                   id=campaign.id[:8], version=campaign.current.number,
                                   author=request.message.user.id)
        persons = [member for member in dict.fromkeys(members)  # a role's holders: inbox
                   if member != request.message.user.id and ":" in member]
        places = await asyncio.gather(*(reviewer_conversation(self.store, member, self._chats)
                                        for member in persons))  # Teams installs at once
        unreached = []
        for member, where in zip(persons, places, strict=True):
            if not await queue_notice(request.jobs, where, text, _locale(campaign.locale),
                                      f"Relecture — {campaign.title}", review=campaign):
                unreached.append(member)
        return unreached

    async def _campaign(self, user: User, reference: str) -> CampaignView:
        try:
            campaign = await self.store.find(reference)
        except CampaignNotFound:
            raise SkillError(T["not_found"], id=reference[:40]) from None
        if not await self._access.may_see(user, campaign):
            raise SkillError(T["not_found"], id=reference[:40])
        return campaign

    async def _may_edit(self, user: User, campaign: CampaignView) -> bool:
        return user.id == campaign.author_id or bool(await self._access.slots(user, campaign))

    async def _card(self, user: User, campaign: CampaignView, locale: Locale) -> Card:
        review = bool(await self._access.slots(user, campaign))
        return campaign_card(campaign, locale, review=review,
                             author=user.id == campaign.author_id,
                             approve=await self._access.may_decide(user, "approve"))

    def _reply(self, lines: list[str], locale: Locale, card: Card | None = None) -> Reply:
        return Reply("\n".join(lines), kind="info", skill=self.name, locale=locale,
                     cards=(card,) if card is not None else ())

    async def _audit(self, message: Message, action: str, campaign: CampaignView, *,
                     outcome: str = "ok", model: str | None = None, **details: object) -> None:
        if self._services is None or self._services.audit is None:
            return
        await self._services.audit(message, AuditEntry(
            action=action, outcome=outcome, skill=self.name, model_alias=model,
            details={"campaign": campaign.id, "version": campaign.current.number,
                     "status": campaign.status,
                     **{key: value for key, value in details.items() if value is not None}}))

    @staticmethod
    def _refusal(error: CampaignStoreError, locale: Locale,
                 campaign: CampaignView | None = None, slot: str = "") -> Refusal:
        title = campaign.title if campaign is not None else ""
        reference = campaign.id[:8] if campaign is not None else ""
        if isinstance(error, DecisionConflict):
            by = (T["conflict_by"](locale, user=person(error.decided_by, locale))
                  if error.decided_by else "")
            return SkillError(T["conflict"], title=title,
                              status=STATUS.get(error.status, STATUS["draft"])(locale),
                              version=error.version, by=by, id=reference)
        if isinstance(error, AlreadyDecided):
            return SkillError(T["already"], slot=person(slot, locale),
                              user=person(error.user_id, locale),
                              decision=DECISIONS[error.decision](locale))
        if isinstance(error, ErasedReviewer):
            return SkillError(T["erased_slot"], id=reference or "?")
        if isinstance(error, SelfReview):
            return SkillError(T["four_eyes"])
        if isinstance(error, WrongState):
            return SkillError(T["wrong_state"],
                              status=STATUS.get(error.status, STATUS["draft"])(locale),
                              version=error.version)
        return SkillError(T["not_found"], id=reference or "?")


def _command_words(text: str) -> list[str]:
    """The first two words, lowercased, without a leading ``/`` or ``/almia``."""
    words = text.strip().lstrip("/").split(None, 3)[:3]
    if words and words[0].lower() == "almia":
        words = words[1:]
    return [word.lower().rstrip(":") for word in words[:2]]


def _split_word(text: str) -> tuple[str, str, str]:
    """The first word and the rest (a line break counts as a separator)."""
    parts = text.split(None, 1)
    if not parts:
        return "", "", ""
    return parts[0], " ", text[len(parts[0]):].lstrip(" ")


def _locale(value: str) -> Locale:
    return "en" if value == "en" else "fr"

"""Marketing campaigns in the store: versions, review decisions, notices, optimistic locking.

Every change bumps ``campaigns.revision`` with ``UPDATE … WHERE revision = read``; a
decision is recorded only on the version it was made on, while that version is in review:
of two concurrent decisions that settle the same version, one wins and the other gets
:class:`DecisionConflict`; two decisions for the same reviewer slot cannot both be stored
(unique constraint). Editing a version creates the next one, which must be reviewed again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.campaign_sealing import (
    brief_context,
    comment_context,
    is_erased,
    notice_context,
    text_context,
)
from bot.store.campaign_tables import (
    CampaignDecision,
    CampaignNotice,
    CampaignRecord,
    CampaignRoute,
    CampaignVersion,
)
from bot.store.store import ERASED_PERSON, writer
from bot.store.templates import Sealer

Status = Literal["draft", "in_review", "changes_requested", "approved", "rejected"]
Decision = Literal["approve", "changes", "reject"]
_RETRIES = 5
_UNREADABLE = "[contenu illisible : clé de chiffrement indisponible]"


class CampaignStoreError(Exception):
    """Base of the store's refusals."""


class CampaignNotFound(CampaignStoreError):
    """No such campaign (or version)."""


class DecisionConflict(CampaignStoreError):
    """The version was settled, replaced or withdrawn before this decision was stored."""

    def __init__(self, status: str, version: int, decided_by: str | None = None) -> None:
        super().__init__(f"campaign now {status} at version {version}")
        self.status = status
        self.version = version
        self.decided_by = decided_by


class AlreadyDecided(CampaignStoreError):
    """This reviewer slot already decided on this version."""

    def __init__(self, user_id: str, decision: str) -> None:
        super().__init__(f"slot already decided ({decision})")
        self.user_id = user_id
        self.decision = decision


class SelfReview(CampaignStoreError):
    """The four-eyes rule: the author of a version does not approve or reject it."""


class ErasedReviewer(CampaignStoreError):
    """A reviewer slot of an erased person (``erased``): no one decides in their place."""


class WrongState(CampaignStoreError):
    """The action does not apply in the campaign's state (e.g. submit an approved one)."""

    def __init__(self, status: str, version: int) -> None:
        super().__init__(f"campaign is {status} at version {version}")
        self.status = status
        self.version = version


@dataclass(frozen=True, slots=True)
class NewCampaign:
    """What creating a campaign needs."""

    title: str
    author_id: str
    space_id: str
    channel: str
    thread_id: str
    locale: str
    brief: Mapping[str, Any]
    approval: Literal["all", "any"]
    reviewers: tuple[str, ...]
    deadline: date | None
    reference: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A stored decision."""

    version: int
    slot: str
    user_id: str
    decision: Decision
    comment: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VersionView:
    """A stored version."""

    number: int
    author_id: str
    source: str
    text: str
    checks: tuple[dict[str, Any], ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign with its current version and that version's decisions."""

    id: str
    title: str
    author_id: str
    space_id: str
    channel: str
    thread_id: str
    reference: Mapping[str, Any]
    locale: str
    brief: Mapping[str, Any]
    approval: Literal["all", "any"]
    reviewers: tuple[str, ...]
    status: Status
    revision: int
    deadline: date | None
    created_at: datetime
    updated_at: datetime
    current: VersionView
    decisions: tuple[DecisionView, ...]

    def decision_of(self, slot: str) -> DecisionView | None:
        """The decision of ``slot`` on the current version, if any."""
        return next((d for d in self.decisions if d.slot == slot), None)


@dataclass(frozen=True, slots=True)
class NoticeView:
    """Something to tell a person."""

    id: int
    campaign_id: str
    title: str
    kind: str
    version: int
    actor_id: str
    comment: str
    created_at: datetime


class _Clear:
    """No encryption."""

    def seal(self, text_: str, context: str) -> str:
        return text_

    def unseal(self, stored: str, context: str) -> str | None:
        return stored


class CampaignStore:
    """Campaigns on the store's engine (SQLite or PostgreSQL, tables of migration 0009).

    Texts, briefs and comments are sealed with the installation's key when encryption at
    rest is on (``sealer``: the :class:`~bot.store.Store`)."""

    def __init__(self, engine: AsyncEngine, sealer: Sealer | None = None) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._sealer: Sealer = sealer or _Clear()

    # -- reading --------------------------------------------------------------------------

    async def get(self, campaign_id: str) -> CampaignView:
        """The campaign (current version, its decisions); :class:`CampaignNotFound`."""
        async with self._engine.connect() as connection:
            return await _view(connection, campaign_id, self._sealer)

    async def find(self, prefix: str) -> CampaignView:
        """A campaign by its id or an unambiguous id prefix (4 characters or more)."""
        prefix = prefix.strip().lower()
        if len(prefix) < 4 or not prefix.isalnum():
            raise CampaignNotFound(prefix)
        async with self._engine.connect() as connection:
            ids = (await connection.execute(
                select(CampaignRecord.id).where(CampaignRecord.id.startswith(prefix))
                .limit(2))).scalars().all()
            if len(ids) != 1:
                raise CampaignNotFound(prefix)
            return await _view(connection, ids[0], self._sealer)

    async def version(self, campaign_id: str, number: int) -> VersionView:
        """One version of a campaign."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(CampaignVersion).where(
                CampaignVersion.campaign_id == campaign_id,
                CampaignVersion.number == number))).first()
        if row is None:
            raise CampaignNotFound(f"{campaign_id}@{number}")
        return _version_view(row, self._sealer)

    async def history(self, campaign_id: str) -> list[VersionView]:
        """Every version, oldest first."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(
                select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id)
                .order_by(CampaignVersion.number))).all()
        return [_version_view(row, self._sealer) for row in rows]

    async def decisions(self, campaign_id: str) -> list[DecisionView]:
        """Every decision on every version, oldest first (the review trail)."""
        async with self._engine.connect() as connection:
            rows = (await connection.execute(
                select(CampaignDecision).where(CampaignDecision.campaign_id == campaign_id)
                .order_by(CampaignDecision.id))).all()
        return [_decision_view(row, self._sealer) for row in rows]

    async def recent(self, limit: int = 200,
                     statuses: Sequence[str] | None = None) -> list[CampaignView]:
        """The most recently changed campaigns, optionally in ``statuses`` only (callers
        filter what a person may see)."""
        query = select(CampaignRecord.id).order_by(CampaignRecord.updated_at.desc())
        if statuses is not None:
            query = query.where(CampaignRecord.status.in_(list(statuses)))
        async with self._engine.connect() as connection:
            ids = (await connection.execute(query.limit(limit))).scalars().all()
            return [await _view(connection, campaign_id, self._sealer) for campaign_id in ids]

    # -- writing --------------------------------------------------------------------------

    async def create(self, new: NewCampaign, text: str, checks: Sequence[Mapping[str, Any]],
                     source: str) -> CampaignView:
        """A campaign in ``draft`` with version 1."""
        now = datetime.now(UTC)
        campaign_id = uuid.uuid4().hex
        async with self._writer.begin() as connection:
            await connection.execute(insert(CampaignRecord).values(
                id=campaign_id, title=new.title[:200], author_id=new.author_id,
                space_id=new.space_id, channel=new.channel, thread_id=new.thread_id[:256],
                reference=json.dumps(dict(new.reference)), locale=new.locale,
                brief=self._sealer.seal(json.dumps(dict(new.brief), ensure_ascii=False),
                                        brief_context(campaign_id)),
                approval=new.approval,
                reviewers=json.dumps(list(new.reviewers)), status="draft", version=1,
                revision=1, deadline=new.deadline, reminded_at=None, created_at=now,
                updated_at=now))
            await connection.execute(insert(CampaignVersion).values(
                campaign_id=campaign_id, number=1, author_id=new.author_id, source=source[:160],
                text=self._sealer.seal(text, text_context(campaign_id, 1)),
                checks=json.dumps(list(checks), ensure_ascii=False), created_at=now))
            return await _view(connection, campaign_id, self._sealer)

    async def add_version(self, campaign_id: str, expected_version: int, author_id: str,
                          text: str, checks: Sequence[Mapping[str, Any]],
                          source: str = "edit") -> CampaignView:
        """The next version (back to ``draft``: approvals are per version, so they reset).

        :class:`DecisionConflict` when ``expected_version`` is no longer the current one;
        :class:`WrongState` once the campaign is rejected (start a new one). Editing an
        approved version makes a new, unapproved one: only it can be sent for review next,
        and nothing is exported until it is approved."""
        now = datetime.now(UTC)
        async with self._writer.begin() as connection:
            record = await _record(connection, campaign_id)
            if record.version != expected_version:
                raise DecisionConflict(record.status, record.version)
            if record.status == "rejected":
                raise WrongState(record.status, record.version)
            number = record.version + 1
            await _bump(connection, record, version=number, status="draft", updated_at=now)
            await connection.execute(insert(CampaignVersion).values(
                campaign_id=campaign_id, number=number, author_id=author_id,
                source=source[:160],
                text=self._sealer.seal(text, text_context(campaign_id, number)),
                checks=json.dumps(list(checks), ensure_ascii=False), created_at=now))
            return await _view(connection, campaign_id, self._sealer)

    async def submit(self, campaign_id: str, expected_version: int, user_id: str,
                     notify: Sequence[str]) -> CampaignView:
        """Send the current version for review; each of ``notify`` gets a notice."""
        now = datetime.now(UTC)
        async with self._writer.begin() as connection:
            record = await _record(connection, campaign_id)
            if record.version != expected_version:
                raise DecisionConflict(record.status, record.version)
            if record.status not in ("draft", "changes_requested"):
                raise WrongState(record.status, record.version)
            await _bump(connection, record, status="in_review", updated_at=now)
            await _notify(connection, self._sealer, campaign_id, notify, "submitted",
                          record.version, user_id, "", now)
            return await _view(connection, campaign_id, self._sealer)

    async def decide(self, campaign_id: str, version: int, slot: str, user_id: str,
                     decision: Decision, comment: str = "") -> CampaignView:
        """Record ``user_id``'s decision for reviewer ``slot`` on ``version``; the new state.

        All reviewers (``all``) or one (``any``) must approve; one « changes » or « reject »
        settles the version at once. The author is notified of every decision. The slot of
        an erased person (``erased``, ``erased#2``…) is no one's: :class:`ErasedReviewer`."""
        if is_erased(slot, ERASED_PERSON) or is_erased(user_id, ERASED_PERSON):
            raise ErasedReviewer(slot)
        for _attempt in range(_RETRIES):
            try:
                return await self._decide_once(campaign_id, version, slot, user_id, decision,
                                               comment)
            except _Moved:
                continue  # another reviewer's decision landed first: read again
        record_view = await self.get(campaign_id)
        raise DecisionConflict(record_view.status, record_view.current.number)

    async def _decide_once(self, campaign_id: str, version: int, slot: str, user_id: str,
                           decision: Decision, comment: str) -> CampaignView:
        now = datetime.now(UTC)
        async with self._writer.begin() as connection:
            record = await _record(connection, campaign_id)
            author = (await connection.execute(select(CampaignVersion.author_id).where(
                CampaignVersion.campaign_id == campaign_id,
                CampaignVersion.number == version))).scalar()
            if user_id in (record.author_id, author):
                raise SelfReview(user_id)
            if record.version != version or record.status != "in_review":
                settled = await _settled_by(connection, campaign_id, record.version)
                raise DecisionConflict(record.status, record.version, settled)
            previous = (await connection.execute(select(CampaignDecision).where(
                CampaignDecision.campaign_id == campaign_id, CampaignDecision.version == version,
                CampaignDecision.slot == slot))).first()
            if previous is not None:
                raise AlreadyDecided(previous.user_id, previous.decision)
            try:
                await connection.execute(insert(CampaignDecision).values(
                    campaign_id=campaign_id, version=version, slot=slot, user_id=user_id,
                    decision=decision, created_at=now,
                    comment=self._sealer.seal(comment[:4000],
                                              comment_context(campaign_id, version, slot))))
            except IntegrityError:
                raise _Moved from None
            decided = (await connection.execute(select(CampaignDecision).where(
                CampaignDecision.campaign_id == campaign_id,
                CampaignDecision.version == version))).all()
            status = _settle(record.approval, json.loads(record.reviewers),
                             [(row.slot, row.decision) for row in decided])
            changed = await connection.execute(
                update(CampaignRecord)
                .where(CampaignRecord.id == campaign_id,
                       CampaignRecord.revision == record.revision)
                .values(status=status, revision=record.revision + 1, updated_at=now))
            if changed.rowcount != 1:
                raise _Moved
            await _notify(connection, self._sealer, campaign_id, [record.author_id], decision,
                          version, user_id, comment, now)
            return await _view(connection, campaign_id, self._sealer)

    # -- notices and reminders ------------------------------------------------------------

    async def notices(self, recipients: Sequence[str], *, mark_seen: bool = True,
                      limit: int = 20) -> list[NoticeView]:
        """Unseen notices for a person (their id and the reviewer slots they fill)."""
        if not recipients:
            return []
        notices = CampaignNotice.__table__
        async with self._writer.begin() as connection:
            rows = (await connection.execute(
                select(notices, CampaignRecord.title)
                .join(CampaignRecord, CampaignRecord.id == notices.c.campaign_id)
                .where(notices.c.user_id.in_(list(recipients)), notices.c.seen == 0)
                .order_by(notices.c.id).limit(limit))).all()
            if mark_seen and rows:
                await connection.execute(update(CampaignNotice).where(
                    CampaignNotice.id.in_([row.id for row in rows])).values(seen=1))
        return [NoticeView(row.id, row.campaign_id, row.title, row.kind, row.version,
                           row.actor_id, _opened(self._sealer, row.comment,
                                                 notice_context(row.campaign_id)),
                           _aware(row.created_at)) for row in rows]

    async def due_reminders(self, today: date, days_ahead: int) -> list[CampaignView]:
        """Campaigns in review whose deadline is within ``days_ahead`` days, not yet reminded
        (each one is marked reminded and its undecided reviewers get a notice)."""
        now = datetime.now(UTC)
        due: list[CampaignView] = []
        async with self._writer.begin() as connection:
            ids = (await connection.execute(select(CampaignRecord.id).where(and_(
                CampaignRecord.status == "in_review", CampaignRecord.reminded_at.is_(None),
                CampaignRecord.deadline.is_not(None))))).scalars().all()
            for campaign_id in ids:
                view = await _view(connection, campaign_id, self._sealer)
                assert view.deadline is not None
                if (view.deadline - today).days > days_ahead:
                    continue
                waiting = [slot for slot in view.reviewers if view.decision_of(slot) is None]
                await connection.execute(update(CampaignRecord).where(
                    CampaignRecord.id == campaign_id).values(reminded_at=now))
                await _notify(connection, self._sealer, campaign_id, waiting, "reminder",
                              view.current.number, "system", "", now)
                due.append(view)
        return due


    # -- where reviewers can be written to ------------------------------------------------

    async def remember_route(self, route: Route) -> None:
        """Keep a person's personal conversation with the bot (replaces the previous one)."""
        sealed = self._sealer.seal(json.dumps(dict(route.reference)),
                                   route_context(route.user_id))
        async with self._writer.begin() as connection:
            await connection.execute(delete(CampaignRoute).where(
                CampaignRoute.user_id == route.user_id))
            await connection.execute(insert(CampaignRoute).values(
                user_id=route.user_id, channel=route.channel, space_id=route.space_id,
                reference=sealed, updated_at=datetime.now(UTC)))

    async def route(self, user_id: str) -> Route | None:
        """The person's remembered personal conversation, if any (and still readable)."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(CampaignRoute.__table__).where(
                CampaignRoute.user_id == user_id))).first()
        if row is None:
            return None
        opened = self._sealer.unseal(row.reference, route_context(user_id))
        if opened is None:
            return None
        return Route(row.user_id, row.channel, row.space_id, json.loads(opened))


def route_context(user_id: str) -> str:
    """The sealing context of a person's route."""
    return f"campaign-route:{user_id}"


@dataclass(frozen=True, slots=True)
class Route:
    """A person's personal conversation with the bot, as its channel needs it."""

    user_id: str
    channel: str
    space_id: str
    reference: Mapping[str, Any]


class _Moved(Exception):
    """The campaign changed between our read and our write."""


def _settle(approval: str, slots: Sequence[str], decided: Sequence[tuple[str, str]]) -> Status:
    """The version's state from its decisions."""
    kinds = [kind for _slot, kind in decided]
    if "reject" in kinds:
        return "rejected"
    if "changes" in kinds:
        return "changes_requested"
    approved = {slot for slot, kind in decided if kind == "approve"}
    if approval == "any" and approved:
        return "approved"
    if approved >= set(slots):
        return "approved"
    return "in_review"


async def _record(connection: AsyncConnection, campaign_id: str) -> Any:
    row = (await connection.execute(
        select(CampaignRecord.__table__).where(CampaignRecord.id == campaign_id))).first()
    if row is None:
        raise CampaignNotFound(campaign_id)
    return row


async def _bump(connection: AsyncConnection, record: Any, **values: Any) -> None:
    changed = await connection.execute(
        update(CampaignRecord)
        .where(CampaignRecord.id == record.id, CampaignRecord.revision == record.revision)
        .values(revision=record.revision + 1, **values))
    if changed.rowcount != 1:
        raise DecisionConflict(record.status, record.version)


async def _notify(connection: AsyncConnection, sealer: Sealer, campaign_id: str,
                  recipients: Sequence[str], kind: str, version: int, actor_id: str,
                  comment: str, now: datetime) -> None:
    sealed = sealer.seal(comment[:4000], notice_context(campaign_id))
    rows = [{"campaign_id": campaign_id, "user_id": recipient, "kind": kind, "version": version,
             "actor_id": actor_id, "comment": sealed, "seen": 0, "created_at": now}
            for recipient in dict.fromkeys(recipients)
            if recipient != actor_id and not is_erased(recipient, ERASED_PERSON)]
    if rows:
        await connection.execute(insert(CampaignNotice), rows)


async def _settled_by(connection: AsyncConnection, campaign_id: str, version: int) -> str | None:
    row = (await connection.execute(
        select(CampaignDecision.user_id).where(CampaignDecision.campaign_id == campaign_id,
                                               CampaignDecision.version == version)
        .order_by(CampaignDecision.id.desc()).limit(1))).first()
    return str(row.user_id) if row is not None else None


async def _view(connection: AsyncConnection, campaign_id: str, sealer: Sealer) -> CampaignView:
    record = await _record(connection, campaign_id)
    current = (await connection.execute(select(CampaignVersion).where(
        CampaignVersion.campaign_id == campaign_id,
        CampaignVersion.number == record.version))).first()
    assert current is not None
    decided = (await connection.execute(select(CampaignDecision).where(
        CampaignDecision.campaign_id == campaign_id,
        CampaignDecision.version == record.version).order_by(CampaignDecision.id))).all()
    return CampaignView(
        id=record.id, title=record.title, author_id=record.author_id, space_id=record.space_id,
        channel=record.channel, thread_id=record.thread_id,
        reference=json.loads(record.reference), locale=record.locale,
        brief=json.loads(_opened(sealer, record.brief, brief_context(record.id), "{}")),
        approval=record.approval,
        reviewers=tuple(json.loads(record.reviewers)), status=record.status,
        revision=record.revision, deadline=record.deadline,
        created_at=_aware(record.created_at), updated_at=_aware(record.updated_at),
        current=_version_view(current, sealer),
        decisions=tuple(_decision_view(row, sealer) for row in decided))


def _version_view(row: Any, sealer: Sealer) -> VersionView:
    text = _opened(sealer, row.text, text_context(row.campaign_id, row.number))
    return VersionView(row.number, row.author_id, row.source, text,
                       tuple(json.loads(row.checks)), _aware(row.created_at))


def _decision_view(row: Any, sealer: Sealer) -> DecisionView:
    comment = _opened(sealer, row.comment,
                      comment_context(row.campaign_id, row.version, row.slot))
    return DecisionView(row.version, row.slot, row.user_id, row.decision, comment,
                        _aware(row.created_at))


def _opened(sealer: Sealer, stored: str, context: str, lost: str = _UNREADABLE) -> str:
    opened = sealer.unseal(stored, context)
    return lost if opened is None else opened


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

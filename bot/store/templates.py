"""Prompt templates in the store: versions, permissions, optimistic locking, runs, analytics.

Every change (edit, share, archive) writes a new immutable version and bumps
``templates.version`` with ``UPDATE … WHERE version = expected``: of two people editing
the same version, the second gets :class:`VersionConflict` and nothing changes.
Who sees what: personal → its owner; team → people in that space; company → everyone.
Who edits: personal → its owner only; team → that space's champions and managers (and
admins); company → admins, and champions when ``champions_edit_company`` is set.
A name is unique within its scope (one owner's personal templates, one space's team
templates, the company's): where several a person sees share a name, the closest is theirs —
their own, then their space's, then the company's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Table, and_, case, func, insert, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.governance.roles import Role
from bot.store.store import writer
from bot.store.tables import Feedback, Turn, UsageEvent
from bot.store.template_tables import TemplateRecord, TemplateRun, TemplateVersion

Scope = Literal["personal", "team", "company"]
SCOPES: tuple[Scope, ...] = ("personal", "team", "company")
SYSTEM_OWNER = "system"
DEFAULT_SKILL = "templates"
DEFAULT_ROLE = "generate"
_RECONCILE_BATCH = 5_000


class TemplateStoreError(Exception):
    """Base of the template store's refusals; nothing was changed."""


class TemplateNotFound(TemplateStoreError):
    """No template of that name is visible to the user (or that version does not exist)."""

    def __init__(self, name: str, version: int | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.version = version


class NameTaken(TemplateStoreError):
    """A template of that name already exists."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class NotAllowed(TemplateStoreError):
    """The user may see the template but not make this change."""

    def __init__(self, name: str, action: str) -> None:
        super().__init__(f"{action} {name}")
        self.name = name
        self.action = action


class NotInSpace(TemplateStoreError):
    """Sharing to a space the user is not in."""

    def __init__(self, space_id: str) -> None:
        super().__init__(space_id)
        self.space_id = space_id


class VersionConflict(TemplateStoreError):
    """Someone else changed the template since the version the user started from."""

    def __init__(self, name: str, expected: int, current: int) -> None:
        super().__init__(f"{name}: expected v{expected}, now v{current}")
        self.name = name
        self.expected = expected
        self.current = current


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, from where, with which roles."""

    user_id: str
    space_id: str
    roles: frozenset[Role] = frozenset({Role.EMPLOYEE})

    def holds(self, *roles: Role) -> bool:
        """True if the actor holds any of ``roles`` (admins hold them all)."""
        return Role.ADMIN in self.roles or any(role in self.roles for role in roles)


@dataclass(frozen=True, slots=True)
class TemplateContent:
    """What a version holds."""

    title: str
    body: str
    description: str = ""
    skill: str = DEFAULT_SKILL
    role: str = DEFAULT_ROLE
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Template:
    """A template at one version."""

    id: str
    name: str
    scope: Scope
    space_id: str | None
    owner_id: str
    version: int  # the version shown
    latest: int  # the template's latest version
    archived: bool
    content: TemplateContent
    updated_at: datetime

    @property
    def use_case(self) -> str:
        """The template's first tag, or its name (what analytics group by)."""
        return self.content.tags[0] if self.content.tags else self.name


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One line of a template's history."""

    version: int
    author_id: str
    change: str
    scope: str
    created_at: datetime
    title: str


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One template run, as the skill saw it."""

    template: Template
    user_id: str
    space_id: str
    channel: str
    conversation_id: str
    skill: str
    model_alias: str | None
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    turn_id: str | None = None  # the answer's turn, for feedback


@dataclass(frozen=True, slots=True)
class TemplateUsage:
    """Analytics of one template over a period."""

    name: str
    runs: int
    users: int
    positive: int
    negative: int
    avg_latency_ms: float
    tokens: int
    scope: str = ""  # personal, team or company ("" once the template is gone)

    @property
    def feedback_ratio(self) -> float | None:
        """Share of 👍 among rated runs, None when no run was rated."""
        rated = self.positive + self.negative
        return self.positive / rated if rated else None


@dataclass(frozen=True, slots=True)
class TemplateStats:
    """Most-used templates, use cases per space, weekly trend, overall feedback ratio."""

    since: datetime
    runs: int
    templates: list[TemplateUsage]
    use_cases: list[tuple[str, str, int]]  # space, use case, runs
    weekly: list[tuple[date, int]]
    positive: int
    negative: int

    @property
    def feedback_ratio(self) -> float | None:
        """Share of 👍 among rated runs, None when no run was rated."""
        rated = self.positive + self.negative
        return self.positive / rated if rated else None

    def as_json(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "since": self.since.isoformat(),
            "runs": self.runs,
            "feedback": {"positive": self.positive, "negative": self.negative,
                         "ratio": self.feedback_ratio},
            "templates": [{"name": t.name, "scope": t.scope, "runs": t.runs, "users": t.users,
                           "positive": t.positive, "negative": t.negative,
                           "feedback_ratio": t.feedback_ratio,
                           "avg_latency_ms": round(t.avg_latency_ms, 1), "tokens": t.tokens}
                          for t in self.templates],
            "use_cases": [{"space": space, "use_case": use_case, "runs": runs}
                          for space, use_case, runs in self.use_cases],
            "weekly": [{"week": week.isoformat(), "runs": runs} for week, runs in self.weekly],
        }


class Sealer(Protocol):
    """Encryption at rest of template bodies (the :class:`~bot.store.Store` is one)."""

    def seal(self, text_: str, context: str) -> str:
        """Encrypt for storage."""
        ...

    def unseal(self, stored: str, context: str) -> str | None:
        """Decrypt; None when the key is lost."""
        ...


class _Clear:
    """No encryption."""

    def seal(self, text_: str, context: str) -> str:
        return text_

    def unseal(self, stored: str, context: str) -> str | None:
        return stored


_UNREADABLE = "[contenu illisible : clé de chiffrement indisponible]"


class TemplateStore:
    """Templates on the store's engine (SQLite or PostgreSQL, tables of migrations 0003 and
    0013)."""

    def __init__(self, engine: AsyncEngine, *, champions_edit_company: bool = False,
                 sealer: Sealer | None = None) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._sealer = sealer or _Clear()
        self._champions_edit_company = champions_edit_company
        self._seed_lock = asyncio.Lock()
        self._seeded = False

    # -- permissions ----------------------------------------------------------------------

    @staticmethod
    def can_see(template: TemplateRecord | Template, actor: Actor) -> bool:
        """Personal: the owner; team: people in that space; company: everyone."""
        if template.scope == "company":
            return True
        if template.scope == "team":
            return template.space_id == actor.space_id or template.owner_id == actor.user_id
        return template.owner_id == actor.user_id

    def can_edit(self, template: TemplateRecord | Template, actor: Actor) -> bool:
        """Whether ``actor`` may change ``template`` (see the module docstring)."""
        if template.scope == "personal":
            return template.owner_id == actor.user_id
        if template.scope == "team":
            return (template.space_id == actor.space_id
                    and actor.holds(Role.CHAMPION, Role.MANAGER))
        return self.can_edit_company(actor)

    def can_edit_company(self, actor: Actor) -> bool:
        """Admins, and champions when the policy allows it."""
        return actor.holds(Role.ADMIN) or (self._champions_edit_company
                                           and actor.holds(Role.CHAMPION))

    # -- reading --------------------------------------------------------------------------

    async def find(self, name: str, actor: Actor, version: int | None = None) -> Template:
        """The template ``name`` as ``actor`` may see it (latest version unless pinned)."""
        async with self._engine.connect() as connection:
            record = await _record(connection, name, actor)
            if record is None:
                raise TemplateNotFound(name)
            row = await _version(connection, record.id, version or record.version)
        if row is None:
            raise TemplateNotFound(name, version)
        return _template(record, row, self._sealer)

    async def _by_id(self, template_id: str) -> Template:
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(TemplateRecord.__table__).where(
                TemplateRecord.__table__.c.id == template_id))).first()
            assert row is not None
            record = _from_row(row)
            version = await _version(connection, record.id, record.version)
        return _template(record, version, self._sealer)

    async def visible(self, actor: Actor, text: str = "", *,
                   include_archived: bool = False) -> list[Template]:
        """Templates ``actor`` may see whose name, title or tags contain ``text``, by name
        and, within a name, the one it means to ``actor`` first."""
        records = TemplateRecord.__table__
        versions = TemplateVersion.__table__
        visible = or_(
            records.c.scope == "company",
            and_(records.c.scope == "team", or_(records.c.space_id == actor.space_id,
                                                 records.c.owner_id == actor.user_id)),
            and_(records.c.scope == "personal", records.c.owner_id == actor.user_id),
        )
        query = (select(records, versions).join(
            versions, and_(versions.c.template_id == records.c.id,
                           versions.c.version == records.c.version))
                 .where(visible).order_by(records.c.label))
        if not include_archived:
            query = query.where(records.c.archived.is_(False))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        needle = text.strip().lower()
        found = [_template_from_row(row, self._sealer) for row in rows]
        found.sort(key=lambda t: (t.name, _closeness(t, actor)))  # the one a name means first
        return [t for t in found if not needle or needle in " ".join(
            (t.name, t.content.title, t.content.description, *t.content.tags)).lower()]

    async def every(self) -> list[Template]:
        """Every template at its latest version (administration, export)."""
        records = TemplateRecord.__table__
        versions = TemplateVersion.__table__
        query = (select(records, versions).join(
            versions, and_(versions.c.template_id == records.c.id,
                           versions.c.version == records.c.version)).order_by(records.c.label))
        async with self._engine.connect() as connection:
            return [_template_from_row(row, self._sealer)
                    for row in (await connection.execute(query)).all()]

    async def history(self, name: str, actor: Actor) -> list[VersionInfo]:
        """Every version of a visible template, newest first."""
        versions = TemplateVersion.__table__
        async with self._engine.connect() as connection:
            record = await _record(connection, name, actor)
            if record is None:
                raise TemplateNotFound(name)
            rows = (await connection.execute(
                select(versions).where(versions.c.template_id == record.id)
                .order_by(versions.c.version.desc()))).all()
        return [VersionInfo(row.version, row.author_id, row.change, row.scope, row.created_at,
                            row.title) for row in rows]

    # -- writing --------------------------------------------------------------------------

    async def create(self, name: str, content: TemplateContent, actor: Actor, *,
                     scope: Scope = "personal", space_id: str | None = None,
                     owner_id: str | None = None, change: str = "create") -> Template:
        """A new template at version 1; :class:`NameTaken` if its scope already has the name."""
        now = datetime.now(UTC)
        owner = owner_id or actor.user_id
        space = space_id if scope == "team" else None
        record = TemplateRecord(id=uuid.uuid4().hex, key=name_key(scope, owner, space, name),
                                name=name, scope=scope, space_id=space, owner_id=owner,
                                version=1, archived=False, created_at=now, updated_at=now)
        try:
            async with self._writer.begin() as connection:
                await connection.execute(insert(_records()).values(_columns(record)))
                await connection.execute(insert(TemplateVersion).values(
                    _version_values(record, content, actor.user_id, change, now, self._sealer)))
        except IntegrityError:
            raise NameTaken(name) from None
        return await self._by_id(record.id)

    async def edit(self, name: str, content: TemplateContent, actor: Actor,
                   expected_version: int, *, template_id: str | None = None,
                   restore: bool = False) -> Template:
        """A new version with ``content``; conflicts if the latest is not ``expected_version``.
        ``template_id``: that template rather than the one the name means to ``actor``;
        ``restore``: archived, it comes back."""
        return await self._change(name, actor, expected_version, "edit", content=content,
                                  template_id=template_id, archived=False if restore else None)

    async def own(self, name: str, actor: Actor) -> Template | None:
        """``actor``'s personal template ``name``, archived or not."""
        return await self.scoped(name, "personal", actor.user_id, None)

    async def scoped(self, name: str, scope: Scope, owner_id: str,
                     space_id: str | None) -> Template | None:
        """The template ``name`` of that scope (personal: of ``owner_id``; team: of
        ``space_id``), archived or not: what an import updates."""
        records = _records()
        async with self._engine.connect() as connection:
            row = (await connection.execute(select(records.c.id).where(
                records.c.name == name_key(scope, owner_id, space_id, name)))).first()
        return None if row is None else await self._by_id(row.id)

    async def share(self, name: str, scope: Scope, actor: Actor, expected_version: int,
                    space_id: str | None = None) -> Template:
        """Move a template to ``scope`` (team: ``space_id``, which must be the actor's space)."""
        if scope == "team":
            space_id = space_id or actor.space_id
            if space_id != actor.space_id:
                raise NotInSpace(space_id)
            if not actor.holds(Role.CHAMPION, Role.MANAGER):
                raise NotAllowed(name, "share_team")
        elif scope == "company" and not self.can_edit_company(actor):
            raise NotAllowed(name, "share_company")
        return await self._change(name, actor, expected_version, "share", scope=scope,
                                  space_id=space_id if scope == "team" else None)

    async def archive(self, name: str, actor: Actor, expected_version: int,
                      archived: bool = True) -> Template:
        """Hide a template from lists and runs (or bring it back), as a new version."""
        return await self._change(name, actor, expected_version,
                                  "archive" if archived else "restore", archived=archived)

    async def _change(self, name: str, actor: Actor, expected_version: int, change: str, *,
                      content: TemplateContent | None = None, scope: Scope | None = None,
                      space_id: str | None = None, archived: bool | None = None,
                      template_id: str | None = None) -> Template:
        now = datetime.now(UTC)
        async with self._writer.begin() as connection:
            record = await _record(connection, name, actor, template_id)
            if record is None:
                raise TemplateNotFound(name)
            if not self.can_edit(record, actor):
                raise NotAllowed(name, record.scope)
            if record.version != expected_version:
                raise VersionConflict(name, expected_version, record.version)
            current = await _version(connection, record.id, record.version)
            assert current is not None
            new_scope = scope or record.scope
            new_space = space_id if scope is not None else record.space_id
            new_archived = record.archived if archived is None else archived
            try:
                records = _records()
                result = await connection.execute(
                    update(records)
                    .where(records.c.id == record.id, records.c.version == expected_version)
                    .values(version=expected_version + 1, scope=new_scope, space_id=new_space,
                            name=name_key(new_scope, record.owner_id, new_space, record.name),
                            archived=new_archived, updated_at=now))
            except IntegrityError:  # shared where a template of that name already is
                raise NameTaken(name) from None
            if result.rowcount != 1:
                latest = await _record(connection, name, actor)
                raise VersionConflict(name, expected_version,
                                      latest.version if latest else expected_version)
            record.version, record.scope = expected_version + 1, new_scope
            record.space_id, record.archived = new_space, new_archived
            try:
                await connection.execute(insert(TemplateVersion).values(_version_values(
                    record, content or _content(current, self._sealer), actor.user_id, change,
                    now, self._sealer)))
            except IntegrityError:
                raise VersionConflict(name, expected_version, expected_version + 1) from None
        return await self._by_id(record.id)

    async def ensure(self, templates: Iterable[tuple[str, TemplateContent]]) -> int:
        """Create the company-wide templates that are absent (owner "system"); returns how many."""
        async with self._seed_lock:
            if self._seeded:
                return 0
            created = 0
            system = Actor(SYSTEM_OWNER, "", frozenset(Role))
            records = TemplateRecord.__table__
            async with self._engine.connect() as connection:
                existing = set((await connection.execute(select(records.c.label).where(
                    records.c.scope == "company"))).scalars())
            for name, content in templates:
                if name in existing:
                    continue
                try:
                    await self.create(name, content, system, scope="company", change="import")
                    created += 1
                except NameTaken:
                    continue  # another replica created it meanwhile
            self._seeded = True
            return created

    # -- runs and analytics ---------------------------------------------------------------

    async def record_run(self, run: RunRecord) -> None:
        """Remember one use of a template."""
        when = run.created_at
        async with self._writer.begin() as connection:
            await connection.execute(insert(TemplateRun).values(
                created_at=when, week=_week(when), template_id=run.template.id,
                template_name=run.template.name, version=run.template.version,
                use_case=run.template.use_case[:64], user_id=run.user_id,
                space_id=run.space_id, channel=run.channel, skill=run.skill,
                model_alias=run.model_alias, latency_ms=run.latency_ms,
                prompt_tokens=run.prompt_tokens, completion_tokens=run.completion_tokens,
                conversation_id=run.conversation_id, turn_id=run.turn_id))

    async def reconcile(self, since: datetime) -> int:
        """Link recent runs to their stored answer (for feedback) and copy its token counts.

        The skill cannot know the answer's turn id (the core stores the answer after the
        skill ends): the answer is the first assistant turn of the run's conversation
        from the templates skill at or after the run.
        """
        runs = TemplateRun.__table__
        turns = Turn.__table__
        usage = UsageEvent.__table__
        async with self._writer.begin() as connection:
            await self._copy_tokens(connection, since)
            pending = (await connection.execute(
                select(runs.c.id, runs.c.conversation_id, runs.c.created_at)
                .where(runs.c.turn_id.is_(None), runs.c.created_at >= since)
                .order_by(runs.c.created_at).limit(_RECONCILE_BATCH))).all()
            if not pending:
                return 0
            earliest = min(row.created_at for row in pending)
            answers = (await connection.execute(
                select(turns.c.id, turns.c.conversation_id, turns.c.created_at)
                .where(turns.c.conversation_id.in_({row.conversation_id for row in pending}),
                       turns.c.role == "assistant", turns.c.skill == DEFAULT_SKILL,
                       turns.c.created_at >= earliest)
                .order_by(turns.c.created_at))).all()
            taken: set[str] = set()
            matched: dict[int, str] = {}
            for run in pending:
                for answer in answers:
                    if (answer.conversation_id == run.conversation_id
                            and _aware(answer.created_at) >= _aware(run.created_at)
                            and answer.id not in taken):
                        taken.add(answer.id)
                        matched[run.id] = answer.id
                        break
            if not matched:
                return 0
            tokens = {row.turn_id: (int(row.prompt or 0), int(row.completion or 0))
                      for row in (await connection.execute(
                          select(usage.c.turn_id,
                                 func.sum(usage.c.prompt_tokens).label("prompt"),
                                 func.sum(usage.c.completion_tokens).label("completion"))
                          .where(usage.c.turn_id.in_(set(matched.values())),
                                 usage.c.created_at >= earliest)
                          .group_by(usage.c.turn_id))).all()}
            for run_id, turn_id in matched.items():
                prompt, completion = tokens.get(turn_id, (0, 0))
                await connection.execute(update(TemplateRun).where(TemplateRun.id == run_id).values(
                    turn_id=turn_id, prompt_tokens=prompt, completion_tokens=completion))
        return len(matched)

    @staticmethod
    async def _copy_tokens(connection: AsyncConnection, since: datetime) -> None:
        """Runs that know their answer's turn get its token counts once usage is stored."""
        runs, usage = TemplateRun.__table__, UsageEvent.__table__
        linked = (await connection.execute(
            select(runs.c.id, runs.c.turn_id)
            .where(runs.c.turn_id.is_not(None), runs.c.prompt_tokens == 0,
                   runs.c.completion_tokens == 0, runs.c.created_at >= since)
            .limit(_RECONCILE_BATCH))).all()
        if not linked:
            return
        tokens = {row.turn_id: (int(row.prompt or 0), int(row.completion or 0))
                  for row in (await connection.execute(
                      select(usage.c.turn_id,
                             func.sum(usage.c.prompt_tokens).label("prompt"),
                             func.sum(usage.c.completion_tokens).label("completion"))
                      .where(usage.c.turn_id.in_({row.turn_id for row in linked}))
                      .group_by(usage.c.turn_id))).all()}
        for row in linked:
            prompt, completion = tokens.get(row.turn_id, (0, 0))
            if prompt or completion:
                await connection.execute(update(TemplateRun).where(TemplateRun.id == row.id)
                                         .values(prompt_tokens=prompt,
                                                 completion_tokens=completion))

    async def stats(self, since: timedelta, *, now: datetime | None = None,
                    limit: int = 20) -> TemplateStats:
        """Most-used templates, use cases per space, weekly trend and 👍 ratio since ``since``."""
        start = (now or datetime.now(UTC)) - since
        await self.reconcile(start)
        runs = TemplateRun.__table__
        feedback = Feedback.__table__
        joined = runs.outerjoin(feedback, and_(feedback.c.turn_id == runs.c.turn_id,
                                               feedback.c.user_id == runs.c.user_id))
        window = runs.c.created_at >= start
        positive = func.sum(case((feedback.c.value == 1, 1), else_=0))
        negative = func.sum(case((feedback.c.value == -1, 1), else_=0))
        async with self._engine.connect() as connection:
            per_template = (await connection.execute(
                select(runs.c.template_id, runs.c.template_name, func.count().label("runs"),
                       func.count(runs.c.user_id.distinct()).label("users"),
                       positive.label("positive"), negative.label("negative"),
                       func.avg(runs.c.latency_ms).label("latency"),
                       func.sum(runs.c.prompt_tokens + runs.c.completion_tokens).label("tokens"))
                .select_from(joined).where(window)
                .group_by(runs.c.template_id, runs.c.template_name))).all()
            records = _records()
            scopes = {row.id: row.scope for row in (await connection.execute(
                select(records.c.id, records.c.scope).where(
                    records.c.id.in_({row.template_id for row in per_template})))).all()}
            use_cases = (await connection.execute(
                select(runs.c.space_id, runs.c.use_case, func.count().label("runs"))
                .where(window).group_by(runs.c.space_id, runs.c.use_case)
                .order_by(func.count().desc(), runs.c.space_id).limit(limit * 5))).all()
            weekly = (await connection.execute(
                select(runs.c.week, func.count().label("runs")).where(window)
                .group_by(runs.c.week).order_by(runs.c.week))).all()
        usages = sorted(
            (TemplateUsage(row.template_name, int(row.runs), int(row.users),
                           int(row.positive or 0), int(row.negative or 0),
                           float(row.latency or 0.0), int(row.tokens or 0),
                           scopes.get(row.template_id, ""))
             for row in per_template), key=lambda u: (-u.runs, u.name, u.scope))
        return TemplateStats(
            since=start, runs=sum(u.runs for u in usages), templates=usages[:limit],
            use_cases=[(row.space_id, row.use_case, int(row.runs)) for row in use_cases],
            weekly=[(_as_date(row.week), int(row.runs)) for row in weekly],
            positive=sum(u.positive for u in usages), negative=sum(u.negative for u in usages),
        )


def _week(when: datetime) -> date:
    day = when.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes (stored in UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def name_key(scope: str, owner_id: str, space_id: str | None, name: str) -> str:
    """What makes a name unique: its scope and who holds it there (the owner of a personal
    template, the space of a team one), hashed to fit the column."""
    holder = owner_id if scope == "personal" else (space_id or "") if scope == "team" else ""
    return hashlib.sha256(f"{scope}\0{holder}\0{name}".encode()).hexdigest()


def _closeness(record: TemplateRecord | Template, actor: Actor) -> int:
    """Which of the templates ``actor`` sees under one name is theirs first: their own, their
    space's, the company's, then a team template they own in another space."""
    if record.scope == "personal":
        return 0
    if record.scope == "team" and record.space_id == actor.space_id:
        return 1
    return 2 if record.scope == "company" else 3


async def _record(connection: AsyncConnection, name: str, actor: Actor,
                  template_id: str | None = None) -> TemplateRecord | None:
    """The template ``name`` as ``actor`` means it: the closest one not archived, else the
    closest (None: they see none of that name); or the one ``template_id`` says."""
    rows = (await connection.execute(select(TemplateRecord.__table__).where(
        TemplateRecord.__table__.c.label == name))).all()
    seen = [record for record in map(_from_row, rows) if TemplateStore.can_see(record, actor)
            and template_id in (None, record.id)]
    return min(seen, key=lambda record: (record.archived, _closeness(record, actor)),
               default=None)


def _from_row(row: Any) -> TemplateRecord:
    table = TemplateRecord.__table__
    return TemplateRecord(**{attribute: row._mapping[column]
                             for attribute, column in _attributes(table)})


async def _version(connection: AsyncConnection, template_id: str, version: int) -> Any:
    versions = TemplateVersion.__table__
    return (await connection.execute(select(versions).where(
        versions.c.template_id == template_id, versions.c.version == version))).first()


def _records() -> Table:
    return cast(Table, TemplateRecord.__table__)


def _attributes(table: Any) -> list[tuple[str, Any]]:
    """(attribute, column) of the templates table: ``key`` is the column "name", ``name`` the
    column "label" (see ``TemplateRecord``)."""
    return [(attribute.key, table.c[attribute.columns[0].name])
            for attribute in inspect(TemplateRecord).column_attrs]


def _columns(record: TemplateRecord) -> dict[str, Any]:
    return {column.name: getattr(record, attribute)
            for attribute, column in _attributes(TemplateRecord.__table__)}


def _body_context(template_id: str, version: int) -> str:
    return f"template:{template_id}:{version}"


def _version_values(record: TemplateRecord, content: TemplateContent, author: str, change: str,
                    now: datetime, sealer: Sealer) -> dict[str, Any]:
    body = sealer.seal(content.body, _body_context(record.id, record.version))
    return {"template_id": record.id, "version": record.version, "title": content.title[:200],
            "description": content.description, "body": body, "skill": content.skill,
            "role": content.role, "tags": json.dumps(list(content.tags), ensure_ascii=False),
            "scope": record.scope, "space_id": record.space_id, "archived": record.archived,
            "author_id": author, "change": change, "created_at": now}


def _content(row: Any, sealer: Sealer) -> TemplateContent:
    body = sealer.unseal(row.body, _body_context(row.template_id, row.version))
    return TemplateContent(title=row.title, description=row.description,
                           body=body if body is not None else _UNREADABLE,
                           skill=row.skill, role=row.role, tags=tuple(json.loads(row.tags)))


def _template(record: TemplateRecord, row: Any, sealer: Sealer) -> Template:
    return Template(id=record.id, name=record.name, scope=record.scope,  # type: ignore[arg-type]
                    space_id=record.space_id, owner_id=record.owner_id, version=row.version,
                    latest=record.version, archived=record.archived, content=_content(row, sealer),
                    updated_at=_aware(record.updated_at))


def _template_from_row(row: Any, sealer: Sealer) -> Template:
    mapping = row._mapping
    record = TemplateRecord(**{attribute: mapping[column]
                               for attribute, column in _attributes(TemplateRecord.__table__)})
    version = SimpleNamespace(**{column.name: mapping[column]
                                 for column in TemplateVersion.__table__.columns})
    return _template(record, version, sealer)


def names(templates: Sequence[Template]) -> list[str]:
    """The names of ``templates`` (for messages)."""
    return [template.name for template in templates]


_PERIOD = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_period(text: str) -> timedelta:
    """``30d``, ``12w`` or ``48h`` as a duration; raises ValueError otherwise."""
    match = _PERIOD.match(text.lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"invalid period {text!r} (expected e.g. 30d, 12w, 48h)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})

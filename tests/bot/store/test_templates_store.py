"""Templates in the store on SQLite and PostgreSQL: versions, conflicts, permissions, analytics."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.gateway.llm import UsageRecord
from bot.governance.policy import DataClass
from bot.governance.roles import Role
from bot.messages import Channel, Message, Reply, Space, User
from bot.store import AuditEntry, Store, conversation_key
from bot.store.templates import (
    Actor,
    NameTaken,
    NotAllowed,
    NotInSpace,
    RunRecord,
    TemplateContent,
    TemplateNotFound,
    TemplateStore,
    VersionConflict,
)


@pytest.fixture
def templates(store: Store) -> TemplateStore:
    return TemplateStore(store.engine)


TEAM = "teams:team-sinistres"
OTHER = "teams:team-vie"
ALICE = Actor("alice", TEAM)
BOB = Actor("bob", TEAM)
CHAMPION = Actor("chloe", TEAM, frozenset({Role.EMPLOYEE, Role.CHAMPION}))
MANAGER_ELSEWHERE = Actor("marc", OTHER, frozenset({Role.EMPLOYEE, Role.MANAGER}))
ADMIN = Actor("ada", OTHER, frozenset({Role.EMPLOYEE, Role.ADMIN}))
CONTENT = TemplateContent(title="Relance", body="Relance {{client}} sous {{delai=8 jours}}.",
                          tags=("recouvrement",))


def _edited(body: str) -> TemplateContent:
    return TemplateContent(title="Relance", body=body, tags=("recouvrement",))


async def test_every_edit_is_a_version_and_runs_can_pin_one(templates: TemplateStore) -> None:
    created = await templates.create("relance", CONTENT, ALICE)
    assert (created.version, created.scope, created.owner_id) == (1, "personal", "alice")
    edited = await templates.edit("relance", _edited("Relance {{client}}."), ALICE, 1)
    assert (edited.version, edited.latest) == (2, 2)
    pinned = await templates.find("relance", ALICE, version=1)
    assert pinned.content.body == CONTENT.body and pinned.latest == 2
    assert [v.version for v in await templates.history("relance", ALICE)] == [2, 1]
    with pytest.raises(TemplateNotFound):
        await templates.find("relance", ALICE, version=9)


async def test_second_editor_of_the_same_version_gets_a_conflict(templates: TemplateStore) -> None:
    await templates.create("relance", CONTENT, ALICE)
    await templates.edit("relance", _edited("Première {{client}}"), ALICE, 1)
    with pytest.raises(VersionConflict) as conflict:
        await templates.edit("relance", _edited("Seconde {{client}}"), ALICE, 1)
    assert (conflict.value.expected, conflict.value.current) == (1, 2)
    assert (await templates.find("relance", ALICE)).content.body == "Première {{client}}"


async def test_concurrent_edits_lose_no_update(templates: TemplateStore) -> None:
    await templates.create("relance", CONTENT, ALICE)
    results = await asyncio.gather(
        *(templates.edit("relance", _edited(f"Version {n} {{{{client}}}}"), ALICE, 1)
          for n in range(4)),
        return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, VersionConflict) for r in results if r not in winners)
    latest = await templates.find("relance", ALICE)
    assert latest.version == 2 and latest.content.body == winners[0].content.body
    assert len(await templates.history("relance", ALICE)) == 2


async def test_a_name_is_used_once_in_its_scope(templates: TemplateStore) -> None:
    await templates.create("relance", CONTENT, ALICE)
    with pytest.raises(NameTaken):
        await templates.create("relance", CONTENT, ALICE)
    bobs = await templates.create("relance", _edited("Bob {{x}}"), BOB)  # his own, apart
    assert (await templates.find("relance", BOB)).id == bobs.id
    assert (await templates.find("relance", ALICE)).content.body == CONTENT.body
    await templates.create("relance", CONTENT, CHAMPION, scope="team", space_id=TEAM)
    with pytest.raises(NameTaken):
        await templates.create("relance", CONTENT, CHAMPION, scope="team", space_id=TEAM)
    await templates.create("relance", CONTENT, MANAGER_ELSEWHERE, scope="team", space_id=OTHER)


async def test_the_closest_template_of_a_name_is_the_person_s(templates: TemplateStore) -> None:
    await templates.create("relance", _edited("Groupe {{x}}"), ADMIN, scope="company")
    await templates.create("relance", _edited("Équipe {{x}}"), CHAMPION, scope="team",
                           space_id=TEAM)
    await templates.create("relance", _edited("Alice {{x}}"), ALICE)
    bodies = {actor.user_id: (await templates.find("relance", actor)).content.body
              for actor in (ALICE, BOB, MANAGER_ELSEWHERE)}
    assert bodies == {"alice": "Alice {{x}}", "bob": "Équipe {{x}}", "marc": "Groupe {{x}}"}
    listed = [(t.name, t.scope) for t in await templates.visible(ALICE)]
    assert sorted(listed) == [("relance", "company"), ("relance", "personal"),
                              ("relance", "team")]
    # an edit goes to the one the person means: Alice's own
    assert (await templates.edit("relance", _edited("Alice 2 {{x}}"), ALICE, 1)).scope == \
        "personal"
    assert (await templates.find("relance", BOB)).content.body == "Équipe {{x}}"


async def test_sharing_where_the_name_is_taken_changes_nothing(templates: TemplateStore) -> None:
    await templates.create("relance", CONTENT, CHAMPION, scope="team", space_id=TEAM)
    await templates.create("relance", _edited("Perso {{x}}"), CHAMPION)
    with pytest.raises(NameTaken):
        await templates.share("relance", "team", CHAMPION, 1)
    mine = await templates.find("relance", CHAMPION)
    assert (mine.scope, mine.latest) == ("personal", 1)
    assert len(await templates.history("relance", CHAMPION)) == 1


async def test_visibility_personal_team_company(templates: TemplateStore) -> None:
    await templates.create("perso", CONTENT, ALICE)
    await templates.create("equipe", CONTENT, CHAMPION, scope="team", space_id=TEAM)
    await templates.create("groupe", CONTENT, ADMIN, scope="company")
    seen = {actor.user_id: [t.name for t in await templates.visible(actor)]
            for actor in (ALICE, BOB, MANAGER_ELSEWHERE)}
    assert seen == {"alice": ["equipe", "groupe", "perso"], "bob": ["equipe", "groupe"],
                    "marc": ["groupe"]}
    with pytest.raises(TemplateNotFound):
        await templates.find("perso", BOB)
    assert [t.name for t in await templates.visible(BOB, "RECOUVR")] == ["equipe", "groupe"]


@pytest.mark.parametrize(("scope", "actor", "allowed"), [
    ("personal", ALICE, True),
    ("personal", BOB, False),
    ("personal", ADMIN, False),  # only the owner edits a personal template
    ("team", ALICE, False),  # an employee of the team
    ("team", CHAMPION, True),
    ("team", Actor("mia", TEAM, frozenset({Role.MANAGER})), True),
    ("team", MANAGER_ELSEWHERE, False),  # a manager of another space
    ("company", CHAMPION, False),
    ("company", ADMIN, True),
])
async def test_permission_matrix(templates: TemplateStore, scope: str, actor: Actor,
                                 allowed: bool) -> None:
    await templates.create("modele", CONTENT, ALICE, scope=scope,  # type: ignore[arg-type]
                           space_id=TEAM)
    visible = (scope == "company" or (scope == "team" and actor.space_id == TEAM)
               or actor.user_id == "alice")
    attempt = templates.edit("modele", _edited("Nouveau {{x}}"), actor, 1)
    if allowed:
        assert (await attempt).version == 2
        return
    with pytest.raises(NotAllowed if visible else TemplateNotFound):
        await attempt
    assert (await templates.find("modele", Actor("alice", TEAM))).version == 1


async def test_champions_may_edit_company_templates_when_the_policy_allows(
        store: Store) -> None:
    allowing = TemplateStore(store.engine, champions_edit_company=True)
    await allowing.create("groupe", CONTENT, ADMIN, scope="company")
    assert (await allowing.edit("groupe", _edited("{{a}}"), CHAMPION, 1)).version == 2


async def test_sharing_rules(templates: TemplateStore) -> None:
    await templates.create("perso", CONTENT, ALICE)
    with pytest.raises(NotAllowed):  # an employee cannot publish to the team
        await templates.share("perso", "team", ALICE, 1)
    await templates.create("du-champion", CONTENT, CHAMPION)
    with pytest.raises(NotInSpace):
        await templates.share("du-champion", "team", CHAMPION, 1, space_id=OTHER)
    with pytest.raises(NotAllowed):
        await templates.share("du-champion", "company", CHAMPION, 1)
    shared = await templates.share("du-champion", "team", CHAMPION, 1)
    assert (shared.scope, shared.space_id, shared.version) == ("team", TEAM, 2)
    assert "du-champion" in [t.name for t in await templates.visible(BOB)]
    history = await templates.history("du-champion", CHAMPION)
    assert [(v.change, v.scope) for v in history] == [("share", "team"), ("create", "personal")]


async def test_archived_templates_leave_the_list(templates: TemplateStore) -> None:
    await templates.create("ancien", CONTENT, ALICE)
    await templates.archive("ancien", ALICE, 1)
    assert await templates.visible(ALICE) == []
    assert (await templates.find("ancien", ALICE)).archived


async def test_starter_library_is_loaded_once(templates: TemplateStore, store: Store) -> None:
    entries = [("resume-appel", CONTENT), ("courrier-relance", CONTENT)]
    assert await templates.ensure(entries) == 2
    assert await TemplateStore(store.engine).ensure(entries) == 0
    loaded = await templates.find("resume-appel", BOB)
    assert (loaded.scope, loaded.owner_id) == ("company", "system")


async def test_runs_feed_the_analytics_with_feedback(templates: TemplateStore,
                                                     store: Store) -> None:
    template = await templates.create("relance", CONTENT, ALICE, scope="company")
    now = datetime.now(UTC)
    message = Message(text="/template use relance client=X", user=User("alice"),
                      space=Space(TEAM), channel=Channel.TEAMS, thread_id="th")
    await templates.record_run(RunRecord(
        template=template, user_id="alice", space_id=TEAM, channel="teams",
        conversation_id=conversation_key(message), skill="templates", model_alias="fake",
        latency_ms=12.0, created_at=now - timedelta(seconds=1)))
    usage = UsageRecord(skill="templates", role="generate", alias="fake", hosting="internal",
                        data_class=DataClass.INTERNAL, outcome="ok", latency_ms=10.0,
                        prompt_tokens=30, completion_tokens=12)
    turn = await store.record_exchange(message, Reply("Brouillon", skill="templates"), [usage],
                                       AuditEntry(action="message", outcome="ok"))
    assert await store.record_feedback(turn, "alice", 1)
    old = RunRecord(template=template, user_id="bob", space_id=OTHER, channel="web",
                    conversation_id="c2", skill="templates", model_alias=None, latency_ms=5.0,
                    created_at=now - timedelta(days=40))
    await templates.record_run(old)
    stats = await templates.stats(timedelta(days=30), now=now + timedelta(seconds=1))
    assert stats.runs == 1 and stats.feedback_ratio == 1.0
    [usage_of] = stats.templates
    assert (usage_of.name, usage_of.scope, usage_of.runs, usage_of.users, usage_of.tokens) == (
        "relance", "company", 1, 1, 42)  # its scope told: names repeat across scopes
    assert stats.use_cases == [(TEAM, "recouvrement", 1)]
    monday = (now - timedelta(seconds=1)).date()
    assert stats.weekly == [(monday - timedelta(days=monday.weekday()), 1)]
    assert isinstance(stats.weekly[0][0], date)
    assert stats.as_json()["templates"][0]["feedback_ratio"] == 1.0
    everything = await templates.stats(timedelta(days=60), now=now + timedelta(seconds=1))
    assert everything.runs == 2 and everything.templates[0].users == 2

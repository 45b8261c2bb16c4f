"""Campaigns in the store on SQLite and PostgreSQL: versions, decisions, conflicts, notices."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from bot.store import Store
from bot.store.campaigns import (
    AlreadyDecided,
    CampaignNotFound,
    CampaignStore,
    DecisionConflict,
    NewCampaign,
    SelfReview,
    WrongState,
)

AUTHOR = "web:aline"


@pytest.fixture
def campaigns(store: Store) -> CampaignStore:
    return CampaignStore(store.engine)


def _new(approval: str = "all", reviewers: tuple[str, ...] = ("web:claire", "conformite"),
         deadline: date | None = None) -> NewCampaign:
    return NewCampaign(title="Printemps", author_id=AUTHOR, space_id="web:default",
                       channel="web", thread_id="t1", locale="fr", brief={"title": "Printemps"},
                       approval=approval, reviewers=reviewers,  # type: ignore[arg-type]
                       deadline=deadline, reference={"channel": "C1"})


async def _in_review(campaigns: CampaignStore, **kwargs: object) -> str:
    created = await campaigns.create(_new(**kwargs), "### sms 1\nBonjour", [], "library")  # type: ignore[arg-type]
    await campaigns.submit(created.id, 1, AUTHOR, created.reviewers)
    return created.id


async def test_all_reviewers_must_approve(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns)
    first = await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "approve")
    assert first.status == "in_review"
    second = await campaigns.decide(campaign_id, 1, "conformite", "web:cora", "approve", "ok")
    assert second.status == "approved"
    assert [(d.slot, d.user_id) for d in second.decisions] == [
        ("web:claire", "web:claire"), ("conformite", "web:cora")]
    notices = await campaigns.notices([AUTHOR])
    assert [(n.kind, n.actor_id) for n in notices] == [("approve", "web:claire"),
                                                       ("approve", "web:cora")]
    assert await campaigns.notices([AUTHOR]) == []  # seen


async def test_any_one_reviewer_settles(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns, approval="any")
    settled = await campaigns.decide(campaign_id, 1, "conformite", "web:cora", "approve")
    assert settled.status == "approved"
    with pytest.raises(DecisionConflict) as conflict:
        await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "reject")
    assert conflict.value.status == "approved"
    assert conflict.value.decided_by == "web:cora"


async def test_concurrent_decisions_one_wins(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns, approval="any")
    outcomes = await asyncio.gather(
        campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "approve"),
        campaigns.decide(campaign_id, 1, "conformite", "web:cora", "reject", "non"),
        return_exceptions=True)
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], DecisionConflict)
    final = await campaigns.get(campaign_id)
    assert final.status == won[0].status
    assert len(await campaigns.decisions(campaign_id)) == 1


async def test_same_slot_cannot_decide_twice(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns)
    await campaigns.decide(campaign_id, 1, "conformite", "web:cora", "approve")
    with pytest.raises(AlreadyDecided) as already:
        await campaigns.decide(campaign_id, 1, "conformite", "web:carl", "approve")
    assert already.value.user_id == "web:cora"


async def test_four_eyes(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns, reviewers=(AUTHOR, "web:claire"))
    with pytest.raises(SelfReview):
        await campaigns.decide(campaign_id, 1, AUTHOR, AUTHOR, "approve")


async def test_edit_resets_approvals_and_stale_decisions_are_refused(
        campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns)
    await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "approve")
    edited = await campaigns.add_version(campaign_id, 1, "web:claire", "### sms 1\nSalut", [])
    assert (edited.status, edited.current.number, edited.decisions) == ("draft", 2, ())
    with pytest.raises(DecisionConflict) as conflict:
        await campaigns.decide(campaign_id, 1, "conformite", "web:cora", "approve")
    assert conflict.value.version == 2
    with pytest.raises(DecisionConflict):
        await campaigns.add_version(campaign_id, 1, AUTHOR, "### sms 1\nAutre", [])
    await campaigns.submit(campaign_id, 2, "web:claire", edited.reviewers)
    with pytest.raises(SelfReview):  # the editor wrote version 2
        await campaigns.decide(campaign_id, 2, "web:claire", "web:claire", "approve")
    history = await campaigns.history(campaign_id)
    assert [(v.number, v.author_id) for v in history] == [(1, AUTHOR), (2, "web:claire")]


async def test_changes_requested_then_resubmitted(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns)
    changed = await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "changes",
                                     "Raccourcir le SMS")
    assert changed.status == "changes_requested"
    notice = (await campaigns.notices([AUTHOR]))[0]
    assert (notice.kind, notice.comment, notice.title) == ("changes", "Raccourcir le SMS",
                                                          "Printemps")
    with pytest.raises(DecisionConflict):
        await campaigns.decide(campaign_id, 1, "conformite", "web:cora", "approve")
    await campaigns.add_version(campaign_id, 1, AUTHOR, "### sms 1\nCourt", [])
    again = await campaigns.submit(campaign_id, 2, AUTHOR, ("web:claire", "conformite"))
    assert again.status == "in_review"
    assert [n.kind for n in await campaigns.notices(["web:claire"])] == ["submitted",
                                                                        "submitted"]


async def test_an_edit_after_approval_is_a_new_unapproved_version(
        campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns, approval="any")
    await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "approve")
    with pytest.raises(WrongState):
        await campaigns.submit(campaign_id, 1, AUTHOR, ())
    edited = await campaigns.add_version(campaign_id, 1, AUTHOR, "### sms 1\nx", [])
    assert (edited.status, edited.current.number, edited.decisions) == ("draft", 2, ())
    assert [d.version for d in await campaigns.decisions(campaign_id)] == [1]


async def test_rejected_is_final(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns, approval="any")
    await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "reject", "Non")
    with pytest.raises(WrongState):
        await campaigns.add_version(campaign_id, 1, AUTHOR, "### sms 1\nx", [])


async def test_find_by_prefix_and_reminders(campaigns: CampaignStore) -> None:
    campaign_id = await _in_review(campaigns, deadline=date(2027, 2, 15))
    await campaigns.decide(campaign_id, 1, "web:claire", "web:claire", "approve")
    assert (await campaigns.find(campaign_id[:8])).id == campaign_id
    with pytest.raises(CampaignNotFound):
        await campaigns.find("zz")
    assert await campaigns.due_reminders(date(2027, 2, 1), 2) == []
    due = await campaigns.due_reminders(date(2027, 2, 14), 2)
    assert [view.id for view in due] == [campaign_id]
    assert await campaigns.due_reminders(date(2027, 2, 14), 2) == []  # once
    assert [n.kind for n in await campaigns.notices(["conformite"])] == ["submitted",
                                                                        "reminder"]
    assert [n.kind for n in await campaigns.notices(["web:claire"])] == ["submitted"]


async def test_texts_briefs_and_comments_are_sealed_at_rest(encrypted_store: Store) -> None:
    sealed = CampaignStore(encrypted_store.engine, sealer=encrypted_store)
    created = await sealed.create(_new(), "### sms 1\nTexte secret", [], "library")
    await sealed.submit(created.id, 1, AUTHOR, created.reviewers)
    await sealed.decide(created.id, 1, "web:claire", "web:claire", "changes", "Commentaire privé")
    rows: list[str] = []
    async with encrypted_store.engine.connect() as connection:
        for table in ("campaigns", "campaign_versions", "campaign_decisions",
                      "campaign_notices"):
            rows += [str(row) for row in
                     (await connection.exec_driver_sql(f"SELECT * FROM {table}")).all()]  # noqa: S608
    raw = " ".join(rows)
    assert "Texte secret" not in raw and "Commentaire privé" not in raw
    assert "Printemps" in raw  # the title stays readable for lists
    shown = await sealed.get(created.id)
    assert shown.current.text == "### sms 1\nTexte secret" and shown.brief == {"title": "Printemps"}
    assert shown.decisions[0].comment == "Commentaire privé"
    assert (await sealed.notices([AUTHOR]))[0].comment == "Commentaire privé"

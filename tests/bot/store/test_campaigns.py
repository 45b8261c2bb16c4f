"""Campaigns in the store on SQLite and PostgreSQL: versions, decisions, conflicts, notices."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from bot.governance.audit import verify_chain
from bot.store import Store
from bot.store.campaigns import (
    AlreadyDecided,
    CampaignNotFound,
    CampaignStore,
    DecisionConflict,
    ErasedReviewer,
    NewCampaign,
    Route,
    SelfReview,
    WrongState,
)
from bot.store.store import ERASED_PERSON
from skills.campaigns.export import approved_version
from skills.campaigns.present import campaign_card, notice_line, reviewers_line, trail_lines

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


# -- erasure of a person (Store.purge) ------------------------------------------------------

_CAMPAIGN_TABLES = ("campaigns", "campaign_versions", "campaign_decisions", "campaign_notices",
                    "campaign_routes")


async def _raw(store: Store) -> str:
    """Every stored campaign row, as text."""
    rows: list[str] = []
    async with store.engine.connect() as connection:
        for table in _CAMPAIGN_TABLES:
            rows += [str(row) for row in
                     (await connection.exec_driver_sql(f"SELECT * FROM {table}")).all()]  # noqa: S608
    return " ".join(rows)


def _with_brief(reviewers: tuple[str, ...], approval: str = "all") -> NewCampaign:
    return NewCampaign(title="Printemps", author_id=AUTHOR, space_id="slack:T1",
                       channel="slack", thread_id="1700000000.1", locale="fr",
                       brief={"title": "Printemps", "reviewers": list(reviewers)},
                       approval=approval, reviewers=reviewers,  # type: ignore[arg-type]
                       deadline=None, reference={"channel": "C1", "thread_ts": "1700000000.1"})


async def test_erasing_a_reviewer_keeps_the_approval_record(encrypted_store: Store) -> None:
    store = encrypted_store
    sealed = CampaignStore(store.engine, sealer=store)
    created = await sealed.create(_with_brief(("web:claire", "conformite")),
                                  "### sms 1\nBonjour {{prenom}}", [], "library")
    await sealed.submit(created.id, 1, AUTHOR, created.reviewers)
    await sealed.decide(created.id, 1, "web:claire", "web:claire", "approve",
                        "Avis ZX-CLAIRE-7731")
    approved = await sealed.decide(created.id, 1, "conformite", "web:cora", "approve", "ok")
    _version, stamp_before = approved_version(approved)

    removed = await store.purge(user_id="web:claire")

    assert {key: value for key, value in removed.items() if "campaign" in key} == {
        "campaigns_anonymised": 0, "campaign_versions_anonymised": 0,
        "campaign_slots_anonymised": 1, "campaign_decisions_anonymised": 1,
        "campaign_notices": 1,  # « submitted », addressed to her slot
        "campaign_notices_anonymised": 1}  # her « approve », told to the author
    raw = await _raw(store)
    assert "web:claire" not in raw and "ZX-CLAIRE-7731" not in raw
    shown = await sealed.get(created.id)
    assert (shown.status, shown.reviewers) == ("approved", (ERASED_PERSON, "conformite"))
    assert shown.brief["reviewers"] == [ERASED_PERSON, "conformite"]
    assert [(d.slot, d.user_id, d.decision, d.comment) for d in shown.decisions] == [
        (ERASED_PERSON, ERASED_PERSON, "approve", ""), ("conformite", "web:cora", "approve", "ok")]
    assert shown.current.text == "### sms 1\nBonjour {{prenom}}"  # company content stays
    _version, stamp = approved_version(shown)
    assert stamp.fingerprint == stamp_before.fingerprint
    assert [d.created_at for d in stamp.approvals] == [d.created_at
                                                       for d in stamp_before.approvals]
    # people read « personne effacée » / "erased person", never the stored id
    assert stamp.lines()[2].startswith("Approuvé par personne effacée (relecteur personne "
                                       "effacée) le ")
    assert reviewers_line(shown, "fr").startswith("personne effacée : a approuvé (personne "
                                                  "effacée)")
    assert reviewers_line(shown, "en").startswith("erased person: approved (erased person)")
    assert trail_lines(await sealed.decisions(created.id), "fr")[0].endswith(
        "personne effacée (personne effacée) a approuvé")
    card = campaign_card(shown, "fr", review=False, author=True)
    assert "personne effacée" in str(card.facts) and ERASED_PERSON not in str(card.facts)
    assert notice_line("approve", shown.title, shown.id, 1, ERASED_PERSON, "", "fr").endswith(
        ": personne effacée a approuvé")
    told = await sealed.notices([AUTHOR])
    assert [(n.kind, n.actor_id, n.comment) for n in told] == [
        ("approve", ERASED_PERSON, ""), ("approve", "web:cora", "ok")]
    records = await store.audit_records()
    assert records[-1]["action"] == "purge" and '"campaign_slots_anonymised": 1' in \
        records[-1]["details"]
    assert verify_chain(records).intact


async def test_erasing_the_author_clears_the_routing_and_review_goes_on(store: Store) -> None:
    campaigns = CampaignStore(store.engine, sealer=store)
    created = await campaigns.create(_with_brief(("web:claire", "conformite"), "any"),
                                     "### sms 1\nBonjour", [], "library")
    await campaigns.add_version(created.id, 1, AUTHOR, "### sms 1\nSalut", [])
    await campaigns.submit(created.id, 2, AUTHOR, created.reviewers)
    await campaigns.decide(created.id, 2, "web:claire", "web:claire", "changes", "Plus court")

    removed = await store.purge(user_id=AUTHOR)

    assert (removed["campaigns_anonymised"], removed["campaign_versions_anonymised"],
            removed["campaign_notices"], removed["campaign_notices_anonymised"]) == (1, 2, 1, 2)
    # her « submitted » to both slots stay (actor erased); Claire's « changes » to her goes
    assert AUTHOR not in await _raw(store)
    shown = await campaigns.get(created.id)
    assert (shown.author_id, shown.reference, shown.thread_id) == (ERASED_PERSON, {},
                                                                   "1700000000.1")
    assert [v.author_id for v in await campaigns.history(created.id)] == [ERASED_PERSON] * 2
    assert [d.comment for d in shown.decisions] == ["Plus court"]  # the reviewer's stays
    edited = await campaigns.add_version(created.id, 2, "web:claire", "### sms 1\nCourt", [])
    await campaigns.submit(created.id, edited.current.number, "web:claire", edited.reviewers)
    settled = await campaigns.decide(created.id, 3, "conformite", "web:cora", "approve")
    assert settled.status == "approved"
    assert await campaigns.notices([ERASED_PERSON]) == []  # no one reads an erased inbox


async def test_no_one_decides_for_an_erased_reviewer(store: Store) -> None:
    campaigns = CampaignStore(store.engine, sealer=store)
    campaign_id = await _in_review(campaigns)
    await store.purge(user_id="web:claire")
    for user_id in (ERASED_PERSON, "web:mallory"):
        with pytest.raises(ErasedReviewer):
            await campaigns.decide(campaign_id, 1, ERASED_PERSON, user_id, "approve")
    with pytest.raises(ErasedReviewer):
        await campaigns.decide(campaign_id, 1, "conformite", ERASED_PERSON, "approve")
    still = await campaigns.decide(campaign_id, 1, "conformite", "web:cora", "approve")
    assert still.status == "in_review"  # « all »: the erased slot never approves
    assert still.decision_of(ERASED_PERSON) is None


async def test_two_erased_reviewers_of_one_campaign_keep_distinct_slots(
        encrypted_store: Store) -> None:
    store = encrypted_store
    campaigns = CampaignStore(store.engine, sealer=store)
    created = await campaigns.create(_with_brief(("web:claire", "web:carl", "web:dora")),
                                     "### sms 1\nBonjour", [], "library")
    await campaigns.submit(created.id, 1, AUTHOR, created.reviewers)
    await campaigns.decide(created.id, 1, "web:claire", "web:claire", "approve", "oui")
    await campaigns.decide(created.id, 1, "web:carl", "web:carl", "approve", "oui")
    # a deputy decided for Dora's slot: her slot is renamed, the deputy's comment stays
    await campaigns.decide(created.id, 1, "web:dora", "web:deputy", "approve", "pour Dora")
    for person in ("web:claire", "web:carl", "web:dora"):
        await store.purge(user_id=person)
    shown = await campaigns.get(created.id)
    labels = (ERASED_PERSON, f"{ERASED_PERSON}#2", f"{ERASED_PERSON}#3")
    assert (shown.status, shown.reviewers) == ("approved", labels)
    assert shown.brief["reviewers"] == list(labels)
    assert [(d.slot, d.user_id, d.comment) for d in shown.decisions] == [
        (labels[0], ERASED_PERSON, ""), (labels[1], ERASED_PERSON, ""),
        (labels[2], "web:deputy", "pour Dora")]
    with pytest.raises(ErasedReviewer):
        await campaigns.decide(created.id, 1, labels[1], "web:mallory", "approve")


async def test_a_personal_route_is_sealed_replaced_and_erased(encrypted_store: Store) -> None:
    campaigns = CampaignStore(encrypted_store.engine, sealer=encrypted_store)
    person = "teams:0f0e0d0c-2222"
    assert await campaigns.route(person) is None
    first = {"conversation": {"id": "a:old"}, "serviceUrl": "https://smba.example/"}
    await campaigns.remember_route(Route(person, "teams", "teams:personal:x", first))
    latest = {"conversation": {"id": "a:new"}, "serviceUrl": "https://smba.example/"}
    await campaigns.remember_route(Route(person, "teams", "teams:personal:x", latest))
    assert await campaigns.route(person) == Route(person, "teams", "teams:personal:x", latest)
    async with encrypted_store.engine.connect() as connection:
        raw = str((await connection.exec_driver_sql("SELECT * FROM campaign_routes")).all())
    assert "a:new" not in raw and "a:old" not in raw  # routing data sealed at rest
    await encrypted_store.purge(user_id=person)
    assert await campaigns.route(person) is None

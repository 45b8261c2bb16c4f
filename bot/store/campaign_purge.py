"""Erasing a person from marketing campaigns (called inside ``Store.purge``).

The approval evidence stays usable: a compliance record still shows that version N was
approved by « a reviewer » at time T, with the approved text (company content, kept) and
so its fingerprint. What goes is the person: their id as author, editor, reviewer or actor
becomes ``erased``; their review comments and the comments of notices they caused are
emptied; notices addressed to them are deleted; the conversation routing of the campaigns
they created is cleared, and so is their own personal-chat route. A reviewer slot that was
their id becomes ``erased`` in the slot list, the sealed brief and the decisions
(``erased#2``… when the campaign already has an erased slot: one decision per slot and
version); no one decides for such a slot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.campaign_sealing import (
    ERASED_SLOT_SEPARATOR,
    brief_context,
    comment_context,
)
from bot.store.campaign_tables import (
    CampaignDecision,
    CampaignNotice,
    CampaignRecord,
    CampaignRoute,
    CampaignVersion,
)

if TYPE_CHECKING:
    from bot.store.templates import Sealer


async def purge_campaigns(connection: AsyncConnection, user_id: str, sealer: Sealer,
                          erased: str) -> dict[str, int]:
    """Inside a purge transaction: ``user_id`` replaced by ``erased`` in every campaign.

    Returns counts per kind (rows anonymised, notices deleted). Emptied comments are stored
    as ``""``, which reads back as ``""`` sealed or not."""
    campaigns = (await connection.execute(
        update(CampaignRecord).where(CampaignRecord.author_id == user_id)
        .values(author_id=erased, reference="{}"))).rowcount
    versions = (await connection.execute(
        update(CampaignVersion).where(CampaignVersion.author_id == user_id)
        .values(author_id=erased))).rowcount
    labels = await _erase_slots(connection, user_id, sealer, erased)
    decisions = await _erase_decisions(connection, user_id, sealer, erased, labels)
    addressed = (await connection.execute(
        delete(CampaignNotice).where(CampaignNotice.user_id == user_id))).rowcount
    caused = (await connection.execute(
        update(CampaignNotice).where(CampaignNotice.actor_id == user_id)
        .values(actor_id=erased, comment=""))).rowcount
    await connection.execute(delete(CampaignRoute).where(CampaignRoute.user_id == user_id))
    return {"campaigns_anonymised": int(campaigns or 0),
            "campaign_versions_anonymised": int(versions or 0),
            "campaign_slots_anonymised": len(labels),
            "campaign_decisions_anonymised": decisions,
            "campaign_notices": int(addressed or 0),
            "campaign_notices_anonymised": int(caused or 0)}


async def _erase_slots(connection: AsyncConnection, user_id: str, sealer: Sealer,
                       erased: str) -> dict[str, str]:
    """The person's reviewer slot renamed in each campaign's slot list and sealed brief;
    returns the label given per campaign (the revision is bumped: a decision being taken
    at the same time reads the new slot list again)."""
    slotted = select(CampaignDecision.campaign_id).where(CampaignDecision.slot == user_id)
    rows = (await connection.execute(select(CampaignRecord.__table__).where(or_(
        CampaignRecord.reviewers.contains(json.dumps(user_id), autoescape=True),
        CampaignRecord.id.in_(slotted))))).all()
    labels: dict[str, str] = {}
    for row in rows:
        reviewers: list[str] = json.loads(row.reviewers)
        brief = _opened_brief(sealer, row.id, row.brief)
        named = brief.get("reviewers") if brief is not None else None
        brief_reviewers = [str(entry) for entry in named] if isinstance(named, list) else []
        decided = (await connection.execute(select(CampaignDecision.slot).where(
            CampaignDecision.campaign_id == row.id).distinct())).scalars().all()
        if user_id not in reviewers and user_id not in brief_reviewers \
                and user_id not in decided:
            continue  # the JSON text only resembled the id (a longer id containing it)
        label = _free_label(erased, [*reviewers, *brief_reviewers, *decided])
        labels[row.id] = label
        values: dict[str, Any] = {"reviewers": json.dumps(_renamed(reviewers, user_id, label)),
                                  "revision": row.revision + 1}
        if brief is not None and user_id in brief_reviewers:
            brief["reviewers"] = _renamed(brief_reviewers, user_id, label)
            values["brief"] = sealer.seal(json.dumps(brief, ensure_ascii=False),
                                          brief_context(row.id))
        await connection.execute(update(CampaignRecord).where(CampaignRecord.id == row.id)
                                 .values(**values))
    return labels


async def _erase_decisions(connection: AsyncConnection, user_id: str, sealer: Sealer,
                           erased: str, labels: dict[str, str]) -> int:
    """The person's decisions anonymised and their comments emptied; decisions for their
    slot moved to its new label (a comment kept is resealed for the new slot). Returns
    how many decisions the person had taken."""
    decisions = CampaignDecision.__table__
    rows = (await connection.execute(select(decisions).where(or_(
        decisions.c.user_id == user_id, decisions.c.slot == user_id)))).all()
    taken = 0
    for row in rows:
        slot = labels.get(row.campaign_id, erased) if row.slot == user_id else row.slot
        values: dict[str, Any] = {"slot": slot}
        if row.user_id == user_id:
            taken += 1
            values.update(user_id=erased, comment="")
        elif slot != row.slot:
            kept = sealer.unseal(row.comment, comment_context(row.campaign_id, row.version,
                                                              row.slot))
            if kept is not None:
                values["comment"] = sealer.seal(
                    kept, comment_context(row.campaign_id, row.version, slot))
        await connection.execute(update(CampaignDecision).where(CampaignDecision.id == row.id)
                                 .values(**values))
    return taken


def _opened_brief(sealer: Sealer, campaign_id: str, stored: str) -> dict[str, Any] | None:
    """The brief as a mapping; None when unreadable (its key lost: nothing to edit)."""
    opened = sealer.unseal(stored, brief_context(campaign_id))
    if opened is None:
        return None
    try:
        brief = json.loads(opened)
    except ValueError:
        return None
    return brief if isinstance(brief, dict) else None


def _free_label(erased: str, used: Iterable[str]) -> str:
    """``erased``, or ``erased#2``… when the campaign already has that slot."""
    taken = set(used)
    if erased not in taken:
        return erased
    number = 2
    while f"{erased}{ERASED_SLOT_SEPARATOR}{number}" in taken:
        number += 1
    return f"{erased}{ERASED_SLOT_SEPARATOR}{number}"


def _renamed(entries: Sequence[str], user_id: str, label: str) -> list[str]:
    return [label if entry == user_id else entry for entry in entries]

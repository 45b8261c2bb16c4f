"""The card posted with a screening: buyer, deadline countdown, decision per lot.

One :class:`bot.cards.Card` per dossier, rendered by each channel (Block Kit, Adaptive Card,
web). Dossier text is untrusted: it only ever lands in card text and fact values, which the
channels render inert, and each piece is bounded.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from bot.cards import Card
from bot.i18n import Text, plural
from bot.messages import Locale
from skills.tenders.model import Fact
from skills.tenders.report import decision_label
from skills.tenders.screening import CONDITIONAL, GO, NO_GO
from skills.tenders.service import Screening

MAX_TITLE = 150
MAX_REASON = 220
MAX_REASONS = 4

_BUYER = Text("Acheteur", "Buyer")
_DEADLINE = Text("Remise des offres", "Offers due")
_NO_DEADLINE = Text("introuvable dans le dossier : vérifiez le RC",
                    "not found in the dossier: check the RC")
_COUNTDOWN = Text("J-{days}", "D-{days}")
_TODAY = Text("Jour J", "D-day")
_PASSED = Text("échue depuis {days} j", "passed {days} day{s} ago")
_AT = Text("{day} à {hour}", "{day} at {hour}")
_NO_HOUR = Text("heure non précisée", "hour not stated")
_NO_ZONE = Text("fuseau non précisé", "time zone not stated")
_PARIS = Text("heure de Paris", "Paris time")
_LOT = Text("Lot {number} – {title}", "Lot {number} – {title}")
_MORE = Text("… et {count} autre{s} motif{s} (voir la grille)",
             "… and {count} more reason{s} (see the grid)")
_TALLY = Text("{lots} lot{s} : {go} go, {no_go} no-go, {conditional} go sous conditions.",
              "{lots} lot{s}: {go} go, {no_go} no-go, {conditional} go under conditions.")
_NO_LOT = Text("Aucun lot identifié dans le dossier.", "No lot identified in the dossier.")
_DETAILS = Text("Sources, contradictions et checklist : le message ci-dessus et la grille "
                "Excel.", "Sources, contradictions and checklist: the message above and the "
                "Excel grid.")


def screening_card(screening: Screening, locale: Locale = "fr") -> Card:
    """The dossier's card: object as title, buyer, deadline countdown, one fact per lot."""
    facts = screening.extraction.facts
    title = str(facts["objet"].value) if "objet" in facts else screening.extraction.dossier
    rows: list[tuple[str, str]] = []
    if "acheteur" in facts:
        buyer = str(facts["acheteur"].value).split(";")[0].strip()
        if buyer:
            rows.append((_BUYER(locale), _bounded(buyer, MAX_TITLE)))
    rows.append((_DEADLINE(locale), deadline_text(facts.get("date_limite_offres"),
                                                  screening.today, locale)))
    for lot in screening.lots:
        label = _LOT(locale, number=lot.lot.number, title=_bounded(lot.lot.title, 80))
        reasons = [_bounded(reason, MAX_REASON).rstrip(".")
                   for reason in lot.reasons_in(locale)[:MAX_REASONS]]
        if len(lot.reasons) > MAX_REASONS:
            more = len(lot.reasons) - MAX_REASONS
            reasons.append(_MORE(locale, count=more, s=plural(more, locale)))
        value = " — ".join([decision_label(lot.decision, locale), " · ".join(reasons)]) \
            if reasons else decision_label(lot.decision, locale)
        rows.append((label, value))
    tally = Counter(lot.decision for lot in screening.lots)
    summary = _TALLY(locale, lots=len(screening.lots), s=plural(len(screening.lots), locale),
                     go=tally[GO], no_go=tally[NO_GO],
                     conditional=tally[CONDITIONAL]) if screening.lots else _NO_LOT(locale)
    return Card(title=_bounded(title, MAX_TITLE), text=f"{summary}\n{_DETAILS(locale)}",
                facts=tuple(rows))


def deadline_text(fact: Fact | None, today: date, locale: Locale = "fr") -> str:
    """« J-7 · 22/01/2027 à 12:00 (heure de Paris, UTC+01:00) », or why it is missing."""
    if fact is None:
        return _NO_DEADLINE(locale)
    try:
        when = datetime.fromisoformat(str(fact.value))
    except ValueError:
        return _NO_DEADLINE(locale)
    days = (when.date() - today).days
    count = _COUNTDOWN(locale, days=days) if days > 0 else _TODAY(locale) if days == 0 \
        else _PASSED(locale, days=-days, s=plural(-days, locale))
    day = when.strftime("%d/%m/%Y")
    if "T" not in str(fact.value):
        return f"{count} · {day} ({_NO_HOUR(locale)})"
    return f"{count} · {_AT(locale, day=day, hour=when.strftime('%H:%M'))} " \
           f"({_zone(when, fact.note, locale)})"


def _zone(when: datetime, note: str, locale: Locale) -> str:
    offset = when.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
    named = _PARIS(locale) if "paris" in note.lower() else ""
    return ", ".join(part for part in (named, utc) if part) or _NO_ZONE(locale)


def _bounded(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

"""How campaigns read in a conversation: texts, check summaries, diffs, cards."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.cards import Card, CardButton, CardInput
from bot.i18n import Text, colon, plural, quoted
from bot.messages import Locale
from bot.store.campaign_sealing import ERASED_SLOT_SEPARATOR, is_erased
from bot.store.campaigns import CampaignView, DecisionView, VersionView
from bot.store.store import ERASED_PERSON
from skills.campaigns.brief import BRIEF_CHOICES, BRIEF_FIELDS
from skills.campaigns.checks import LABELS, CheckResult
from skills.campaigns.texts import T

_ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌"}
_ERASED = Text("personne effacée", "erased person")


def person(entry: str, locale: Locale) -> str:
    """How a person or slot reads: « personne effacée » (« personne effacée 2 ») for someone
    erased (the store keeps ``erased``, ``erased#2``), the id or role otherwise."""
    if not is_erased(entry, ERASED_PERSON):
        return entry
    number = entry.partition(ERASED_SLOT_SEPARATOR)[2]
    return _ERASED(locale) + (f" {number}" if number else "")


def people(entries: Iterable[str], locale: Locale) -> str:
    """« web:claire, personne effacée »."""
    return ", ".join(person(entry, locale) for entry in entries)
STATUS = {
    "draft": Text("brouillon", "draft"),
    "in_review": Text("en relecture", "in review"),
    "changes_requested": Text("modifications demandées", "changes requested"),
    "approved": Text("approuvée", "approved"),
    "rejected": Text("rejetée", "rejected"),
}
DECISIONS = {
    "approve": Text("a approuvé", "approved"),
    "changes": Text("a demandé des modifications", "requested changes"),
    "reject": Text("a rejeté", "rejected"),
    "submitted": Text("a soumis à relecture", "sent for review"),
    "reminder": Text("rappel : échéance proche, votre avis est attendu",
                     "reminder: deadline close, your decision is awaited"),
}
_L = {
    "title": Text("Campagne « {title} » — version {version} ({status})",
                  "Campaign “{title}” — version {version} ({status})"),
    "id": Text("Référence", "Reference"),
    "reviewers": Text("Relecteurs ({mode})", "Reviewers ({mode})"),
    "all": Text("tous requis", "all required"), "any": Text("un seul suffit", "any one"),
    "deadline": Text("Échéance", "Deadline"),
    "checks": Text("Contrôles", "Checks"),
    "comment": Text("Commentaire (demande de modifications, rejet)",
                    "Comment (change request, rejection)"),
    "edit": Text("Modifier le texte (une modification crée une nouvelle version)",
                 "Edit the text (an edit creates a new version)"),
    "approve": Text("✅ Approuver", "✅ Approve"),
    "changes": Text("✏️ Demander des modifications", "✏️ Request changes"),
    "save": Text("💾 Enregistrer la modification", "💾 Save the edit"),
    "reject": Text("⛔ Rejeter", "⛔ Reject"),
    "submit": Text("📨 Soumettre à relecture", "📨 Send for review"),
    "export": Text("📦 Exporter", "📦 Export"),
    "waiting": Text("en attente", "waiting"),
    "checks_ok": Text("tous les contrôles passent", "every check passes"),
    "checks_counts": Text("{fail} bloquant{s_fail}, {warn} avertissement{s_warn}",
                          "{fail} blocking, {warn} warning{s_warn}"),
    "too_long_edit": Text("Texte trop long pour être modifié dans la carte : « campagne "
                          "modifier {id} » suivi du texte complet.",
                          "Text too long to edit in the card: “campaign edit {id}” followed by "
                          "the full text."),
    "create": Text("Créer la campagne", "Create the campaign"),
    "form_title": Text("Nouvelle campagne : le brief", "New campaign: the brief"),
}


def checks_of(version: VersionView) -> list[CheckResult]:
    """The checks stored with a version."""
    return [CheckResult.from_json(dict(item)) for item in version.checks]


def checks_lines(checks: Sequence[CheckResult], locale: Locale, *,
                 only_problems: bool = True) -> list[str]:
    """« ❌ sms 1 · Longueur : … » lines, problems first."""
    shown = [c for c in checks if c.status != "ok" or not only_problems]
    shown.sort(key=lambda c: {"fail": 0, "warn": 1, "ok": 2}[c.status])
    return [f"{_ICONS[c.status]} {c.piece} · {LABELS[c.code](locale)}{colon(locale)}"
            f"{c.text(locale)}"
            for c in shown]


def checks_summary(checks: Sequence[CheckResult], locale: Locale) -> str:
    """« tous les contrôles passent » or counts."""
    fail = sum(c.status == "fail" for c in checks)
    warn = sum(c.status == "warn" for c in checks)
    if not fail and not warn:
        return _L["checks_ok"](locale)
    return _L["checks_counts"](locale, fail=fail, warn=warn, s_fail=plural(fail, locale),
                               s_warn=plural(warn, locale))


def title_line(campaign: CampaignView, locale: Locale) -> str:
    """« Campagne « X » — version 2 (en relecture) »."""
    return _L["title"](locale, title=campaign.title, version=campaign.current.number,
                       status=STATUS[campaign.status](locale))


def reviewers_line(campaign: CampaignView, locale: Locale) -> str:
    """Each reviewer slot and its decision on the current version."""
    parts = []
    for slot in campaign.reviewers:
        decided = campaign.decision_of(slot)
        state = (f"{DECISIONS[decided.decision](locale)} ({person(decided.user_id, locale)})"
                 if decided else _L["waiting"](locale))
        parts.append(f"{person(slot, locale)}{' :' if locale == 'fr' else ':'} {state}")
    return " · ".join(parts)


def facts(campaign: CampaignView, locale: Locale) -> tuple[tuple[str, str], ...]:
    """Reference, reviewers, deadline, checks."""
    items = [(_L["id"](locale), campaign.id[:8]),
             (_L["reviewers"](locale, mode=_L[campaign.approval](locale)),
              reviewers_line(campaign, locale))]
    if campaign.deadline is not None:
        items.append((_L["deadline"](locale), campaign.deadline.isoformat()))
    items.append((_L["checks"](locale), checks_summary(checks_of(campaign.current), locale)))
    return tuple(items)


def campaign_card(campaign: CampaignView, locale: Locale, *, review: bool, author: bool,
                  edit_limit: int = 20_000, approve: bool = True) -> Card:
    """The card a reviewer (approve, changes, edit, reject; changes and edit only without
    ``approve``) or the author (submit, edit) gets."""
    values = {"campaign": campaign.id, "version": str(campaign.current.number)}
    text = campaign.current.text
    checks = checks_of(campaign.current)  # the draft itself is the reply's text, above
    shown = "\n".join(checks_lines(checks, locale)) or checks_summary(checks, locale)
    inputs: list[CardInput] = []
    buttons: list[CardButton] = []
    open_ = campaign.status != "rejected"  # an approved text edited is a new version
    if review and campaign.status == "in_review":
        inputs.append(CardInput("comment", _L["comment"](locale), multiline=True))
        changes = CardButton(_L["changes"](locale), "campaigns:decide",
                             {**values, "decision": "changes"})
        buttons += [
            CardButton(_L["approve"](locale), "campaigns:decide",
                       {**values, "decision": "approve"}, "primary"),
            changes,
            CardButton(_L["reject"](locale), "campaigns:decide",
                       {**values, "decision": "reject"}, "danger")] if approve else [changes]
    if author and campaign.status in ("draft", "changes_requested"):
        buttons.insert(0, CardButton(_L["submit"](locale), "campaigns:submit", values,
                                     "primary"))
    note = ""
    if (review or author) and open_:
        if len(text) <= edit_limit:
            inputs.append(CardInput("text", _L["edit"](locale), multiline=True, value=text))
            buttons.append(CardButton(_L["save"](locale), "campaigns:edit", values))
        else:
            note = "\n\n" + _L["too_long_edit"](locale, id=campaign.id[:8])
    if campaign.status == "approved":
        buttons.append(CardButton(_L["export"](locale), "campaigns:export", values, "primary"))
    return Card(title=title_line(campaign, locale), text=shown + note,
                facts=facts(campaign, locale), inputs=tuple(inputs), buttons=tuple(buttons))


def version_block(campaign: CampaignView, locale: Locale) -> list[str]:
    """The current version as read: its title line, the draft, the checks' problems."""
    checks = checks_of(campaign.current)
    return [f"**{title_line(campaign, locale)}**", "", campaign.current.text.strip(), "",
            T["problems"](locale, summary=checks_summary(checks, locale)),
            *checks_lines(checks, locale)]


def brief_card(locale: Locale, given: Mapping[str, str] | None = None) -> Card:
    """The brief form (each channel renders the inputs; « Créer » sends them)."""
    given = given or {}

    def field(name: str, label: Text, multiline: bool) -> CardInput:
        choices = BRIEF_CHOICES.get(name, ())
        if not choices:
            return CardInput(name, label(locale), multiline=multiline,
                             value=given.get(name, ""))
        values = [value for value, _title in choices]
        chosen = given.get(name, "")
        return CardInput(name, label(locale), value=chosen if chosen in values else values[0],
                         choices=tuple((value, title(locale)) for value, title in choices))

    return Card(title=_L["form_title"](locale),
                inputs=tuple(field(*spec) for spec in BRIEF_FIELDS),
                buttons=(CardButton(_L["create"](locale), "campaigns:create", {}, "primary"),))


def diff_lines(old: str, new: str, limit: int = 60) -> list[str]:
    """A unified diff of two versions' texts (bounded)."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]
    return lines[:limit] + (["…"] if len(lines) > limit else [])


def trail_lines(decisions: Iterable[DecisionView], locale: Locale) -> list[str]:
    """« v1 · 2027-01-10 14:02 · web:claire a approuvé — « ok » »."""
    return [f"v{d.version} · {d.created_at:%Y-%m-%d %H:%M} · {person(d.user_id, locale)} "
            f"({person(d.slot, locale)}) "
            f"{DECISIONS[d.decision](locale)}" + (f" — {quoted(d.comment, locale)}"
                                                   if d.comment else "")
            for d in decisions]


def notice_line(kind: str, title: str, campaign_id: str, version: int, actor: str,
                comment: str, locale: Locale) -> str:
    """One line of the inbox."""
    named = f"{quoted(title, locale)} ({campaign_id[:8]}, v{version}){colon(locale)}"
    line = f"{named}{person(actor, locale)} {DECISIONS[kind](locale)}"
    if kind == "reminder":
        line = f"{named}{DECISIONS[kind](locale)}"
    return line + (f" — {quoted(comment, locale)}" if comment else "")


def as_mapping(values: Mapping[str, Any]) -> dict[str, str]:
    """Brief form values without the empty ones."""
    return {key: str(value) for key, value in values.items() if str(value).strip()}

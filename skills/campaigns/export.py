"""Exports of an approved version, exactly as approved, each stamped with its approval record.

DOCX (every piece, for the record and the print shop), one HTML file per e-mail variant
(personalisation fields left for the e-mailing platform) and a CSV of the SMS texts
(encoding and segments computed) for the SMS platform.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.shared import Pt

from bot.i18n import Text
from bot.messages import Locale
from bot.skills import SkillError
from bot.store.campaigns import CampaignView, DecisionView, VersionView
from skills.campaigns.brief import MEDIUM_LABELS, Medium
from skills.campaigns.pieces import FIELD, Piece, fingerprint, parse_pieces
from skills.campaigns.present import STATUS, person
from skills.campaigns.rules import CampaignRules, load_rules
from skills.campaigns.sms import measure

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_NOT_APPROVED = Text(
    "La campagne « {title} » n'est pas approuvée (état : {status}, version {version}) : seule "
    "une version approuvée peut être exportée.",
    "Campaign “{title}” is not approved (state: {status}, version {version}): only an approved "
    "version can be exported.")


class NotApproved(SkillError):
    """Export asked for a version that no one approved."""


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One exported file."""

    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ApprovalStamp:
    """Who approved which exact text, when."""

    campaign_id: str
    title: str
    version: int
    fingerprint: str
    approvals: tuple[DecisionView, ...]
    locale: Locale = "fr"  # the campaign's language (its drafts' and its documents')

    def lines(self) -> list[str]:
        """The stamp as lines of text, in the campaign's language."""
        lines = [_STAMP["campaign"](self.locale, title=self.title, id=self.campaign_id[:8],
                                    version=self.version),
                 _STAMP["fingerprint"](self.locale, fingerprint=self.fingerprint)]
        lines += [_STAMP["approved"](self.locale, user=person(d.user_id, self.locale),
                                     slot=person(d.slot, self.locale), when=_when(d.created_at))
                  + (_STAMP["comment"](self.locale, comment=d.comment) if d.comment else "")
                  for d in self.approvals]
        return lines

    def approvers(self) -> str:
        """« web:claire, personne effacée »."""
        return ", ".join(person(d.user_id, self.locale) for d in self.approvals)


_STAMP = {
    "campaign": Text("Campagne « {title} » ({id}), version {version}",
                     "Campaign “{title}” ({id}), version {version}"),
    "fingerprint": Text("Empreinte SHA-256 du texte approuvé : {fingerprint}",
                        "SHA-256 fingerprint of the approved text: {fingerprint}"),
    "approved": Text("Approuvé par {user} (relecteur {slot}) le {when}",
                     "Approved by {user} (reviewer {slot}) on {when}"),
    "comment": Text(" — « {comment} »", " — “{comment}”"),
    "variant": Text("variante", "variant"),
    "subject": Text("Objet", "Subject"),
}


def approved_version(campaign: CampaignView,
                     locale: Locale = "fr") -> tuple[VersionView, ApprovalStamp]:
    """The campaign's approved version and its stamp; :class:`NotApproved` otherwise."""
    if campaign.status != "approved":
        raise NotApproved(_NOT_APPROVED, title=campaign.title,
                          status=STATUS[campaign.status](locale),
                          version=campaign.current.number)
    version = campaign.current
    approvals = tuple(d for d in campaign.decisions
                      if d.version == version.number and d.decision == "approve")
    if not approvals:
        raise NotApproved(_NOT_APPROVED, title=campaign.title,
                          status=STATUS[campaign.status](locale), version=version.number)
    pieces = parse_pieces(version.text)
    return version, ApprovalStamp(campaign.id, campaign.title, version.number,
                                  fingerprint(pieces), approvals,
                                  "en" if (campaign.brief.get("language") or campaign.locale)
                                  == "en" else "fr")


def export_files(campaign: CampaignView,
                 rules: CampaignRules | None = None) -> list[ExportFile]:
    """Every export of the approved version (DOCX always; HTML and CSV when relevant)."""
    version, stamp = approved_version(campaign)
    pieces = parse_pieces(version.text)
    base = f"campagne-{campaign.id[:8]}-v{version.number}"
    files = [ExportFile(f"{base}.docx", DOCX_TYPE, to_docx(pieces, stamp))]
    files += [ExportFile(f"{base}-email-{piece.variant}.html", "text/html",
                         to_html(piece, stamp).encode("utf-8"))
              for piece in pieces if piece.medium is Medium.EMAIL]
    sms = [piece for piece in pieces if piece.medium is Medium.SMS]
    if sms:
        files.append(ExportFile(f"{base}-sms.csv", "text/csv",
                                to_csv(sms, stamp, rules or load_rules())))
    return files


def to_docx(pieces: Sequence[Piece], stamp: ApprovalStamp) -> bytes:
    """A Word document: the stamp, then every piece under its channel and variant."""
    document = Document()
    document.add_heading(stamp.title, level=1)
    for line in stamp.lines():
        paragraph = document.add_paragraph(line)
        for run in paragraph.runs:
            run.font.size = Pt(9)
    for piece in pieces:
        locale = stamp.locale
        document.add_heading(f"{MEDIUM_LABELS[piece.medium](locale).capitalize()} "
                             f"— {_STAMP['variant'](locale)} {piece.variant}", level=2)
        if piece.subject:
            colon = " :" if locale == "fr" else ":"
            document.add_paragraph().add_run(
                f"{_STAMP['subject'](locale)}{colon} {piece.subject}").bold = True
        for block in piece.body.split("\n\n"):
            items = _bullets(block)
            if items is None:
                document.add_paragraph(block)
            for item in items or ():
                document.add_paragraph(item, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_BULLET = re.compile(r"^\s*[-•–]\s+")


def _bullets(block: str) -> list[str] | None:
    """A block's items when each of its lines is a bullet (« - … », « • … »), else None."""
    lines = [line for line in block.split("\n") if line.strip()]
    if not lines or not all(_BULLET.match(line) for line in lines):
        return None
    return [_BULLET.sub("", line) for line in lines]


def _html_block(block: str) -> str:
    """A paragraph, or a list when every line of the block is a bullet."""
    items = _bullets(block)
    if items is not None:
        return ('<ul style="margin:0 0 1em 0;padding-left:1.4em">'
                + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>")
    return ('<p style="margin:0 0 1em 0">' + html.escape(block).replace("\n", "<br>\n")
            + "</p>")


def to_html(piece: Piece, stamp: ApprovalStamp) -> str:
    """A simple, mail-client-safe HTML e-mail (inline styles, no script, no remote content)."""
    paragraphs = "\n".join(_html_block(block) for block in piece.body.split("\n\n"))
    record = html.escape(" | ".join(stamp.lines())).replace("--", "—")
    return (
        "<!DOCTYPE html>\n"
        f"<!-- {record} -->\n"
        f'<html lang="{stamp.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(piece.subject)}</title>"
        f'<meta name="almia-approval" content="{html.escape(stamp.fingerprint)}">'
        "</head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#222">\n'
        '<div style="max-width:600px;margin:0 auto;padding:16px">\n'
        f"{paragraphs}\n</div>\n</body></html>\n")


def to_csv(pieces: Sequence[Piece], stamp: ApprovalStamp, rules: CampaignRules) -> bytes:
    """One row per SMS variant, for the SMS platform (UTF-8 with BOM, « ; » separated);
    length and segments count the personalisation fields at their likely length."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["campagne", "version", "variante", "texte", "encodage",
                     "caracteres_estimes", "segments_estimes", "approuve_par", "approuve_le",
                     "empreinte"])
    approvers = stamp.approvers()
    approved_at = _when(max(d.created_at for d in stamp.approvals))
    for piece in pieces:
        length = measure(FIELD.sub(lambda m: "x" * rules.field_length(m.group(1)),
                                   piece.body))
        writer.writerow([stamp.campaign_id[:8], stamp.version, piece.variant, piece.body,
                         length.encoding, length.units, length.segments, approvers,
                         approved_at, stamp.fingerprint])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"

"""Outputs: the thread message (Markdown), the XLSX grid and the DOCX outline (the card is
in :mod:`skills.tenders.card`)."""

from __future__ import annotations

import io
from datetime import date, datetime

from bot.messages import Locale
from skills.tenders.facts_general import attention_in
from skills.tenders.outline import Preparation
from skills.tenders.service import Screening

_DECISIONS = {"fr": {"go": "✅ GO", "no-go": "⛔ NO-GO",
                     "go under conditions": "⚠️ GO SOUS CONDITIONS"},
              "en": {"go": "✅ GO", "no-go": "⛔ NO-GO",
                     "go under conditions": "⚠️ GO UNDER CONDITIONS"}}
_VERDICTS = {"fr": {"met": "respecté", "not met": "non respecté", "unknown": "inconnu"},
             "en": {"met": "met", "not met": "not met", "unknown": "unknown"}}


def decision_label(decision: str, locale: str = "fr") -> str:
    """« ⛔ NO-GO », « ⚠️ GO SOUS CONDITIONS »… in the person's language."""
    labels = _DECISIONS["en" if locale == "en" else "fr"]
    return labels.get(decision, decision.upper())


def countdown(screening: Screening, locale: str = "fr") -> str:
    """« J-42 : remise des offres le 26/02/2027 à 12:00 (heure de Paris) »."""
    fact = screening.extraction.facts.get("date_limite_offres")
    if fact is None:
        return ("Date limite de remise des offres : introuvable." if locale == "fr" else
                "Deadline for offers: not found.")
    when = datetime.fromisoformat(str(fact.value))
    days = (when.date() - screening.today).days
    timed = "T" in str(fact.value)
    day = when.strftime("%d/%m/%Y")
    if locale == "en":
        shown = f"{day} {when.strftime('%H:%M')} (Paris time)" if timed else \
            f"{day} (hour not stated)"
        return f"D-{days}: offers due {shown}"
    shown = f"{day} à {when.strftime('%H:%M')} (heure de Paris)" if timed else \
        f"{day} (heure non précisée)"
    return f"J-{days} : remise des offres le {shown}"


def summary(screening: Screening, locale: str = "fr", model_note: str = "") -> str:
    """The message posted in the thread: verdict per lot, blocking reasons, countdown."""
    lang: Locale = "en" if locale == "en" else "fr"
    facts = screening.extraction.facts
    title = str(facts["objet"].value) if "objet" in facts else screening.extraction.dossier
    buyer = str(facts["acheteur"].value).split(";")[0] if "acheteur" in facts else ""
    lines = [f"**{title}**" + (f" — {buyer}" if buyer else ""), f"⏳ {countdown(screening, lang)}",
             ""]
    for lot in screening.lots:
        lines.append(f"**Lot {lot.lot.number} – {lot.lot.title}** : "
                     f"{_DECISIONS[lang][lot.decision]}")
        for reason in lot.reasons_in(lang)[:4]:
            lines.append(f"- {reason}")
        not_met = [v for v in lot.verdicts if v.verdict == "not met"]
        for failed in not_met[:3]:
            if failed.sources:
                lines.append(f"  > « {failed.sources[0].quote[:160]} » "
                             f"({failed.sources[0].where()})")
    attention = facts.get("points_attention")
    if attention is not None and isinstance(attention.value, list):
        lines += ["", "**Points d'attention**" if lang == "fr" else "**Points to watch**"]
        for point, source in zip(attention.value, attention.sources, strict=False):
            lines.append(f"- {attention_in(str(point), lang)} ({source.where()})")
    if screening.extraction.contradictions:
        lines += ["", "**Contradictions (non tranchées)**" if lang == "fr" else
                  "**Contradictions (not resolved)**"]
        for item in screening.extraction.contradictions:
            values = " / ".join(f"{value} ({source.where()})" for value, source in item.values)
            lines.append(f"- {item.topic} : {values}")
    if screening.extraction.skipped:
        lines += ["", ("Fichiers non lus : " if lang == "fr" else "Files not read: ")
                  + ", ".join(screening.extraction.skipped)]
    if model_note:
        lines += ["", model_note]
    return "\n".join(lines)


def workbook(screening: Screening, preparation: Preparation) -> bytes:
    """The XLSX grid: facts, criteria per lot with evidence and sources, contradictions,
    checklist, outline."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Faits"
    sheet.append(["Fait", "Valeur", "Document", "Page", "Article", "Citation"])
    for key, fact in screening.extraction.facts.items():
        value = _text(fact.value)
        for index, source in enumerate(fact.sources or (None,)):
            sheet.append([_safe(key), _safe(value if index == 0 else ""),
                          _safe(source.document if source else ""),
                          source.page if source else None,
                          _safe(source.article if source else ""),
                          _safe(source.quote if source else "")])
    grid = book.create_sheet("Critères")
    grid.append(["Lot", "Intitulé", "Décision", "Critère", "Bloquant", "Verdict", "Jugé par",
                 "Justification", "Document", "Page", "Article", "Citation"])
    for lot in screening.lots:
        for item in lot.verdicts:
            for index, source in enumerate(item.sources or (None,)):
                grid.append([lot.lot.number, _safe(lot.lot.title),
                             decision_label(lot.decision, "fr"),
                             _safe(item.label), "oui" if item.blocking else "non",
                             _VERDICTS["fr"].get(item.verdict, item.verdict),
                             item.judged_by, _safe(item.evidence if index == 0 else ""),
                             _safe(source.document if source else ""),
                             source.page if source else None,
                             _safe(source.article if source else ""),
                             _safe(source.quote if source else "")])
    contradictions = book.create_sheet("Contradictions")
    contradictions.append(["Sujet", "Valeur", "Document", "Page", "Article", "Citation"])
    for contradiction in screening.extraction.contradictions:
        for value, source in contradiction.values:
            contradictions.append([_safe(contradiction.topic), _safe(value),
                                   _safe(source.document), source.page, _safe(source.article),
                                   _safe(source.quote)])
    checklist = book.create_sheet("Checklist")
    checklist.append(["À faire", "Fait"])
    for entry in preparation.checklist:
        checklist.append([_safe(entry), ""])
    for page in book.worksheets:
        for cell in page[1]:
            cell.font = Font(bold=True)
        for column in ("B", "F", "H", "L"):
            page.column_dimensions[column].width = 60
        for row in page.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def outline_document(screening: Screening, preparation: Preparation, company: str) -> bytes:
    """The DOCX: decision per lot, checklist, mémoire technique outline with citations."""
    import docx

    document = docx.Document()
    facts = screening.extraction.facts
    title = str(facts["objet"].value) if "objet" in facts else screening.extraction.dossier
    document.add_heading(f"Réponse à l'appel d'offres — {title}", level=0)
    if company:
        document.add_paragraph(f"Candidat : {company}")
    document.add_paragraph(countdown(screening))
    document.add_heading("Décision par lot", level=1)
    for lot in screening.lots:
        document.add_paragraph(f"Lot {lot.lot.number} – {lot.lot.title} : "
                               f"{decision_label(lot.decision, 'fr')}",
                               style="List Bullet")
        for reason in lot.reasons:
            document.add_paragraph(reason, style="List Bullet 2")
    document.add_heading("Checklist", level=1)
    for item in preparation.checklist:
        document.add_paragraph(f"☐ {item}")
    document.add_heading("Plan du mémoire technique", level=1)
    document.add_paragraph("Le plan suit les critères d'attribution, par poids décroissant.")
    for section in preparation.outline:
        weight = f" ({section.weight:g} %)" if section.weight is not None else ""
        document.add_heading(section.title + weight, level=1 + section.level)
        for citation in section.citations:
            where = citation.document + (f", p. {citation.page}" if citation.page else "") + (
                f", {citation.section}" if citation.section else "")
            paragraph = document.add_paragraph(style="Intense Quote")
            paragraph.add_run(f"« {citation.text} »")
            document.add_paragraph(f"Source : {where}")
    for note in preparation.notes:
        document.add_paragraph(note)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _text(value: object) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (dossier text is untrusted)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def today_or(value: str | None) -> date:
    """``YYYY-MM-DD`` or today."""
    return date.fromisoformat(value) if value else date.today()

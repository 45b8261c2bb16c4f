"""Response preparation: a checklist (documents, deadlines) and a mémoire technique outline
that follows the award criteria and their weights, with passages of the company's own
documents (knowledge collections) cited under each section."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from skills.tenders.model import Extraction

Search = Callable[[str], Awaitable[Sequence[Any]]]  # query → knowledge Passages


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage of the company's documents for a section."""

    document: str
    section: str | None
    page: int | None
    text: str


@dataclass(frozen=True, slots=True)
class OutlineSection:
    """A part of the mémoire technique: its weight, what to show, passages to reuse."""

    title: str
    weight: float | None
    level: int
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Preparation:
    """The checklist and the outline."""

    checklist: tuple[str, ...]
    outline: tuple[OutlineSection, ...]
    knowledge_used: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def checklist(extraction: Extraction, today: date) -> list[str]:
    """Deadlines first, then the documents to provide by stage."""
    items: list[str] = []
    for fact_id, label in (("date_limite_questions", "Questions à l'acheteur avant le"),
                           ("date_limite_offres", "Remise des offres avant le")):
        fact = extraction.facts.get(fact_id)
        if fact is not None:
            when = datetime.fromisoformat(str(fact.value))
            days = (when.date() - today).days
            shown = when.strftime("%d/%m/%Y %H:%M" if "T" in str(fact.value) else "%d/%m/%Y")
            items.append(f"{label} {shown} (J-{days}) — "
                         f"{fact.sources[0].where() if fact.sources else ''}")
    for topic in extraction.contradictions:
        items.append(f"Contradiction à lever auprès de l'acheteur : {topic.topic}")
    documents = extraction.facts.get("documents_a_fournir")
    if documents is not None and isinstance(documents.value, dict):
        for stage, pieces in documents.value.items():
            for piece in pieces:
                items.append(f"[{stage}] {piece}")
    attention = extraction.facts.get("points_attention")
    if attention is not None and isinstance(attention.value, list):
        items.extend(f"Point d'attention : {point}" for point in attention.value)
    for fact_id, label in (("variantes", "Variantes"), ("visite", "Visite"),
                           ("delai_validite_offres", "Validité des offres")):
        fact = extraction.facts.get(fact_id)
        if fact is not None:
            items.append(f"{label} : {fact.value}")
    return items


def _sections(extraction: Extraction) -> list[tuple[str, float | None, int]]:
    fact = extraction.facts.get("criteres_attribution")
    if fact is None or not isinstance(fact.value, dict):
        return [("Compréhension du besoin", None, 1), ("Moyens et organisation", None, 1),
                ("Qualité de service et engagements", None, 1)]
    found: list[tuple[str, float | None, int]] = []
    ordered = sorted(fact.value.values(), key=lambda item: -float(item.get("poids") or 0)
                     if isinstance(item, dict) else 0)
    for item in ordered:
        if not isinstance(item, dict):
            continue
        label = str(item.get("libelle") or "")
        if "prix" in label.lower() and not item.get("sous_criteres"):
            continue  # priced in the BPU, not in the mémoire technique
        found.append((label, _float(item.get("poids")), 1))
        subs = item.get("sous_criteres")
        if isinstance(subs, dict):
            for name, weight in sorted(subs.items(), key=lambda pair: -(_float(pair[1]) or 0)):
                found.append((str(name), _float(weight), 2))
    return found


def _float(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


async def prepare(extraction: Extraction, today: date, search: Search | None = None,
                  per_section: int = 2) -> Preparation:
    """The checklist and the outline; passages from ``search`` under each section."""
    subject = str(extraction.facts["objet"].value) if "objet" in extraction.facts else ""
    outline: list[OutlineSection] = []
    for title, weight, level in _sections(extraction):
        citations: tuple[Citation, ...] = ()
        if search is not None:
            passages = await search(f"{title} {subject}".strip())
            citations = tuple(Citation(str(p.document), p.section, p.page, str(p.text)[:500])
                              for p in list(passages)[:per_section])
        outline.append(OutlineSection(title, weight, level, citations))
    notes = () if search is not None else (
        "Aucune base documentaire de l'entreprise n'est reliée : le plan ne cite pas de "
        "réponses passées.",)
    return Preparation(tuple(checklist(extraction, today)), tuple(outline), search is not None,
                       notes)

"""Checklist and mémoire technique outline: award criteria by weight, company passages cited."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import docx

from knowledge import Passage
from skills.tenders.criteria import load_criteria
from skills.tenders.documents import load_files
from skills.tenders.outline import prepare
from skills.tenders.report import outline_document
from skills.tenders.service import run
from tests.skills.tenders.dossiers import hospital_dossier

TODAY = date(2027, 1, 15)


async def test_outline_follows_weights_and_cites_the_company_documents() -> None:
    result = run(load_files(list(hospital_dossier().items()), "chk"), load_criteria(None), TODAY)
    asked: list[str] = []

    async def search(query: str) -> Sequence[Any]:
        asked.append(query)
        return [Passage("c1", "memoire-2025.docx", "memoire-2025.docx", "Mémoire 2025",
                        "Organisation", 3, None, "Notre centre de gestion dédié traite les "
                        "dossiers en cinq jours.", 0.8, "reponses-ao", "internal")]

    preparation = await prepare(result.extraction, TODAY, search)
    assert [section.title for section in preparation.outline] == ["Valeur technique"]
    assert asked and asked[0].startswith("Valeur technique")
    assert preparation.outline[0].citations[0].document == "memoire-2025.docx"
    assert preparation.checklist[0].startswith("Questions à l'acheteur avant le 18/01/2027")
    assert any("Contradiction à lever" in item for item in preparation.checklist)
    data = outline_document(result, preparation, "Exemple Prévoyance")
    texts = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
    assert "Valeur technique (40 %)" in texts
    assert "« Notre centre de gestion dédié traite les dossiers en cinq jours. »" in texts
    assert "Source : memoire-2025.docx, p. 3, Organisation" in texts


async def test_without_a_knowledge_base_the_outline_says_so() -> None:
    result = run(load_files(list(hospital_dossier().items()), "chk"), load_criteria(None), TODAY)
    preparation = await prepare(result.extraction, TODAY)
    assert not preparation.knowledge_used and preparation.notes
    assert all(not section.citations for section in preparation.outline)

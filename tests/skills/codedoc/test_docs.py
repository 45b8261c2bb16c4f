"""The Markdown pages' small texts: a module's one-line summary in the index."""

from __future__ import annotations

import pytest

from skills.codedoc.docs import first_sentence


@pytest.mark.parametrize(("doc", "summary"), [
    ("Words of the corpus, in two halves: ``DEV`` (tune on it) and\n``TEST`` (held out).\n\n"
     "Names were written by hand.",
     "Words of the corpus, in two halves: ``DEV`` (tune on it) and ``TEST`` (held out)."),
    ("Template analytics. Second sentence.", "Template analytics."),
    ("Reads the export, e.g. a CSV. Then more.", "Reads the export, e.g. a CSV."),
    ("Version 2.0 of the tool. Next.", "Version 2.0 of the tool."),
    ("CALCUL DE LA PAIE\nLIT LE FICHIER EMPLOYES", "CALCUL DE LA PAIE"),  # COBOL banner
    ("", ""),
])
def test_a_summary_is_the_first_sentence_across_lines(doc: str, summary: str) -> None:
    assert first_sentence(doc) == summary


def test_a_long_first_sentence_is_cut_at_a_word() -> None:
    doc = "Marketing campaigns: a brief → drafts → review →\napprove → export round trip " * 3
    summary = first_sentence(doc, limit=80)
    assert summary.endswith(" …") and len(summary) <= 82
    assert doc.replace("\n", " ").startswith(summary.removesuffix(" …"))

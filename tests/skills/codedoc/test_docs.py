"""The Markdown pages' small texts: a module's one-line summary in the index."""

from __future__ import annotations

import pytest

from skills.codedoc.docs import first_sentence
from skills.codedoc.pipeline import document
from skills.codedoc.sources import Sources


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


def test_pages_show_names_as_written_and_speak_the_readers_language() -> None:
    sources = Sources()
    sources.add("pkg/__main__.py", b"class Runner:\n    def start(self):\n        return 1\n")
    sources.add("pkg/py.typed", b"")
    sources.skipped.append(("pkg/py.typed", "unsupported"))

    french = document(sources, "fr").pages
    english = document(sources, "en").pages

    assert "- [`pkg/__main__.py`](modules/" in french["index.md"]  # no bold « main »
    assert "- `pkg/py.typed` — langage non pris en charge" in french["index.md"]
    assert "- `pkg/py.typed` — language not supported" in english["index.md"]
    assert "1 fichier, 3 lignes, 2 unités (2 publiques)" in french["index.md"]
    module = french["modules/pkg___main__.py.md"]
    assert module.startswith("# pkg.\\_\\_main\\_\\_\n")
    assert "### classe `Runner`" in module and "### méthode `Runner.start`" in module
    assert "### class `Runner`" in english["modules/pkg___main__.py.md"]

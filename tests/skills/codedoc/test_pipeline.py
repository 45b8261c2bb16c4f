"""Every output of a run: pages, HTML, patch, skeletons, inventory, summary, figures."""

from __future__ import annotations

import ast
import io
import json
import zipfile

import pytest

from skills.codedoc import svg
from skills.codedoc.pipeline import NothingToDocument, document
from skills.codedoc.sources import Sources
from tests.skills.codedoc.helpers import fixture_sources


def test_offline_documentation_is_structural_and_says_what_a_model_would_add() -> None:
    outputs = document(fixture_sources(), "en")
    metrics = outputs.metrics
    assert (metrics.files, metrics.units, metrics.public) == (14, 46, 44)
    assert metrics.coverage == 1.0 and metrics.preserved_files == metrics.patched_files == 11
    index = outputs.pages["index.md"]
    assert "A model approved for the `code` role would write each" in index
    assert "- `python/billing/invoices.py`:6 — password or key" in index
    assert "- `cobol/PAYROLL.cbl`:23 — password or key" in index
    payroll = outputs.pages["modules/cobol_PAYROLL.cbl.md"]
    assert "- **Reads**: `file EMPIN`" in payroll
    assert "- **Writes**: `file SLIPOUT`, `table PAY_HISTORY`" in payroll
    assert "- **Imports / includes**: `EMPREC`, `TAXAREA`" in payroll
    assert ("**Structure** — Performs `WRITE-SLIP`, `READ-PARA`; calls `TAXCALC`; writes "
            "table `PAY_HISTORY`; called by `MAIN-PARA`.") in payroll
    assert ("**Structure** — Performs `READ-PARA`; reads file `EMPIN`; writes file `SLIPOUT`; "
            "called by `MAIN-PARA`.") in payroll
    assert "Tiger2024" not in json.dumps(outputs.pages)  # secrets never quoted
    overview = outputs.pages["overview.md"]
    assert "n_PAYROLL_PROCESS_PARA --> n_TAXCALC" in overview
    assert 'n_PAYJOB["PAYJOB"] --> n_PAYROLL["PAYROLL"]' in overview
    assert 'n_PAYROLL["PAYROLL"] --> n_TAXCALC["TAXCALC"]' in overview
    assert 'n_PAYROLL["PAYROLL"] --> n_EMPREC["EMPREC"]' in overview
    assert ('n_python_tests_test_invoices["python.tests.test_invoices"] --> '
            'n_python_billing_invoices["python.billing.invoices"]') in overview
    assert 'n_cart["cart"] --> n_express(["express"])' in overview
    assert "Without a generative model the documentation is structural" in outputs.summary
    assert "`git apply --check` passed" in outputs.summary


def test_html_is_one_self_contained_page() -> None:
    html = document(fixture_sources(), "fr").html.decode()
    assert html.startswith('<!doctype html><html lang="fr">')
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert '<pre class="mermaid"><code>flowchart LR' in html
    assert 'href="#p-modules-cobol-PAYROLL-cbl-md"' in html
    assert ('<nav><a href="#p-index-md">Documentation de référence</a>'
            '<a href="#p-overview-md">Vue d&#x27;ensemble</a></nav>') in html  # titles, not files


def test_skeletons_for_untested_public_functions_only() -> None:
    outputs = document(fixture_sources(), "en")
    python = outputs.skeletons["tests_skeletons/test_invoices_skeleton.py"]
    ast.parse(python)
    assert "pytestmark = pytest.mark.skip(reason='Almia skeleton:" in python
    assert "def test_save_invoice_raises_value_error() -> None:" in python
    assert ("    # arrange: invoice.amount < 0\n"
            "    # act and assert: with pytest.raises(ValueError): save_invoice(…)\n") in python
    assert "def test_load_invoices_returns_list() -> None:" in python
    assert "test_grand_total" not in python  # a test already calls it
    assert "_audit" not in python  # private
    java = outputs.skeletons["tests_skeletons/OrderServiceSkeletonTest.java"]
    assert '@Disabled("Almia skeleton:' in java and "void cancelRaisesIllegalArgumentException()" in java
    assert ("        // arrange: order == null\n        // act and assert: assertThrows("
            "IllegalArgumentException.class, () -> new OrderService(…).cancel(…))\n") in java
    assert java.startswith("package com.example.orders;\n")  # beside the class it tests


def test_downloads_hold_docs_skeletons_and_a_redacted_inventory() -> None:
    outputs = document(fixture_sources(), "en")
    with zipfile.ZipFile(io.BytesIO(outputs.docs_zip())) as archive:
        names = archive.namelist()
    assert "docs/index.md" in names and "tests_skeletons/test_invoices_skeleton.py" in names
    inventory = json.loads(outputs.inventory_json())
    assert inventory["metrics"]["coverage"] == 1.0
    assert "Sup3rS3cret" not in outputs.inventory_json().decode()
    assert outputs.patch.startswith(b"Almia documentation patch: comments and docstrings only")


def test_nothing_to_document() -> None:
    with pytest.raises(NothingToDocument):
        document(Sources(), "fr")


def test_graphs_are_drawn_inline_when_small_enough() -> None:
    html = document(fixture_sources(), "en").html.decode()
    assert html.count("<svg ") == 2  # call graph and dependencies, drawn offline
    assert "<title>PAYROLL.PROCESS-PARA</title>" in html
    assert 'stroke-dasharray="4 3"/><text x="' in html  # outside packages (express…) dashed
    assert "<details><summary>Mermaid</summary>" in html
    big = [(f"a{i}", f"b{i}") for i in range(40)]
    assert svg.draw(big, {}) is None  # 80 boxes: not drawn, the Mermaid source stays
    assert svg.draw([("a", "b"), ("b", "a")], {}) is not None  # cycles are drawn too


def test_the_summary_agrees_in_number_with_what_it_counts() -> None:
    sources = Sources()
    sources.add("shop/prices.py", b"def total(items):\n    return sum(items)\n")

    english = document(sources, "en").summary
    french = document(sources, "fr").summary

    assert "Patch: 1 documentation block in 1 file, verified" in english
    assert "1 test skeleton (public functions without tests)." in english
    assert "Correctif : 1 bloc de documentation dans 1 fichier, vérifié" in french
    assert "1 squelette de tests (fonctions publiques sans test)." in french
    assert "(2 lignes, python 1) : 1 unité dont 1 publique ;" in french
    assert "(2 lines, python 1): 1 unit, 1 public;" in english
    assert "**Documentation of 1 file**" in english


def test_what_goes_into_the_code_follows_its_comments_and_the_summary_says_so() -> None:
    outputs = document(fixture_sources(), "fr", comments="en")

    patch = outputs.patch.decode()
    assert "+      * PROCESS-PARA: Performs `WRITE-SLIP`" in patch
    assert "Exécute" not in patch.split("\n\n", 1)[1]  # the header stays the reader's
    assert all("Almia skeleton: write the arrange / act / assert steps" in text
               for text in outputs.skeletons.values())
    assert "# Documentation de référence" in outputs.pages["index.md"]  # the reader's
    assert ("Commentaires et squelettes de tests écrits en anglais, la langue des commentaires "
            "existants (`/almia doc lang=fr` pour les écrire en français).") in outputs.summary
    assert "Comments and test skeletons" not in document(fixture_sources(), "en",
                                                         comments="en").summary


def test_counts_of_lines_are_grouped_as_people_read_them() -> None:
    sources = Sources()
    sources.add("big.py", "".join(f"X{n} = {n}\n" for n in range(1_200)).encode())

    assert "(1\u202f200 lignes, python 1)" in document(sources, "fr").summary
    assert "(1,200 lines, python 1)" in document(sources, "en").summary


def test_a_file_with_a_syntax_error_is_named_with_its_line() -> None:
    sources = Sources()
    sources.add("casse.py", b"def ok(x):\n    return x\n\ndef mauvais(:\n    pass\n")
    outputs = document(sources, "fr")
    assert "⚠️ Erreurs de syntaxe : `casse.py` (ligne 4)" in outputs.summary
    assert "dès la ligne 4" in outputs.pages["modules/casse.py.md"]


def test_a_cobol_program_called_from_outside_the_project_is_drawn_as_external() -> None:
    from skills.codedoc import docs
    from skills.codedoc.inventory import build

    sources = Sources()
    sources.add("SINBATCH.cbl", (
        b"       IDENTIFICATION DIVISION.\n       PROGRAM-ID. SINBATCH.\n"
        b"       PROCEDURE DIVISION.\n       MAIN-PARA.\n           PERFORM TRAITER-PARA\n"
        b"           STOP RUN.\n       TRAITER-PARA.\n"
        b"           CALL 'CALCPROV' USING WS-TOTAL.\n"))
    edges, external = docs.dependency_edges(build(sources))
    assert ("SINBATCH", "CALCPROV") in edges and "CALCPROV" in external
    assert ("SINBATCH", "TRAITER-PARA") not in edges  # a paragraph of its own

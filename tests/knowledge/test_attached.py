"""Files attached to a question, searched in memory with the collections' scoring."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import KnowledgeBase, KnowledgeError, KnowledgeSettings
from knowledge.attached import (
    ATTACHED_COLLECTION,
    AttachedFile,
    PreparedFile,
    PreparedFiles,
    outline_of,
    readable,
)
from knowledge.lexical import LexicalIndex
from knowledge.loaders import load_bytes
from tests.knowledge.helpers import HashingEmbedder, make_pdf


def _rules() -> AttachedFile:
    filler = " ".join(["Les candidats consultent le dossier sur le profil d'acheteur."] * 6)
    pages = [
        "ARTICLE 6 – REMISE DES OFFRES\n6.1 – Date limite\nLes plis sont déposés avant le "
        f"vendredi 26 février 2027 à 12h00.\n{filler}",
        f"ARTICLE 7 – CRITÈRES\nLe prix compte pour 40 % et la valeur technique pour 60 %.\n"
        f"{filler}",
    ]
    return AttachedFile("RC.pdf", make_pdf(pages, "Règlement de la consultation"),
                        "confidential")


async def test_an_attached_pdf_is_searched_and_cited_by_page_and_heading(
        kb: KnowledgeBase) -> None:
    [best, *_] = await kb.search_files([_rules()], "Quelle est la date limite de dépôt des plis ?")
    assert (best.document, best.title, best.page) == (
        "RC.pdf", "Règlement de la consultation", 1)
    assert best.section == "ARTICLE 6 – REMISE DES OFFRES > 6.1 – Date limite"
    assert "26 février 2027" in best.text
    assert best.collection == ATTACHED_COLLECTION and best.data_class == "confidential"
    assert best.dense is not None and best.lexical is not None  # the judge reads both
    assert await kb.list_collections() == []  # nothing was stored


async def test_a_file_is_read_and_embedded_once_then_remembered(
        kb: KnowledgeBase, embedder: HashingEmbedder) -> None:
    await kb.search_files([_rules()], "Date limite ?")
    embedded = embedder.calls
    assert embedded >= 2  # each of its chunks, once
    [best, *_] = await kb.search_files([_rules()], "Quelle part pour le prix ?")
    assert embedder.calls == embedded and best.page == 2


async def test_a_long_file_embeds_only_the_chunks_the_question_matches_best(
        tmp_path: Path, embedder: HashingEmbedder) -> None:
    settings = KnowledgeSettings(chunk_size=200, chunk_overlap=0, attached_max_embedded=3,
                                 registry_ttl_s=0.0)
    topics = ["vol", "incendie", "grêle", "tempête", "dégât des eaux", "bris de glace",
              "catastrophe naturelle", "attentat"]
    text = "\n\n".join(
        f"# Garantie {topic}\n\nLa garantie {topic} est déclarée sous cinq jours ouvrés, "
        f"avec les justificatifs du sinistre {topic} et la facture des réparations."
        for topic in topics)
    knowledge = KnowledgeBase.open(tmp_path / "data", settings, embedder=embedder)
    try:
        found = await knowledge.search_files([AttachedFile("garanties.md", text.encode())],
                                             "Comment déclarer un sinistre grêle ?")
    finally:
        knowledge.close()
    assert embedder.calls == 3
    assert found[0].section == "Garantie grêle"


async def test_an_attached_file_s_list_cut_by_a_chunk_s_end_is_searched_whole(
        kb: KnowledgeBase) -> None:
    items = "\n".join(f"- la pièce justificative numéro {n} à joindre au dossier ;"
                      for n in range(1, 10))
    text = ("# Règlement\n\n## Pièces de la candidature\n\nChaque candidat produit les "
            f"pièces suivantes :\n{items}\n- la dernière pièce.\n")
    found = await kb.search_files([AttachedFile("rc.md", text.encode())],
                                  "Quelles pièces chaque candidat produit-il ?")
    [opening] = [passage for passage in found if "Chaque candidat produit" in passage.text]
    assert "la dernière pièce." in opening.text and opening.text.count("numéro 9") == 1


async def test_a_file_that_cannot_be_read_is_named_in_the_error(kb: KnowledgeBase) -> None:
    broken = AttachedFile("contrat.pdf", b"%PDF-1.4\n not a pdf \x00\x01")
    with pytest.raises(KnowledgeError, match=r"« contrat\.pdf »"):
        await kb.search_files([broken], "Quelle est la franchise ?")


def test_documents_are_readable_archives_and_images_are_not() -> None:
    assert readable("RC.PDF") and readable("grille.xlsx") and readable("notes.md")
    assert not readable("dossier.zip") and not readable("scan.png") and not readable("sans")


def test_prepared_files_are_forgotten_past_their_count_or_their_size() -> None:
    def prepared(chars: int) -> PreparedFile:
        return PreparedFile("f", "f", "internal", [], ["x" * chars], ["id"], LexicalIndex())

    kept = PreparedFiles(size=2, max_chars=100)
    kept.put("a", prepared(10))
    kept.put("b", prepared(10))
    kept.put("c", prepared(10))
    assert kept.get("a") is None and kept.get("b") is not None  # the least recently used
    kept.put("big", prepared(95))
    assert kept.get("c") is None and kept.get("b") is None and kept.get("big") is not None
    kept.put("huge", prepared(500))  # the last one is kept whatever its size
    assert kept.get("huge") is not None


def test_an_outline_lists_the_parts_under_the_title_with_their_openings() -> None:
    text = ("# Politique de télétravail\n\nIntroduction générale.\n\n## Éligibilité\n\n"
            "Tout collaborateur en CDI peut le demander. Le manager répond sous un mois.\n\n"
            "## Nombre de jours\n\nJusqu'à trois jours par semaine.\n\n### Exceptions\n\n"
            "Cinq jours en cas de grève.\n")
    outline = outline_of(AttachedFile("tt.md", text.encode()),
                         load_bytes(text.encode(), ".md", "tt"))
    assert outline.title == "Politique de télétravail"
    assert [(entry.heading, entry.opening) for entry in outline.entries] == [
        ("Éligibilité", "Tout collaborateur en CDI peut le demander."),
        ("Nombre de jours", "Jusqu'à trois jours par semaine.")]
    [first, _] = outline.passages("abc")
    assert (first.document, first.section, first.collection) == (
        "tt.md", "Politique de télétravail > Éligibilité", ATTACHED_COLLECTION)


def test_a_table_s_header_row_opens_no_part_of_an_outline() -> None:
    text = ("# Grille optique\n\n## Plafonds\n\n| Équipement | Plafond |\n|---|---|\n"
            "| Lentilles | 150 € |\n\n## Délais\n\nRemboursé sous 5 jours.\n")
    outline = outline_of(AttachedFile("g.md", text.encode()),
                         load_bytes(text.encode(), ".md", "g"))
    assert [(entry.heading, entry.opening) for entry in outline.entries] == [
        ("Plafonds", "Équipement : Lentilles ; Plafond : 150 €"),
        ("Délais", "Remboursé sous 5 jours.")]


def test_a_pdf_outline_gives_each_article_its_first_page() -> None:
    pages = ["ARTICLE 1 – OBJET\nLe marché porte sur la prévoyance.",
             "ARTICLE 2 – DURÉE\nLe marché dure quatre ans.\n2.1 – Reconduction\nUne fois."]
    data = make_pdf(pages, "CCAP")
    outline = outline_of(AttachedFile("CCAP.pdf", data), load_bytes(data, ".pdf", "CCAP"))
    assert [(entry.heading, entry.page) for entry in outline.entries] == [
        ("ARTICLE 1 – OBJET", 1), ("ARTICLE 2 – DURÉE", 2)]
    assert outline.pages == 2 and outline.more == 0

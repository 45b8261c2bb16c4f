from __future__ import annotations

from knowledge.chunking import (
    chunk_document,
    chunk_id,
    chunker_version,
    continued_list,
    indexed_text,
    keeps_heading_lines,
    list_cut_at_end,
    next_chunk_id,
    split_sentences,
)
from knowledge.loaders import Block, LoadedDocument


def test_sentences_keep_french_abbreviations() -> None:
    text = "M. Durand signe le contrat (art. 3). Le délai est de 30 jours ! Ensuite, voir p. 4."
    assert split_sentences(text) == [
        "M. Durand signe le contrat (art. 3).",
        "Le délai est de 30 jours !",
        "Ensuite, voir p. 4.",
    ]


def test_sentences_keep_english_titles_and_abbreviations() -> None:
    text = "Approved by the Finance Manager, Mr. David Hughes. Ask Mrs. Patel, e.g. by e-mail."
    assert split_sentences(text) == [
        "Approved by the Finance Manager, Mr. David Hughes.",
        "Ask Mrs. Patel, e.g. by e-mail.",
    ]


def test_chunks_respect_size_keep_sections_and_overlap() -> None:
    sentence = "L'assuré transmet les pièces justificatives au gestionnaire du dossier. "
    blocks = [
        Block(sentence * 12, "Sinistre > Pièces", 2),
        Block("Indemnisation sous 30 jours.", "Sinistre > Délais", 3),
    ]
    chunks = chunk_document(LoadedDocument("Guide", blocks), chunk_size=300, overlap=80)

    assert all(len(chunk.text) <= 300 for chunk in chunks)
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert chunks[0].section == "Sinistre > Pièces" and chunks[0].page == 2
    assert chunks[-1].section == "Sinistre > Délais" and chunks[-1].page == 3
    first_tail = chunks[0].text.splitlines()[-1]
    assert chunks[1].text.startswith(first_tail)


def test_small_sections_merge_and_keep_every_heading() -> None:
    blocks = [
        Block("Trois jours.", "Télétravail > Jours"),
        Block("Un écran.", "Télétravail > Équipement"),
    ]
    (chunk,) = chunk_document(LoadedDocument("Politique", blocks), chunk_size=500, overlap=50)
    assert chunk.sections == ("Télétravail > Jours", "Télétravail > Équipement")
    assert indexed_text("Politique", chunk.sections, chunk.text).startswith(
        "Politique — Télétravail > Jours — Télétravail > Équipement\n"
    )


def test_long_sentence_is_split_by_words() -> None:
    chunks = chunk_document(LoadedDocument("T", [Block("mot " * 500)]), chunk_size=200, overlap=0)
    assert len(chunks) >= 10 and all(len(chunk.text) <= 200 for chunk in chunks)


def test_chunk_ids_are_stable_and_content_dependent() -> None:
    assert chunk_id("docs/a.md", "abc123" * 5, 3) == chunk_id("docs/a.md", "abc123" * 5, 3)
    assert chunk_id("docs/a.md", "abc123" * 5, 3) != chunk_id("docs/a.md", "def456" * 5, 3)
    assert chunk_id("docs/a.md", "abc123" * 5, 3) != chunk_id("docs/b.md", "abc123" * 5, 3)


def test_a_block_opening_a_section_carries_its_heading_line() -> None:
    blocks = [
        Block("Sous 48 heures avec la télétransmission.", "FAQ > Sous quel délai ?"),
        Block("La monture jusqu'à 100 €.", "FAQ > Comment sont remboursées les lunettes ?"),
        Block("Chaque verre jusqu'à 150 €.", "FAQ > Comment sont remboursées les lunettes ?"),
    ]
    (chunk,) = chunk_document(LoadedDocument("Santé", blocks), chunk_size=500, overlap=50)
    assert chunk.text.splitlines() == [
        "FAQ", "Sous quel délai ?", "Sous 48 heures avec la télétransmission.",
        "Comment sont remboursées les lunettes ?", "La monture jusqu'à 100 €.",
        "Chaque verre jusqu'à 150 €.",
    ]
    # headings guessed in plain text stay out of the text, as before
    guessed = LoadedDocument("Santé", blocks, marked_headings=False)
    (plain,) = chunk_document(guessed, chunk_size=500, overlap=50)
    assert plain.text.splitlines() == [block.text for block in blocks]


def test_only_formats_with_marked_headings_are_cut_anew() -> None:
    # the version is part of a file's content hash: text and CSV files, whose chunks did not
    # change, are not re-embedded after an upgrade; PDFs are once, for their new structure
    assert {chunker_version(suffix) for suffix in (".txt", ".TEXT", ".csv")} == {"2"}
    assert {chunker_version(suffix) for suffix in (".md", ".HTML", ".htm")} == {"4"}
    assert {chunker_version(suffix) for suffix in (".docx", ".PDF", ".xlsx")} == {"5"}
    assert keeps_heading_lines("cgv.pdf") and not keeps_heading_lines("notes.txt")


def test_a_list_cut_by_a_chunk_s_end_goes_on_with_the_next_chunk_s_items() -> None:
    cut = "Chaque candidat produit les pièces suivantes :\n– la lettre DC1 ;\n– le pouvoir ;"
    following = "– le pouvoir ;\n– un extrait Kbis ;\n– une attestation d'assurance.\nPuis la suite."
    assert list_cut_at_end(cut) and list_cut_at_end("Pièces à fournir :")
    assert continued_list(cut, following) == (
        f"{cut}\n– un extrait Kbis ;\n– une attestation d'assurance.")  # the overlap once
    whole = "Le délai est de 5 jours."
    assert not list_cut_at_end(whole) and continued_list(whole, following) == whole
    assert continued_list(cut, "Une autre phrase.") == cut  # no item to go on with
    assert next_chunk_id("0123456789abcdef-a1b2c3d4e5f6-00012") == (
        "0123456789abcdef-a1b2c3d4e5f6-00013")
    assert next_chunk_id(chunk_id("docs/rc.pdf", "f" * 64, 4)) == chunk_id("docs/rc.pdf", "f" * 64, 5)

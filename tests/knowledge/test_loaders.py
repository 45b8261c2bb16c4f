from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.loaders import _pdf_blocks, decode_text, load_bytes, load_document
from knowledge.records import KnowledgeError
from tests.knowledge.helpers import make_docx, make_pdf


def test_pdf_keeps_pages_and_title() -> None:
    data = make_pdf(
        ["Declaration de sinistre sous 5 jours.", "Pieces justificatives a fournir."],
        "Guide sinistre",
    )
    document = load_bytes(data, ".pdf", "guide")
    assert document.title == "Guide sinistre"
    assert [(block.page, block.text) for block in document.blocks] == [
        (1, "Declaration de sinistre sous 5 jours."),
        (2, "Pieces justificatives a fournir."),
    ]


def test_pdf_numbered_headings_are_sections_and_running_lines_are_left_out() -> None:
    header, footer = "Guide des frais – version 2", "Page {} / 3"
    pages = [
        "ARTICLE 1 – OBJET\nLe présent guide fixe les règles de remboursement des frais.",
        "1.1 – Pièces à fournir\nLes frais sont remboursés sous 15 jours sur présentation de :\n"
        "– la facture acquittée ;\n– le justificatif de\ntransport.\n"
        "2. les frais de repas sont plafonnés\nà 20 € par jour.",
        "ARTICLE 2 – PLAFONDS\n2.1 Repas\nLe plafond est de 20 € par repas.",
    ]
    data = make_pdf([f"{header}\n{text}\n{footer.format(n)}"
                     for n, text in enumerate(pages, 1)])
    document = load_bytes(data, ".pdf", "frais")
    assert [(block.page, block.section, block.text) for block in document.blocks] == [
        (1, "ARTICLE 1 – OBJET",
         "Le présent guide fixe les règles de remboursement des frais."),
        (2, "ARTICLE 1 – OBJET > 1.1 – Pièces à fournir",
         "Les frais sont remboursés sous 15 jours sur présentation de :\n"
         "– la facture acquittée ;\n– le justificatif de transport.\n"
         "2. les frais de repas sont plafonnés à 20 € par jour."),  # an item, not a heading
        (3, "ARTICLE 2 – PLAFONDS > 2.1 Repas", "Le plafond est de 20 € par repas."),
    ]
    assert document.marked_headings  # numbered: chunks keep them as heading lines


def test_a_page_printed_by_a_browser_loses_its_margins_and_keeps_its_lists() -> None:
    page = ("12/6/26, 6:28 AM          Procédure sinistres\n"
            "2. Déclaration\n"
            "Le délai est de 5 jours ouvrés pour tout sinistre déclaré par l'assuré.\n"
            "Pièces à réunir par le gestionnaire :\n"
            "       le constat amiable signé ;\n"
            "       les photos des dommages ;\n"
            "       le certiﬁcat d'immatriculation.\n"
            "3. Étapes du traitement\n"
            "   1. Ouvrir le dossier sous 24 heures.\n"
            "   2. Missionner un expert.\n"
            "ﬁle:///tmp/src/sinistres.html                                   1/1")
    blocks = _pdf_blocks([page], "Procédure sinistres")
    assert [(block.section, block.text) for block in blocks] == [
        ("2. Déclaration",
         "Le délai est de 5 jours ouvrés pour tout sinistre déclaré par l'assuré. Pièces à "
         "réunir par le gestionnaire :\nle constat amiable signé ;\nles photos des dommages ;\n"
         "le certificat d'immatriculation."),
        ("3. Étapes du traitement",
         "1. Ouvrir le dossier sous 24 heures.\n2. Missionner un expert."),
    ]


def test_a_pdf_table_keeps_its_columns_under_their_header() -> None:
    page = ("Les critères sont pondérés comme suit :\n"
            "Critère\tSous-critère\tPondération\n"
            "1. Valeur technique\t\t50 %\n"
            "\t1.1 Garanties\t20 %\n"
            "2. Prix\tCotisation annuelle\t40 %\n"
            "\testimée sur le BPU\n"
            "Le prix est noté sur 40.")
    document = load_bytes(make_pdf([page]), ".pdf", "rc")
    assert [block.text for block in document.blocks] == [
        "Les critères sont pondérés comme suit :\n"
        "Critère | Sous-critère | Pondération\n"
        "Critère : 1. Valeur technique ; Pondération : 50 %\n"
        "Sous-critère : 1.1 Garanties ; Pondération : 20 %\n"
        "Critère : 2. Prix ; Sous-critère : Cotisation annuelle estimée sur le BPU ; "
        "Pondération : 40 %\n"
        "Le prix est noté sur 40."]


def test_a_pdf_rows_wrapped_cells_stay_in_their_row() -> None:
    page = ("Lot\tIntitulé\tCode CPV\n"
            "1\tPrévoyance (incapacité,\t66512000-2 (assurance\n"
            "\tinvalidité, décès)\taccidents et maladie)\n"
            "2\tSanté\t66512200-4\n"
            "\tTiers payant\t66512210-7\n"
            "Le lot 2 est facultatif.")
    document = load_bytes(make_pdf([page], column_width=180), ".pdf", "rc")
    assert document.blocks[0].text.split("\n") == [
        "Lot | Intitulé | Code CPV",
        "Lot : 1 ; Intitulé : Prévoyance (incapacité, invalidité, décès) ; "
        "Code CPV : 66512000-2 (assurance accidents et maladie)",
        "Lot : 2 ; Intitulé : Santé ; Code CPV : 66512200-4",
        # a row of its own under a merged first cell: it opens in capitals, nothing is open
        "Intitulé : Tiers payant ; Code CPV : 66512210-7",
        "Le lot 2 est facultatif."]


def test_a_pdf_value_wrapped_after_a_colon_goes_on_its_line() -> None:
    page = ("Téléphone : 02 41 57 30 00. Courriel :\ncommande.publique@val-aurance.fr.\n"
            "Pièces à fournir :\nLa lettre de candidature.")
    document = load_bytes(make_pdf([page]), ".pdf", "rc")
    assert document.blocks[0].text == (
        "Téléphone : 02 41 57 30 00. Courriel : commande.publique@val-aurance.fr. "
        "Pièces à fournir :\nLa lettre de candidature.")


def test_a_page_in_two_columns_of_prose_is_read_column_by_column() -> None:
    left = ["La garantie couvre les dommages causés", "par un dégât des eaux dans le logement."]
    right = ["Le vol est couvert après effraction", "constatée, sur présentation de la plainte."]
    page = "\n".join(f"{a}\t{b}" for a, b in zip(left, right, strict=True))
    document = load_bytes(make_pdf([page], column_width=290, by_column=True), ".pdf", "cg")
    assert [block.text for block in document.blocks] == [
        "La garantie couvre les dommages causés par un dégât des eaux dans le logement. "
        "Le vol est couvert après effraction constatée, sur présentation de la plainte."]


def test_a_short_pdf_keeps_its_first_and_last_lines() -> None:
    # two pages cannot tell a running footer from the text
    document = load_bytes(make_pdf(["Note\nTexte un.\nFin", "Note\nTexte deux.\nFin"]),
                          ".pdf", "note")
    assert "Fin" in document.blocks[0].text


def test_corrupt_pdf_is_a_clear_error() -> None:
    with pytest.raises(KnowledgeError, match="PDF"):
        load_bytes(b"%PDF-1.4\n garbage \x00\x01 not a pdf", ".pdf", "bad")


def test_docx_headings_tables_and_title(tmp_path: Path) -> None:
    document = load_document(make_docx(tmp_path / "conges.docx"), max_bytes=10_000_000)
    assert document.title == "Guide des congés"
    sections = {block.text: block.section for block in document.blocks}
    assert sections["La demande se fait dans l'outil RH au moins un mois à l'avance."] == (
        "Congés payés > Demande de congé"
    )
    # a table's rows under its header row, as CSV rows are
    assert sections["Ancienneté : 10 ans ; Jours supplémentaires : 2 jours"] == (
        "Congés payés > Demande de congé")


def _word_table(path: Path, rows: list[list[str]], bold: set[tuple[int, int]],
                repeat_header: bool = False) -> list[str]:
    """The loaded rows of a Word file holding one table (``bold``: cells set in bold)."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).paragraphs[0].add_run(value).bold = (r, c) in bold or None
    if repeat_header:
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    document.save(str(path))
    return [block.text for block in load_document(path, max_bytes=10_000_000).blocks]


def test_a_word_table_header_row_is_found_by_its_bold_or_its_repeat_mark(tmp_path: Path) -> None:
    members = [["Membre", "Agents au 1er octobre 2026"], ["CIAS", "248"]]  # a figure in it
    assert _word_table(tmp_path / "a.docx", members, {(0, 0), (0, 1)}) == [
        "Membre | Agents au 1er octobre 2026", "Membre : CIAS ; Agents au 1er octobre 2026 : 248"]
    assert _word_table(tmp_path / "b.docx", members, set(), repeat_header=True)[1] == (
        "Membre : CIAS ; Agents au 1er octobre 2026 : 248")
    assert _word_table(tmp_path / "c.docx", members, set())[1] == "CIAS | 248"  # as it reads


def test_a_word_table_of_labels_in_bold_has_no_header_row(tmp_path: Path) -> None:
    # short cells without figures on top: it would read as a header but for the bold labels
    rows = [["Procédure", "Appel d'offres ouvert"], ["Référence", "2027-PSC-01"]]
    assert _word_table(tmp_path / "kv.docx", rows, {(0, 0), (1, 0)}) == [
        "Procédure | Appel d'offres ouvert", "Référence | 2027-PSC-01"]
    assert _word_table(tmp_path / "plain.docx", rows, set())[1] == (
        "Procédure : Référence ; Appel d'offres ouvert : 2027-PSC-01")  # nothing tells it apart


def test_docx_without_heading_styles_keeps_its_hand_numbered_headings(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for text in ("ARTICLE 3 – Durée", "3.1 – Reconduction",
                 "Le contrat est reconduit une fois pour deux ans.", "Pièces à fournir :",
                 "1. Copie de la pièce d'identité", "2. Justificatif de domicile"):
        document.add_paragraph(text)  # all in the Normal style
    path = tmp_path / "contrat.docx"
    document.save(str(path))
    loaded = load_document(path, max_bytes=10_000_000)
    assert [(block.section, block.text) for block in loaded.blocks] == [
        ("ARTICLE 3 – Durée > 3.1 – Reconduction",
         "Le contrat est reconduit une fois pour deux ans."),
        ("ARTICLE 3 – Durée > 3.1 – Reconduction", "Pièces à fournir :"),
        ("ARTICLE 3 – Durée > 3.1 – Reconduction", "1. Copie de la pièce d'identité"),
        ("ARTICLE 3 – Durée > 3.1 – Reconduction", "2. Justificatif de domicile"),
    ]  # the numbered list items stay text


def test_markdown_heading_path_and_tables() -> None:
    text = (
        "# Télétravail\n\nIntro.\n\n## Éligibilité\n\nTrois jours par semaine.\n\n"
        "| Jour | Lieu |\n|---|---|\n| lundi | domicile |\n"
    )
    document = load_bytes(text.encode(), ".md", "tt")
    assert document.title == "Télétravail"
    assert [(block.text, block.section) for block in document.blocks] == [
        ("Intro.", "Télétravail"),
        ("Trois jours par semaine.", "Télétravail > Éligibilité"),
        ("Jour | Lieu", "Télétravail > Éligibilité"),
        ("Jour : lundi ; Lieu : domicile", "Télétravail > Éligibilité"),
    ]


def test_html_sections_url_and_no_scripts() -> None:
    html = """<html><head><title>FAQ santé</title><link rel="canonical" href="https://intra/faq">
    <script>var secret = 1;</script></head><body><nav>Menu</nav><h1>Remboursements</h1>
    <h2>Optique</h2><p>Lunettes : 150&nbsp;€ tous les deux ans.</p>
    <ul><li>Lentilles <b>100 €</b></li></ul></body></html>"""
    document = load_bytes(html.encode(), ".html", "faq")
    assert document.title == "Remboursements"
    assert document.url == "https://intra/faq"
    assert [(block.text, block.section) for block in document.blocks] == [
        ("Lunettes : 150 € tous les deux ans.", "Remboursements > Optique"),
        ("Lentilles 100 €", "Remboursements > Optique"),
    ]


def test_html_table_rows_keep_their_column_names() -> None:
    html = """<html><body><h1>Garanties</h1><table>
    <thead><tr><th>Acte</th><th>Formule Essentielle</th><th>Formule Sérénité</th></tr></thead>
    <tbody><tr><td>Lunettes</td><td>100 €</td><td>150 €</td></tr>
    <tr><td>Lentilles</td><td colspan="2">60 €</td></tr></tbody></table>
    <p>Tarifs 2027.</p></body></html>"""
    document = load_bytes(html.encode(), ".html", "garanties")
    assert [block.text for block in document.blocks] == [
        "Acte | Formule Essentielle | Formule Sérénité",
        "Acte : Lunettes ; Formule Essentielle : 100 € ; Formule Sérénité : 150 €",
        "Acte : Lentilles ; Formule Essentielle, Formule Sérénité : 60 €",
        "Tarifs 2027.",
    ]


def test_two_cells_with_the_same_value_are_both_read_in_every_format(tmp_path: Path) -> None:
    import docx

    expected = "Dépense : Repas ; Paris : 60 € ; Province : 60 €"
    markdown = "| Dépense | Paris | Province |\n|---|---|---|\n| Repas | 60 € | 60 € |\n"
    assert expected in [b.text for b in load_bytes(markdown.encode(), ".md", "t").blocks]
    html = ("<table><tr><th>Dépense</th><th>Paris</th><th>Province</th></tr>"
            "<tr><td>Repas</td><td>60 €</td><td>60 €</td></tr></table>")
    assert expected in [b.text for b in load_bytes(html.encode(), ".html", "t").blocks]
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, (("Dépense", "Paris", "Province"), ("Repas", "60 €", "60 €"),
                                       ("Taxi", "40 €", "")), strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    merged = table.cell(2, 1).merge(table.cell(2, 2))  # one cell over two columns
    merged.text = "40 €"
    document.save(tmp_path / "t.docx")
    read = [b.text for b in load_bytes((tmp_path / "t.docx").read_bytes(), ".docx", "t").blocks]
    assert expected in read
    assert "Dépense : Taxi ; Paris, Province : 40 €" in read


def test_a_word_header_with_a_digit_inside_a_word_is_still_a_header(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, (("Niveau", "Émissions CO2 maximales"),
                                       ("Niveau 8", "110 g/km")), strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.save(tmp_path / "t.docx")
    read = [b.text for b in load_bytes((tmp_path / "t.docx").read_bytes(), ".docx", "t").blocks]
    assert "Niveau : Niveau 8 ; Émissions CO2 maximales : 110 g/km" in read


def test_inline_html_in_markdown_is_markup_not_words() -> None:
    text = b"Les montants s'entendent <b>apr\xc3\xa8s</b> remboursement, si a < b et c > d."
    assert [block.text for block in load_bytes(text, ".md", "m").blocks] == [
        "Les montants s'entendent après remboursement, si a < b et c > d."]


def test_csv_rows_keep_column_names() -> None:
    data = "Acte;Délai\nDéclaration sinistre;5 jours\nRéclamation;10 jours\n".encode("cp1252")
    document = load_bytes(data, ".csv", "delais")
    assert [block.text for block in document.blocks] == [
        "Acte : Déclaration sinistre ; Délai : 5 jours",
        "Acte : Réclamation ; Délai : 10 jours",
    ]


def _workbook(path: Path) -> bytes:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Délais"
    sheet.append(["Délais de traitement 2027"])
    sheet.append([])
    sheet.append(["Processus", "Délai (jours)", "Depuis le", "Urgent", None])
    sheet.append(["Réclamation", 10.0, dt.datetime(2027, 1, 4), True, "note libre"])
    sheet.append(["Sinistre", 2.5, None, False])
    sheet.append(["Taux", 0.15, None, None, 1250.5])
    sheet.append(["Assiette", 51000000, None, None, 520])
    sheet["B6"].number_format = "0%"
    sheet["E6"].number_format = '#,##0.00 "€"'
    sheet["B7"].number_format = sheet["E7"].number_format = "#,##0.00"
    hidden = book.create_sheet("Calculs")
    hidden.append(["secret", "interne"])
    hidden.sheet_state = "hidden"
    book.save(path)
    return path.read_bytes()


def test_xlsx_sheets_are_sections_and_rows_keep_column_names(tmp_path: Path) -> None:
    document = load_bytes(_workbook(tmp_path / "delais.xlsx"), ".xlsx", "delais")
    assert document.title == "Délais de traitement 2027"
    assert [(block.section, block.text) for block in document.blocks] == [
        ("Délais", "Processus : Réclamation ; Délai (jours) : 10 ; Depuis le : 04/01/2027 ; "
                   "Urgent : oui ; colonne 5 : note libre"),
        ("Délais", "Processus : Sinistre ; Délai (jours) : 2.5 ; Urgent : non"),
        ("Délais", "Processus : Taux ; Délai (jours) : 15 % ; colonne 5 : 1 250,5 €"),
        ("Délais", "Processus : Assiette ; Délai (jours) : 51 000 000 ; colonne 5 : 520"),
    ]  # the hidden sheet is left out; figures as their format shows them


def test_a_damaged_workbook_is_a_clear_error() -> None:
    with pytest.raises(KnowledgeError, match="Excel"):
        load_bytes(b"PK\x03\x04 not really a zip", ".xlsx", "bad")


def test_non_utf8_text_is_decoded() -> None:
    assert decode_text(
        "Procédure de réclamation à suivre, étape après étape.".encode("cp1252")
    ).startswith("Procédure de réclamation")


def test_plain_text_title_and_headings() -> None:
    text = "Politique de télétravail\nÉligibilité\n" + "Le salarié peut télétravailler " * 5 + ".\n"
    document = load_bytes(text.encode(), ".txt", "politique")
    assert document.title == "Politique de télétravail"
    assert document.blocks[0].section == "Éligibilité"


@pytest.mark.parametrize(
    ("data", "suffix", "message"),
    [
        (b"", ".txt", "vide"),
        (b"   \n", ".md", "vide"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".txt", "binaire"),
        (b"hello", ".exe", "non prise en charge"),
        (b"<html><body><script>x</script></body></html>", ".html", "aucun texte"),
    ],
)
def test_bad_input_is_refused_clearly(data: bytes, suffix: str, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message):
        load_bytes(data, suffix, "x")


def test_file_over_size_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2048)
    with pytest.raises(KnowledgeError, match="trop volumineux"):
        load_document(big, max_bytes=1024)

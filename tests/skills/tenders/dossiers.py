"""Tender dossiers built in the tests: a small PDF writer, DOCX via python-docx, XLSX via
openpyxl. Every name and figure is invented; none of the dev set's text is reused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence


def pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF with one text line per entry (Helvetica, WinAnsi: French accents kept)."""
    objects: list[bytes] = []
    kids = []
    font_id = 3
    for index, lines in enumerate(pages):
        page_id, content_id = 4 + 2 * index, 5 + 2 * index
        kids.append(f"{page_id} 0 R")
        stream = b"BT /F1 10 Tf 50 800 Td 13 TL\n" + b"".join(
            b"(" + line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(")
            .replace(b")", b"\\)") + b") Tj T*\n" for line in lines) + b"ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
                       f"<< /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
                       .encode())
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream +
                       b"\nendstream")
    head = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, item in enumerate(head + objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + item + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += (f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF"
             .encode())
    return body


def docx(blocks: Sequence[str | tuple[str, str] | list[list[str]]]) -> bytes:
    """A DOCX: a string is a paragraph, ("h1", text) a heading, a list of rows a table."""
    import docx as python_docx

    document = python_docx.Document()
    for block in blocks:
        if isinstance(block, tuple):
            document.add_heading(block[1], level=int(block[0][1]))
        elif isinstance(block, list):
            table = document.add_table(rows=0, cols=len(block[0]))
            for row in block:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    cell.text = text
        else:
            document.add_paragraph(block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    """A workbook, one sheet per entry."""
    from openpyxl import Workbook

    book = Workbook()
    first = True
    for name, rows in sheets.items():
        sheet = book.active if first else book.create_sheet(name)
        assert sheet is not None
        sheet.title = name
        first = False
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    """A ZIP of the files (optionally under one folder, as exported by buyer profiles)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return buffer.getvalue()


def hospital_dossier() -> dict[str, bytes]:
    """An urgent consultation of a hospital in Brittany: one lot out of scope (motor fleet),
    two deadlines that disagree, unlimited liability, uncapped fixed penalties, firm prices
    for four years, an HDS certification required from the candidate itself."""
    rc = pdf([
        ["CENTRE HOSPITALIER DE KERNEVEL",
         "12 rue des Goélands – 29900 Concarneau (Finistère)",
         "RÈGLEMENT DE LA CONSULTATION",
         "Assurances du centre hospitalier",
         "Consultation n° CHK-2027-04",
         "Date limite de remise des offres : lundi 25 janvier 2027 à 16h00",
         "Pied de page du RC"],
        ["ARTICLE 1 – ACHETEUR",
         "Centre hospitalier de Kernevel, 12 rue des Goélands, 29900 Concarneau. SIRET : 262 900 123 00018.",
         "ARTICLE 2 – OBJET ET ALLOTISSEMENT",
         "La consultation a pour objet « Assurances du centre hospitalier de Kernevel ».",
         "Le marché est décomposé en deux lots :",
         "– Lot n° 1 : Flotte automobile et auto-collaborateurs ;",
         "– Lot n° 2 : Prévoyance statutaire des agents.",
         "Code CPV principal : 66510000-8.",
         "2.1 – Durée",
         "Le marché est conclu pour une durée de trois (3) ans.",
         "ARTICLE 3 – PROCÉDURE",
         "3.1 – Type de procédure",
         "La consultation est passée selon la procédure de l'appel d'offres ouvert, en urgence "
         "simple (procédure d'urgence, délai réduit).",
         "Pied de page du RC"],
        ["ARTICLE 4 – REMISE DES OFFRES",
         "4.1 – Date limite",
         "Les offres doivent être remises avant le lundi 25 janvier 2027 à 16h00 (heure de Paris).",
         "4.2 – Questions",
         "Les questions sont posées au plus tard le lundi 18 janvier 2027 à 12h00.",
         "ARTICLE 5 – CRITÈRES D'ATTRIBUTION",
         "Les offres sont jugées selon les critères pondérés suivants :",
         "– Prix : 60 % ;",
         "– Valeur technique : 40 %.",
         "Pied de page du RC"]])
    ccap = docx([
        "CAHIER DES CLAUSES ADMINISTRATIVES PARTICULIÈRES",
        ("h1", "ARTICLE 1 – DURÉE"),
        "Le marché est conclu pour une durée initiale de quatre (4) ans à compter du 1er avril 2027.",
        ("h1", "ARTICLE 2 – MONTANT ESTIMÉ"),
        "Le montant estimé du lot n° 1 est de 320 000 € TTC sur 4 ans.",
        "Le montant estimé du lot n° 2 est de 200 000 € TTC sur 4 ans.",
        ("h1", "ARTICLE 3 – PRIX"),
        "Les prix sont fermes pendant quatre (4) ans.",
        ("h1", "ARTICLE 4 – PÉNALITÉS"),
        "En cas de retard dans la gestion des sinistres, le titulaire encourt une pénalité de "
        "500 € par jour calendaire de retard.",
        "Les pénalités ne sont pas plafonnées.",
        ("h1", "ARTICLE 5 – RESPONSABILITÉ"),
        "Le titulaire est responsable sans limitation de somme de tous les dommages causés à "
        "l'établissement du fait de l'exécution du marché.",
        ("h1", "ARTICLE 6 – DATE LIMITE"),
        "Pour mémoire, la date limite de réception des offres est fixée au vendredi 22 janvier "
        "2027 à 12h00.",
    ])
    cctp = docx([
        "CAHIER DES CLAUSES TECHNIQUES PARTICULIÈRES",
        ("h1", "ARTICLE 1 – SÉCURITÉ DES DONNÉES"),
        "Le candidat doit être lui-même certifié hébergeur de données de santé (HDS) pour "
        "l'ensemble des données des agents.",
        ("h1", "ARTICLE 2 – GARANTIES DU LOT 2"),
        [["Garantie", "Montant"], ["Décès", "300 % du traitement"],
         ["Frais de soins", "Frais réels"]],
    ])
    return {"RC_CHK-2027-04.pdf": rc, "CCAP_CHK-2027-04.docx": ccap,
            "CCTP_CHK-2027-04.docx": cctp}


def town_dossier() -> dict[str, bytes]:
    """A town in the Rhône, one lot only (not allotted), health insurance, a decoy: insured
    cover « sans limitation de somme » while the holder's liability is capped; numeric dates."""
    rc = docx([
        "VILLE DE SAINT-AUBIN-DES-MONTS",
        "Hôtel de ville – 1 place de la Mairie – 69420 Saint-Aubin-des-Monts (Rhône)",
        "RÈGLEMENT DE LA CONSULTATION",
        ("h1", "Article 1 : Objet"),
        "La consultation a pour objet « Complémentaire santé collective des agents communaux ». "
        "Le marché n'est pas alloti.",
        ("h1", "Article 2 : Procédure"),
        "Procédure adaptée ouverte (article R. 2123-1 du code de la commande publique).",
        ("h1", "Article 3 : Remise des offres"),
        "Date limite de réception des offres : 15/03/2027 à 16h00.",
        ("h1", "Article 4 : Jugement des offres"),
        "Critères : Valeur technique : 55 % ; Prix : 45 %.",
        ("h1", "Article 5 : Pièces à fournir"),
        "Le candidat produit le DUME, un extrait Kbis et une attestation d'assurance.",
        "L'agrément ACPR pour la branche 2 est exigé.",
    ])
    ccap = docx([
        "CAHIER DES CLAUSES ADMINISTRATIVES PARTICULIÈRES",
        ("h1", "Article 1 : Durée"),
        "Le marché est conclu pour une durée initiale de trois (3) ans, reconductible une fois "
        "pour une durée de un (1) an.",
        ("h1", "Article 2 : Montant"),
        "Le montant annuel estimé des cotisations est de 95 000 € TTC par an.",
        ("h1", "Article 3 : Révision"),
        "Les cotisations sont garanties pendant deux (2) ans puis révisables chaque année.",
        ("h1", "Article 4 : Pénalités"),
        "Pénalité de 1/5000e du montant annuel des cotisations par jour de retard, plafonnée à "
        "5 % du montant annuel.",
        ("h1", "Article 5 : Responsabilité"),
        "La responsabilité du titulaire est limitée au montant annuel des cotisations, sauf "
        "faute lourde.",
        ("h1", "Article 6 : Assurances du titulaire"),
        "Les garanties souscrites couvrent les dommages corporels sans limitation de somme.",
    ])
    bpu = xlsx({"BPU": [["Catégorie", "Cotisation mensuelle"], ["Agent", "à compléter"]]})
    return {"RC_sante_2027.docx": rc, "CCAP_sante_2027.docx": ccap, "BPU_sante_2027.xlsx": bpu}


CRITERIA = """
company: {name: Mutuelle Exemple}
criteria:
  - id: lines_of_business
    label: Branches
    blocking: true
    accepted: {prevoyance: "décès, incapacité, invalidité", sante: "frais de santé"}
    excluded: {iard_automobile: "flotte automobile, véhicules"}
  - id: min_annual_premium
    label: Prime minimale
    blocking: true
    min_eur_ttc_per_lot_per_year: 40000
  - id: min_days_to_deadline
    label: Délai
    blocking: true
    min_calendar_days: 15
  - id: regions_served
    label: Régions
    blocking: true
    regions: [Auvergne-Rhône-Alpes, Île-de-France]
  - id: certifications
    label: Certifications
    blocking: true
    held: {iso_27001: true, hds: false}
    acpr_branches_held: [1, 2, 20]
  - id: max_penalty_rate
    label: Pénalités
    blocking: true
    max_daily_rate_pct_of_annual_premium: 0.1
    cap_required: true
    max_cap_pct_of_annual_premium: 10
  - id: no_unlimited_liability
    label: Responsabilité
    blocking: true
    unlimited_liability_accepted: false
  - id: max_rate_guarantee_years
    label: Taux fermes
    blocking: true
    max_years: 3
  - id: esg_report
    label: Rapport ESG demandé
    blocking: false
"""


def syndicate_dossier() -> dict[str, bytes]:
    """A DOCX-only dossier laid out in tables: lots and amounts in table rows, criteria in
    brackets, renewals without a duration, yearly revisable rates, a daily percentage
    penalty, and a decoy « sans limitation de somme » in a cover table."""
    rc = docx([
        "SYNDICAT MIXTE DES EAUX DU VAL DE SEINE",
        "Siège : 3 quai des Tanneurs, 78200 Mantes-la-Jolie (Yvelines)",
        "Date limite de réception des offres : 8 mars 2027",
        "RÈGLEMENT DE LA CONSULTATION",
        ("h1", "ARTICLE 1 – OBJET"),
        "La consultation a pour objet « Assurances du syndicat et de ses agents ».",
        [["Lot", "Désignation", "CPV"],
         ["1", "Responsabilité civile générale", "66516000-0"],
         ["2", "Prévoyance – maintien de salaire des agents", "66512000-2"]],
        ("h1", "ARTICLE 2 – DATE LIMITE"),
        "Les offres sont reçues au plus tard le lundi 8 mars 2027 à 17h00.",
        ("h1", "ARTICLE 3 – CRITÈRES DE JUGEMENT DES OFFRES"),
        "Critère n°1 : Prix (40 %)",
        "Critère n°2 : Valeur technique (60 %)",
    ])
    ccap = docx([
        "CAHIER DES CLAUSES ADMINISTRATIVES PARTICULIÈRES",
        ("h1", "ARTICLE 1 – DURÉE"),
        "Le marché est conclu pour une période de 12 mois, reconductible 3 fois.",
        ("h1", "ARTICLE 2 – MONTANTS ESTIMÉS"),
        [["Lot", "Montant annuel estimé TTC", "Montant sur 4 ans TTC"],
         ["Lot 1", "30 000 €", "120 000 €"], ["Lot 2", "150 000 €", "600 000 €"]],
        ("h1", "ARTICLE 3 – PRIX"),
        "Les taux de cotisation sont révisables annuellement sur présentation des comptes.",
        ("h1", "ARTICLE 4 – PÉNALITÉS"),
        "Pénalité journalière de 0,5 % du montant annuel du lot par jour de retard, dans la "
        "limite de 10 % du montant annuel.",
        ("h1", "ARTICLE 5 – RESPONSABILITÉ"),
        "La responsabilité du titulaire est plafonnée à deux fois le montant annuel du lot.",
    ])
    cctp = docx([
        "CAHIER DES CLAUSES TECHNIQUES PARTICULIÈRES",
        ("h1", "ARTICLE 1 – GARANTIES DU LOT 1"),
        [["Garantie", "Plafond"], ["Responsabilité civile", "Sans limitation de somme"],
         ["Dommages immatériels", "1 000 000 €"]],
        ("h1", "ARTICLE 2 – SITES"),
        "Les sites du syndicat sont situés dans le département de l'Oise et dans le "
        "département des Yvelines.",
    ])
    return {"RC_SMEVS.docx": rc, "CCAP_SMEVS.docx": ccap, "CCTP_SMEVS.docx": cctp}

"""Key facts with their sources, on dossiers of other buyers than the dev set's."""

from __future__ import annotations

from skills.tenders.documents import load_files
from skills.tenders.facts import extract
from skills.tenders.facts_general import attention_in
from skills.tenders.model import Extraction
from tests.skills.tenders.dossiers import docx, hospital_dossier, pdf, town_dossier, xlsx


def _facts(files: dict[str, bytes]) -> Extraction:
    return extract(load_files(list(files.items()), "dossier"))


def test_every_fact_names_its_document_and_place() -> None:
    extraction = _facts(hospital_dossier())
    assert extraction.facts, "no fact"
    for fact in extraction.facts.values():
        for source in fact.sources:
            assert source.document.endswith((".pdf", ".docx", ".xlsx")) and source.quote
            assert source.page is not None or source.article


def test_two_deadlines_are_flagged_and_the_earliest_is_used() -> None:
    extraction = _facts(hospital_dossier())
    deadline = extraction.facts["date_limite_offres"]
    assert deadline.value == "2027-01-22T12:00:00+01:00"
    assert deadline.sources[0].document == "CCAP_CHK-2027-04.docx"
    [contradiction] = [c for c in extraction.contradictions if c.topic.startswith("date limite")]
    values = {value for value, _ in contradiction.values}
    assert values == {"2027-01-25T16:00:00+01:00", "2027-01-22T12:00:00+01:00"}
    documents = {source.document for _, source in contradiction.values}
    assert documents == {"RC_CHK-2027-04.pdf", "CCAP_CHK-2027-04.docx"}
    [duration] = [c for c in extraction.contradictions if c.topic == "durée initiale"]
    assert {(value, source.document) for value, source in duration.values} == {
        ("3 ans", "RC_CHK-2027-04.pdf"), ("4 ans", "CCAP_CHK-2027-04.docx")}


def test_lots_amounts_per_year_procedure_and_terms() -> None:
    extraction = _facts(hospital_dossier())
    assert [(lot.number, lot.title) for lot in extraction.lots] == [
        (1, "Flotte automobile et auto-collaborateurs"), (2, "Prévoyance statutaire des agents")]
    assert extraction.lot_amounts == {1: 80000.0, 2: 50000.0}  # four-year amounts / 4
    assert "urgence" in str(extraction.facts["procedure"].value)
    assert str(extraction.facts["date_limite_questions"].value).startswith(
        "2027-01-18T12:00")
    assert extraction.facts["penalites"].value["non_plafonnees"] is True
    assert "sans limitation" in str(extraction.facts["responsabilite"].value)
    assert extraction.facts["certifications_agrements"].value == {"hds": "exigée"}
    assert extraction.facts["criteres_attribution"].value["prix"]["poids"] == 60.0
    assert "Bretagne" in str(extraction.facts["localisation"].value)


def test_a_single_lot_town_with_a_decoy_cover_limit() -> None:
    extraction = _facts(town_dossier())
    assert [lot.number for lot in extraction.lots] == [1]
    assert extraction.lot_amounts == {1: 95000.0}
    assert extraction.facts["date_limite_offres"].value == "2027-03-15T16:00:00+01:00"
    liability = extraction.facts["responsabilite"]
    assert "plafonnée" in str(liability.value) and liability.sources[0].article == "Article 5"
    assert extraction.facts["duree"].value["duree_maximale_mois"] == 48
    assert extraction.facts["penalites"].value["fraction_journaliere_min"] == "1/5000"
    assert not extraction.contradictions


def test_several_lots_in_one_sentence_and_rates_of_guarantees_are_not_firm_rates() -> None:
    from tests.skills.tenders.dossiers import docx

    files = {"RC_x.docx": docx(["RÈGLEMENT DE LA CONSULTATION", ("h1", "ARTICLE 1 – LOTS"),
                                "Lot n° 1 : Prévoyance", "Lot n° 2 : Santé"]),
             "CCAP_x.docx": docx([
                 "CCAP", ("h1", "ARTICLE 1 – MONTANT"),
                 "Le montant annuel estimé des cotisations du lot n° 1 est de 50 000 € et "
                 "celui du lot n° 2 de 80 000 €.", ("h1", "ARTICLE 2 – TAUX"),
                 "Le taux de cotisation des garanties décès couvre les enfants de moins de "
                 "26 ans."])}
    extraction = _facts(files)
    assert extraction.lot_amounts == {1: 50000.0, 2: 80000.0}
    assert "garantie_des_taux" not in extraction.facts


def test_attention_points_are_quoted_and_negations_ignored() -> None:
    from tests.skills.tenders.dossiers import docx

    files = {"CCAP_y.docx": docx([
        "CCAP", ("h1", "ARTICLE 3 – RECONDUCTION"),
        "Le marché est reconduit tacitement. Le titulaire ne peut refuser la reconduction.",
        ("h1", "ARTICLE 4 – DÉPÔT"),
        "La signature électronique des pièces n'est pas exigée lors du dépôt."])}
    fact = _facts(files).facts["points_attention"]
    assert fact.value == ["Le titulaire ne peut pas refuser la reconduction"]
    assert fact.sources[0].article == "Article 3"
    # stored in French, read in the reader's language
    assert attention_in(fact.value[0], "en") == "The holder cannot refuse the renewal"
    assert attention_in(fact.value[0], "fr") == fact.value[0]
    assert attention_in("Un point écrit ailleurs", "en") == "Un point écrit ailleurs"


def test_branches_and_certifications_are_read_per_lot() -> None:
    rc = pdf([["RÈGLEMENT DE LA CONSULTATION",
               "ARTICLE 5 – CONDITIONS DE PARTICIPATION",
               "5.2 – Agréments : le candidat doit justifier de l'agrément de l'ACPR pour les "
               "branches 3 (corps de",
               "véhicules terrestres) et 10 (responsabilité civile) pour le lot n° 1, 13 "
               "(responsabilité",
               "civile générale) pour le lot n° 2, et 2 (maladie) pour le lot n° 3.",
               "ARTICLE 8 – DOCUMENTS À FOURNIR",
               "DC1 ; attestation de visite (lot n° 1) ; certificat ISO/IEC 27001 (lot n° 3)."]])
    cctp = docx([("h1", "ARTICLE 4 – LOT N° 3 : SANTÉ"),
                 ("h2", "4.1 – Contrat collectif"),
                 "Le titulaire doit être certifié HDS pour héberger les données de santé.",
                 [["Garantie", "Lot 1", "Lot 2"], ["Franchise", "500 €", "500 €"]]])
    extraction = _facts({"RC_test.pdf": rc, "CCTP_test.docx": cctp})
    value = extraction.facts["certifications_agrements"].value
    assert value["acpr"] == {"lot 1": [3, 10], "lot 2": [13], "lot 3": [2]}
    listed = pdf([["RÈGLEMENT DE LA CONSULTATION", "ARTICLE 4 – CONDITIONS",
                   "4.1 – Agréments : le candidat doit être agréé par l'ACPR pour les branches "
                   "1, 2 et 20 pour le lot 1 ; branche 2 pour le lot 2."]])
    assert _facts({"RC_l.pdf": listed}).facts["certifications_agrements"].value["acpr"] == {
        "lot 1": [1, 2, 20], "lot 2": [2]}
    assert value["iso_27001"] == "exigée (lots 3)" and value["hds"] == "exigée (lots 3)"
    rows = [line for document in load_files([("CCTP_test.docx", cctp)]).documents
            for section in document.sections for line in section.lines if "Franchise" in line]
    assert rows == ["Franchise | 500 € | 500 €"]  # two equal cells are two cells


def test_buyer_lots_cpv_and_award_criteria_as_a_printed_rc_writes_them() -> None:
    rc = pdf([["RÈGLEMENT DE LA CONSULTATION",
               "ARTICLE 1 – ACHETEUR",
               "1.1 – Le pouvoir adjudicateur est le Département de l'Ourthe, représenté par le "
               "Président du Conseil",
               "départemental.",
               "ARTICLE 2 – OBJET ET LOTS",
               "2.2 – Le marché est décomposé en deux lots :",
               "Lot n° 1 – Flotte automobile et risques annexes – montant annuel estimé :",
               "310 000 € TTC",
               "Lot n° 2 – Complémentaire santé des agents (contrat collectif à adhésion "
               "facultative) – montant annuel estimé :",
               "420 000 € TTC",
               "Code CPV principal : 66510000-8 ; lot 1 : 66514110-0 ; lot 2 : 66512200-4.",
               "ARTICLE 7 – CRITÈRES D'ATTRIBUTION",
               "Les offres sont jugées selon les critères pondérés suivants :",
               "Prix (montant de la prime annuelle TTC) : 55 %",
               "Valeur technique (étendue des garanties, franchises) : 45 %"]])
    facts = _facts({"RC_test.pdf": rc}).facts
    assert facts["acheteur"].value == "Département de l'Ourthe"
    assert facts["lots"].value == [
        {"lot": 1, "intitule": "Flotte automobile et risques annexes"},
        {"lot": 2, "intitule": "Complémentaire santé des agents", "adhesion": "facultative"}]
    assert facts["cpv"].value == {"principal": "66510000-8", "lot_1": ["66514110-0"],
                                  "lot_2": ["66512200-4"]}
    criteria = facts["criteres_attribution"].value
    assert criteria["prix"]["poids"] == 55.0 and criteria["valeur_technique"]["poids"] == 45.0


def test_variants_allowed_by_one_document_and_refused_by_another_are_to_examine() -> None:
    rc = pdf([["RÈGLEMENT DE LA CONSULTATION", "ARTICLE 4 – PROCÉDURE",
               "4.2 – Variantes : les variantes sont autorisées pour le lot n° 1 uniquement."]])
    cctp = docx([("h1", "ARTICLE 1 – DISPOSITIONS GÉNÉRALES"),
                 "Les variantes ne sont pas autorisées, quel que soit le lot."])
    both = _facts({"RC_v.pdf": rc, "CCTP_v.docx": cctp}).facts["variantes"].value
    assert both == "Variantes autorisées selon une pièce, non autorisées selon une autre : à examiner"
    assert _facts({"CCTP_v.docx": cctp}).facts["variantes"].value == "Variantes non autorisées"


def test_a_single_document_dossier_with_its_estimate_in_the_bpu() -> None:
    dce = pdf([["Communauté de communes du Pays d'Ivel",
                "DOSSIER DE CONSULTATION UNIQUE",
                "Assurance statutaire du personnel (risques statutaires",
                "des agents CNRACL)",
                "Le présent document tient lieu de règlement de consultation et d'acte "
                "d'engagement.",
                "Les plis sont à déposer sur la salle des marchés avant le mardi 16 février "
                "2027, 17 heures.",
                "Le taux de cotisation proposé reste inchangé pendant quatre ans : un taux "
                "ferme et non révisable."]])
    bpu = xlsx({"BPU": [["Poste", "Assiette", "Montant annuel (€)"],
                        ["Masse salariale CNRACL", 1_850_000, None],
                        ["Estimation de la prime annuelle TTC par l'acheteur", 104_500, None]]})
    extraction = _facts({"DCE_ivel.pdf": dce, "BPU_ivel.xlsx": bpu})
    facts = extraction.facts
    assert facts["objet"].value == ("Assurance statutaire du personnel (risques statutaires "
                                    "des agents CNRACL)")  # its wrapped line joined
    assert facts["lots"].value[0]["intitule"].startswith("Assurance statutaire du personnel")
    assert all(document.kind != "AE" for document in load_files(
        [("DCE_ivel.pdf", dce)]).documents)  # « tient lieu de règlement de consultation »
    assert facts["date_limite_offres"].value == "2027-02-16T17:00:00+01:00"
    assert facts["montant_estime"].value == {"lot_1_annuel_ttc": 104500.0}
    assert facts["garantie_des_taux"].value == {
        "tous_lots": {"annees_garanties": 4.0, "revisable_ensuite": False}}


def test_lot_amounts_and_weighted_criteria_in_word_tables() -> None:
    rc = docx([("h1", "ARTICLE 2 – LOTS"),
               [["Lot", "Désignation", "Code CPV", "Estimation annuelle TTC"],
                ["1", "Prévoyance collective", "66511000-5", "412 500 €"],
                ["2", "Complémentaire santé", "66512200-4", "38 400 €"]],
               ("h1", "ARTICLE 7 – CRITÈRES D'ATTRIBUTION"),
               [["Critère", "Sous-critère", "Pondération"],
                ["Prix", "Taux de cotisation", "40 %"],
                ["Valeur technique", "Niveau des garanties", "35 %"],
                ["Valeur technique", "Qualité de la gestion", "25 %"]]])
    facts = _facts({"RC_grid.docx": rc}).facts
    assert facts["montant_estime"].value == {"lot_1_annuel_ttc": 412500.0,
                                             "lot_2_annuel_ttc": 38400.0}
    criteria = facts["criteres_attribution"].value
    assert criteria["prix"]["poids"] == 40.0 and criteria["valeur_technique"]["poids"] == 60.0
    assert criteria["valeur_technique"]["sous_criteres"] == {"Niveau des garanties": 35.0,
                                                             "Qualité de la gestion": 25.0}


def test_a_term_without_renewal_is_not_given_one() -> None:
    rc = pdf([["RÈGLEMENT DE LA CONSULTATION", "ARTICLE 3 – DURÉE",
               "3.1 – Le marché est conclu pour une durée de quatre ans à compter du 1er juillet "
               "2027, sans reconduction.",
               "3.2 – Valeur totale estimée hors reconduction : 1 803 600 € TTC pour quatre ans."]])
    duration = _facts({"RC_d.pdf": rc}).facts["duree"].value
    assert duration["duree_initiale_mois"] == 48 and duration["duree_maximale_mois"] == 48
    assert duration["reconductions"] == 0


def test_penalties_and_firm_rates_are_read_for_the_lots_their_part_names() -> None:
    ccap = docx([("h1", "ARTICLE 5 – PRIX"),
                 "5.1 – Lot n° 1 et lot n° 2 : les taux de prime sont fermes pendant toute la "
                 "durée du marché, soit cinq (5) ans.",
                 "5.2 – Lot n° 3 : les cotisations sont garanties pendant les deux (2) premières "
                 "années, puis révisables annuellement.",
                 ("h1", "ARTICLE 6 – PÉNALITÉS"),
                 "6.1 – Lots n° 1 et 2 : une pénalité de 300 € par jour de retard est appliquée. "
                 "Le montant total de ces pénalités est plafonné à 10 % du montant annuel.",
                 "6.2 – Lot n° 3 : une pénalité égale à 1/5 000e du montant annuel par jour de "
                 "retard est appliquée. Le montant total est plafonné à 8 % du montant annuel.",
                 ("h1", "ARTICLE 7 – STATISTIQUES"),
                 "Une pénalité de 50 € par jour de retard s'applique aux statistiques."])
    facts = _facts({"CCAP_p.docx": ccap}).facts
    per_lot = facts["penalites"].value["par_lot"]
    assert per_lot["1"] == {"forfaits_journaliers_eur": [300.0, 50.0], "plafond_pct": 10.0}
    assert per_lot["3"] == {"taux_journalier_max_pct": 0.02, "plafond_pct": 8.0,
                            "forfaits_journaliers_eur": [50.0]}  # a rule naming no lot
    firm = facts["garantie_des_taux"].value
    assert firm["lot_1, lot_2"]["revisable_ensuite"] is False  # lot 3's rule is not theirs
    assert firm["lot_3"]["revisable_ensuite"] is True


def test_a_site_visit_names_the_lot_it_is_for() -> None:
    rc = pdf([["RÈGLEMENT DE LA CONSULTATION", "ARTICLE 5 – CONDITIONS",
               "5.3 – Visite : une visite du parc automobile est obligatoire pour les "
               "candidats au lot n° 1, jusqu'au 26 février 2027."]])
    visit = _facts({"RC_v.pdf": rc}).facts["visite"].value
    assert visit == "Visite obligatoire (lot 1), jusqu'au 26/02/2027"

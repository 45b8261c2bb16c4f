"""Passages cut into quotable units: headings marked, lists kept with their lead-in."""

from __future__ import annotations

from bot.extractive import (
    heading_lines_marked,
)


def test_heading_lines_are_marked_and_list_items_and_sentences_are_not() -> None:
    text = ("FAQ santé\nComment sont remboursées les lunettes ?\n"
            "La monture est remboursée jusqu'à 100 €.\n- Monture\n1. Verres")

    assert heading_lines_marked(text).splitlines() == [
        "### FAQ santé", "### Comment sont remboursées les lunettes ?",
        "La monture est remboursée jusqu'à 100 €.", "- Monture", "1. Verres"]


def test_a_table_row_with_a_dash_in_a_cell_and_its_header_row_are_no_headings() -> None:
    text = ("Garantie | Niveau minimal exigé\n"
            "Garantie : Décès – perte totale et irréversible d'autonomie ; Niveau minimal "
            "exigé : capital égal à 100 % du traitement annuel brut")
    assert heading_lines_marked(text).splitlines() == [
        "Garantie | Niveau minimal exigé",
        "Garantie : Décès – perte totale et irréversible d'autonomie ; Niveau minimal exigé : "
        "capital égal à 100 % du traitement annuel brut"]


def test_numbered_steps_under_their_heading_and_items_of_one_shape_are_whole_lists() -> None:
    from bot.extractive.units import passage_units

    steps = ("Étapes du traitement\n1. Ouvrir le dossier dans l'outil sous 24 heures.\n"
             "2. Vérifier les garanties souscrites et la date d'effet du contrat.\n"
             "3. Régler dans les 10 jours suivant l'accord du client.\nFraude\n"
             "Tout indice est signalé.")
    [listed, _] = passage_units(1, "Procédure", steps, 0)
    assert listed.text == "Étapes du traitement :" and len(listed.items) == 3
    weights = ("Les offres sont jugées selon les critères suivants :\n"
               "Prix (montant de la prime annuelle TTC) : 55 %\n"
               "Valeur technique (étendue des garanties, franchises, gestion des sinistres) : "
               "45 %, dont qualité de la gestion 20 % et adéquation des garanties 25 %.")
    [criteria] = passage_units(1, "RC", weights, 0)
    assert [item[:16] for item in criteria.items] == ["Prix (montant de", "Valeur technique"]


def test_numbered_headings_of_the_passage_s_path_are_headings() -> None:
    text = "Note interne\n1. Principes\nLe télétravail est possible deux jours par semaine."
    assert heading_lines_marked(text, ("Note interne", "1. Principes")).splitlines() == [
        "### Note interne", "### 1. Principes",
        "Le télétravail est possible deux jours par semaine."]
    assert heading_lines_marked(text).splitlines()[1] == "1. Principes"  # else a list item

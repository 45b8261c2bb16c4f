"""Questions about a table answered by computing over its cells."""

from __future__ import annotations

from knowledge.attached import AttachedFile
from knowledge.table_profile import Table
from skills.table_questions import (
    NamedTable,
    ReadTables,
    answer,
    answer_from_files,
    asks_computation,
    names_a_cell,
)

_SURVEY = NamedTable("enquete.csv", Table("", ["id", "produit", "canal", "note", "verbatim"], [
    ["V1", "auto", "agence", "4", "Très bien"],
    ["V2", "auto", "téléphone", "2", "Attente trop longue"],
    ["V3", "santé", "téléphone", "5", "Parfait"],
    ["V4", "santé", "agence", "", "RAS"],
    ["V5", "habitation", "agence", "3", "Correct"],
], truncated=False))
_GRID = (NamedTable("BPU.xlsx", Table("Lot 1", ["Garantie", "Assiette annuelle estimée"], [
    ["Décès", 51_000_000], ["Invalidité", 46_500_000]], truncated=False)),
         NamedTable("BPU.xlsx", Table("Lot 2", ["Niveau", "Effectif estimé"], [
             ["Socle", 520], ["Option 1", 140], ["Option 1", 40]], truncated=False)))


def test_a_mean_over_the_column_the_question_names() -> None:
    said = answer("Quelle est la note moyenne ?", [_SURVEY], "fr")
    assert said is not None and said.startswith("**Moyenne de « note »** : 3,50")
    assert ("Calculé sur 4 lignes de « enquete.csv » (1 cellule vide ou non numérique "
            "ignorée)") in said


def test_grouped_and_kept_to_a_value_the_question_says() -> None:
    said = answer("Quelle est la note moyenne par canal pour l'auto ?", [_SURVEY], "fr")
    assert said is not None
    assert said.startswith("**Moyenne de « note » par « canal »** où « produit » vaut « auto » :")
    assert "- agence : 4 (1 ligne)" in said and "- téléphone : 2 (1 ligne)" in said
    counted = answer("Combien de réponses par produit ?", [_SURVEY], "fr")
    assert counted is not None and "- auto : 2 (40 %)" in counted


def test_english_words_find_french_columns() -> None:
    said = answer("What is the average score by product?", [_SURVEY], "en")
    assert said is not None and said.startswith("**Average of “note” by “produit”**:")
    assert "- santé: 5 (1 row)" in said


def test_the_best_named_column_across_sheets_and_nothing_when_unclear() -> None:
    total = answer("Quel est le total de l'effectif estimé ?", _GRID, "fr")
    assert total is not None and total.startswith("**Total de « Effectif estimé »** : 700")
    assert "feuille « Lot 2 »" in total
    assert answer("Quel est le maximum ?", _GRID, "fr") is None  # two columns of figures
    assert answer("Quelle est la date limite ?", [_SURVEY], "fr") is None
    assert not asks_computation("Quelle est la date limite ?")
    assert asks_computation("Combien de lignes pour l'auto ?")


def test_a_table_read_once_is_kept_for_the_next_question_within_its_budget() -> None:
    data = "produit;note\nauto;4\nsanté;2\n".encode()
    kept = ReadTables(max_cells=10)
    first = kept.read(AttachedFile("a.csv", data))
    assert kept.read(AttachedFile("b.csv", data)) is first  # same content: not read again
    other = "x;y\n" + "1;2\n" * 20
    assert kept.read(AttachedFile("c.csv", other.encode())) is not kept.read(
        AttachedFile("c.csv", other.encode()))  # 42 cells: over the budget, not kept
    said = answer_from_files("Quelle est la note moyenne ?", [AttachedFile("a.csv", data)], "fr",
                             kept)
    assert said is not None and said.startswith("**Moyenne de « note »** : 3")


_DATED = NamedTable("avis.csv", Table("", ["date", "produit", "note"], [
    ["2023-11-05", "auto", "2"], ["2023-12-20", "santé", "4"], ["2024-01-03", "auto", "5"],
    ["2024-01-28", "santé", "3"], ["2024-04-02", "auto", "1"],
], truncated=False))


def test_grouped_by_the_period_of_the_date_column_in_time_order() -> None:
    monthly = answer("Quelle est la note moyenne par mois ?", [_DATED], "fr")
    assert monthly is not None and monthly.startswith("**Moyenne de « note » par « mois »** :\n"
                                                      "- 2023-11 : 2 (1 ligne)\n"
                                                      "- 2023-12 : 4 (1 ligne)\n"
                                                      "- 2024-01 : 4 (2 lignes)\n")
    quarters = answer("Combien de réponses par trimestre ?", [_DATED], "fr")
    assert quarters is not None and "- 2023-T4 : 2 (40 %)\n- 2024-T1 : 2 (40 %)" in quarters
    assert answer("Combien de réponses par mois ?", [_SURVEY], "fr") is None  # no dates


def test_kept_to_a_year_the_question_says() -> None:
    said = answer("Combien de réponses en 2024 pour l'auto ?", [_DATED], "fr")
    assert said is not None
    assert said.startswith("**2 lignes** où « produit » vaut « auto » en 2024 (« date »), soit **40 %** des 5 "
        "lignes.")
    english = answer("What is the average score in 2023?", [_DATED], "en")
    assert english is not None and english.startswith(
        "**Average of “note”** in 2023 (“date”): 3")


def test_mean_as_a_verb_asks_nothing_to_compute() -> None:
    assert not asks_computation("What does NPS mean?")
    assert asks_computation("What is the mean of the score?")


def test_follow_ups_replace_what_they_name_the_latest_first() -> None:
    question = "Quelle est la note moyenne par canal pour l'auto ?"
    health = answer(question, [_SURVEY], "fr", ("Et pour la santé ?",))
    assert health is not None and health.startswith(
        "**Moyenne de « note » par « canal »** où « produit » vaut « santé » :")
    back = answer(question, [_SURVEY], "fr", ("Et pour la santé ?", "Et pour l'auto ?"))
    assert back is not None and "vaut « auto »" in back
    # grouped by the column the kept value was in: every value of it is shown
    regrouped = answer(question, [_SURVEY], "fr", ("Et pour la santé ?", "Et par produit ?"))
    assert regrouped is not None and regrouped.startswith(
        "**Moyenne de « note » par « produit »** :\n")
    dated = answer("Combien de réponses pour l'auto ?", [_DATED], "fr", ("Et en 2024 ?",))
    assert dated is not None and dated.startswith(
        "**2 lignes** où « produit » vaut « auto » en 2024")


def test_a_follow_up_about_something_else_is_left_to_the_search() -> None:
    question = "Quelle est la note moyenne ?"
    assert answer(question, [_SURVEY], "fr",
                  ("Et le délai de traitement des réclamations ?",)) is None
    assert answer(question, [_SURVEY], "fr", ("Et le maximum ?",)) is not None


def test_kept_to_a_stretch_of_time_the_question_says() -> None:
    since = answer("Combien de réponses depuis janvier ?", [_DATED], "fr")
    assert since is not None and since.startswith(
        "**3 lignes** depuis janvier 2024 (« date »), soit **60 %** des 5 lignes.")  # the table's last date is in 2024
    between = answer("Quelle est la note moyenne entre novembre et décembre 2023 ?", [_DATED],
                     "fr")
    assert between is not None and between.startswith(
        "**Moyenne de « note »** de novembre 2023 à décembre 2023 (« date ») : 3")
    quarter = answer("What is the average score in Q1 2024?", [_DATED], "en")
    assert quarter is not None and quarter.startswith(
        "**Average of “note”** in Q1 2024 (“date”): 4")
    moved = answer("Combien de réponses avant 2024 ?", [_DATED], "fr", ("Et depuis mars ?",))
    assert moved is not None and moved.startswith("**1 ligne** depuis mars 2024")
    recent = answer("How many responses over the last 3 months?", [_DATED], "en")
    assert recent is not None and recent.startswith(
        "**1 row** over the file's last 3 months (February 2024 to April 2024) (“date”), that is "
        "**20%** of the 5 rows.")
    assert "Not taken into account" not in recent


def test_two_values_kept_and_a_follow_up_replacing_one() -> None:
    both = answer("Quelle est la note moyenne pour l'auto en agence ?", [_SURVEY], "fr")
    assert both is not None and both.startswith(
        "**Moyenne de « note »** où « produit » vaut « auto » et « canal » vaut « agence » : 4")
    health = answer("Quelle est la note moyenne pour l'auto en agence ?", [_SURVEY], "fr",
                    ("Et pour la santé ?",))
    assert health is not None and "« produit » vaut « santé » et « canal » vaut « agence »" \
        in health and health.startswith("**Aucun nombre dans « note »**")  # an empty cell
    phone = answer("Combien de réponses pour l'auto ?", [_SURVEY], "fr", ("Et par téléphone ?",))
    assert phone is not None and phone.startswith(
        "**1 ligne** où « produit » vaut « auto » et « canal » vaut « téléphone », soit "
        "**20 %** des 5 lignes.")
    zero = answer("Combien de réponses pour l'habitation par téléphone ?", [_SURVEY], "fr")
    assert zero is not None and zero.startswith("**0 ligne** où")


def test_rows_of_each_sheet_or_of_the_one_holding_the_value() -> None:
    sheets = answer("Combien de lignes ?", _GRID, "fr")
    assert sheets is not None and sheets.startswith(
        "**Lignes par feuille** :\n- Lot 1 : 2 lignes\n- Lot 2 : 3 lignes")
    option = answer("Combien de lignes pour l'option 1 ?", _GRID, "fr")
    assert option is not None and option.startswith(
        "**2 lignes** où « Niveau » vaut « Option 1 », soit **66,7 %** des 3 lignes.")
    assert "feuille « Lot 2 »" in option


def test_words_nothing_accounts_for_are_said() -> None:
    # a count of every row is no answer to a question about some of them: the search answers
    assert answer("How many responses for bike insurance?", [_SURVEY], "en") is None
    assert answer("Combien de clients mécontents ?", [_SURVEY], "fr") is None
    assert answer("Combien de lignes ?", [_SURVEY], "fr") is not None
    # “car insurance” renders « assurance auto »: every word of it is accounted for
    car = answer("How many responses for car insurance?", [_SURVEY], "en")
    assert car is not None and car.startswith("**2 rows** where “produit” is “auto”")
    assert "Not taken into account" not in car
    home = answer("What is the average score for home insurance?", [_SURVEY], "en")
    assert home is not None and home.startswith("**Average of “note”** where “produit” is "
                                                "“habitation”: 3")
    assert "Not taken into account" not in home
    bike = answer("Combien de réponses pour le vélo par canal ?", [_SURVEY], "fr")
    assert bike is not None and bike.endswith(
        "Non pris en compte : « vélo » (aucune colonne ni valeur ne le dit).")
    said = answer("Quelle est la note moyenne donnée par les clients pour l'auto ?", [_SURVEY],
                  "fr")
    assert said is not None and "Non pris en compte" not in said


def test_quarters_read_in_the_person_s_language() -> None:
    quarters = answer("How many responses by quarter?", [_DATED], "en")
    assert quarters is not None and "- 2023-Q4: 2 (40%)\n- 2024-Q1: 2 (40%)" in quarters


_NPS = NamedTable("nps.csv", Table("", ["canal", "Recommandation (0-10)", "note"], [
    ["agence", "10", "5"], ["agence", "9", "4"], ["agence", "7", "4"], ["agence", "3", "1"],
    ["téléphone", "6", "2"], ["téléphone", "2", "1"], ["téléphone", "9", "4"],
], truncated=False))


def test_the_net_promoter_score_of_answers_from_0_to_10() -> None:
    said = answer("Quel est le NPS ?", [_NPS], "fr")
    assert said is not None and said.startswith(
        "**NPS de « Recommandation (0-10) »** : 0 (promoteurs 43 %, passifs 14 %, "
        "détracteurs 43 %)")
    assert said.endswith("NPS : part des promoteurs (9 ou 10) moins part des détracteurs "
                         "(0 à 6), en points, de -100 à +100.")
    by = answer("What is the NPS by channel?", [_NPS], "en")
    assert by is not None and "- agence: +25 (promoters 50%, passives 25%, detractors 25%) "\
        "(4 rows)" in by and "- téléphone: -33 (promoters 33%" in by
    mean = answer("Quel est le NPS moyen ?", [_NPS], "fr")  # the mean, as asked
    assert mean is not None and mean.startswith("**Moyenne de « Recommandation (0-10) »** : 6,57")
    follow = answer("Quelle est la note moyenne par canal ?", [_NPS], "fr", ("Et le NPS ?",))
    assert follow is not None and follow.startswith(
        "**NPS de « Recommandation (0-10) » par « canal »** :")
    # a scale of 1 to 5 has no NPS
    assert answer("Quel est le NPS ?", [_SURVEY], "fr") is None


def test_rows_by_the_values_of_a_rating_and_its_spread() -> None:
    by_note = answer("Combien de réponses par note ?", [_SURVEY], "fr")
    assert by_note is not None and by_note.startswith(  # in the rating's order, empty last
        "**Lignes par « note »** :\n- 2 : 1 (20 %)\n- 3 : 1 (20 %)\n- 4 : 1 (20 %)\n"
        "- 5 : 1 (20 %)\n- (vide) : 1 (20 %)\n")
    spread = answer("Quelle est la répartition des notes pour l'auto ?", [_SURVEY], "fr")
    assert spread is not None and spread.startswith(
        "**Lignes par « note »** où « produit » vaut « auto » :\n- 2 : 1 (50 %)\n- 4 : 1 (50 %)")
    english = answer("What is the breakdown of scores for health?", [_SURVEY], "en")
    assert english is not None and english.startswith(
        "**Rows by “note”** where “produit” is “santé”:")  # “health” through « santé »
    phone = answer("How many answers by phone?", [_SURVEY], "en")
    assert phone is not None and phone.startswith(
        "**2 rows** where “canal” is “téléphone”, that is **40%** of the 5 rows.")


def test_rows_kept_to_a_condition_on_a_column_of_figures() -> None:
    low = answer("Combien de réponses avec une note inférieure à 4 ?", [_SURVEY], "fr")
    assert low is not None and low.startswith(
        "**2 lignes** où « note » < 4, soit **40 %** des 5 lignes.")
    mean = answer("Quelle est la note moyenne quand le NPS est supérieur à 8 ?", [_NPS], "fr")
    assert mean is not None and mean.startswith(
        "**Moyenne de « note »** où « Recommandation (0-10) » > 8 : 4")  # the NPS named it
    both = answer("How many scores of 4 or 5 by channel?", [_SURVEY], "en")
    assert both is not None and both.startswith(
        "**Rows by “canal”** where “note” is 4 or 5:\n- agence: 1 (50%)\n- téléphone: 1 (50%)")
    moved = answer("Combien de réponses avec une note de 2 ?", [_SURVEY], "fr",
                   ("Et pour les notes de 4 ou 5 ?",))
    assert moved is not None and moved.startswith(
        "**2 lignes** où « note » vaut 4 ou 5, soit **40 %** des 5 lignes.")


def test_a_share_of_the_rows_and_a_median() -> None:
    share = answer("Quelle part des réponses a une note de 4 ou 5 ?", [_SURVEY], "fr")
    assert share is not None and share.startswith(
        "**2 lignes** où « note » vaut 4 ou 5, soit **40 %** des 5 lignes.")
    median = answer("What is the median score?", [_SURVEY], "en")
    assert median is not None and median.startswith("**Median of “note”**: 3.50")


def test_the_share_of_a_condition_is_of_the_rows_the_question_keeps_to() -> None:
    among = answer("Quelle part des réponses en agence a une note de 4 ou plus ?", [_SURVEY], "fr")
    assert among is not None and among.startswith(
        "**1 ligne** où « canal » vaut « agence » et « note » ≥ 4, soit **33,3 %** des 3 lignes "
        "où « canal » vaut « agence ».")


def test_which_group_ranks_first() -> None:
    lowest = answer("Quel canal a la note la plus basse ?", [_SURVEY], "fr")
    assert lowest is not None and lowest.startswith(  # a tie: both said
        "**agence** et **téléphone** : la moyenne la plus basse de « note » (3,50), sur 2 "
        "lignes seulement : à confirmer.\n\n"
        "**Moyenne de « note » par « canal »** :\n")
    best = answer("Quel produit a la meilleure note ?", [_SURVEY], "fr")
    assert best is not None and best.startswith(
        "**santé** : la moyenne la plus haute de « note » (5), sur 1 ligne seulement : à "
        "confirmer.")
    most = answer("Which product has the most responses?", [_SURVEY], "en")
    assert most is not None and most.startswith(
        "**auto** and **santé**: the most rows (2).\n\n**Rows by “produit”**:")
    assert "Non pris en compte" not in best and "Not taken" not in most
    used = answer("Quel est le canal le plus utilisé ?", [_SURVEY], "fr")
    assert used is not None and used.startswith("**agence** : le plus de lignes (3).")
    assert answer("Quelle note la plus basse a été donnée ?", [_SURVEY], "fr") is not None


def test_either_of_two_values_of_a_column() -> None:
    either = answer("Combien de réponses pour l'auto ou l'habitation en agence ?", [_SURVEY], "fr")
    assert either is not None and either.startswith(
        "**2 lignes** où « produit » vaut « auto » ou « habitation » et « canal » vaut "
        "« agence », soit **40 %** des 5 lignes.")
    rated = answer("What is the lowest rated product?", [_SURVEY], "en")
    assert rated is not None and rated.startswith(
        "**auto** and **habitation**: the lowest average of “note” (3)")  # “rated” → « noté »


def test_how_many_values_a_column_holds() -> None:
    said = answer("Combien de canaux ?", [_SURVEY], "fr")
    assert said is not None and said.startswith("**2 valeurs de « canal »** :\n- agence : 3")
    english = answer("How many products?", [_SURVEY], "en")
    assert english is not None and english.startswith("**3 values of “produit”**:")
    # « niveaux » names « Niveau »; a word naming no column is left to the search
    assert answer("Combien de niveaux ?", _GRID, "fr") is not None
    assert answer("Combien de trimestres faut-il valider ?", [_SURVEY], "fr") is None


def test_a_follow_up_names_another_column_whose_values_to_count() -> None:
    channels = answer("Combien de produits ?", [_SURVEY], "fr", ["Et de canaux ?"])
    assert channels is not None and channels.startswith("**2 valeurs de « canal »** :")
    by = answer("Combien de canaux ?", [_SURVEY], "fr", ["Et par produit ?"])
    assert by is not None and by.startswith("**3 valeurs de « produit »** :")
    english = answer("How many products?", [_SURVEY], "en", ["What about channels?"])
    assert english is not None and english.startswith("**2 values of “canal”**:")
    assert "Not taken into account" not in english  # “about” asks, it names nothing
    # a follow-up naming no column keeps the column first asked about
    kept = answer("Combien de canaux ?", [_SURVEY], "fr", ["Et de grêle ?"])
    assert kept is None or kept.startswith("**2 valeurs de « canal »**")


def test_means_listed_side_by_side_keep_their_decimals() -> None:
    survey = NamedTable("enquete.csv", Table("", ["canal", "note"], [
        ["agence", "4"], ["agence", "3"], ["téléphone", "3"], ["email", "2"]], truncated=False))
    said = answer("Quelle est la note moyenne par canal ?", [survey], "fr")
    assert said is not None
    assert "- agence : 3,50 (2 lignes)" in said and "- téléphone : 3,00 (1 ligne)" in said
    whole = answer("Quelle est la note moyenne par canal ?", [_SURVEY], "fr")
    assert whole is not None and "- agence : 3,50 (2 lignes)" in whole  # 4 and 3, one empty
    assert "- téléphone : 3,50 (2 lignes)" in whole


def test_a_french_question_from_an_english_user_leaves_no_french_word_out() -> None:
    said = answer("Quelle est la note moyenne par canal ?", [_SURVEY], "en")
    assert said is not None and said.startswith("**Average of “note” by “canal”**:")
    assert "Not taken into account" not in said


def test_a_follow_up_naming_another_sheet_s_column_of_figures_computes_it() -> None:
    said = answer("Quel est le total de l'effectif estimé ?", _GRID, "fr", ["Et l'assiette ?"])
    assert said is not None and said.startswith(
        "**Total de « Assiette annuelle estimée »** : 97\u202f500\u202f000")
    assert "Non pris en compte" not in said  # « effectif » was asked before, and replaced
    levels = answer("Combien de garanties ?", _GRID, "fr", ["Et de niveaux ?"])
    assert levels is not None and levels.startswith("**2 valeurs de « Niveau »**")
    assert "Non pris en compte" not in levels


def test_values_counted_on_each_sheet_whose_column_the_question_names() -> None:
    grid = (*_GRID, NamedTable("BPU.xlsx", Table("Lot 3", ["Niveau", "Cotisation"], [
        ["Socle", 30], ["Option", 45]], truncated=False)))
    said = answer("Combien de niveaux ?", grid, "fr")
    assert said is not None and said.startswith("**2 valeurs de « Niveau »** :\n- Option 1 : 2")
    assert "\n\n**2 valeurs de « Niveau »** :\n- Option : 1" in said
    assert "feuille « Lot 2 »" in said and "feuille « Lot 3 »" in said


def test_the_groups_an_nps_sorts_people_into() -> None:
    survey = NamedTable("avis.csv", Table("", ["region", "nps"], [
        ["Bretagne", "3"], ["Bretagne", "10"], ["Bretagne", "6"], ["Normandie", "9"],
        ["Normandie", "8"]], truncated=False))
    share = answer("Quelle part de détracteurs en Bretagne ?", [survey], "fr")
    assert share is not None and share.startswith(
        "**2 lignes** où « region » vaut « Bretagne » et « nps » de 0 à 6, soit **66,7 %** des "
        "3 lignes où « region » vaut « Bretagne ».")
    promoters = answer("What is the share of promoters?", [survey], "en")
    assert promoters is not None and promoters.startswith("**2 rows** where “nps” from 9 to 10")
    # a table holding no answers from 0 to 10 has no detractors to count
    assert answer("Combien de détracteurs ?", [_SURVEY], "fr") is None


def test_the_groups_ranked_by_their_nps_and_a_value_said_in_the_other_order() -> None:
    survey = NamedTable("avis.csv", Table("", ["region", "canal", "nps"], [
        ["Bretagne", "application mobile", "3"], ["Bretagne", "agence", "2"],
        ["Normandie", "agence", "9"], ["Normandie", "application mobile", "10"]],
        truncated=False))
    lowest = answer("Which region has the lowest NPS?", [survey], "en")
    assert lowest is not None and lowest.startswith("**Bretagne**: the lowest NPS of “nps” (-100)")
    french = answer("Quelle région a le NPS le plus bas ?", [survey], "fr")
    assert french is not None and french.startswith("**Bretagne** : le NPS le plus bas")
    by = answer("Quel est le NPS le plus haut par canal ?", [survey], "fr")
    assert by is not None and by.startswith("**agence**")  # tied at 0, the first said
    app = answer("How many responses came from the mobile app?", [survey], "en")
    assert app is not None and app.startswith(
        "**2 rows** where “canal” is “application mobile”")
    assert "Not taken into account" not in app


def test_english_follow_ups_and_a_ranking_turned_round() -> None:
    survey = NamedTable("avis.csv", Table("", ["date", "produit", "canal", "nps"], [
        ["2023-05-01", "auto", "agence", "3"], ["2024-02-01", "auto", "agence", "10"],
        ["2024-03-01", "auto", "téléphone", "9"], ["2024-04-01", "habitation", "agence", "2"]],
        truncated=False))
    later = answer("What is the NPS for car insurance?", [survey], "en",
                   ["What about in 2024?"])
    assert later is not None and later.startswith(
        "**NPS of “nps”** where “produit” is “auto” in 2024"), later
    best = answer("Which channel has the worst NPS?", [survey], "en", ["And the best?"])
    assert best is not None and best.startswith("**téléphone**: the highest NPS"), best
    highest = answer("Quel canal a le NPS le plus bas ?", [survey], "fr", ["Et le plus haut ?"])
    assert highest is not None and highest.startswith("**téléphone** : le NPS le plus haut")


def test_words_that_chose_the_sheet_or_a_replaced_value_are_not_left_out() -> None:
    sheet = answer("Quel est le total de l'effectif estimé du lot 2 ?", _GRID, "fr")
    assert sheet is not None and "Non pris en compte" not in sheet
    car = answer("What is the average score for home insurance?", [_SURVEY], "en",
                 ["And for car only?"])
    assert car is not None and car.startswith("**Average of “note”** where “produit” is “auto”")
    assert "Not taken into account" not in car  # “home insurance” was asked, then replaced


def test_a_french_question_over_an_english_export() -> None:
    export = NamedTable("en.csv", Table("", ["Product Line", "Contact Channel", "Satisfaction",
                                             "Likelihood to recommend"], [
        ["Home", "App", "2", "3"], ["Home", "Web", "4", "10"], ["Car", "App", "1", "9"]],
        truncated=False))
    said = answer("Quelle est la satisfaction moyenne par produit ?", [export], "fr")
    assert said is not None and said.startswith(
        "**Moyenne de « Satisfaction » par « Product Line »** :"), said
    worst = answer("Quel canal a la pire satisfaction ?", [export], "fr")
    assert worst is not None and worst.startswith("**App** : la moyenne la plus basse"), worst
    nps = answer("Quel est le NPS par produit ?", [export], "fr")
    assert nps is not None and nps.startswith("**NPS de « Likelihood to recommend » par")


def test_a_question_naming_a_value_of_a_table() -> None:
    grid = AttachedFile("bpu.csv", "Catégorie;Effectif\nAgent actif;520\nRetraité;140\n".encode())
    assert names_a_cell("Combien de retraités ?", [grid], "fr")
    assert names_a_cell("Combien d'agents actifs ?", [grid], "fr")
    assert not names_a_cell("Combien de clients mécontents ?", [grid], "fr")


def test_an_empty_export_has_no_rows() -> None:
    empty = NamedTable("vide.csv", Table("", ["a", "b"], [], truncated=False))
    said = answer("Combien de lignes ?", [empty], "fr")
    assert said is not None and said.startswith("**0 ligne**.")
    assert answer("Quelle est la moyenne de b ?", [empty], "fr") is None


_SCORED = NamedTable("survey.csv", Table("", ["id", "comment", "score"], [
    ["R1", "Fine", "1"], ["R2", "Bad", "2"], ["R3", "Good", "5"], ["R4", "Slow", "1"]],
    truncated=False))


def test_a_condition_on_a_column_named_score() -> None:
    said = answer("What share of responses have a score of 1 or 2?", [_SCORED], "en")
    assert said is not None and said.startswith("**3 rows** where “score” is 1 or 2"), said
    said = answer("How many rows where score is 1?", [_SCORED], "en")
    assert said is not None and said.startswith("**2 rows** where “score” is 1"), said


def test_a_condition_counts_on_the_sheet_holding_its_column() -> None:
    settings = NamedTable("b.xlsx", Table("Paramètres", ["Clé", "Valeur"], [
        ["version", "v2"], ["source", "crm"]], truncated=False))
    said = answer("Combien de réponses ont une note inférieure à 3 ?",
                  [_SURVEY, settings], "fr")
    assert said is not None and said.startswith("**1 ligne** où « note » < 3"), said

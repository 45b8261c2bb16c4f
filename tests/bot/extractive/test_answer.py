"""The offline answer: the sentences chosen, grouped, cited, and what the passages leave out."""

from __future__ import annotations

from dataclasses import replace

from bot.extractive import (
    asked_entity,
    passage_units,
    quoted_section,
    select_answer,
)
from bot.gateway.llm import ChatTurn, CompletionRequest, ContextPassage
from tests.bot.extractive.requests import completion_request


def test_answer_cites_the_relevant_sentence() -> None:
    text = select_answer(completion_request(
        "Quel est le délai pour déclarer un dégât des eaux ?",
        ["La cantine ouvre à midi. Les congés se posent dans l'outil RH.",
         "Un dégât des eaux doit être déclaré dans un délai de cinq jours ouvrés. "
         "Joignez des photos des dommages."],
    ))
    assert "cinq jours ouvrés. [2]" in text
    assert "cantine" not in text


def test_nothing_to_quote_is_said_plainly() -> None:
    text = select_answer(completion_request("Quel est le prix du carburant ?", []))
    assert text.startswith("Je ne trouve")


def test_a_passage_sharing_no_word_with_the_question_is_quoted_with_a_caveat() -> None:
    # the search judged it relevant, but it says « ordinateur », not « équipement »
    text = select_answer(completion_request(
        "Quel équipement est prévu à distance ?",
        ["L'entreprise fournit un ordinateur portable, un écran et un casque. Une indemnité "
         "de 2,50 € par jour est versée."]))
    assert text.startswith("Aucune phrase ne reprend les termes de la question")
    assert "- L'entreprise fournit un ordinateur portable, un écran et un casque. [1]" in text


def test_a_form_s_blank_rows_are_quoted_once_when_nothing_shares_the_question_s_words() -> None:
    text = select_answer(completion_request(
        "Quel est le montage prévu ?",
        ["En cas de co-assurance, la quote-part de chaque co-assureur est indiquée ci-dessous :\n"
         "Co-assureur | Quote-part du risque\n"
         "Co-assureur : ……… ; Quote-part du risque : … %\n"
         "Co-assureur : ……… ; Quote-part du risque : … %\n"
         "Après avoir pris connaissance des pièces, le candidat s'engage."]))
    assert text.startswith("Aucune phrase ne reprend les termes de la question")
    # the list, as the form lays it out, and not its last row again on its own
    assert text.count("Co-assureur : ……… ; Quote-part du risque") == 2
    assert "\n- Co-assureur" not in text


def test_a_verb_matches_its_other_forms() -> None:
    # « fourni » / « fournit », « télétravail » / « télétravaillé »
    text = select_answer(completion_request(
        "Quel matériel est fourni en télétravail ?",
        ["L'entreprise fournit un ordinateur portable, un écran et un casque. Une indemnité "
         "de 2,50 € par jour télétravaillé est versée."]))
    assert text.startswith("Selon")
    assert text.index("fournit un ordinateur") < text.index("télétravaillé")


def test_a_follow_up_whose_words_find_nothing_is_read_with_the_question_it_continues() -> None:
    passages = ["Le passeport coûte 86 €. Il est valable 10 ans.",
                "Le passeport se demande en mairie, sur rendez-vous."]
    own = select_answer(completion_request("Et pour un enfant ?", passages))
    assert own.startswith("Aucune phrase ne reprend")
    request = replace(completion_request("Et pour un enfant ?", passages),
                      context_terms="Combien coûte un passeport ?")
    text = select_answer(request)
    assert "- Le passeport coûte 86 €. [1]" in text and not text.startswith("Aucune phrase")
    # its own words choose the sentences, and the passage found first (searched with the
    # question it continues) speaks first
    request = replace(completion_request("Et en mairie ?", passages),
                      context_terms="Combien coûte un passeport ?")
    text = select_answer(request)
    assert text.index("Le passeport coûte 86 €. [1]") < text.index(
        "Le passeport se demande en mairie, sur rendez-vous. [2]")
    alone = select_answer(completion_request("Et en mairie ?", passages))
    assert "mairie, sur rendez-vous. [2]" in alone and "86 €" not in alone


def test_english_question_quotes_the_closest_french_passage_and_says_so() -> None:
    text = select_answer(completion_request("What is the fuel price?",
                                  ["La cantine ouvre à midi. Elle ferme à 14 heures."],
                                  locale="en"))
    assert text.startswith("No sentence uses the question's words")
    assert "According to “Doc 1” (in French):" in text
    assert "La cantine ouvre à midi. [1]" in text
    assert "approved generative model would answer in English" in text


def test_a_list_is_never_cut_from_its_lead_in() -> None:
    text = select_answer(completion_request(
        "Quelles pièces fournir pour déclarer un sinistre ?",
        ["Pour déclarer un sinistre, fournissez les pièces suivantes :\n"
         "le constat amiable signé\nles photos des dommages\nune facture d'achat\n"
         "Le dossier est instruit par le service sinistres de votre région, qui vous "
         "répond par écrit dans les meilleurs délais après réception de toutes les pièces.",
         "Un sinistre se déclare aussi en agence. Les pièces à fournir sont :"],
    ))
    assert "- Pour déclarer un sinistre, fournissez les pièces suivantes : [1]\n" \
           "  - le constat amiable signé\n  - les photos des dommages\n" \
           "  - une facture d'achat" in text
    assert "sont : [2]" not in text  # its list is not in the passage: lead-in dropped too
    assert not any(line.rstrip().endswith(":") and line.startswith("- ") and
                   not line.endswith("[1]") for line in text.splitlines())


def test_a_list_s_last_item_joined_to_the_next_sentence_ends_the_list() -> None:
    # a PDF's text joins the last item and the paragraph after it on one line
    text = select_answer(completion_request("Quelles sont les pénalités ?", [
        "Les pénalités suivantes sont applicables sans mise en demeure préalable :\n"
        "– retard dans le versement des prestations : 1/3 000e par jour de retard ;\n"
        "– retard dans la transmission du rapport annuel : 150 € par jour de retard ;\n"
        "– retard dans la transmission des bordereaux et attestations demandés par un membre "
        "du groupement : pénalité forfaitaire de 50 € par jour calendaire de retard au-delà "
        "de dix jours ouvrés. Le montant cumulé des pénalités est plafonné à 5 % du montant "
        "annuel des cotisations."]))
    assert "  - retard dans la transmission des bordereaux" in text
    assert "- Le montant cumulé des pénalités est plafonné" in text


def test_no_sentence_is_repeated_across_overlapping_passages() -> None:
    shared = "Le délai de déclaration est de cinq jours ouvrés."
    text = select_answer(completion_request("Quel est le délai de déclaration ?",
                                  [f"Déclarez vite. {shared}", f"{shared} Joignez des photos."]))
    assert text.count("cinq jours ouvrés") == 1


def test_the_sentence_with_the_asked_number_is_preferred() -> None:
    passages = ["La retraite dépend du nombre de trimestres validés au régime général. "
                "Le nombre de trimestres validés figure sur le relevé de carrière. "
                "Les trimestres validés se consultent en ligne. "
                "Les trimestres de chômage sont validés sous conditions. "
                "Il faut 172 trimestres validés pour une retraite à taux plein."]
    text = select_answer(completion_request("Combien de trimestres validés faut-il ?", passages))
    assert "172 trimestres" in text


def test_a_figure_written_in_words_is_a_figure() -> None:
    text = select_answer(completion_request("Combien de jours de télétravail par semaine ?",
                                  ["Le télétravail est possible jusqu'à trois jours par semaine."]))
    assert "trois jours" in text and "chiffre" not in text
    missing = select_answer(completion_request("Combien de jours de télétravail par semaine ?",
                                     ["Le télétravail est possible sur accord du manager."]))
    assert "ne donnent pas de chiffre" in missing


def test_a_passage_giving_the_delay_is_not_called_partial() -> None:
    text = select_answer(completion_request("Sous quel délai déclarer des dommages de grêle ?",
                                  ["La déclaration des dommages de grêle se fait sous quatre "
                                   "jours ouvrés."]))
    assert "quatre jours" in text and "en partie" not in text


def test_answer_is_grouped_by_source_in_retrieval_order() -> None:
    text = select_answer(completion_request(
        "Comment déclarer un vol de vélo ?",
        ["Un vol de vélo se déclare au commissariat.",
         "Le vol de vélo doit être déclaré à l'assureur sous deux jours.",
         "Après un vol de vélo, le commissariat remet un récépissé."],
    ))
    first, second = text.index("Selon « Doc 1 »"), text.index("Selon « Doc 2 »")
    assert first < second


def test_partial_answers_say_what_is_missing() -> None:
    text = select_answer(completion_request(
        "Quel est le délai de déclaration d'un sinistre en Belgique ?",
        ["Le délai de déclaration d'un sinistre est de cinq jours ouvrés."],
    ))
    assert "ne répondent qu'en partie" in text and "« Belgique »" in text


def test_an_english_answer_names_the_key_words_no_passage_renders() -> None:
    request = replace(
        completion_request("How do I declare a car accident?",
                 ["L'assuré doit déclarer le sinistre habitation dans les 5 jours ouvrés."],
                 locale="en"),
        match_terms="déclarer voiture véhicule automobile accident", cross_lingual=True,
        rendered_terms=(("declare", ("déclarer",)),
                        ("car", ("voiture", "véhicule", "automobile")),
                        ("accident", ("accident",))))
    text = select_answer(request)
    assert "5 jours ouvrés" in text
    assert "These passages only partly answer: they say nothing about “car”, “accident”." in text
    # one word alone is most often said otherwise by the page: not named
    one_missing = select_answer(replace(request, rendered_terms=request.rendered_terms[:2]))
    assert "partly" not in one_missing
    # a passage rendering them: nothing to say
    covered = select_answer(replace(request, passages=(ContextPassage(
        1, "Doc 1", "Un accident de voiture se déclare sous 5 jours ouvrés."),)))
    assert "partly" not in covered


def test_only_the_words_naming_the_subject_are_said_missing_when_given() -> None:
    question = "Que devient le crédit immobilier lorsque la vente est annulée en Belgique ?"
    passages = ["Si la vente est annulée, le contrat de crédit immobilier est résolu."]
    every_word = select_answer(completion_request(question, passages))
    assert "« devient »" in every_word and "« lorsque »" in every_word
    request = replace(completion_request(question, passages),
                      subject_words=("crédit", "vente", "Belgique"))
    subject_only = select_answer(request)
    assert "ils ne disent rien de « Belgique »." in subject_only
    covered = select_answer(replace(request, subject_words=("crédit", "vente")))
    assert "en partie" not in covered and "résolu" in covered


def test_every_word_of_the_subject_a_quoted_source_says_is_quoted() -> None:
    question = "Quelle est la franchise en cas de dégât des eaux ?"
    procedure = ("Pièces justificatives :\n- photos des dommages ;\n"
                 "- constat amiable de dégât des eaux signé par les deux parties.",
                 "L'indemnité est versée sous 30 jours, déduction faite de la franchise "
                 "contractuelle (150 € en formule Essentielle).")
    other = "La franchise de l'assurance auto est de 300 € par sinistre."
    passages = (*(ContextPassage(n, "Sinistre habitation", text)
                  for n, text in enumerate(procedure, 1)),
                ContextPassage(3, "Assurance auto", other))
    request = replace(completion_request(question, []), passages=passages)
    assert "150 €" not in select_answer(request)  # the list matches two words, this one one
    text = select_answer(replace(request, subject_words=("franchise", "dégât", "eaux")))
    assert "constat amiable de dégât des eaux" in text and "(150 € en formule Essentielle)" in text
    assert "300 €" not in text  # another source is not brought in for one word
    assert "en partie" not in text


def test_a_list_s_own_bullets_are_not_drawn_twice() -> None:
    text = select_answer(completion_request(
        "Que faut-il joindre pour le remboursement des frais ?",
        ["Pour obtenir le remboursement, joignez :\n- la facture acquittée ;\n"
         "• le justificatif de transport ;\n* le formulaire signé."]))
    assert ("joignez : [1]\n  - la facture acquittée ;\n  - le justificatif de transport ;\n"
            "  - le formulaire signé.") in text


def test_a_follow_up_asking_what_a_sentence_just_quoted_carries_gets_it_again() -> None:
    said = "Le télétravail est possible jusqu'à trois jours par semaine, sur accord du manager."
    passages = [f"{said} Un jour de présence collective est fixé chaque semaine."]
    earlier = (ChatTurn("user", "Combien de jours de télétravail par semaine ?"),
               ChatTurn("assistant", f"Selon « Doc 1 » :\n- {said} [1]"))
    request = completion_request("Qui valide ?", passages)
    request = replace(request, messages=(*earlier, *request.messages),
                      context_terms="Combien de jours de télétravail par semaine ?")
    assert "sur accord du manager. [1]" in select_answer(request)
    again = replace(request, question="Et pour les stagiaires ?",
                    messages=(*earlier, ChatTurn("user", "Et pour les stagiaires ?")))
    assert "sur accord du manager" not in select_answer(again)  # nothing new asked: not again


def test_a_follow_up_on_the_subject_gets_what_was_not_just_quoted() -> None:
    said = ("Toute réclamation reçoit un accusé de réception sous 10 jours ouvrables, sauf si "
            "la réponse elle-même est apportée dans ce délai.")
    passages = [f"Accusé de réception\n{said}\nDélai de réponse\nLa réponse définitive est "
                "apportée sous deux mois à compter de la réception de la réclamation."]
    question = "Sous combien de temps accuse-t-on réception d'une réclamation ?"
    earlier = (ChatTurn("user", question), ChatTurn("assistant", f"Selon « Doc 1 » :\n- {said} [1]"))
    request = completion_request("Et la réponse définitive ?", passages)
    request = replace(request, messages=(*earlier, *request.messages), context_terms=question)
    text = select_answer(request)
    assert "La réponse définitive est apportée sous deux mois" in text, text
    assert "accusé de réception sous 10 jours" not in text


def test_a_follow_up_naming_another_case_still_asks_for_the_delay() -> None:
    said = ("L'assuré doit déclarer le sinistre dans les 5 jours ouvrés. En cas de vol, le "
            "délai est réduit à 2 jours ouvrés et un dépôt de plainte est obligatoire.")
    passages = [f"Délais\n{said}",
                "Pièces justificatives :\n- photos des dommages ;\n- récépissé du dépôt de "
                "plainte en cas de vol ;\n- constat amiable de dégât des eaux signé."]
    question = "Dans quel délai déclarer un dégât des eaux ?"
    earlier = (ChatTurn("user", question), ChatTurn("assistant", f"Selon « Doc 1 » :\n- {said} [1]"))
    request = completion_request("Et pour un vol ?", passages)
    request = replace(request, messages=(*earlier, *request.messages), context_terms=question)
    text = select_answer(request)
    assert "le délai est réduit à 2 jours ouvrés" in text, text
    assert "Pièces justificatives" not in text


def test_an_english_follow_up_answered_again_says_what_it_asked_is_not_there() -> None:
    said = "Le montant annuel estimé du lot 2 est de 1 560 000 €."
    earlier = (ChatTurn("user", "Quel est le montant estimé du lot 2 ?"),
               ChatTurn("assistant", f"Selon « Doc 1 » :\n- {said} [1]"))
    request = completion_request("What about the deadline?", [said], locale="en")
    request = replace(request, messages=(*earlier, *request.messages),
                      context_terms="Quel est le montant estimé du lot 2 ?",
                      match_terms="délai date limite", cross_lingual=True,
                      rendered_terms=(("deadline", ("date limite", "échéance")),))
    text = select_answer(request)
    assert "they say nothing about “deadline”" in text, text


def test_who_may_benefit_quotes_the_people_a_rule_is_open_to() -> None:
    assert asked_entity("Qui peut en bénéficier ?") == "eligible"
    assert asked_entity("Who is eligible?") == "eligible"
    assert asked_entity("Qui traite les réclamations ?") == "who"
    said = "Le télétravail est possible jusqu'à trois jours par semaine, sur accord du manager."
    passages = [f"Tout collaborateur en CDI ou CDD de plus de six mois peut demander à "
                f"télétravailler. {said} Un jour de présence collective est fixé chaque semaine."]
    earlier = (ChatTurn("user", "Combien de jours de télétravail par semaine ?"),
               ChatTurn("assistant", f"Selon « Doc 1 » :\n- {said} [1]"))
    request = completion_request("Qui peut en bénéficier ?", passages)
    request = replace(request, messages=(*earlier, *request.messages),
                      context_terms="Combien de jours de télétravail par semaine ?")
    text = select_answer(request)
    assert "Tout collaborateur en CDI ou CDD" in text and "présence collective" not in text


def test_a_date_question_quotes_the_day_under_its_numbered_headings() -> None:
    question = "Quelle est la date limite de remise des offres ?"
    assert asked_entity(question) == "date" and asked_entity("Date butoir ?") == "date"
    assert asked_entity("What is the deadline for submitting bids?") == "date"
    assert asked_entity("Quels sont les délais de versement des prestations ?") == "duration"
    text = select_answer(completion_request(question, [
        "6.3 – Validité\nLe délai de validité des offres est fixé à 180 jours à compter de la "
        "date limite de réception des offres.",
        "ARTICLE 6 – REMISE DES OFFRES\n6.1 – Date limite\nLes plis sont déposés avant le "
        "vendredi 26 février 2027 à 12h00. Les plis reçus après cette date ne sont pas "
        "examinés.",
    ]))
    # the day, found through both headings above it, rather than a duration counted from it
    assert "Les plis sont déposés avant le vendredi 26 février 2027 à 12h00. [2]" in text
    assert "180 jours" not in text and "après cette date" not in text
    # a heading saying one word of the question lends no sentence what it carries
    text = select_answer(completion_request("Dans quel délai faut-il déclarer un dégât des eaux ?", [
        "Canaux de déclaration\nLa déclaration se fait par l'espace adhérent.\n"
        "Le gestionnaire ouvre un dossier sous 24 heures.",
        "Délais de déclaration\nL'assuré doit déclarer le sinistre dans les 5 jours ouvrés.",
    ]))
    assert "5 jours ouvrés. [2]" in text and "24 heures" not in text


def test_the_day_under_the_heading_a_date_question_names_is_quoted() -> None:
    # the question's own words (« date limite ») are said by a sentence counting days from
    # another date; the day itself stands under « Questions des candidats »
    text = select_answer(completion_request(
        "Quelle est la date limite pour poser des questions ?",
        ["### 3.3 – Questions des candidats\nLes demandes de renseignements sont adressées "
         "au plus tard le vendredi 12 février 2027 à 17h00. Les réponses sont communiquées au "
         "plus tard six jours avant la date limite de réception des offres."]))
    assert "vendredi 12 février 2027 à 17h00. [1]" in text
    assert "six jours avant" not in text


def test_table_rows_are_matched_with_their_section_and_its_numbered_parent() -> None:
    question = "Quel est le taux de maintien de salaire ?"
    assert asked_entity(question) == "number" and asked_entity("What is the rate?") == "number"
    text = select_answer(completion_request(question, [
        "ARTICLE 3 – LOT N° 1 : PRÉVOYANCE – MAINTIEN DE SALAIRE\n3.1 – Nature du contrat\n"
        "Contrat collectif à adhésion obligatoire pour l'ensemble des agents en activité.\n"
        "3.2 – Garanties de base\nGarantie | Niveau minimal exigé\n"
        "Garantie : Incapacité temporaire ; Niveau minimal exigé : Indemnités portant la "
        "rémunération nette à 90 % du traitement net\n"
        "Garantie : Invalidité ; Niveau minimal exigé : Rente portant la rémunération nette à "
        "90 % jusqu'à la retraite",
    ]))
    # the rows under « 3.2 », itself under « ARTICLE 3 … MAINTIEN DE SALAIRE » with 3.1's
    # sentence between, carry the rate; the sentence of 3.1 does not
    assert "90 % du traitement net [1]" in text
    assert "adhésion obligatoire" not in text


def test_a_duration_question_without_a_duration_says_so() -> None:
    text = select_answer(completion_request("Combien de temps dure l'instruction du dossier ?",
                                  ["L'instruction du dossier est faite par le service juridique."]))
    assert "ne donnent pas de durée" in text


def test_english_fallback_prefers_the_sentence_with_the_asked_figure() -> None:
    text = select_answer(completion_request(
        "How much does a passport cost?",
        ["Le passeport se demande en mairie. La demande se fait sur rendez-vous. "
         "Le passeport d'un adulte coûte 86 €."],
        locale="en",
    ))
    assert "coûte 86 €. [1]" in text


def test_a_question_in_another_language_quotes_the_top_passage_first() -> None:
    request = completion_request(
        "¿Qué reglas se aplican durante un examen público?",
        ["Pendant l'examen, le candidat ne communique avec personne.",
         "Le concours public se déroule en mairie devant un jury de trois membres."],
    )
    text = select_answer(replace(request, cross_lingual=True))
    assert text.startswith("Selon « Doc 1 »")  # framed in the user's locale
    assert "ne disent rien" not in text  # Spanish words are not looked for in French text
    assert "[1]" in text and ("[2]" not in text or text.index("[1]") < text.index("[2]"))


def test_an_english_answer_quotes_the_top_passage_first() -> None:
    # « public » matches passage 2 by chance; retrieval ranked passage 1 first
    text = select_answer(completion_request(
        "What rules apply during a public exam?",
        ["Pendant l'examen, le candidat ne communique avec personne.",
         "Le concours public se déroule en mairie devant un jury de trois membres."],
        locale="en",
    ))
    assert "[2]" in text  # « public » matched it
    assert text.index("[1]") < text.index("[2]")


def test_an_english_question_finds_its_sentence_by_its_french_renderings() -> None:
    passages = [
        "Au-delà de 1 600 € de dommages, un expert est missionné sous 10 jours. "
        "L'indemnité est versée sous 30 jours après accord sur le montant.",
        "L'assuré doit déclarer le sinistre dans les 5 jours ouvrés suivant sa découverte. "
        "La déclaration se fait par l'espace adhérent.",
    ]
    question = "How many days do I have to report water damage?"
    without = select_answer(completion_request(question, passages, locale="en"))
    assert without.startswith("No sentence uses the question's words")
    request = CompletionRequest(
        skill="qa", role="answer", messages=(ChatTurn("user", question),), question=question,
        passages=tuple(ContextPassage(n, f"Doc {n}", text) for n, text in enumerate(passages, 1)),
        locale="en", match_terms="combien jour déclarer signaler dégât des eaux",
    )
    text = select_answer(request)
    assert not text.startswith("No sentence")
    assert "dans les 5 jours ouvrés suivant sa découverte. [2]" in text
    assert text.endswith("an approved generative model would answer in English.)")


def test_a_header_made_of_segments_is_not_quoted() -> None:
    units = passage_units(1, "Procédure", "Mutuelle Horizon — Direction Indemnisation — "
                          "version 3.2 (document fictif)\nL'assuré doit déclarer le sinistre "
                          "dans les 5 jours ouvrés suivant sa découverte.\nContrat | Garantie "
                          "| Franchise de 150 € par sinistre", 0)
    assert [unit.text for unit in units] == [
        "L'assuré doit déclarer le sinistre dans les 5 jours ouvrés suivant sa découverte."]
    kept = passage_units(1, "Procédure", "La franchise — fixée au contrat — s'applique à "
                         "chaque sinistre déclaré.", 0)
    assert len(kept) == 1  # a sentence with dashes, ending with a full stop, stays
    subtitle = passage_units(1, "Prévoyance", "Notice d'information fictive — contrat Horizon "
                             "Prévoyance Entreprises\nLa rente est versée jusqu'à la retraite.", 0)
    assert [unit.text for unit in subtitle] == ["La rente est versée jusqu'à la retraite."]


def test_a_follow_up_within_the_same_document_quotes_its_own_sentence_only() -> None:
    passages = ("Le télétravail est possible trois jours par semaine.",
                "Une indemnité de 2,50 € par jour télétravaillé est versée.")
    request = replace(completion_request("Et l'indemnité ?", list(passages)),
                      context_terms="Combien de jours de télétravail par semaine ?")
    same_document = replace(request, passages=tuple(
        ContextPassage(n, "Politique de télétravail", text)
        for n, text in enumerate(passages, 1)))
    text = select_answer(same_document)
    assert "2,50 €" in text and "trois jours" not in text


def test_a_follow_up_stays_on_the_conversations_document_when_it_answers() -> None:
    passages = (
        ContextPassage(1, "Politique de télétravail",
                       "Le télétravail est possible trois jours par semaine."),
        ContextPassage(2, "Politique de télétravail",
                       "Une indemnité de 2,50 € par jour télétravaillé est versée."),
        ContextPassage(3, "Prévoyance", "Une indemnité journalière est versée après 90 jours."),
    )
    request = replace(completion_request("Et l'indemnité ?", []), passages=passages)
    follow_up = replace(request, context_terms="Combien de jours de télétravail par semaine ?")

    assert "90 jours" not in select_answer(follow_up)
    assert "2,50 €" in select_answer(follow_up)
    assert "90 jours" in select_answer(request)  # asked alone, both documents speak


def test_a_follow_up_naming_a_document_quotes_what_was_asked_about_it() -> None:
    passages = (
        ContextPassage(1, "Garanties prévoyance collective",
                       "Contrat de prévoyance des salariés, édition 2026."),
        ContextPassage(1, "Garanties prévoyance collective",
                       "Après 90 jours d'arrêt, le salarié perçoit une indemnité journalière."),
        ContextPassage(2, "Politique de télétravail",
                       "Une indemnité de 2,50 € par jour télétravaillé est versée."),
    )
    request = replace(completion_request("Et pour la prévoyance ?", []), passages=passages,
                      context_terms="Y a-t-il une indemnité ?")

    text = select_answer(request)

    assert "indemnité journalière" in text and "2,50 €" not in text


def test_a_faq_answer_is_found_through_the_question_over_it() -> None:
    faq = ("Sous quel délai suis-je remboursé ?\n"
           "Le complément est remboursé sous 48 heures avec la télétransmission.\n"
           "Comment sont remboursées les lunettes ?\n"
           "En formule Équilibre, la monture est remboursée jusqu'à 100 €.")

    text = select_answer(completion_request("Les lunettes sont-elles remboursées ?", [faq]))

    assert text.splitlines()[1] == (
        "- En formule Équilibre, la monture est remboursée jusqu'à 100 €. [1]")
    assert "sous 48 heures" not in text and "ne disent rien" not in text  # « lunettes » is in the passage, over its answer
    assert "Comment sont remboursées" not in text  # the FAQ's question is not quoted


def test_a_citation_names_the_heading_over_the_quoted_sentence() -> None:
    faq = ("FAQ santé\nSous quel délai suis-je remboursé ?\nSous 48 heures en télétransmission.\n"
           "Comment sont remboursées les lunettes ?\nLa monture est remboursée jusqu'à 100 €.")
    section = "FAQ santé > Sous quel délai suis-je remboursé ?"
    answer = select_answer(completion_request("Les lunettes sont-elles remboursées ?", [faq]))

    assert quoted_section(faq, section, answer, 1) == (
        "FAQ santé > Comment sont remboursées les lunettes ?")
    assert quoted_section(faq, section, "- Sous 48 heures en **télétransmission**. [1]", 1) \
        == section
    bold = faq.replace("jusqu'à 100 €", "**jusqu'à 100 €**")  # the source's own bold
    assert quoted_section(bold, section, answer, 1) == (
        "FAQ santé > Comment sont remboursées les lunettes ?")
    # nothing quoted verbatim (a model's own words), or another passage's mark: as it was
    assert quoted_section(faq, section, "La monture est remboursée [1].", 1) == section
    assert quoted_section(faq, section, answer, 2) == section
    grid = ("Grille optique\nPlafonds\nÉquipement | Plafond | Fréquence\n"
            "Équipement : Lentilles ; Plafond : 150 € ; Fréquence : annuelle")
    assert quoted_section(grid, "Grille optique > Plafonds", "- Équipement : Lentilles ; "
                          "Plafond : 150 € ; Fréquence : annuelle [1]", 1) == (
        "Grille optique > Plafonds")  # a table's header row names no section


def test_a_follow_up_does_not_quote_again_what_the_last_answer_quoted() -> None:
    telework = ContextPassage(1, "Politique de télétravail",
                              "Le télétravail est possible **trois jours** par semaine.")
    delays = ContextPassage(2, "Délais", "Réponse à une demande de télétravail : 15 jours.")
    question = "Combien de jours de télétravail par semaine ?"
    first = select_answer(replace(completion_request(question, []), passages=(telework,)))
    assert "trois jours" in first
    follow_up = replace(completion_request("Et le délai de réponse ?", []), passages=(telework, delays),
                        context_terms=question)
    history = (ChatTurn("user", question), ChatTurn("assistant", first))

    assert "trois jours" in select_answer(follow_up)  # the conversation's page speaks first
    text = select_answer(replace(follow_up, messages=history))

    assert "15 jours" in text and "trois jours" not in text  # but says nothing twice


_DELAYS = ContextPassage(2, "Délais de traitement", (
    "Processus : Indemnisation sinistre après accord ; Délai cible : 30 jours\n"
    "Processus : Versement du capital décès ; Délai cible : 15 jours après dossier complet\n"
    "Processus : Réponse à une demande de télétravail ; Délai cible : 15 jours"))


def test_a_follow_up_quotes_the_rows_about_the_conversations_subject() -> None:
    telework = ContextPassage(1, "Politique de télétravail",
                              "Le télétravail est possible trois jours par semaine.")
    follow_up = replace(completion_request("Et le délai ?", []), passages=(telework, _DELAYS),
                        context_terms="Combien de jours de télétravail par semaine ?")

    text = select_answer(follow_up)

    assert "demande de télétravail" in text
    assert "capital décès" not in text and "après accord" not in text
    asked_alone = select_answer(replace(follow_up, context_terms=""))
    assert "capital décès" in asked_alone  # without a conversation, every row is a « délai »


def _after(question: str, follow_up: str, passages: tuple[ContextPassage, ...]
           ) -> tuple[str, CompletionRequest]:
    """The answer to ``question``, and ``follow_up`` asked after it in the same thread."""
    first = select_answer(replace(completion_request(question, []), passages=passages))
    history = (ChatTurn("user", question), ChatTurn("assistant", first))
    return first, replace(completion_request(follow_up, []), passages=passages, context_terms=question,
                          messages=history)


def test_a_follow_up_repeating_the_questions_words_is_answered_again() -> None:
    claims = ContextPassage(1, "Réclamations", (
        "Toute réclamation reçoit une réponse définitive sous deux mois. "
        "Le client peut saisir le médiateur une fois la procédure interne épuisée."))
    first, again = _after("Quel est le délai de traitement d'une réclamation ?",
                          "Et le délai ?", (claims, _DELAYS))
    assert "deux mois" in first

    text = select_answer(again)

    assert "deux mois" in text  # the same question, the same answer
    assert "médiateur" not in text and "capital décès" not in text


def test_an_english_follow_up_quotes_its_match_in_the_conversations_document() -> None:
    passages = (
        ContextPassage(1, "Politique de télétravail",
                       "Tout collaborateur en CDI peut demander à télétravailler. "
                       "Le télétravail est possible trois jours par semaine."),
        ContextPassage(2, "Politique de télétravail",
                       "Une indemnité de 2,50 € par jour télétravaillé est versée."),
    )
    follow_up = replace(completion_request("What about the allowance?", [], locale="en"),
                        passages=passages, cross_lingual=True,
                        match_terms="allocation indemnité",
                        context_terms="jours télétravail semaine")

    text = select_answer(follow_up)

    assert "2,50 €" in text and "Tout collaborateur" not in text
    alone = select_answer(replace(follow_up, context_terms=""))
    assert "Tout collaborateur" in alone  # a question alone: the first passage speaks first


def test_under_one_heading_the_sentence_saying_the_asked_word_is_quoted() -> None:
    section = ("Équipement et indemnité\n"
               "L'entreprise fournit un ordinateur portable, un écran et un casque.\n"
               "Une indemnité de 2,50 € par jour télétravaillé est versée.")

    text = select_answer(completion_request("Y a-t-il une indemnité ?", [section]))

    assert "2,50 €" in text and "ordinateur" not in text
    # a section whose sentences all rely on its heading keeps answering through it
    faq = "Remboursement des lunettes\nLa monture est prise en charge jusqu'à 100 €."
    assert "100 €" in select_answer(completion_request("Les lunettes sont-elles remboursées ?", [faq]))


def test_a_list_right_under_a_heading_is_quoted_with_the_heading_as_its_lead_in() -> None:
    section = ("Pièces justificatives\nphotos des dommages ;\n"
               "constat amiable de dégât des eaux signé par les deux parties.\n"
               "Expertise\nUn expert est missionné sous 10 jours.")

    text = select_answer(completion_request("Comment déclarer un dégât des eaux ?", [section]))

    assert "- Pièces justificatives : [1]\n  - photos des dommages ;\n" \
           "  - constat amiable de dégât des eaux signé par les deux parties." in text
    cut = "Pièces justificatives\nphotos des dommages ;\nconstat amiable de dégât des eaux"
    assert "constat" not in select_answer(completion_request("Un dégât des eaux ?", [cut]))  # maybe cut


def test_an_acronym_finds_the_words_it_stands_for_when_the_passage_spells_it_out() -> None:
    passage = ("Intelligence artificielle générative\nLes chatbots publics sont bloqués.\n"
               "Mots de passe\nLe mot de passe comporte au moins 14 caractères.")

    text = select_answer(completion_request("Quelles sont les règles pour l'IA ?", [passage]))

    assert "chatbots publics" in text and "mot de passe" not in text
    written = passage.replace("Intelligence artificielle générative", "IA générative")
    assert "chatbots publics" in select_answer(completion_request("Règles pour l'IA ?", [written]))


def test_a_sentence_opening_with_a_pronoun_is_quoted_after_the_sentence_it_points_to() -> None:
    passage = ("Un capital égal à 300 % du salaire est versé aux bénéficiaires. "
               "Il est majoré de 50 % par enfant à charge.")

    text = select_answer(completion_request("Quelle majoration par enfant à charge ?", [passage]))

    assert ("- Un capital égal à 300 % du salaire est versé aux bénéficiaires. Il est majoré "
            "de 50 % par enfant à charge. [1]") in text
    both = select_answer(completion_request("Quel capital est versé, et majoré par enfant ?", [passage]))
    assert both.count("Un capital égal") == 1  # quoted once when it is chosen too


def test_a_line_under_the_documents_own_title_is_not_matched_through_the_title() -> None:
    faq = ("FAQ santé : remboursements\nDocument fictif de démonstration.\n"
           "Sous quel délai suis-je remboursé ?\nLe complément est versé sous 48 heures.")
    request = replace(completion_request("How long does a health reimbursement take?", [faq],
                               locale="en"),
                      match_terms="santé remboursement", cross_lingual=True)
    titled = replace(request, passages=(ContextPassage(1, "FAQ santé : remboursements", faq),))

    text = select_answer(titled)

    assert "48 heures" in text and "Document fictif" not in text


def test_a_sentence_saying_more_of_the_questions_words_ranks_higher() -> None:
    definition = ("Une réclamation est l'expression d'un mécontentement d'un client. "
                  "Une demande d'information n'est pas une réclamation.")
    service = ("Les délais de traitement sont suivis chaque trimestre. "
               "Le service Qualité traite les dossiers sous deux mois.")

    text = select_answer(completion_request("Quel service traite les réclamations ?", [definition, service]))

    assert "Le service Qualité traite les dossiers" in text
    assert "suivis chaque trimestre" not in text  # « traitement » alone: one word of three


def test_a_question_asking_a_duration_quotes_the_sentences_that_give_one() -> None:
    documents = ("Pièces justificatives\nphotos des dommages ;\n"
                 "constat amiable de dégât des eaux signé par les deux parties.")
    delay = "L'assuré doit déclarer le sinistre dans les 5 jours ouvrés suivant sa découverte."

    text = select_answer(completion_request("Dans quel délai faut-il déclarer un dégât des eaux ?",
                                  [documents, delay]))

    assert "5 jours ouvrés" in text and "constat amiable" not in text
    how = select_answer(completion_request("Comment déclarer un dégât des eaux ?", [documents, delay]))
    assert "constat amiable" in how  # nothing asked for a duration there


def test_when_is_answered_by_a_time_after_an_event_and_auxiliaries_match_nothing() -> None:
    rows = ("Processus : Indemnisation sinistre après accord ; Délai cible : 30 jours\n"
            "Processus : Remboursement santé ; Délai cible : 48 heures ; "
            "Remarque : Après le remboursement de l'Assurance maladie")
    text = select_answer(completion_request("Quand serai-je payé après un sinistre ?", [rows]))

    assert "30 jours" in text and "48 heures" not in text  # « serai », « après » match nothing
    assert "date précise" not in text  # « sous 30 jours » says when


def test_a_follow_up_matching_nothing_of_its_own_stays_on_the_conversations_document() -> None:
    claims = ContextPassage(1, "Réclamations", (
        "La réponse définitive à une réclamation est apportée sous deux mois.\n"
        "Si le client n'est pas satisfait, il peut saisir le service Réclamations de niveau 2."
        "\nChaque réclamation est saisie dans l'outil QUALIRECL."))
    delays = ContextPassage(2, "Délais de traitement", (
        "Processus : Réponse à une demande de télétravail ; Délai cible : 15 jours ; "
        "Service responsable : Ressources humaines"))
    first, follow_up = _after("Quel est le délai de réponse à une réclamation ?",
                              "Et qui s'en occupe ?", (claims, delays))
    assert "deux mois" in first

    text = select_answer(follow_up)

    # not a telework row sharing « délai de réponse », and a service rather than the tool
    assert "télétravail" not in text and "QUALIRECL" not in text
    assert "service Réclamations de niveau 2" in text


def test_who_handles_it_is_answered_by_a_service_or_a_way_to_reach_one() -> None:
    incidents = ("Tout incident de sécurité est décrit précisément : date, poste, nature de "
                 "l'incident de sécurité. Les incidents sont traités par le SOC, au 4444.")
    text = select_answer(completion_request("Qui contacter en cas d'incident de sécurité ?", [incidents]))

    assert "4444" in text and "décrit précisément" not in text
    asked_with_a_modal = select_answer(completion_request(
        "Qui dois-je contacter en cas d'incident de sécurité ?", [incidents]))
    assert "4444" in asked_with_a_modal and "décrit précisément" not in asked_with_a_modal
    eligible = select_answer(completion_request("Qui peut télétravailler ?", [
        "Tout collaborateur en CDI peut télétravailler. Le manager valide le planning."]))
    assert "collaborateur en CDI" in eligible  # who may, not who handles: no service asked


def test_a_sentence_matching_only_its_documents_title_gives_way() -> None:
    passage = ("### Équipement et indemnité\nUne indemnité de 2,50 € par jour télétravaillé est "
               "versée.\n### Sécurité\nLes réseaux Wi-Fi publics sont interdits pour les "
               "données clients.")
    request = replace(completion_request("Peut-on utiliser le wifi de l'hôtel en télétravail ?", []),
                      passages=(ContextPassage(1, "Politique de télétravail", passage),))

    text = select_answer(request)

    # every line of a telework policy is about telework: « télétravaillé » alone says little
    assert "Wi-Fi publics sont interdits" in text and "2,50 €" not in text
    asked_of_the_title = select_answer(replace(request, question="Qu'est-ce que le télétravail ?",
                                               messages=(ChatTurn("user", "?"),)))
    assert "2,50 €" in asked_of_the_title  # nothing beyond the title matches: as before


def test_a_table_header_row_is_not_quoted_above_rows_that_name_their_columns() -> None:
    text = select_answer(completion_request("Quels sont les critères d'attribution ?", [
        "Les offres sont jugées selon les critères d'attribution suivants :\n"
        "Critère | Pondération\nCritère : Valeur technique ; Pondération : 60 %\n"
        "Critère : Prix ; Pondération : 40 %"]))
    assert "Critère | Pondération" not in text
    assert "- Critère : Valeur technique ; Pondération : 60 %" in text, text


def test_the_end_of_a_quoted_list_item_is_not_quoted_again() -> None:
    rules = ("7.2 – Critères d'attribution\nL'offre la plus avantageuse est appréciée, pour "
             "chaque lot, selon les critères pondérés suivants :\nCritère | Sous-critère | "
             "Pondération\nCritère : 1. Valeur technique ; Pondération : 50 %\n"
             "Sous-critère : 1.1 Niveau des garanties ; Pondération : 20 %\n"
             "Critère : 2. Prix ; Sous-critère : Cotisation annuelle ; Pondération : 40 %\n"
             "Critère : 3. Performance environnementale ; Sous-critère : Dématérialisation "
             "des échanges ; Pondération : 10 %")
    grading = ("7.3 – Méthode de notation\nLe critère prix est noté selon la formule : note = "
               "40 × (cotisation la plus basse / cotisation de l'offre examinée).")
    request = replace(completion_request("What are the award criteria?", [rules, grading], locale="en"),
                      cross_lingual=True, match_terms="critères attribution")
    text = select_answer(request)
    assert text.count("Performance environnementale ;") == 1, text
    assert "  - Critère : 1. Valeur technique ; Pondération : 50 %" in text, text  # the list


def test_sentences_naming_none_of_the_subject_are_left_out_when_others_name_it() -> None:
    request = replace(completion_request("Quelle certification est exigée ?", [
        "Le titulaire justifie d'une certification ISO/IEC 27001 en cours de validité.",
        "Garantie | Niveau minimal exigé\nGarantie : Invalidité ; Niveau minimal exigé : Rente "
        "portant la rémunération à 90 %.",
    ]), subject_words=("certification",))
    text = select_answer(request)
    assert "ISO/IEC 27001" in text and "Invalidité" not in text


def test_a_how_question_quotes_how_it_is_done_first() -> None:
    passage = ("Canaux de déclaration\nLa déclaration se fait par l'espace adhérent, par "
               "téléphone ou en agence.\nPièces justificatives :\n- photos des dommages ;\n"
               "- factures d'achat ;\n- constat amiable de dégât des eaux signé par les deux "
               "parties.")
    request = replace(completion_request("Comment déclarer un dégât des eaux ?", [passage]),
                      subject_words=("dégât", "eaux"))
    request = replace(request, passages=(ContextPassage(
        1, "Procédure de déclaration de sinistre habitation", passage),))
    text = select_answer(request)
    assert text.index("se fait par l'espace adhérent") < text.index("constat amiable")


def test_an_english_how_question_quotes_how_it_is_done_by_its_verbs_renderings() -> None:
    passage = ("La déclaration se fait par l'espace adhérent, par téléphone ou en agence.\n"
               "Pièces justificatives :\n- photos des dommages ;\n- constat amiable de dégât "
               "des eaux signé par les deux parties.")
    request = replace(completion_request("How do I report water damage?", [passage], locale="en"),
                      match_terms="signaler déclarer rapport dégât eau dommage",
                      action_terms="signaler déclarer rapport", cross_lingual=True,
                      passages=(ContextPassage(
                          1, "Procédure de déclaration de sinistre habitation", passage),))
    text = select_answer(request)
    assert text.index("se fait par l'espace adhérent") < text.index("constat amiable")

"""Rules of the offline call summary: speakers, noise, amounts, dates, actions."""

from __future__ import annotations

from skills.call_facts import render, summarise_call, utterances


def test_speakers_timestamps_and_inline_turns() -> None:
    found = utterances("[00:00:02] Agent : Bonjour. Assurée : J'ai eu un accrochage.\n"
                       "- Mme Petit : Ma cotisation passe à 118 €.\n"
                       "Notes sans locuteur : franchise 230 €.")
    assert [(u.side, u.text) for u in found] == [
        ("adviser", "Bonjour."), ("customer", "J'ai eu un accrochage."),
        ("customer", "Ma cotisation passe à 118 €."),
        ("unknown", "Notes sans locuteur : franchise 230 €.")]


def test_pleasantries_and_questions_are_dropped() -> None:
    summary = summarise_call("Conseiller : Merci. Client : D'accord, très bien. "
                             "Conseiller : Quand est-ce arrivé ? Client : Le 8 mars. "
                             "Conseiller : Au revoir, bonne journée.")
    bullets = [b for section in (summary.motive, summary.facts, summary.commitments,
                                 summary.actions, summary.attention) for b in section]
    assert bullets == []
    assert summary.dates == ["Le 8 mars : date de l'événement"]


def test_amounts_are_labelled_and_normalised() -> None:
    summary = summarise_call(
        "Client : Il y a une franchise ?\nAgent : Oui, 90 € si vous passez par un garage "
        "agréé, 150 € sinon.\nClient : Un couvreur m'a fait un devis de 4300 euros TTC.\n"
        "Agent : Votre cotisation passe de 38 € à 42,50 € par mois.")
    assert summary.amounts == ["Franchise : 90 € (si vous passez par un garage agréé) ; "
                               "150 € (sinon)", "Devis : 4 300 € TTC (couvreur)",
                               "Cotisation : 38 € ; 42,50 € par mois"]


def test_unlabelled_notes_give_commitments_and_next_actions() -> None:
    summary = summarise_call("Appel de Mme Leroy.\nGrêle le 12 mai sur la véranda.\n"
                             "Expert à mandater.\nElle envoie les photos par mail.\n"
                             "Je lui ai promis un rappel lundi 10 h.")
    assert summary.motive == ["Grêle le 12 mai sur la véranda."]
    assert summary.actions == ["Expert à mandater.", "Client : envoie les photos par mail"]
    assert summary.commitments == ["Je lui ai promis un rappel lundi 10 h."]
    assert "Lundi 10 h : je lui ai promis un rappel" in summary.dates


def test_customer_promise_dates_the_request_before_it() -> None:
    summary = summarise_call("Conseiller : Envoyez-nous le constat signé.\n"
                             "Client : Je vous l'envoie demain.")
    assert summary.actions == ["Client : envoyer le constat signé (demain)"]


def test_empty_sections_say_so_in_the_locale() -> None:
    text = render(summarise_call("Agent: Hello. Customer: Thanks, bye."), "en")
    assert "**Next actions**\n- (nothing noted)" in text


def test_an_amount_a_rule_depends_on_is_a_threshold_not_an_estimate() -> None:
    summary = summarise_call(
        "Client : M. Bernard signale un dégât des eaux dans sa cuisine. Il demande si un "
        "expert passera : je réponds que oui si les dommages dépassent 1 600 euros.")
    assert summary.amounts == ["Plafond ou seuil : 1 600 € (expert)"]
    damage = summarise_call("Client : Le plombier estime les dégâts à 2 300 euros.")
    assert damage.amounts == ["Montant des dégâts estimé : 2 300 € (plombier)"]


def test_what_the_customer_is_told_to_do_is_their_next_action() -> None:
    summary = summarise_call(
        "Mme Durand signale une fuite sous sa baignoire.\n"
        "Je lui indique qu'elle doit déclarer le sinistre sous 5 jours ouvrés.\n"
        "Conseiller : Je vous rappelle que vous devez nous envoyer le constat.\n"
        "Conseiller : Je vous rappelle demain.")
    assert summary.actions == ["Client : déclarer le sinistre sous 5 jours ouvrés",
                               "Client : envoyer le constat"]
    assert summary.commitments == ["Je vous rappelle demain."]
    assert not summary.facts


def test_a_conditional_yes_is_a_commitment() -> None:
    summary = summarise_call("Elle demande si un expert passera : je réponds que oui si les "
                             "dommages dépassent 1 600 euros.")
    assert summary.commitments == ["Elle demande si un expert passera : je réponds que oui si "
                                   "les dommages dépassent 1 600 euros."]
    assert not summary.actions
    told_facts = summarise_call("Je lui explique que la franchise est de 150 euros par sinistre.")
    assert not told_facts.actions


def test_a_comma_before_three_digits_groups_thousands() -> None:
    summary = summarise_call("Client : la franchise est de 12,50 €.\n"
                             "Client : le plombier estime les dégâts à 1,200 euros.\n"
                             "Client : le devis du menuisier est de 1 250 euros.")
    assert summary.amounts == ["Franchise : 12,50 €",
                               "Montant des dégâts estimé : 1 200 € (plombier)",
                               "Devis : 1 250 € (menuisier)"]


def test_an_english_call_is_summarised_too() -> None:
    summary = summarise_call(
        "Customer: hello, I had water damage yesterday, the kitchen ceiling fell.\n"
        "Agent: I will send an expert on Thursday. The plumber estimates 1,200 euros. "
        "Please send us the invoice.", "en")
    assert summary.motive == ["I had water damage yesterday, the kitchen ceiling fell."]
    assert summary.amounts == ["Estimated damage: €1,200 (plumber)"]
    assert summary.dates == ["On Thursday: I will send an expert"]
    assert summary.commitments == ["I will send an expert on Thursday."]
    assert summary.actions == ["Customer: send us the invoice"]


def test_a_date_taken_out_leaves_no_word_hanging() -> None:
    summary = summarise_call("Appel de Mme Martin : sinistre auto du 3 mars, elle attend le "
                             "rapport d'expertise.\nLe client s'en est aperçu hier soir, le 19 "
                             "novembre, en rentrant du travail.")

    assert "3 mars : sinistre auto" in summary.dates
    assert ("Le 19 novembre : le client s'en est aperçu hier soir, en rentrant du travail"
            in summary.dates)


def test_a_delay_written_without_a_space_is_a_delay() -> None:
    summary = summarise_call("Je lui ai promis un rappel sous 48h et l'envoi d'un expert.")
    assert summary.dates == ["Sous 48h : je lui ai promis un rappel"]


def test_an_english_call_keeps_english_typography_and_drops_sympathy() -> None:
    summary = summarise_call(
        "Customer: my windscreen cracked yesterday. Adviser: I'm sorry to hear that. "
        "Customer: Yes, I think so, policy AUTO-778812. Adviser: The excess is 75.50 euros. "
        "I will book an appointment with the garage for Friday.", "en")
    assert summary.facts == ["Policy: AUTO-778812"]
    assert summary.amounts == ["Deductible: €75.50"]  # an English decimal point
    assert summary.dates == ["Friday: I will book an appointment with the garage"]


def test_an_english_adviser_s_opening_and_greetings_are_no_facts() -> None:
    summary = summarise_call(
        "Agent: Good morning, Acme Insurance, Julie speaking. Customer: Good afternoon, my "
        "basement flooded last night, policy AH-20931. Agent: I'll open a claim today.", "en")
    assert not any("Julie speaking" in fact for fact in summary.facts)
    assert summary.motive == ["My basement flooded last night, policy AH-20931."]


def test_pounds_and_dollars_are_amounts_written_the_english_way() -> None:
    summary = summarise_call(
        "Customer: They took $1,800 of jewellery. Agent: Your premium goes from £612 to £948 a "
        "year.", "en")
    assert "Premium: £612; £948" in summary.amounts, summary.amounts
    assert any("$1,800" in amount for amount in summary.amounts), summary.amounts


def test_hesitations_and_reactions_are_not_facts() -> None:
    summary = summarise_call(
        "Customer: Um, yes, my kitchen was flooded on Monday, policy HM-2231. Agent: I'm sorry "
        "about that. The excess is 150 euros. Customer: Hmm, that's quite a lot.", "en")
    assert summary.motive == ["My kitchen was flooded on Monday, policy HM-2231."], summary.motive
    assert not any("quite a lot" in fact or "sorry" in fact for fact in summary.facts)
    french = summarise_call("Client : Euh... je voudrais résilier mon contrat auto.", "fr")
    assert french.motive == ["Je voudrais résilier mon contrat auto."], french.motive

"""French-aware text helpers: content-word tokens and sentence splitting."""

from __future__ import annotations

from bot.text import content_tokens, split_sentences


def test_a_verb_and_its_noun_share_a_token() -> None:
    assert content_tokens("déclarer")[0] == content_tokens("déclaration")[0]
    assert content_tokens("rembourser")[0] == content_tokens("remboursé")[0]
    assert content_tokens("Comment déclarer un dégât des eaux ?") == ["declar", "degat", "eaux"]


def test_short_words_keep_their_ending() -> None:
    assert content_tokens("mer fer") == ["mer", "fer"]


def test_sentences_and_bullets_are_split_keeping_their_wording() -> None:
    assert split_sentences("M. Martin appelle. Il rappelle demain.\n- une facture") == [
        "M. Martin appelle.", "Il rappelle demain.", "une facture"]


def test_a_short_hyphenated_compound_matches_its_joined_spelling() -> None:
    assert "wifi" in content_tokens("Les réseaux Wi-Fi publics sont interdits.")
    assert content_tokens("Peut-on utiliser le wifi ?") == ["utilis", "wifi"]


def test_a_verb_in_ill_shares_its_nouns_token() -> None:
    assert content_tokens("télétravailler télétravaillé accueil") == [
        "teletravail", "teletravail", "accueil"]
    assert content_tokens("télétravail")[0] == content_tokens("télétravailler")[0]


def test_an_irregular_verb_meets_its_noun() -> None:
    assert set(content_tokens("perdu perds perdre perte")) == {"perd"}
    assert set(content_tokens("joindre joignez joint")) == {"joint"}
    assert set(content_tokens("décès décédé")) == {"dece"}
    assert set(content_tokens("reconduit reconduction reconductible")) == {"recondui"}
    # a family whose forms also mean something else is not joined: « vente » already shares
    # its stem with « vent » (the wind of a storm claim)
    assert content_tokens("vendre vente") == ["vendr", "vent"]


def test_plurals_in_aux_meet_their_singular() -> None:
    assert content_tokens("niveaux canaux tuyaux locaux") == content_tokens(
        "niveau canal tuyau local")
    assert content_tokens("taux") == ["taux"]  # a singular in -aux stays as it is


def test_feminine_forms_in_elle_and_enne_meet_their_masculine() -> None:
    assert content_tokens("cotisation annuelle") == content_tokens("cotisation annuel")
    assert content_tokens("européenne") == content_tokens("européen")
    assert content_tokens("personne") != content_tokens("person")  # « -onne » is left alone


def test_an_english_title_does_not_end_a_sentence() -> None:
    assert split_sentences("Approved by the Finance Manager, Mr. David Hughes. Then pay.") == [
        "Approved by the Finance Manager, Mr. David Hughes.", "Then pay."]

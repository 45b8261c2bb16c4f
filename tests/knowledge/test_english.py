"""The English → French lexicon: words, multi-word expressions, key terms."""

from __future__ import annotations

import pytest

from knowledge.english import (
    _LEXICON,
    french_search_words,
    french_term_groups,
    general_lexicon,
    is_english_word,
    key_terms,
)
from knowledge.language import detect_language


def test_an_expression_is_rendered_as_a_whole_not_word_by_word() -> None:
    assert french_search_words("How long can sick leave last?").split() == [
        "arrêt", "maladie", "dernier", "durer"]
    assert french_search_words("Can a civil servant refuse?").split() == [
        "fonctionnaire", "agent", "public", "refuser", "refus"]


@pytest.mark.parametrize(("question", "french"), [
    ("How do I leave social networks?", "quitter réseau social"),  # plural last word
    ("Is my fixed-term contract renewable?", "contrat durée déterminée cdd"),  # hyphenated
    ("What is the right to be forgotten?", "droit oubli déréférencement"),  # function words inside
    ("The town hall's opening hours", "mairie"),  # possessive
    ("Can I work from home on Fridays?", "télétravail"),  # a verb phrase for one noun
    ("How many days of telework per week?", "jours télétravail"),
])
def test_expressions_match_inflected_hyphenated_and_with_function_words(
    question: str, french: str
) -> None:
    assert french in french_search_words(question)


def test_words_outside_any_expression_keep_their_own_renderings() -> None:
    assert french_search_words("Social security number").split() == [
        "sécurité", "sociale", "numéro", "nombre"]
    assert french_search_words("A social worker").split()[:1] == ["social"]  # not an expression


def test_an_expression_is_one_key_term() -> None:
    terms = key_terms("Is sick leave paid by the employer?")
    assert terms["sick leave"] == ("arrêt", "maladie")
    assert "sick" not in terms and "leave" not in terms
    assert set(terms) == {"sick leave", "paid", "employer"}


def test_words_gain_their_french_cognate_among_their_renderings() -> None:
    assert "registre" in french_search_words("keeping a register").split()
    assert "appliquer" in french_search_words("does the rule apply").split()


@pytest.mark.parametrize("question", [
    "Le congé maladie d'un fonctionnaire est-il payé ?",
    "Quelle est la durée de la période d'essai ?",
])
def test_expressions_never_make_a_french_question_english(question: str) -> None:
    assert detect_language(question) == "fr"


def test_english_evidence_is_still_read_word_by_word() -> None:
    assert is_english_word("leave") and is_english_word("sick")
    assert not is_english_word("social")  # also French


def test_the_general_vocabulary_renders_words_outside_the_administrative_lexicon() -> None:
    assert french_search_words("Is the flat furnished?").split() == [
        "appartement", "plat", "meublé"]
    assert "Zorglub" not in general_lexicon() and "zorglub" in french_search_words(
        "zorglub leases").split()  # unknown words are kept as they are


def test_the_general_vocabulary_adds_no_key_term_and_no_english_evidence() -> None:
    assert set(key_terms("What are the different types of furnished rental?")) == {"rental"}
    assert not is_english_word("furnished") and not is_english_word("chair")
    assert detect_language("Le chair est meublé ?") == "fr"


def test_the_general_vocabulary_file_is_well_formed() -> None:
    vocabulary = general_lexicon()
    assert len(vocabulary) > 5000
    for english, french in vocabulary.items():
        assert english.isalpha() and english.islower(), english
        assert 1 <= len(french) <= 5, english
        assert english not in _LEXICON, english  # the administrative lexicon wins


def test_each_english_word_becomes_one_group_of_its_french_renderings() -> None:
    groups = french_term_groups("Can the CNIL fine a sick leave GDPR breach?")

    assert ("arrêt", "maladie") in groups  # an expression is one group
    assert ("rgpd",) in groups
    assert ("cnil",) in groups  # a name the lexicon does not know stays as it is
    assert all("can" not in group and "the" not in group for group in groups)


def test_the_insurers_own_words_are_key_terms() -> None:
    terms = key_terms("What is the deductible after water damage to a policyholder's home?")
    assert terms["deductible"] == ("franchise",)
    assert terms["water damage"] == ("dégât", "eaux")
    assert "assuré" in terms["policyholder"]
    assert "cambriolage" in french_search_words("How long do I have to report a burglary?")
    assert detect_language("Is the annuity paid to an orphan?") == "en"


def test_public_procurement_words_are_key_terms() -> None:
    # the reference user screens public tenders: their English is the buyer's French
    assert french_search_words("What are the award criteria?").split() == [
        "critères", "attribution"]
    assert {"offres", "plis", "remise"} <= set(french_search_words(
        "What is the deadline for submitting bids?").split())
    assert key_terms("Are variants allowed?")["variants"] == ("variantes",)

from __future__ import annotations

from knowledge.french import FrenchAnalyzer, strip_accents


def test_analyzer_handles_elision_accents_stopwords_and_stems() -> None:
    analyzer = FrenchAnalyzer()
    assert analyzer("L'assurée déclare qu'il a eu un sinistre d'habitation") == analyzer(
        "assurées déclarer il sinistres habitations"
    )
    assert analyzer("réclamation") == analyzer("reclamation")
    assert "le" not in analyzer("le la les de du")
    assert strip_accents("Œuvre réclamée") == "OEuvre reclamee"


def test_remembered_words_give_the_same_terms_as_new_ones() -> None:
    text = "Les assurés déclarent leurs sinistres ; l'assureur rembourse les sinistres déclarés."
    fresh = FrenchAnalyzer()(text)
    warm = FrenchAnalyzer()
    warm("sinistres assurés déclarés")  # some words already known, others not

    assert warm(text) == fresh
    assert warm(text) == fresh  # every word known now


def test_a_full_word_cache_starts_over_without_changing_terms() -> None:
    analyzer = FrenchAnalyzer(max_cached_words=5)
    reference = FrenchAnalyzer()
    texts = [
        "déclaration de sinistre habitation",
        "politique de télétravail des collaborateurs",
        "remboursement des soins dentaires et optiques",
        "déclaration de sinistre habitation",
    ]
    assert [analyzer(text) for text in texts] == [reference(text) for text in texts]


def test_a_short_hyphenated_compound_is_also_its_joined_word() -> None:
    analyzer = FrenchAnalyzer()
    assert set(analyzer("le wifi")) < set(analyzer("les réseaux Wi-Fi publics"))
    assert "email" in analyzer("envoyez un e-mail")
    # a verb and its pronoun, or a longer compound, is not one word
    assert analyzer("Est-ce gratuit ?") == ["gratuit"]
    assert analyzer("Saint-Jean-de-Luz") == ["saint", "jean", "luz"]


def test_an_irregular_verb_and_its_noun_are_one_term() -> None:
    analyze = FrenchAnalyzer()
    assert set(analyze("perdu perds perdre perte")) == {"perd"}
    assert set(analyze("décès décédé")) == {"deces"}
    assert analyze("couverture couvert") == ["couv", "couv"]
    # « Le marché peut-il être reconduit ? » and « Le marché est reconductible »
    assert set(analyze("reconduit reconduction reconductible reconduire")) == {"reconduct"}
    assert set(analyze("franchise déduite déduction")) == {"franchis", "deduct"}
    assert analyze("vendre vente") == ["vendr", "vent"]  # « vente » is not joined to its verb
    # « Qui doit signer ? » and « Signature du candidat », « Identification du signataire »
    assert set(analyze("signer signé signature signataires")) == {"sign"}
    assert analyze("signaler") == ["signal"]

"""The relevance judge: agreement of dense and lexical evidence, names, English questions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, KnowledgeSettings, Passage
from knowledge.english import key_terms
from knowledge.language import detect_language
from knowledge.records import ATTACHED_COLLECTION
from knowledge.relevance import RelevanceJudge, Thresholds, named_things
from tests.knowledge.helpers import HashingEmbedder


def _passage(text: str, score: float, dense: float | None, lexical: float | None = None,
             title: str = "Guide") -> Passage:
    return Passage(chunk_id="c1", document="guide.md", path="/docs/guide.md", title=title,
                   section=None, page=None, url=None, text=text, score=score,
                   collection="docs", data_class="internal", dense=dense, lexical=lexical)


def test_language_of_short_questions() -> None:
    assert detect_language("What is family mediation?") == "en"
    assert detect_language("Can a minor child's surname be changed?") == "en"
    assert detect_language("Qu'est-ce que la médiation familiale ?") == "fr"
    assert detect_language("Comment déclarer un sinistre ?") == "fr"
    assert detect_language("PTZ") == "fr"  # no evidence: the documents' language


def test_names_are_capitalised_words_inside_the_question_without_glosses() -> None:
    assert named_things("Quel est le délai pour déclarer un sinistre chez Groupama ?") == [
        "Groupama"
    ]
    assert named_things("Facebook : mon compte a été piraté") == []  # opens the question
    assert named_things("TAJ (ancien STIC et JUDEX) : qui le consulte ?") == []


def test_a_strong_score_is_answered() -> None:
    verdict = RelevanceJudge().judge("Quel est le plafond ?", [_passage("Plafond", 0.7, 0.7)])
    assert verdict.answerable and verdict.reason == "strong score"


def test_a_low_score_is_declined() -> None:
    verdict = RelevanceJudge().judge("Quel est le plafond ?", [_passage("Plafond", 0.3, 0.3)])
    assert not verdict.answerable and verdict.reason == "low score"


def test_lexical_match_without_dense_agreement_is_declined() -> None:
    # common words match (« nombre », « premier »), the meaning does not
    passage = _passage("Le premier nombre de trimestres…", score=0.45, dense=0.36, lexical=0.59)
    verdict = RelevanceJudge().judge("Comment savoir si un nombre est premier ?", [passage])
    assert not verdict.answerable and verdict.reason == "dense evidence disagrees"


def test_a_phrase_of_the_question_in_the_passage_stands_in_for_a_little_dense_evidence() -> None:
    # a short charter's one passage lists five topics: its vector is diluted
    text = ("Tout incident de sécurité (perte de matériel, courriel suspect, fuite de données) "
            "est signalé sans délai au 4444.")
    judge = RelevanceJudge()
    verdict = judge.judge("Que faire en cas de perte de matériel ?",
                          [_passage(text, score=0.48, dense=0.43)])
    assert verdict.answerable and verdict.reason == "a phrase of the question in the passage"
    # the same words apart are no phrase; under the phrase's dense floor, none is enough
    apart = "Le matériel est fourni. Sa perte est déclarée au support."
    assert not judge.judge("Que faire en cas de perte de matériel ?",
                           [_passage(apart, score=0.48, dense=0.43)]).answerable
    assert not judge.judge("Que faire en cas de perte de matériel ?",
                           [_passage(text, score=0.48, dense=0.38)]).answerable


def test_on_a_phrase_alone_a_name_must_be_written_as_asked() -> None:
    # « Generali » stems as « général »: enough for the names check, not on a phrase alone
    text = "Le plafond général de la responsabilité civile est fixé par le contrat."
    verdict = RelevanceJudge().judge(
        "Quel est le plafond de la responsabilité civile chez Generali ?",
        [_passage(text, score=0.44, dense=0.43)])
    assert not verdict.answerable and verdict.missing_names == ("Generali",)


def test_a_strong_match_is_declined_for_another_company_named_as_such() -> None:
    passage = _passage("Un sinistre habitation se déclare sous cinq jours ouvrés.", 0.64, 0.66)
    judge = RelevanceJudge()
    for question, name in (("Quel délai pour déclarer un sinistre chez Allianz ?", "Allianz"),
                           ("Comment déclarer un sinistre auprès d'AXA ?", "AXA"),
                           ("Quel délai de déclaration auprès de la MAIF ?", "MAIF"),
                           ("Quel délai de déclaration pour la mutuelle Harmonie ?", "Harmonie"),
                           ("Un sinistre se déclare-t-il en ligne pour l'assureur Generali ?",
                            "Generali")):
        verdict = judge.judge(question, [passage])
        assert not verdict.answerable and verdict.missing_names == (name,), question
    # a strong match is not declined for any other capitalised word its page leaves out
    base = _passage("La base élèves du premier degré est consultée par le directeur.", 0.6, 0.6)
    assert judge.judge("Base Elèves : qui la consulte ?", [base]).answerable
    assert judge.judge("Un sinistre habitation se déclare-t-il en Bretagne ?",
                       [passage]).answerable
    # our own company named as such is in its own pages
    own = _passage("Chez Almia Assurances, un sinistre se déclare sous cinq jours.", 0.64, 0.66)
    assert judge.judge("Quel délai de déclaration pour la société Almia ?", [own]).answerable
    # a customer's home is no other company: the pages answer for her claim
    assert judge.judge("Quel délai pour déclarer un sinistre chez Mme Zéphyrine ?",
                       [passage]).answerable


def test_a_name_is_found_as_it_is_written_and_after_an_elision() -> None:
    assert named_things("Le télétravail est-il possible depuis l'Espagne ?") == ["Espagne"]
    judge = RelevanceJudge()
    # « Generali » stems as « général »: the name must be written as asked, accents included
    text = "Le plafond général de la garantie est fixé par le contrat."
    verdict = judge.judge("Quel est le plafond général chez Generali ?",
                          [_passage(text, score=0.5, dense=0.5)])
    assert verdict.missing_names == ("Generali",)
    plural = "Les Européens résidant en France y ont droit."
    assert judge.judge("Un Européen y a-t-il droit en France ?",
                       [_passage(plural, score=0.5, dense=0.5)]).answerable  # an ending apart


def test_a_name_the_passages_never_mention_is_declined() -> None:
    passage = _passage("Un sinistre se déclare sous cinq jours ouvrés.", score=0.5, dense=0.5)
    judge = RelevanceJudge()
    verdict = judge.judge("Quel délai pour déclarer un sinistre chez Groupama ?", [passage])
    assert not verdict.answerable and verdict.missing_names == ("Groupama",)
    named = _passage("Chez Groupama, un sinistre se déclare sous cinq jours.", 0.5, 0.5)
    assert judge.judge("Quel délai pour déclarer un sinistre chez Groupama ?", [named]).answerable


def test_english_questions_are_judged_on_dense_evidence_with_their_own_threshold() -> None:
    judge = RelevanceJudge(Thresholds(english_dense=0.3))
    found = [_passage("La médiation familiale est un temps d'écoute.", 0.35, dense=0.38,
                      lexical=0.0)]
    verdict = judge.judge("What is family mediation?", found)
    assert verdict.answerable and verdict.language == "en"
    weak = [_passage("La médiation familiale est un temps d'écoute.", 0.2, 0.25, 0.0)]
    assert not judge.judge("Who painted the Mona Lisa?", weak).answerable


def test_questions_in_other_languages_are_judged_on_dense_evidence_alone() -> None:
    judge = RelevanceJudge()
    right = [_passage("La médiation familiale est un temps d'écoute.", 0.36, 0.4, 0.0)]
    verdict = judge.judge("¿Qué es la mediación familiar?", right)
    assert verdict.answerable and verdict.cross_lingual and verdict.language == "fr"
    weak = [_passage("La médiation familiale est un temps d'écoute.", 0.3, 0.3, 0.0)]
    verdict = judge.judge("Wie backe ich Sauerteigbrot?", weak)
    assert not verdict.answerable and verdict.reason == "other language: weak dense evidence"
    # a French question at the same scores follows the French rules (low score)
    assert not judge.judge("Qu'est-ce que la médiation familiale ?", right).cross_lingual


def test_passages_without_their_halves_use_the_fused_score() -> None:
    verdict = RelevanceJudge().judge("Quel est le plafond ?", [_passage("Plafond", 0.5, None)])
    assert verdict.answerable and verdict.dense == 0.5


async def test_search_reports_both_halves_of_the_score(kb: KnowledgeBase, tmp_path: Path) -> None:
    document = tmp_path / "guide.md"
    document.write_text("# Sinistres\n\nUn dégât des eaux se déclare sous cinq jours ouvrés.\n")
    await kb.ingest([document], "docs")
    (hit,) = await kb.search("dégât des eaux", collections=["docs"], k=1)
    assert hit.dense is not None and hit.lexical is not None
    assert hit.lexical > 0
    weight = kb.dense_weight
    assert abs(hit.score - (weight * hit.dense + (1 - weight) * hit.lexical)) < 1e-3


async def test_an_english_question_weighs_the_dense_side_more(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    document = tmp_path / "guide.md"
    document.write_text("# Sinistres\n\nUn dégât des eaux se déclare sous cinq jours ouvrés.\n")
    await kb.ingest([document], "docs")
    (hit,) = await kb.search("How do I report water damage (dégât des eaux)?",
                             collections=["docs"], k=1)
    assert hit.dense is not None and hit.lexical is not None
    weight = 0.9  # cross_lingual_dense_weight
    assert abs(hit.score - (weight * hit.dense + (1 - weight) * hit.lexical)) < 1e-3


def test_an_acronym_spelled_out_in_the_passages_counts_as_mentioned() -> None:
    judge = RelevanceJudge()
    spelled = _passage("La caisse primaire d'assurance maladie peut demander vos relevés.",
                       score=0.5, dense=0.5)
    assert judge.missing_names("La CAF ou la CPAM peuvent-elles me les demander ?",
                               [spelled]) == ("CAF",)
    unrelated = _passage("Vous pouvez payer en ligne.", score=0.5, dense=0.5)
    assert judge.missing_names("Comment configurer le VPN ?", [unrelated]) == ("VPN",)


async def test_feedback_ranks_an_english_question_but_never_lifts_its_scores(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "eaux.md").write_text("# Dégât des eaux\n\nUn dégât des eaux se déclare sous "
                                    "cinq jours ouvrés, photos des dommages jointes.\n")
    (folder / "vol.md").write_text("# Vol\n\nUn vol se déclare au commissariat sous deux "
                                   "jours, puis à l'assureur.\n")
    question = "How do I report water damage (dégât des eaux)?"
    found = {}
    for share in (0.0, 0.5):
        kb = KnowledgeBase.open(tmp_path / f"data-{share}",
                                settings.model_copy(update={"cross_lingual_feedback": share}),
                                embedder=embedder)
        try:
            await kb.ingest([folder], "docs")
            found[share] = {hit.chunk_id: hit for hit in
                            await kb.search(question, collections=["docs"], k=2)}
        finally:
            kb.close()
    assert found[0.5].keys() == found[0.0].keys()
    for chunk_id, hit in found[0.5].items():
        assert hit.dense == found[0.0][chunk_id].dense  # the question's own evidence
        assert hit.score == found[0.0][chunk_id].score


async def test_the_lexicon_vector_ranks_an_english_question_without_lifting_its_scores(
    tmp_path: Path, settings: KnowledgeSettings, embedder: HashingEmbedder
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bail.md").write_text("# Bail\n\nLe locataire paie le loyer chaque mois au "
                                    "propriétaire, à la date fixée par le bail.\n")
    (folder / "permis.md").write_text("# Permis\n\nLe permis de conduire se renouvelle en "
                                      "préfecture avec une photo d'identité.\n")
    question = "When must the tenant pay the rent to the landlord?"
    found = {}
    for share in (0.0, 0.7):
        kb = KnowledgeBase.open(tmp_path / f"data-{share}",
                                settings.model_copy(update={"cross_lingual_lexicon": share}),
                                embedder=embedder)
        try:
            await kb.ingest([folder], "docs")
            found[share] = await kb.search(question, collections=["docs"], k=2)
        finally:
            kb.close()
    assert found[0.7][0].document == "bail.md"  # « loyer », « locataire », « propriétaire »
    assert found[0.7][0].dense == 0.0  # the question's own words are English: no evidence
    own = {hit.chunk_id: (hit.dense, hit.score) for hit in found[0.0]}
    assert {hit.chunk_id: (hit.dense, hit.score) for hit in found[0.7]} == own


def test_english_words_get_their_french_renderings() -> None:
    from knowledge.english import french_search_words

    assert french_search_words("How do I renew my passport?").split() == [
        "renouveler", "passeport"]
    assert "locataire" in french_search_words("Tenants' deposits").split()
    assert french_search_words("What is the CNIL?") == "cnil"


@pytest.mark.parametrize("question", [
    "Is a data protection officer mandatory?",
    "Must a bank tell me why it refuses to grant me a loan?",
    "Health professionals: is keeping a register mandatory?",
])
def test_short_english_questions_are_english(question: str) -> None:
    assert detect_language(question) == "en"


@pytest.mark.parametrize("question", [
    "Cookies, quelles obligations ?",
    "Mon fils peut-il ouvrir un compte en banque ?",
    "Quelle date pour la déclaration d'impôt ?",
    "Le document de protection sociale est-il public ?",
])
def test_french_questions_sharing_words_with_english_stay_french(question: str) -> None:
    assert detect_language(question) == "fr"


def test_key_terms_are_the_known_content_words_with_their_french_renderings() -> None:
    terms = key_terms("What happens to the mortgage when the sale is cancelled?")
    assert terms["mortgage"] == ("prêt", "immobilier", "hypothèque")
    assert terms["sale"] == ("vente",)
    assert "what" not in terms and "happens" not in terms  # function and unknown words
    assert key_terms("Who painted the Mona Lisa?") == {}


def test_an_english_question_in_the_overlap_band_needs_two_key_terms_in_the_passage() -> None:
    judge = RelevanceJudge(Thresholds(english_dense=0.35, english_min_dense=0.27))
    question = "What happens to the mortgage when the sale is cancelled?"
    both = _passage("Si la vente est annulée, le prêt immobilier est résilié.", 0.27, 0.29, 0.0)
    verdict = judge.judge(question, [both])
    assert verdict.answerable and verdict.reason == "english: dense evidence and key terms"
    one = _passage("La vente d'un véhicule d'occasion se déclare en ligne.", 0.27, 0.29, 0.0)
    verdict = judge.judge(question, [one])
    assert not verdict.answerable and verdict.reason == "english: key terms not in the passage"
    assert judge.judge(question, [_passage("Autre sujet.", 0.33, 0.36, 0.0)]).answerable
    below = _passage("Si la vente est annulée, le prêt immobilier est résilié.", 0.2, 0.25, 0.0)
    assert not judge.judge(question, [below]).answerable


def test_an_english_question_with_one_key_term_is_answered_when_the_passage_says_every_word(
) -> None:
    judge = RelevanceJudge(Thresholds(english_dense=0.35, english_min_dense=0.27))
    benefit = _passage("En cas de décès, un capital égal à 300 % du salaire est versé.",
                       0.3, 0.31, 0.0)
    verdict = judge.judge("What is the death benefit?", [benefit])
    assert verdict.answerable and verdict.reason == "english: dense evidence and every word"
    # one key term (« home » → « domicile »), but « pizza », « dough » are not said
    home = _passage("Le télétravail se fait au domicile du salarié.", 0.3, 0.31, 0.0)
    assert not judge.judge("How do I make a good pizza dough at home?", [home]).answerable


def test_key_terms_are_counted_in_the_passage_title_and_text() -> None:
    judge = RelevanceJudge()
    passage = _passage("Le remboursement anticipé est possible.", 0.3, 0.3, title="Prêt immobilier")
    assert judge.covered_key_terms("Can I repay my mortgage early?", passage) == 2


def test_only_a_decline_on_disagreeing_evidence_is_borderline() -> None:
    judge = RelevanceJudge()
    disagreeing = judge.judge("Quelles pièces fournir ?", [_passage("Pièces", 0.48, 0.40)])
    low = judge.judge("Quelles pièces fournir ?", [_passage("Pièces", 0.30, 0.30)])
    strong = judge.judge("Quelles pièces fournir ?", [_passage("Pièces", 0.70, 0.70)])

    assert disagreeing.reason == "dense evidence disagrees" and disagreeing.borderline
    assert not low.borderline and not strong.borderline


def test_an_english_decline_is_borderline_only_with_one_key_term_in_the_passage() -> None:
    judge = RelevanceJudge(Thresholds(english_dense=0.35, english_min_dense=0.27))
    question = "What happens to the mortgage when the sale is cancelled?"
    one = judge.judge(question, [_passage("La vente d'un véhicule se déclare en ligne.",
                                          0.27, 0.29, 0.0)])
    assert one.key_terms == 1 and one.borderline  # « vente »: that page came close
    violin = judge.judge("How do I tune a violin?",
                         [_passage("Le droit d'accès aux données.", 0.27, 0.29, 0.0)])
    assert violin.reason == "english: key terms not in the passage"
    assert violin.key_terms == 0 and not violin.borderline  # no page to point to


def test_an_english_question_whose_renderings_all_match_needs_less_dense_evidence() -> None:
    text = "7.2 – Critères d'attribution : valeur technique 60 %, prix 40 %."
    judge = RelevanceJudge()
    question = "What are the award criteria?"
    assert key_terms(question)  # « award criteria » → « critères d'attribution »
    matched = judge.judge(question, [_passage(text, 0.33, 0.25, lexical=1.0)])
    assert matched.answerable and matched.reason == "english: every rendering matched"
    assert not judge.judge(question, [_passage(text, 0.2, 0.25, lexical=0.5)]).answerable
    assert not judge.judge(question, [_passage(text, 0.2, 0.15, lexical=1.0)]).answerable
    elsewhere = "Le prix compte pour 40 %."  # no key term of the question
    assert not judge.judge(question, [_passage(elsewhere, 0.3, 0.25, lexical=1.0)]).answerable


def test_an_attached_document_needs_less_dense_agreement() -> None:
    text = "Les données sont hébergées dans l'Union européenne."
    question = "Où sont hébergées les données ?"
    in_collection = _passage(text, score=0.48, dense=0.38, lexical=0.64)
    attached = replace(in_collection, collection=ATTACHED_COLLECTION)
    judge = RelevanceJudge()
    assert not judge.judge(question, [in_collection]).answerable
    verdict = judge.judge(question, [attached])
    assert verdict.answerable and verdict.reason == "the document attached to the question"
    # still a score floor and a dense floor
    assert not judge.judge(question, [replace(attached, score=0.40)]).answerable
    assert not judge.judge(question, [replace(attached, dense=0.30)]).answerable

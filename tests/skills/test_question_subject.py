"""A French question's subject: its nouns and names, not its verbs or frame nouns."""

from __future__ import annotations

from skills.question_subject import QuestionSubject


def test_nouns_and_names_are_kept_verbs_and_frame_nouns_are_not() -> None:
    subject = QuestionSubject()
    words = subject.words("Que devient le crédit immobilier lorsque la vente est annulée ?")
    assert words is not None and "crédit" in words and "vente" in words
    assert not {"devient", "lorsque", "annulée", "immobilier"} & set(words)
    rules = subject.words("Consultation d'un psy : quelles sont les règles de prise en charge ?")
    assert rules is not None and "psy" in rules and "règles" not in rules
    assert subject.words("CAF ou CPAM : qui paie ?") == ("CAF", "CPAM")
    # « quels documents ? » names the kind of answer, as « quelles formalités ? » does
    assert subject.words("Quels documents fournir pour un dégât des eaux ?") == ("dégât", "eaux")
    # « le nombre de » asks for a count: the CCTP's table of agents answers without it
    assert subject.words("Quel est le nombre d'agents ?") == ("agents",)
    # « la longueur » asks for a measure: « au moins 14 caractères » answers without it
    assert subject.words("Quelle est la longueur minimale du mot de passe ?") == ("mot",)


def test_a_capital_opening_the_question_is_not_taken_for_a_name() -> None:
    words = QuestionSubject().words("Commande sur Internet non livrée : la CNIL peut-elle agir ?")
    assert words is not None and "Commande" not in words and "CNIL" in words


def test_without_the_model_every_word_is_left_to_the_caller() -> None:
    assert QuestionSubject(model="fr_modele_absent").words("Quel délai ?") is None


def test_a_verb_is_known_by_where_it_stands_whatever_its_tag() -> None:
    subject = QuestionSubject()
    # the small model tags « serai » and « Aurai » PROPN, « occupe » NOUN
    assert subject.words("Quand serai-je payé après un sinistre ?") == ("sinistre",)
    assert subject.words("Aurai-je droit à une indemnité ?") == ("indemnité",)
    assert subject.words("Et qui s'en occupe ?") == ()
    assert subject.words("En cas de vol, que faire ?") == ("vol",)
    # an infinitive after an inverted pronoun: the small model tags « joindre » PROPN
    assert subject.words("Que faut-il joindre pour le remboursement des frais ?") == (
        "remboursement", "frais")
    # the small model splits « prennent-elles » and tags the lone « - » PROPN
    assert subject.words("Quand les garanties prennent-elles effet ?") == ("garanties",)


def test_a_word_after_a_determiner_is_a_noun_whatever_its_tag() -> None:
    # the small model tags « étranger » and « usager » VERB
    assert QuestionSubject().words("Est-ce que je peux télétravailler à l'étranger ?") == (
        "étranger",)

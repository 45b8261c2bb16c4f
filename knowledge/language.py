"""Which language a short question is written in (French or English, or clearly another one),
from its function words.

Good enough for routing a question (fusion weight, relevance calibration, the
language of the answer's framing): questions are short, so a few very common
words decide, with the English content words of ``english.py``'s lexicon that French
does not share (« loan », « data ») as extra English evidence; anything without a clear
English majority counts as French, the documents' language.
"""

from __future__ import annotations

import re
from typing import Literal

Language = Literal["fr", "en"]

_WORD = re.compile(r"[a-zà-öø-ÿœæ']+")
_ENGLISH = frozenset(
    """
    the an of to in at for from with by about is are was were be been being do does did
    can could should would will shall may might must have has had what which who whom whose
    when where why how i my we our you your he she it its they their this that these those
    there and or not no if any some much many long get my after before during into than
    """.split()
)
_FRENCH = frozenset(
    """
    le la les un une des du de d l au aux et ou est sont être été avoir a ont je j me m
    mon ma mes tu te ton ta tes il elle on nous vous ils elles leur leurs se s ce cet cette
    ces qui que qu quoi quel quelle quels quelles comment combien pourquoi quand où dans par
    pour sur avec sans sous chez peut faut doit dois puis pas ne n y en est-ce
    """.split()
)
# written alike in both (« a », « on »): evidence for neither when telling them apart
_SHARED = frozenset({"a", "on"})


# Spanish, Italian, Portuguese and German function words that neither French nor English
# writes (« de », « la », « en », « que », « a », « as », « des », « was », « mi » left out)
_OTHER = frozenset(
    """
    el los las del al por para cómo como qué cuál cuáles cuándo cuánto cuántos cuántas dónde
    quién quiénes
    puedo puede pueden hay tengo tiene una uno unos unas este esta estos estas es
    lo también pero muy sobre hasta desde según
    gli della delle degli dello nella nelle nel alla alle dei posso può cosa sono che
    per con come quando qual quali chi perché anche
    não uma um meu minha seu sua na pelo pela quanto quantos é são
    der die das dem und ist wie kann ich mein meine meinen nicht für mit zu auf ein eine
    einen einem werden wird wann welche welcher welches wer wo muss darf bei vom zum zur
    im sich oder von ob gibt habe hat sind mir mich wir ihr wenn dass beim kein keine über
    auch noch nach aus
    """.split()
) - _FRENCH - _ENGLISH
# French function words that these languages do not write as well (« de », « que » are)
_FRENCH_ONLY = _FRENCH - {"de", "la", "a", "se", "me", "te", "y", "en", "que", "un", "il", "ma",
                          "ou", "ne"}
_MARKS = frozenset("¿¡ñãõßäöü")  # letters and marks French and English do not use


def is_other_language(text: str) -> bool:
    """A question clearly in another language than French and English (Spanish, Italian,
    Portuguese, German…): its function words are that language's, not French ones. Such a
    question is searched and judged like an English one, on the multilingual embeddings."""
    lowered = text.lower().replace("’", "'")
    words = _WORD.findall(lowered)
    other = sum(word in _OTHER for word in words) + any(mark in lowered for mark in _MARKS)
    french = sum(word in _FRENCH_ONLY for word in words)
    english = sum(word in _ENGLISH for word in words)
    return other >= 2 and other > 2 * french and other > english


ENGLISH_FUNCTION_WORDS = _ENGLISH


def detect_language(text: str) -> Language:
    """``"en"`` when English function words clearly outnumber French ones, else ``"fr"``;
    a question clearly in a third language (``is_other_language``: « Was ist der … und … ? »,
    whose « was » and « an » read as English) is not English."""
    if is_other_language(text):
        return "fr"
    words = _WORD.findall(text.lower().replace("’", "'"))
    english = french = 0
    for word in words:
        parts = word.split("'")
        if len(parts) > 1 and parts[0] in {"l", "d", "j", "m", "n", "s", "t", "c", "qu"}:
            french += 1  # an elision (« l'enfant ») is French
            continue
        if word in _SHARED:  # « What does a CNIL number shown on a website mean? »
            continue
        english += word in _ENGLISH or (word not in _FRENCH and _is_english_word(word))
        french += word in _FRENCH
    return "en" if english >= 2 and english > 1.5 * french else "fr"


def is_clearly_french(text: str) -> bool:
    """Whether French function words make the text French and no English one says
    otherwise (« Combien de jours de télétravail par semaine ? »): a question an
    English-speaking person wrote in French, to be answered in French."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    french = sum(word in _FRENCH or word.split("'")[0] in {"l", "d", "qu"} for word in words)
    return french >= 2 and not any(word in _ENGLISH for word in words)


def _is_english_word(word: str) -> bool:
    """An English content word of the lexicon (« loan », « mandatory » is not one): short
    questions have too few function words to decide alone (« Is a DPO mandatory? »)."""
    from knowledge.english import is_english_word  # english.py reads this module's words

    return is_english_word(word)

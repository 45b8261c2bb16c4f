"""French text → lexical terms: lower case, elisions cut, stopwords out, stemmed, accents folded.

Stemming is PyStemmer's Snowball French stemmer (BSD); the stopword list is
bm25s's French list (MIT) plus a few question words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cached_property

_WORD = re.compile(r"\w+", re.UNICODE)
_EXTRA_STOPWORDS = frozenset(
    {"a", "y", "ete", "etre", "peut", "faut", "quel", "quelle", "quels", "quelles", "comment"}
)
# Elided forms: « qu'il » splits into « qu » + « il »; one-letter ones (l', d', j'…) are
# dropped with every one-letter word. Treating them as stopwords costs nothing, where
# a regular expression cutting elisions took half of the analysis time.
_ELIDED = frozenset({"qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"})

# « Wi-Fi », « e-mail », « pop-up »: written joined too (« wifi », « email »), so the joined
# word is a term as well; not « peut-on », « est-ce » (a verb and its pronoun)
_COMPOUND = re.compile(r"(?<![\w-])(\w{1,3})-(\w+)(?![\w-])")
_PRONOUNS = frozenset("je tu il elle on nous vous ils elles ce la le les lui moi toi".split())

# Irregular verbs and their nouns, which Snowball leaves apart (« perdu », « perds », « perte »):
# one term per family (Snowball stems, accents folded). Families whose forms also mean
# something else are left out (« vente » / « vent », « prise » en charge, « remise »).
def word_families(forms: dict[str, str]) -> dict[str, str]:
    """``{family: "stem stem …"}`` → ``{stem: family}`` (each stem to its family's term)."""
    return {stem: family for family, stems in forms.items() for stem in stems.split()}


_FAMILIES = word_families({
    "perd": "perd perdon perdr perdu perdus pert",
    "joint": "joign joignent joindr joint",
    "deces": "deced deces",
    "naiss": "naissanc naitr",
    "souscri": "souscr souscript souscrir souscrit souscriv",
    "transmi": "transm transmet transmettr transmis transmiss",
    "exclu": "exclu exclur exclus",
    "inclu": "inclur inclus",
    "resolu": "resolu resoudr",
    "couv": "couvert couvertur couvr",
    "ouvr": "ouvert ouvertur ouvr",
    "fourn": "fourn fournitur",
    "obten": "obten obtent obtenu obtient",
    # « reconduit » / « reconduction » / « reconductible », « déduite » / « déduction »
    "reconduct": "reconduit reconduct reconductibl reconduir reconduis reconduisent",
    "reduct": "reduit reduct reduir reduis reduisent",
    "deduct": "deduit deduct deductibl deduir deduis",
    "traduct": "traduit traduct traduir",
    # « Qui doit signer ? » over « Signature du candidat », « Identification du signataire »
    "sign": "sign signatur signatair",
})

# Bump when the terms produced for a text change: saved lexical indexes are then rebuilt.
ANALYZER_VERSION = 5


def joined_compounds(text: str) -> list[str]:
    """The short two-part hyphenated compounds of a lower-case ``text``, written joined (« wi-fi » →
    « wifi », « e-mail » → « email »): a first part of one or two letters, or two parts of
    at most three (« pop-up »), the second not a pronoun."""
    return [first + second for first, second in _COMPOUND.findall(text)
            if second not in _PRONOUNS and (len(first) <= 2 or len(second) <= 3)
            and not second.isdigit() and not first.isdigit()]


def _family(stem: str) -> str:
    return _FAMILIES.get(stem, stem)


def strip_accents(text: str) -> str:
    """« réclamation » → « reclamation » (also folds œ/æ)."""
    text = text.replace("œ", "oe").replace("æ", "ae").replace("Œ", "OE").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


class FrenchAnalyzer:
    """Text → BM25 terms.

    The Snowball stemmer needs the accents (folding first cost 2 points of
    recall@1 on the dev set); stems are folded afterwards, so « réclamation » and
    « reclamation » still meet. Each distinct word is stemmed once and remembered
    (a corpus has far fewer distinct words than words), up to ``max_cached_words``.
    """

    def __init__(self, max_cached_words: int = 500_000) -> None:
        from bm25s.stopwords import STOPWORDS_FRENCH

        words = {word.lower() for word in STOPWORDS_FRENCH}
        self._stopwords = frozenset(
            words | {strip_accents(word) for word in words} | _EXTRA_STOPWORDS | _ELIDED
        )
        self._terms: dict[str, str] = {}  # word -> term, "" for a word that is left out
        self._max_cached_words = max_cached_words
        self._learning = threading.Lock()

    @cached_property
    def _stemmer(self):  # type: ignore[no-untyped-def]
        import Stemmer  # type: ignore[import-not-found]

        return Stemmer.Stemmer("french")

    def __call__(self, text: str) -> list[str]:
        lowered = text.lower()
        words = _WORD.findall(lowered)
        if "-" in lowered:
            words += joined_compounds(lowered)
        known = self._terms
        terms = list(map(known.get, words))
        if None in terms:
            learned = self._learn([word for word in dict.fromkeys(words) if word not in known])
            terms = [
                learned[word] if term is None else term
                for word, term in zip(words, terms, strict=True)
            ]
        return [term for term in terms if term]

    def _learn(self, words: list[str]) -> dict[str, str]:
        """Terms of new words (remembered, unless the cache is full: then it starts over)."""
        kept = [
            word
            for word in words
            if word not in self._stopwords and (len(word) > 1 or word.isdigit())
        ]
        with self._learning:  # the Snowball stemmer object is not thread-safe
            stems: list[str] = self._stemmer.stemWords(kept)
            learned = dict.fromkeys(words, "")
            learned.update(zip(kept, (_family(strip_accents(stem)) for stem in stems),
                               strict=True))
            if len(self._terms) + len(learned) > self._max_cached_words:
                self._terms = dict(learned)
            else:
                self._terms.update(learned)
        return learned

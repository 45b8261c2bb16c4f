"""Person names in French text: spaCy's offline NER, checked and completed by rules.

The small French model alone tags sentence-initial verbs as people (« Prépare »,
« Résume ») and misses or mislabels names as places (« Karim Nguyen » → LOC). Here
every run of capitalised words is a candidate and the model's label is one piece of
evidence among others:

- a French word list (the forms and lemmas of the model's own lemmatizer tables): a
  capitalised word that is an ordinary French word (verb, noun, adjective, adverb) and
  not a known first name opens a sentence, it does not name anyone;
- a list of first names of many origins (``dlp_first_names.txt``, built from Faker's
  MIT-licensed lists; nothing is downloaded at run time);
- honorifics (« M. », « Mme », « Monsieur », « Maître »…): the words that follow are a
  name; « Prénom NOM » / « NOM Prénom » shapes (a surname in capitals beside a first name).

:class:`FrenchNames` is the :class:`bot.governance.dlp.NameRecogniser` the detector loads by default.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

_EXCLUDED = ("parser", "senter", "tagger", "morphologizer", "attribute_ruler", "entity_ruler")
_CHUNK = 20_000

HONORIFICS = frozenset({
    "m", "m.", "mme", "mme.", "mlle", "mlle.", "monsieur", "madame", "mademoiselle", "maître",
    "maitre", "me", "me.", "dr", "dr.", "docteur", "pr", "pr.", "professeur", "mr", "mr.",
    "mrs", "mrs.", "ms", "ms.",
})
# Lower-case words allowed inside a name: « Anne de La Roche », « João da Silva ».
PARTICLES = frozenset({"de", "d'", "d’", "du", "des", "da", "das", "dos", "van", "von", "der",
                       "den", "ben", "bin", "bint", "el", "al", "ibn"})
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'’\-.]*(?:['’\-][^\W\d_]+)*\.?")
# Ordinary words that the word list lacks (salutations, letter headings).
_NOT_NAMES = frozenset({
    "bonjour", "bonsoir", "merci", "cordialement", "objet", "réf", "tél", "iban", "siren",
    "siret", "nir", "rib", "mail", "email", "e-mail", "cc", "pj", "ps", "nb", "ok",
})


_PREFIXES = ("re", "ré", "dé", "dés", "pré", "sur", "sous", "co", "contre", "entre", "auto")


# Letters NFD does not decompose: « Małgorzata » → « malgorzata », « Đức » → « duc ».
_FOLD = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ı": "i", "ħ": "h", "ŧ": "t",
                       "æ": "ae", "œ": "oe", "ß": "ss", "ð": "d", "þ": "th", "’": "'"})


def _key(word: str) -> str:
    """Case- and accent-insensitive form: « Élodie » → « elodie »."""
    decomposed = unicodedata.normalize("NFD", word.casefold().translate(_FOLD))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _phrase_key(text: str) -> str:
    """:func:`_key` of a phrase, hyphens and spaces alike: « Saint-Nazaire » → « saint nazaire »."""
    return " ".join(re.split(r"[\s\-]+", _key(text).strip(" .")))


def _shipped(file: str) -> list[str]:
    text = resources.files("bot.governance").joinpath(file).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.startswith("#")]


@cache
def first_names() -> frozenset[str]:
    """The shipped first-name list, as :func:`_key` forms."""
    return frozenset(_key(line) for line in _shipped("dlp_first_names.txt"))


@cache
def surnames() -> frozenset[str]:
    """The shipped surname list (Faker's locales), as :func:`_key` forms."""
    return frozenset(_key(line) for line in _shipped("dlp_surnames.txt"))


@cache
def places() -> frozenset[str]:
    """Towns (``dlp_places.txt``, from GeoNames), as :func:`_phrase_key` forms."""
    return frozenset(_phrase_key(line) for line in _shipped("dlp_places.txt"))


@cache
def organisations() -> frozenset[str]:
    """Well-known companies and bodies (``dlp_organisations.txt``), as :func:`_phrase_key`."""
    return frozenset(_phrase_key(line) for line in _shipped("dlp_organisations.txt"))


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """The shipped name lists, as :func:`_key` / :func:`_phrase_key` forms."""

    first_names: frozenset[str]
    surnames: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()

    @classmethod
    def shipped(cls) -> Gazetteer:
        """The lists in ``bot/``."""
        return cls(first_names(), surnames(), places(), organisations())


class Lexicon:
    """Ordinary French words: the forms, lemmas and suffix rules of the model's lemmatizer."""

    def __init__(self, forms: Any, lemmas: dict[str, frozenset[str]],
                 rules: dict[str, tuple[tuple[str, str], ...]]) -> None:
        self._forms = forms  # spacy.lookups.Table: inflected form → lemma (string-hash keys)
        self._lemmas = lemmas  # part of speech → lemmas
        self._rules = rules  # part of speech → (suffix, replacement)
        self._all = frozenset().union(*lemmas.values())
        self._known = lru_cache(maxsize=65_536)(self._lookup)

    @classmethod
    def from_pipeline(cls, nlp: Any) -> Lexicon:
        """The tables of ``nlp``'s (disabled) lemmatizer."""
        lookups = nlp.get_pipe("lemmatizer").lookups
        strings = nlp.vocab.strings
        index, rules = lookups.get_table("lemma_index"), lookups.get_table("lemma_rules")
        lemmas = {strings[pos]: frozenset(words) for pos, words in index.items()}
        # the lookup table's lemmas hold words the index lacks (« liste »)
        table = lookups.get_table("lemma_lookup")
        lemmas["lookup"] = frozenset(lemma for values in table.values() for lemma in values)
        exceptions = lookups.get_table("lemma_exc")  # part of speech → {form: lemmas}
        lemmas["exceptions"] = frozenset(
            word for forms in exceptions.values() for form, values in forms.items()
            for word in (form, *values))
        suffixes = {strings[pos]: tuple((old, new) for old, new in pairs)
                    for pos, pairs in rules.items()}
        return cls(table, lemmas, suffixes)

    def __contains__(self, word: object) -> bool:
        """A listed form or lemma (« Prépare », « Santé »)."""
        return isinstance(word, str) and self._known((word.casefold(), False))

    def inflects(self, word: str) -> bool:
        """Also a regular inflection of a lemma, or a prefixed word (« Reformule »)."""
        return self._known((word.casefold(), True))

    def _lookup(self, key: tuple[str, bool]) -> bool:
        word, loose = key
        if self._listed(word, loose):
            return True
        return loose and any(word.startswith(prefix) and len(word) - len(prefix) >= 4
                             and self._listed(word[len(prefix):], loose)
                             for prefix in _PREFIXES)

    def _listed(self, word: str, loose: bool) -> bool:
        if word in self._all or word in self._forms or word in _NOT_NAMES:
            return True
        return loose and any(word.endswith(old) and word[:len(word) - len(old)] + new in lemmas
                             for pos, lemmas in self._lemmas.items()
                             for old, new in self._rules.get(pos, ()))


@dataclass(frozen=True, slots=True)
class Token:
    """One word of the text with what the rules need to know about it."""

    text: str
    start: int
    end: int
    label: str  # the NER label of the entity holding it, "" if none
    sentence_start: bool
    space_after: bool

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def all_caps(self) -> bool:
        letters = [char for char in self.text if char.isalpha()]
        return len(letters) >= 2 and all(char.isupper() for char in letters)

    @property
    def name_shaped(self) -> bool:
        return self.capitalised and _NAME_WORD.fullmatch(self.text) is not None

    @property
    def honorific(self) -> bool:
        return self.text.casefold() in HONORIFICS


# Words before a company, a product or a place, never before a person's name.
_DETERMINERS = frozenset({"le", "la", "les", "l'", "l’", "un", "une", "au", "aux", "ce",
                          "cette", "son", "sa", "ses", "mon", "ma", "mes", "notre", "votre",
                          "leur"})


# Words before an organisation's name: a single unknown word after them is not a person.
_ORGANISATION_CUES = frozenset({"garage", "société", "entreprise", "assureur", "groupe",
                                "cabinet", "banque", "mutuelle", "enseigne", "marque",
                                "magasin", "compagnie", "opérateur", "fournisseur",
                                "prestataire", "partenaire", "courtier", "plateforme"})
# Also before a listed company that is also a first name (« chez Orange », « client Free »).
_WEAK_ORGANISATION_CUES = _ORGANISATION_CUES | {"chez", "client", "cliente", "de", "d'", "d’"}
# Words before a town: « à Nancy », « (Lourdes) », « agence de Pau ».
_PLACE_CUES = frozenset({"à", "(", "vers", "depuis", "en", "sur"})
_PLACE_NOUNS = frozenset({"agence", "garage", "ville", "mairie", "région", "commune",
                          "tribunal", "préfecture", "hôpital", "gare", "secteur", "site",
                          "bureau", "magasin", "boutique", "zone", "centre", "près",
                          "environs", "côté", "aéroport", "port", "habitant", "habitante"})

# Words after an imperative verb, never after a name opening a sentence (« Liste les… »).
_OBJECT_WORDS = frozenset({"le", "la", "les", "l'", "l’", "un", "une", "des", "du", "ce",
                           "cet", "cette", "ces", "mon", "ma", "mes", "ton", "ta", "tes",
                           "son", "sa", "ses", "notre", "nos", "votre", "vos", "leur", "leurs",
                           "moi", "-moi", "en", "y", "tout", "tous", "toutes", "chaque"})

# Words before a product's name (« contrat Santé Essentielle »).
_PRODUCT_CUES = frozenset({"contrat", "formule", "garantie", "offre", "pack", "option",
                           "produit", "assurance", "gamme"})


class NameRules:
    """Decides which runs of capitalised words are person names."""

    def __init__(self, lexicon: Lexicon | frozenset[str],
                 gazetteer: Gazetteer | frozenset[str]):
        self._lexicon = lexicon
        self._lists = (gazetteer if isinstance(gazetteer, Gazetteer)
                       else Gazetteer(first_names=gazetteer))

    def first_name(self, word: str) -> bool:
        """A known first name (each part of a compound « Jean-Baptiste »)."""
        parts = [part for part in re.split(r"[\-'’]", word) if part]
        return bool(parts) and all(_key(part) in self._lists.first_names for part in parts)

    def surname(self, word: str) -> bool:
        """A known surname that is not an ordinary word (« Nguyen », « Kowalczyk »)."""
        return _key(word) in self._lists.surnames and not self.lexical(word)

    def lexical(self, word: str, *, loose: bool = False) -> bool:
        """An ordinary French word (verb, noun, adjective, adverb); ``loose``: also by the
        lemmatizer's suffix rules and prefixes, which some names also match."""
        parts = [part for part in re.split(r"[\-'’]", word.rstrip(".")) if part]
        if loose and isinstance(self._lexicon, Lexicon):
            return bool(parts) and all(self._lexicon.inflects(part) for part in parts)
        return bool(parts) and all(part in self._lexicon for part in parts)

    def names(self, tokens: Sequence[Token]) -> Iterator[tuple[int, int]]:
        """Character spans of the person names among ``tokens``."""
        for run in _runs(tokens):
            span = self._judge(tokens, run)
            if span is not None:
                yield span

    def _judge(self, tokens: Sequence[Token], run: range) -> tuple[int, int] | None:
        words = list(run)
        inner = [position for position, index in enumerate(words) if tokens[index].honorific]
        if inner and inner[-1] > 0:  # « Auto Tiers Plus de Maître Boukhari »
            words = words[inner[-1]:]
        honorific = False
        opening = tokens[words[0]].sentence_start
        dropped_opening = False
        while words:
            first = tokens[words[0]]
            if first.honorific:
                honorific, dropped_opening = True, False
            elif _particle(first) and dropped_opening:
                pass
            elif opening and not honorific and self._opening_word(tokens, words):
                dropped_opening = True
            else:
                break
            words.pop(0)  # « Note de Mme Kouassi », « Prépare Karim Nguyen »
        if not honorific:
            words = self._after_product(tokens, words)
        while words and _particle(tokens[words[-1]]):
            words.pop()
        if not words:
            return None
        run_tokens = [tokens[index] for index in words]
        if honorific:
            return run_tokens[0].start, run_tokens[-1].end
        context = _Context(tokens, words[0], words[-1] + 1)
        if context.before in _DETERMINERS or not self._person(run_tokens, context):
            return None
        return run_tokens[0].start, run_tokens[-1].end

    def _after_product(self, tokens: Sequence[Token], words: list[int]) -> list[int]:
        """« Garantie Accidents de la Vie de João Ferreira »: keep what follows the last
        particle when everything before it is ordinary words."""
        for position in range(len(words) - 1, 0, -1):
            if not _particle(tokens[words[position]]):
                continue
            head = [tokens[index] for index in words[:position]
                    if not _particle(tokens[index])]
            # one first name that is also a word opens a name (« Marie de La Roche »)
            if head and all(self.lexical(token.text, loose=True) and not token.all_caps
                            and (len(head) > 1 or not self.first_name(token.text))
                            for token in head):
                return words[position + 1:]
        return words

    def _opening_word(self, tokens: Sequence[Token], words: list[int]) -> bool:
        token = tokens[words[0]]
        if token.all_caps:
            return False
        if self.first_name(token.text):
            # a first name that is also a word (« Pierre », « Rose ») opens a name if one
            # follows; a first name alone opens the sentence if it is a listed word
            return len(words) == 1 and self.lexical(token.text)
        return self.lexical(token.text, loose=True)

    def _ordinary(self, token: Token) -> bool:
        return self.lexical(token.text) and not token.all_caps

    def _person(self, run: list[Token], context: _Context) -> bool:
        core = [token for token in run if not _particle(token)]
        if _PLACE_START.match(core[0].text):
            return False  # « Saint-Étienne », « La Rochelle », « Le Havre »
        phrase = _phrase_key(" ".join(token.text for token in core))
        if len(core) == 1:
            return self._single(core[0], phrase, context)
        if phrase in self._lists.organisations or phrase in self._lists.places:
            return False  # « Swiss Life », « Leroy Merlin », « Aix en Provence »
        labels = {token.label for token in core}
        names = [self.first_name(t.text) and not self.lexical(t.text) for t in core]
        family = [self.surname(token.text) for token in core]
        ordinary = [self._ordinary(token) for token in core]
        if all(ordinary):  # « Julien Fournier », « Duc Le », but « Protection Juridique »
            return (self.first_name(core[0].text)
                    and ("PER" in labels or _key(core[-1].text) in self._lists.surnames)
                    and context.before not in _PRODUCT_CUES)
        capitals = sum(token.all_caps for token in core)
        return (any(names) or any(family) or "PER" in labels or 0 < capitals < len(core)
                or not any(ordinary))

    def _single(self, token: Token, phrase: str, context: _Context) -> bool:
        """One capitalised word: a person unless a list, a cue or the lexicon says otherwise."""
        first = self.first_name(token.text)
        if phrase in self._lists.organisations and (
                not first or context.before in _WEAK_ORGANISATION_CUES or token.label == "ORG"):
            return False  # « Carglass a transmis », « chez Orange »
        if phrase in self._lists.places and (
                not first or token.label == "LOC" or context.place_cue):
            return False  # « à Pau », « agence de Nancy »
        if context.before in _ORGANISATION_CUES and not first:
            return False  # « garage Norauto »
        if token.all_caps and not first:
            return False  # « AXA », « SNCF »
        if first:
            # « l'appel de Lamine », « pour Pénélope »; « Rose » opening a sentence is a word
            return not token.sentence_start or not self.lexical(token.text)
        if token.sentence_start:  # « Liste les pièces »: a verb before its object
            return context.after not in _OBJECT_WORDS and not self.lexical(token.text,
                                                                            loose=True)
        return not self.lexical(token.text)  # « pour Kadiatou », « rencontré Ibrahima »


@dataclass(frozen=True, slots=True)
class _Context:
    """The words just before a run."""

    tokens: Sequence[Token]
    index: int  # the run's first token
    end: int  # the token after the run

    def _word(self, back: int) -> str:
        position = self.index - back
        return self.tokens[position].text.casefold() if position >= 0 else ""

    @property
    def before(self) -> str:
        return self._word(1)

    @property
    def after(self) -> str:
        return self.tokens[self.end].text.casefold() if self.end < len(self.tokens) else ""

    @property
    def place_cue(self) -> bool:
        before = self.before
        return before in _PLACE_CUES or (before in {"de", "d'", "d’"}
                                         and self._word(2) in _PLACE_NOUNS)


_PLACE_START = re.compile(r"(?:Saint|Sainte|St|Ste)-|(?:Le|La|Les|L['’])(?:\s|$)")


def _particle(token: Token) -> bool:
    return token.text in PARTICLES


def _runs(tokens: Sequence[Token]) -> Iterator[range]:
    """Runs of name-shaped words (with honorifics and particles inside), within a sentence."""
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not (token.name_shaped or token.honorific):
            index += 1
            continue
        end = index + 1
        while end < len(tokens) and not tokens[end].sentence_start:
            following = tokens[end]
            if following.name_shaped:
                end += 1
            elif (_particle(following) and end + 1 < len(tokens)
                  and tokens[end + 1].name_shaped and not tokens[end + 1].sentence_start):
                end += 2
            else:
                break
        yield range(index, end)
        index = end


_SENTENCE_MARKS = frozenset({".", "!", "?", "…", ":", ";", "«", "(", '"'})
_BULLETS = frozenset({"•", "-", "–", "—", "*"})


def tokens_of(doc: Any, offset: int = 0) -> list[Token]:
    """The :class:`Token` list of a spaCy ``doc`` whose text starts at ``offset``; words
    joined by a hyphen without spaces (« Clermont-Ferrand ») are one token."""
    result: list[Token] = []
    text = doc.text
    previous_end = 0
    for token in doc:
        if token.is_space or not token.text.strip():
            continue
        start, end = offset + token.idx, offset + token.idx + len(token)
        gap = text[previous_end:token.idx]
        if result and not gap and _joinable(result, token.text):
            last = result.pop()
            result.append(Token(last.text + token.text, last.start, end, last.label,
                                last.sentence_start, bool(token.whitespace_)))
            previous_end = token.idx + len(token)
            continue
        line_start = text.rfind("\n", 0, token.idx) + 1
        sentence_start = (not result or result[-1].text in _SENTENCE_MARKS
                          or "\n" in gap
                          or (result[-1].text in _BULLETS
                              and not text[line_start:token.idx - 1 - len(gap)].strip()))
        label = token.ent_type_ if token.ent_iob_ in {"B", "I"} else ""
        result.append(Token(token.text, start, end, label, sentence_start,
                            bool(token.whitespace_)))
        previous_end = token.idx + len(token)
    return result


def _joinable(result: list[Token], following: str) -> bool:
    """« Clermont » « - » then « Ferrand »: the hyphen glues two words written together."""
    last = result[-1]
    if following == "-" or following == "‑":
        return last.text[:1].isalpha() and not last.text.endswith("-")
    return last.text.endswith(("-", "‑")) and len(last.text) > 1 and following[:1].isalpha()


class FrenchNames:
    """Person names (a :class:`bot.governance.dlp.NameRecogniser`); spaCy calls are serialised."""

    def __init__(self, model: str) -> None:
        import spacy

        self._nlp = spacy.load(model, exclude=list(_EXCLUDED), disable=["lemmatizer"])
        self._rules = NameRules(Lexicon.from_pipeline(self._nlp), Gazetteer.shipped())
        self._lock = threading.Lock()

    def __call__(self, text: str) -> Iterable[tuple[int, int]]:
        """Offsets of the person names of ``text``, in pieces of about 20,000 characters."""
        spans: list[tuple[int, int]] = []
        for offset, chunk in _chunks(text, _CHUNK):
            with self._lock:
                doc = self._nlp(chunk)
            spans.extend(self._rules.names(tokens_of(doc, offset)))
        return spans


def _chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of about ``size`` characters, cut after a newline or space."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(" ", start, end))
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end

"""Small French-aware text helpers: sentence splitting and content-word tokens."""

from __future__ import annotations

import re
import unicodedata

from knowledge.french import joined_compounds, word_families

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"(]?[A-ZÀ-ÖØ-Þ0-9])")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s+")
# a sentence does not end after these ("M. Martin", "art. 12", "cf. annexe", an initial)
_ABBREVIATION_END = re.compile(
    r"(?:\b(?i:M|MM|Mme|Mmes|Mlle|Dr|Me|Pr|St|Ste|cf|art|p|n°|no|env|ex|vol|chap"
    r"|Mr|Mrs|Ms|Messrs|Prof|Jr|Sr|vs|approx|dept|e\.g|i\.e)|\b[A-Z])\.$"
)

STOPWORDS = frozenset(
    """
    a ai aie aient ait alors au aucun aussi autre aux avec avoir avez avons bon car ce ceci cela
    celle celles celui ces cet cette chaque ci comme comment dans de des donc dont du elle elles
    en encore est et etaient etait etant ete etre eu faire fait faut il ils je la le les leur
    leurs lui ma mais me meme mes moi mon ne ni nos notre nous on ont ou par pas peu peut pour
    pourquoi quand que quel quelle quelles quels qui sa sans se ses si son sont sous suis sur
    ta te tes toi ton tous tout toute toutes tres tu un une vos votre vous y quoi ca la cas
    the a an of to in is are what how why when where which who for and or on with can do does
    as aura aurai auraient aurais aurait auras aurez auront avaient avais avait ayant eue eus
    eut fut furent sera serai seraient serais serait seras serez serons seront soit soient
    sommes etes peux peuvent pouvez pouvons pourra pourrai pourrait pourront dois doit doivent
    devez devons devra devrai devrait apres avant depuis pendant chez selon lors
    """.split()
)


def fold(text: str) -> str:
    """Lower-case and strip accents (``Élève`` → ``eleve``)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# Irregular verbs and their nouns that suffixes cannot join (« J'ai perdu ma carte » and « en
# cas de perte de la carte »), as the light stem leaves them → one token for the family.
# Families whose forms mean something else too are left out (« vente » / « vent », « prise »
# en charge / « prendre », « paye », « inscription », « remise » (a discount), « réception »,
# « permis », « vie »): the first three moved dev answers to sentences about something else.
_FAMILIES = word_families({
    "perd": "perdu perd perdr pert perdon perdez",
    "joint": "joindr joignez joign joint",
    "souscri": "souscrir souscription souscri souscriv",
    "naiss": "naissanc naitr",
    "dece": "dece deced",
    "transmi": "transmettr transmission transmi transmet",
    "exclu": "exclur exclusion exclu",
    "inclu": "inclur inclusion inclu",
    "resolu": "resoudr resolution resolu",
    "couv": "couvrir couvertur couvert couvr",
    "ouvr": "ouvrir ouvertur ouvert ouvr",
    "fourn": "fournir fournitur fourni fourniss",
    "obten": "obtenir obtention obtenu obtien",
    "recondui": "recondui reconduction reconductibl reconduir",
    "redui": "redui reduction reduir",
    "dedui": "dedui deduction deductibl deduir",
    "tradui": "tradui traduction traduir",
    "sign": "sign signez signatur signatair",
})


def stem(word: str) -> str:
    """A light French/English stem: enough to match plural and common suffixes, and the
    forms of a few irregular verbs with their nouns (« perdu », « perte »)."""
    # plurals in -aux: « niveaux », « tuyaux » → « niveau », « tuyau »; « canaux », « locaux »
    # → « canal », « local »
    if word.endswith(("eaux", "yaux")) and len(word) >= 5:
        word = word[:-1]
    elif word.endswith("aux") and len(word) >= 5:
        word = word[:-3] + "al"
    for suffix in ("issements", "issement", "ements", "ement", "ations", "ation", "ences", "ence",
                   "ables", "able", "euses", "euse", "eurs", "eur", "ives", "ive", "ees", "ee",
                   "er", "es", "s", "e"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    # « télétravailler », « télétravaillé » → « télétravail »; « fournit » → « fourni »;
    # « annuelle », « européenne » → « annuel », « européen »
    if word.endswith("ill") or (word.endswith(("it", "ell", "enn")) and len(word) >= 6):
        word = word[:-1]
    return _FAMILIES.get(word, word)


def content_tokens(text: str) -> list[str]:
    """Stemmed content words of ``text``, elisions and stop words removed; a short
    hyphenated compound also gives its joined form (« Wi-Fi » → « wifi », as
    ``knowledge.french`` indexes it)."""
    folded = fold(_ELISION.sub(" ", text))
    words = _WORD.findall(folded)
    if "-" in folded:
        words += joined_compounds(folded)
    return [stem(word) for word in words if word not in STOPWORDS and len(word) > 1]


def split_sentences(text: str) -> list[str]:
    """Split prose and bullet lists into sentences, keeping their original wording."""
    sentences: list[str] = []
    for line in _LINE_BREAK.split(text.strip()):
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        pending = ""
        for part in _SENTENCE_END.split(line):
            part = part.strip()
            if not part:
                continue
            pending = f"{pending} {part}" if pending else part
            if not _ABBREVIATION_END.search(pending):
                sentences.append(pending)
                pending = ""
        if pending:
            sentences.append(pending)
    return sentences

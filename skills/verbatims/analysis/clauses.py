"""Split verbatims into clauses: one aspect each, as far as punctuation and connectors tell."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Sentence ends, semicolons, line breaks.
_SENTENCE = re.compile(r"(?<=[.!?…;])\s+|\n+|(?<=[!?])(?=[A-ZÀ-Ý])")
# Connectors that start another aspect; the comma or space before them is the cut.
_CONNECTOR = re.compile(
    r"[,;:]?\s+(?=(?:mais|par contre|en revanche|cependant|pourtant|sinon|par ailleurs|"
    r"d'ailleurs|d’ailleurs|de plus|en plus|en outre|aussi,|heureusement|malheureusement|"
    r"et comme si|et en plus|et puis|seul bémol|point positif|point négatif|"
    r"by the way|also|but)\b)",
    re.IGNORECASE,
)
_AND = re.compile(r",?\s+et\s+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_MIN_SIDE_WORDS = 4  # « et » splits only two sides this long (« rapide et efficace » stays)
# Courtesy and filler words that alone make no aspect.
_COURTESY = frozenset(
    "bonjour bonsoir madame monsieur cordialement merci bien salutations voila voilà "
    "bonne journee journée sinc sincères sinceres encore avance d'avance par tout "
    "thanks thank you hello regards ok bon alors ecoutez écoutez dire que honnetement "
    "honnêtement franchement basically honestly bref enfin".split()
)


# Discourse markers and courtesy openings at the start of a clause (say nothing of the aspect).
_OPENING = re.compile(
    r"^(?:(?:bonjour|bonsoir|hello|madame,? monsieur|madame|monsieur|en réponse à votre "
    r"(?:questionnaire|enquête|enquete)|suite à votre (?:questionnaire|enquête)|je réponds à "
    r"votre (?:questionnaire|enquête)|honnêtement|honnetement|franchement|sinon|par ailleurs|"
    r"d['’]ailleurs|de plus|en plus|en outre|aussi|et|mais|par contre|en revanche|cependant|"
    r"pourtant|heureusement|malheureusement|bon|bah|ben|alors(?: là)?|écoutez|ecoutez|que dire|"
    r"dans mon cas|pour être honnête|pour etre honnete|concernant ma dernière demande|"
    r"honestly|basically|bref|enfin|voilà|voila|puis|donc|du coup|seul bémol|point positif|"
    r"point négatif|et comme si ça ne suffisait pas|et en plus|et puis)\b[\s,:;.!…-]*)+",
    re.IGNORECASE,
)


def normalised(text: str) -> str:
    """The clause as embedded: openings dropped, shouting lowered, spaces squeezed."""
    stripped = _OPENING.sub("", text).strip() or text
    letters = [char for char in stripped if char.isalpha()]
    if letters and sum(char.isupper() for char in letters) > 0.6 * len(letters):
        stripped = stripped.lower()
    stripped = re.sub(r"([!?.])\1+", r"\1", stripped)
    return " ".join(stripped.split())


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause of verbatim ``verbatim`` (its index among the analysed), ``position`` in it."""

    verbatim: int
    position: int
    text: str
    after_contrast: bool  # follows « mais », « par contre »… (carries the point)


def fold(text: str) -> str:
    """Lower case without accents (for matching, never for display)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# Contact details: e-mail addresses, phone numbers, long reference numbers, postal codes.
_CONTACT_DETAIL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:\+33\s?|0)[1-9](?:[\s.-]?\d\d){4}"
    r"|\b[A-Z]{0,5}[-\s]?\d[\d\s/-]{5,}\d\b|\b\d{5}\b", re.IGNORECASE)
# Words that only introduce contact details (« mon mail : … », « joignable au … »).
_CONTACT_WORDS = frozenset(fold(word) for word in """
mail email e-mail courriel adresse nouvelle nouveau numéro numero tél tel téléphone telephone
portable joindre joignable contacter recontacter rappeler écrire répondez répondre moi me
mon ma mes mon votre au à a l le la les de du des sur par pour n° no ref référence contrat
adhérent adherent sociétaire dossier client rue avenue boulevard impasse allée chemin place
""".split())


def contact_only(text: str) -> bool:
    """A clause that only gives contact details or a reference (no aspect to code)."""
    if not _CONTACT_DETAIL.search(text):
        return False
    rest = _CONTACT_DETAIL.sub(" ", text)
    content = [word for word in words(rest) if fold(word) not in _CONTACT_WORDS
               and fold(word) not in _COURTESY and len(word) > 1 and not word[:1].isupper()]
    return len(content) < 2


def words(text: str) -> list[str]:
    """The words of ``text`` (letters, with inner apostrophes and hyphens)."""
    return _WORD.findall(text)


def _substantial(text: str) -> bool:
    content = [w for w in words(text) if fold(w) not in _COURTESY and len(w) > 1]
    return len(content) >= 2


def _split_and(piece: str) -> list[str]:
    parts = _AND.split(piece)
    if len(parts) == 1:
        return parts
    out = [parts[0]]
    for part in parts[1:]:
        if len(words(out[-1])) >= _MIN_SIDE_WORDS and len(words(part)) >= _MIN_SIDE_WORDS:
            out.append(part)
        else:
            out[-1] = f"{out[-1]} et {part}"
    return out


_CONTRAST = re.compile(r"^(?:mais|par contre|en revanche|cependant|pourtant|but)\b", re.I)


def split_clauses(text: str) -> list[tuple[str, bool]]:
    """Clauses of one text with whether each follows a contrast; filler-only pieces dropped."""
    out: list[tuple[str, bool]] = []
    for sentence in _SENTENCE.split(text):
        for piece in _CONNECTOR.split(sentence):
            contrast = bool(_CONTRAST.match(piece.strip()))
            for part in _split_and(piece):
                cleaned = part.strip(" \t,;:-–—.…\"'«»()")
                if cleaned and _substantial(cleaned):
                    out.append((normalised(cleaned)[:400], contrast))
    return out


def clauses_of(texts: Sequence[str]) -> list[Clause]:
    """Every clause of every text, in order; a text with no clause gets none (noise)."""
    found: list[Clause] = []
    for index, text in enumerate(texts):
        for position, (clause, contrast) in enumerate(split_clauses(text)):
            found.append(Clause(index, position, clause, contrast))
    return found

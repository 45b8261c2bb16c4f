"""A small French polarity lexicon for customer answers, with negation and contrast.

Words are matched accent-free at a word start (« satisf » covers « satisfait »,
« satisfaisant »), with a weight (2: a strong word such as « lamentable »). A negation
(« ne », « pas », « jamais », « aucun », « sans », « peu ») within the three words
before turns a word's polarity round: « pas terrible » and « pas clair » are negative,
« aucune attente » and « jamais eu de problème » positive; a negation that governs no
polar word reads as a small complaint (« je n'ai pas reçu », « on ne m'a jamais rappelé »).
Set phrases are read first (« rien à redire », « hors de prix », « ni bien ni mal »).

A verbatim's score weighs its segments the way survey coders read them: the part after
« mais / par contre / en revanche » carries the point, the part after « seul bémol » or
« point positif » is a side remark, a suggestion (« il faudrait… ») judges nothing, and a
non-answer (« pas d'avis », « rien à signaler ») says nothing at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def _words(spec: str) -> dict[str, float]:
    """``stem`` or ``stem:weight`` separated by spaces → {stem: weight}; ``=word``: that
    exact word only (« bon » but not « bonjour », « cher » but not « chercher »)."""
    found: dict[str, float] = {}
    for item in spec.split():
        stem, _, weight = item.partition(":")
        found[stem] = float(weight) if weight else 1.0
    return found


_POSITIVE = _words("""
satisf ravi:2 excellen:2 parfait:2 impeccable:2 genial:2 formidable:2 exceptionnel:2
remarquable:2 bravo:2 felicit:2 nickel:2 =top =super merci:0.5 remerci aimable gentil
sympa courtois souriant chaleureu accueillant attentionn attentif patient humain
bienveillan rassur soulag disponible reactiv rapide rapidement =vite efficac competen
professionn serieu fiable pertinent precis clair clairement limpide lisible transparen
simple simplement facile facilement pratique fluide intuiti ergonomi utile
ponctuel conforme impec immediat express agreable content heureu confiance fidel plaisir recommand:1.5
apprecia =bon:0.7 =bonne:0.7 =bons:0.7 =bonnes:0.7 =bien:0.5 mieux:0.5 meilleur amelior:0.5
abordable raisonnable avantageu competiti =positif:1.5 =positive:1.5 =positifs:1.5 enchant
great good perfect love thanks helpful amazing
""")
_NEGATIVE = _words("""
decu:2 decevant:2 deception:2 inadmissible:2 inacceptable:2 lamentable:2 honte:2 honteu:2
scandal:2 catastroph:2 desastr:2 deplorable:2 minable:2 pitoyable:2 inadmis:2 arnaque:2
escroc:2 voleur:2 inexcusable:2 revoltant:2 insupportable:2 indigne:2 mecontent:2
insatisf:2 =nul:1.5 =nulle:1.5 mediocre:1.5 mauvais:1.5 mauvaise:1.5 pire:1.5 horrible:2
affreu:2 odieu:2 deconseill:2 regrett:1.5 degout:2 exasper:2 agace enerv furieu:2
impossible injoignable attente:0.7 attendre:0.7 attends:0.7 attendu:0.5 erreur erron
bug beug plante =plantee =plant panne crash cass:0.7 probleme souci =cher:1.5 =chere:1.5 =cheres =chers
hausse augment excessi abusi exorbitant surtax injustifi injuste =long:0.7 =longue:0.7
=longs:0.7 =longues:0.7 =lent =lente lenteur retard interminable galere marre ras-le-bol resili:0.3 perdu
perte egare refus bloque suspendu oubli relanc desagreable froid glacial impoli
arrogant meprisant mepris incompeten incapable agressi expeditif redemand reexpliqu repeter degrad
penible usant epuis stress angoiss inquiet abandonn ignor menteur mensong
incomprehensi illisible flou floue opaque jargon confus compliqu complexe laborieu
insuffisant difficile difficulte =trop:0.5 aberrant absurde ridicule
inutile:1.5 dommage faute fautif litige plainte reclam:0.5 contest:0.5
bad worst terrible awful poor slow useless
""")
_PHRASES: tuple[tuple[str, float], ...] = tuple(
    (re.sub(r"\s+", r"\\s+", pattern), weight) for pattern, weight in (
        (r"(?:pas|plus|jamais) (?:du tout |vraiment )?a la hauteur", -2.0),
        (r"(?:aucun|pas de|sans) geste commercial", -1.5), (r"pas a pas", 0.0),
        (r"rien (?:a|de plus a) (?:redire|reprocher|dire de plus)", 2.0),
        (r"a la hauteur", 1.5), (r"geste commercial", 1.0), (r"tout de suite", 1.0),
        (r"le jour meme", 1.0), (r"(?:ne )?m'y attendais pas", 1.0),
        (r"pas besoin de (?:tout )?\w+", 1.5), (r"(?:un|en|lettre|courrier|par) recommande", 0.0), (r"(?:beaucoup|bien|vraiment) trop \w+", -1.5),
        (r"trop tard", -1.5), (r"(?:paie|paye|payons|payer|coute|coutent) de plus en plus", -1.5),
        (r"(?:rien (?:eu )?a avancer|sans rien avancer|avance jamais rien)", 1.5),
        (r"(?:pas|aucun|sans|jamais eu) (?:de |d')?(?:probleme|souci|difficulte)s?", 1.5),
        (r"que du (?:bon|positif)", 2.0), (r"au top", 1.5), (r"tip top", 1.5),
        (r"dans les (?:temps|delais)", 1.0), (r"en temps et en heure", 1.0),
        (r"sans (?:encombre|accroc)", 1.0), (r"pas mal", 0.7),
        (r"pas terrible", -1.5), (r"pas top", -1.5), (r"pas genial", -1.5),
        (r"hors de prix", -2.0), (r"parcours du combattant", -2.0),
        (r"sans (?:reponse|nouvelles?|suite|explication|preavis|prevenir|retour)", -1.5),
        (r"(?:moqu|fiche|fout)\w* du monde", -2.0), (r"(?:aller|voir|partir) ailleurs", -1.5),
        (r"changer d'(?:assureur|assurance|mutuelle|banque|operateur)", -1.5),
        (r"toujours pas", -1.5), (r"(?:attends|attend|attendons) toujours", -1.5), (r"(?:encore|toujours) en attente", -1.5),
        (r"plus (?:moyen|possible) de", -1.5), (r"n'importe quoi", -1.5),
        (r"(?:plus|\+) jamais", -2.0), (r"a ameliorer", -1.0), (r"peut mieux faire", -1.0),
        (r"(?:m'attendais|attendais|attendre) a (?:beaucoup |bien )?mieux", -1.5),
        (r"(?:c'etait|c etait) mieux avant", -1.5), (r"au compte-gouttes", -1.5),
        (r"(?:une|la|un|le) (?:bataille|combat|calvaire|cauchemar|galere)", -1.5),
    ))
# Lukewarm words: the segment they are in judges nothing (« satisfaction moyenne »).
_LUKEWARM = re.compile(
    r"\b(?:ni \w+ ni \w+|sans plus|bof|mouais|moyen|moyenne|moyens|passable)\b")
# Bland words: neutral themselves, the rest of the segment still counts (« tarifs
# corrects, personnel agréable »).
_BLAND = re.compile(
    r"\b(?:correct|correcte|corrects|correctes|ras|rien a signaler|rien de grave|"
    r"rien d'exceptionnel|ca va)\b")
# Courtesy that judges nothing: « Bien cordialement », « Merci d'avance de votre retour ».
_COURTESY = re.compile(
    r"\b(?:bien cordialement|bien a vous|bonne (?:journee|soiree|fin de journee)|"
    r"(?:je vous )?(?:remercie|merci)\w*\s+(?:(?:par |d')avance|de (?:votre|m'avoir) "
    r"(?:attention|retour|lecture|lu))(?:\s+(?:de|pour) votre (?:retour|reponse|attention))?|"
    r"(?:je n'ai )?pas (?:plus|grand-chose|grand chose|autre chose|d'autres?) (?:a (?:dire|"
    r"ajouter)|remarques?|commentaires?)|c'est tout(?: ce que j'avais a dire)?|"
    r"voila ce que j'en pense)")
# The answer's overall judgement weighs more than one aspect (as in survey coding).
_OVERALL = re.compile(
    r"\b(?:dans l'ensemble|globalement|en general|au final|experience|recommand\w*|"
    r"client(?:e)? depuis)\b")
_OVERALL_WEIGHT = 1.5
# Answers that say nothing, for a whole text (folded, punctuation made spaces).
_NON_ANSWER = re.compile(
    r"^(?:(?:pas|aucun|aucune|sans|rien|non|je n a(?:i)? pas|je n ai rien)(?: d| de)?\s*"
    r"(?:avis|commentaires?|remarques?|idees?|opinion|objet|reponse)?"
    r"(?: (?:a (?:dire|signaler|ajouter|declarer|formuler)|de plus|d autre|particuliere?s?|"
    r"special|pour (?:le moment|l instant|l heure)))*"
    r"|(?:je )?(?:ne )?sais pas|nsp|ras|r a s|n a|na|nc|neant|idem|ok|non merci|x+|0|)$")
# « pa »: « pas » as typed in a text message; « manque de clarté » is « pas de clarté ».
_NEGATORS = frozenset("ne n pas pa jamais aucun aucune sans ni peu guere nullement manque "
                      "manquent".split())
_NE = frozenset(("ne", "n"))
_WINDOW = 3  # words a negation reaches
_ORPHAN_NEGATION = -0.7  # a negation with no polar word after it: a small complaint
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z]+)*")
_ALL = {**_POSITIVE, **{stem: -weight for stem, weight in _NEGATIVE.items()}}
_EXACT = {stem[1:]: weight for stem, weight in _ALL.items() if stem.startswith("=")}
_STEMS = {stem: weight for stem, weight in _ALL.items() if not stem.startswith("=")}
_STEM = re.compile(r"^(" + "|".join(sorted(map(re.escape, _STEMS), key=len, reverse=True)) + ")")
_PHRASE = re.compile("|".join(f"(?:\\b{p})" for p, _ in _PHRASES))
# Segments: sentence ends and the connectors that turn an answer round.
_SEGMENT = re.compile(
    r"(?<=[.!?;])\s+|\n+|\s*[,:;-]?\s*(?=\b(?:mais|par contre|en revanche|cependant|pourtant|"
    r"neanmoins|toutefois|seul bemol|petit bemol|bemol|point negatif|point positif|"
    r"seul point negatif|seul regret|dommage que|sinon|autre chose|par ailleurs)\b)")
_POINT = re.compile(r"^(?:mais|par contre|en revanche|cependant|pourtant|neanmoins|toutefois)\b")
_ASIDE = re.compile(r"^(?:seul bemol|petit bemol|bemol|point negatif|point positif|"
                    r"seul point negatif|seul regret)\b")
_POINT_WEIGHT = 2.0  # the clause after « mais » carries the point
_ASIDE_WEIGHT = 0.5  # the clause after « seul bémol » is a side remark


def fold(text: str) -> str:
    """Lower case, no accents, typographic apostrophes made plain."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("’", "'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _phrase_weight(match: str) -> float:
    for pattern, weight in _PHRASES:
        if re.fullmatch(pattern, match):
            return weight
    return 0.0


def clause_score(text: str) -> float:
    """A folded segment's polarity in [-1, 1] (0: nothing polar found)."""
    total, hits = 0.0, 0.0
    for match in _PHRASE.finditer(text):
        weight = _phrase_weight(match.group(0))
        total, hits = total + weight, hits + abs(weight)
    text = _PHRASE.sub(" ", text)
    if _LUKEWARM.search(text):
        return 0.0
    for part in re.split(r"[,;:()]", _BLAND.sub(" ", text)):  # a negation stops at a comma
        part_total, part_hits = _words_score(_WORD.findall(part.replace("'", " ")))
        total, hits = total + part_total, hits + part_hits
    return total / max(hits, 1.0)


def _words_score(found_words: list[str]) -> tuple[float, float]:
    """Sum of the polar words' weights (negations applied) and of their magnitudes."""
    total, hits = 0.0, 0.0
    negated_until, pending = -1, False  # pending: a negation that has governed no word yet
    penalty = _ORPHAN_NEGATION  # « sans » alone is no complaint (« sans discuter »)
    for index, word in enumerate(found_words):
        if word == "peu" and index and found_words[index - 1] == "un":
            continue  # « un peu cher » is still « cher »
        if word in _NEGATORS or (word in ("plus", "rien", "personne")
                                 and any(t in _NE for t in found_words[max(0, index - 3):index])):
            if pending and index > negated_until:
                total, hits = total + penalty, hits - penalty
            if index > negated_until:
                penalty = 0.0 if word == "sans" else _ORPHAN_NEGATION
            elif word != "sans":
                penalty = _ORPHAN_NEGATION
            negated_until, pending = index + _WINDOW, pending or index > negated_until
            continue
        weight = _polarity(word)
        if not weight:
            continue
        if index <= negated_until:
            weight = -weight if weight > 0 else -0.7 * weight
            pending = False
        total, hits = total + weight, hits + abs(weight)
    if pending:
        total, hits = total + penalty, hits - penalty
    return total, hits


def _polarity(token: str) -> float:
    if token in _EXACT:
        return _EXACT[token]
    found = _STEM.match(token)
    return _STEMS[found.group(1)] if found is not None else 0.0


def segments(text: str) -> list[tuple[str, float]]:
    """A folded text's segments with the weight a survey coder gives each."""
    found: list[tuple[str, float]] = []
    for piece in _SEGMENT.split(fold(text)):
        piece = piece.strip(" \t,;:-.!?…\"«»()")
        if not piece:
            continue
        piece = _COURTESY.sub(" ", piece).strip()
        if not piece:
            continue
        weight = _POINT_WEIGHT if _POINT.match(piece) else _ASIDE_WEIGHT if _ASIDE.match(
            piece) else 1.0
        found.append((piece, weight * (_OVERALL_WEIGHT if _OVERALL.search(piece) else 1.0)))
    return found


@dataclass(frozen=True, slots=True)
class Reading:
    """Texts read once: per text its score and whether it is lukewarm; every segment that
    judges (suggestions left out), folded, with its text, weight and score."""

    scores: Floats
    lukewarm: npt.NDArray[np.bool_]
    pieces: list[str]
    owners: npt.NDArray[np.int64]
    weights: Floats
    piece_scores: Floats


def read(texts: Sequence[str], suggestion: Callable[[str], bool]) -> Reading:
    """A text's score is its segments' scores weighted as coders read them (in [-1, 1]);
    lukewarm: a word such as « correct, sans plus » and nothing polar."""
    scores = np.zeros(len(texts))
    lukewarm = np.zeros(len(texts), dtype=bool)
    pieces: list[str] = []
    owners: list[int] = []
    weights: list[float] = []
    piece_scores: list[float] = []
    for index, text in enumerate(texts):
        total, weighed, tepid = 0.0, 0.0, False
        for piece, weight in segments(text):
            tepid = tepid or bool(_LUKEWARM.search(piece) or _BLAND.search(piece))
            if suggestion(piece):
                continue
            score = clause_score(piece)
            pieces.append(piece)
            owners.append(index)
            weights.append(weight)
            piece_scores.append(score)
            if score:
                total, weighed = total + weight * score, weighed + weight
        scores[index] = total / weighed if weighed else 0.0
        lukewarm[index] = tepid and not weighed
    return Reading(scores, lukewarm, pieces, np.asarray(owners, dtype=np.int64),
                   np.asarray(weights, dtype=np.float64),
                   np.asarray(piece_scores, dtype=np.float64))


def is_non_answer(text: str) -> bool:
    """« Pas d'avis », « Rien à signaler », « NSP », « . »: an answer that says nothing."""
    return _NON_ANSWER.match(" ".join(re.sub(r"[\W_]+", " ", fold(text)).split())) is not None


def verbatim_score(text: str, suggestion: Callable[[str], bool]) -> float:
    """A whole answer's polarity in [-1, 1] (see :func:`read`)."""
    return float(read([text], suggestion).scores[0])


def says_neutral(text: str, suggestion: Callable[[str], bool]) -> bool:
    """« Correct, sans plus », « ni bien ni mal »: a lukewarm word and nothing polar."""
    return bool(read([text], suggestion).lukewarm[0])

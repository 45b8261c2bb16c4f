"""What a question asks for (a duration, a figure, a date, a person, a yes or no) and
whether a text carries it."""

from __future__ import annotations

import re

from bot.text import content_tokens, fold

# What a question asks for, and what a sentence carrying it looks like.
_ASKS_DURATION = re.compile(
    r"\b(combien de temps|quel(?:le)?s? (?:delai|duree)s?|delais?|durees?|pendant combien|"
    r"jusqu'a quand|how long|time limit|period)\b"
)
# who handles or is to be contacted (not who is eligible: « Qui peut télétravailler ? »)
_ASKS_WHO = re.compile(
    r"^(?:\S+ : )?(?:et )?(?:qui (?:dois-je |faut-il |peut-on |puis-je |doit-on )?"
    r"(?:s'en |s'y |s')?(?:occupe|gere|traite|valide|decide|instruit|"
    r"contacter|appeler|prevenir|informer|joindre)|a qui (?:s'adresser|ecrire|envoyer|"
    r"transmettre|signaler|demander)|aupres de qui)\b|\bquel(?:le)?s? (?:service|interlocuteur|"
    r"direction|contact|correspondant|equipe|departement)s?\b|^(?:and )?who (?:handles|deals|"
    r"manages|processes|approves|validates|decides|(?:do|should|can) i (?:contact|call|tell|ask)|"
    r"to (?:contact|call|ask))\b|\bwhich (?:department|team|service|office)\b"
)
# who is eligible (« Qui peut en bénéficier ? », “Who is eligible?”)
_ASKS_ELIGIBLE = re.compile(
    r"^(?:\S+ : )?(?:et |and )?(?:qui (?:peut|peuvent|pourra|pourrait|a|ont|est|sont)"
    r"(?: (?:en|y))? (?:beneficier|pretendre|droit|eligibles?|concernee?s?)\b|qui y a droit\b|"
    r"who (?:is|are) (?:eligible|entitled|concerned)\b|who (?:can|may) (?:benefit|apply|claim)\b)"
)
# « How long is the password? » asks a length, not a time: « how long is/are » is a duration
# only when what follows names a time (« the notice period », « parental leave », « it »)
_HOW_LONG_IS = re.compile(
    r"\bhow long (?:is|are|was|were) (?:the |a |an |my |your |our |their |this |that )?"
    r"([\w-]+)(?: ([\w-]+))?")
_TIME_NOUNS = frozenset(
    "period periods delay delays leave notice probation probationary trial contract contracts "
    "warranty guarantee validity wait waiting time term duration suspension retention storage "
    "stay absence internship training course loan lease mandate appeal cooling-off deadline "
    "holiday holidays vacation break process procedure processing review investigation "
    "maternity paternity parental sick sickness coverage cover membership commitment "
    "it they this that".split())
# … unless a verb says how long it goes on (« How long is a claim processed? »)
_LASTING = re.compile(r"\b(?:\w+ed|valid|kept|paid|held|open|shown|given|taken|done|due|"
                      r"eligible|available|active|suspended|closed)\b")
_ASKS_NUMBER = re.compile(
    r"\b(combien|quel(?:le)?s? (?:(?:est|sont) (?:le |la |les |l'|leurs? )?)?"
    r"(?:montant|nombre|age|taux|prix|cout|plafond|somme|pourcentage)|"
    r"how (?:much|many|old)|what (?:(?:is|are) the )?(?:amount|age|rate|price|percentage))\b"
)
_ASKS_DATE = re.compile(
    r"^(?:\S+ : )?(?:quand|when)\b|\b(?:a partir de|jusqu'a|depuis) quand\b|"
    r"\b(?:quelle date|what date|since when|a quelle date|quelle est (?:la|l'|leur) ?date|"
    r"quel jour|date (?:limite|butoir)|quelle echeance|what day|deadline)\b"
)
_ASKS_YES_NO = re.compile(
    r"^(?:\S+ : )?(?:est-ce|peut-on|puis-je|dois-je|faut-il|suis-je|ai-je|a-t-on|"
    r"\w+-(?:t-)?(?:il|elle|on|ils|elles|je)\b|can|could|is|are|do|does|must|should|may|"
    r"am|has|have)\b"
)
_DURATION = re.compile(
    r"\b\d+(?:[,.]\d+)?\)?\s*(?:jours?|semaines?|mois|ans?|annees?|heures?|minutes?|trimestres?|"
    r"days?|weeks?|months?|years?|hours?)\b|\b(?:un|une|deux|trois|quatre|cinq|six|sept|huit|"
    r"neuf|dix|douze|quinze|trente)\s+(?:jours?|semaines?|mois|ans|annees|heures|trimestres)\b"
)
# a figure in digits or in words (« trois jours », « la moitié »); « un/une » are articles
_NUMBER = re.compile(
    r"\d|\b(?:deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|"
    r"quinze|seize|vingt|trente|quarante|cinquante|soixante|cent|mille|moitie|tiers|quart|"
    r"two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|half)\b"
)
_DATE = re.compile(
    r"\b\d{1,2}(?:er)?\s+(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|"
    r"octobre|novembre|decembre)\b|\b(?:19|20)\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|"
    r"\b(?:a partir d|avant l|apres l|des l|au plus tard|a compter d)"
)
# a day of the calendar (« 26 février 2027 », « 04/01/2027 »), for « Quelle est la date… ? »
CALENDAR_DATE = re.compile(
    r"\b\d{1,2}(?:er)?\s+(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|"
    r"octobre|novembre|decembre)\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:january|february|march|"
    r"april|may|june|july|august|september|october|november|december)\s+\d{1,2}\b"
)
NAMES_A_DAY = re.compile(r"\b(?:date|quel jour|what day|deadline)\b")
# a service, a role or a way to reach one (« Service responsable : Qualité », « au 4444 »)
_WHO = re.compile(
    r"\b(?:service|direction|responsable|gestionnaire|equipe|departement|manager|"
    r"interlocuteur|correspondant|referent|conseiller|mediateur|delegue|dpo|rh|"
    r"ressources humaines|agence|support|department|team|office)s?\b|@|\bau \d{3,}"
)
# the people a rule is open to (« Tout collaborateur en CDI… », « réservé aux adhérents »)
_ELIGIBLE = re.compile(
    r"\b(?:tout|toute|tous|toutes|seule?s?) (?:les )?(?:collaborat|salari|agent|assur|adherent|"
    r"personne|employe|beneficiaire|membre|candidat|enfant|conjoint|retraite|titulaire)\w*|"
    r"\beligib\w*|\bouverte?s? aux?\b|\breservee?s? aux?\b|\b(?:peut|peuvent) (?:en )?"
    r"beneficier\b|\b(?:a|ont) droit\b|\beligible|\bentitled\b"
)
_YES_NO = re.compile(
    r"\b(?:oui|non|peut|peuvent|doit|doivent|pas|jamais|(?:obligatoire|interdite?|autorisee?|"
    r"possible|impossible|necessaire|tenue?)s?)\b"
)
# Words that ask rather than name what is asked about (stemmed as content_tokens does).
QUESTION_WORDS = frozenset(
    content_tokens(
        "combien temps dure durée faire fournir obtenir savoir possible quoi déjà encore "
        "bien toujours vraiment aujourd'hui maintenant "
        "doit dois peuvent puis-je faut-il est-il existe concerne concernés "
        "démarche démarches procédure qu'est-ce "
        "délai délais"  # name the asked-for duration: a passage giving one answers them
    )
)
# « Quand serai-je payé ? » is answered by a date or by a time from an event (« sous 30 jours
# après accord »)
_WHEN = re.compile(f"{_DATE.pattern}|{_DURATION.pattern}")
ENTITY_PATTERNS = {"duration": _DURATION, "number": _NUMBER, "date": _WHEN, "who": _WHO,
                    "eligible": _ELIGIBLE, "yes_no": _YES_NO}


# the kinds of answer, the first whose wording the question has
_ASKS = (("duration", _ASKS_DURATION), ("number", _ASKS_NUMBER), ("date", _ASKS_DATE),
         ("who", _ASKS_WHO), ("eligible", _ASKS_ELIGIBLE), ("yes_no", _ASKS_YES_NO))


def asked_entity(question: str) -> str | None:
    """What kind of answer the question asks for: duration, number, date, who (handles it,
    to contact), eligible (who may have it), yes_no or None."""
    folded = fold(question).strip()
    length = _HOW_LONG_IS.search(folded)
    if length and not _TIME_NOUNS.intersection(length.groups()) and not _LASTING.search(
            folded, length.start(1)):
        return "number"  # a length (« How long is the password? »)
    return next((kind for kind, asks in _ASKS if asks.search(folded)), None)


def entity_found(entity: str, text: str) -> bool:
    """Whether ``text`` carries an answer of the kind ``entity`` (see :func:`asked_entity`)."""
    pattern = ENTITY_PATTERNS.get(entity)
    return pattern is not None and pattern.search(fold(text)) is not None

"""Offline call summary: facts, amounts, dates, commitments and next actions, by rules.

Reads French call transcripts (speaker turns « Conseiller : », « Client : », « Agent »,
« Assuré »…, optional timestamps) or unlabelled notes. Greetings, thanks, bare
acknowledgements and questions never become bullets (a question only labels the answer
that follows it). Amounts and dates become short normalised bullets (« Franchise :
90 € »); commitments and next actions keep the clause that says them. Nothing is
invented: every bullet is a span of the notes or a fixed label for a word found in them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.i18n import Text, colon
from bot.messages import Locale
from bot.text import content_tokens, fold, split_sentences

Side = Literal["adviser", "customer", "unknown"]
MAX_BULLETS = 8

# -- speakers ---------------------------------------------------------------------------

_ADVISER_ROLES = (r"conseill[eè]re?s?|agent|gestionnaire|t[ée]l[ée]conseill[eè]re?|op[ée]rat(?:eur|rice)"
                  r"|charg[ée]e? de client[eè]le|assistante?|moi|adviser|advisor")
_CUSTOMER_ROLES = (r"cliente?s?|assur[ée]e?s?|adh[ée]rente?|soci[ée]taire|souscript(?:eur|rice)"
                   r"|appelante?|interlocut(?:eur|rice)|prospect|customer|caller"
                   r"|(?:M\.|Mme|Mlle|Madame|Monsieur|Mr\.?|Mrs\.?|Ms\.?)\s+[A-ZÀ-Ý][\w'-]+")
_LABEL = re.compile(
    rf"(?:^|(?<=[.!?…]\s))(?P<label>(?i:{_ADVISER_ROLES})|{_CUSTOMER_ROLES}|(?i:{_CUSTOMER_ROLES}))"
    r"\s?:\s*")
_GENERIC_LABEL = re.compile(r"^(?P<label>[A-ZÀ-Ý][\w'.-]*(?: [\w'.-]+){0,2})\s?:\s+")
_TIMESTAMP = re.compile(r"^\s*[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?\s*[-–]?\s*")
_BULLET = re.compile(r"^\s*[-–•*]\s*")
_ADVISER_LABEL = re.compile(rf"^(?i:{_ADVISER_ROLES})$")


@dataclass(frozen=True, slots=True)
class Utterance:
    """One sentence of the call, without its speaker label."""

    side: Side
    text: str
    question: bool


def _side(label: str | None) -> Side:
    if label is None:
        return "unknown"
    return "adviser" if _ADVISER_LABEL.match(label.strip()) else "customer"


def _lines(text: str) -> list[str]:
    cleaned = []
    for line in text.splitlines():
        line = _BULLET.sub("", _TIMESTAMP.sub("", line)).strip()
        if line:
            cleaned.append(line)
    return cleaned


def _recurring_labels(lines: Sequence[str]) -> set[str]:
    """Line-start labels that are not known roles but recur: speakers named otherwise."""
    counts: dict[str, int] = {}
    for line in lines:
        match = _GENERIC_LABEL.match(line)
        if match and not _LABEL.match(line):
            counts[match["label"]] = counts.get(match["label"], 0) + 1
    return {label for label, count in counts.items() if count >= 2}


def utterances(text: str) -> list[Utterance]:
    """The call's sentences with who said them (``unknown`` in unlabelled notes)."""
    lines = _lines(text)
    generic = _recurring_labels(lines)
    found: list[Utterance] = []
    for line in lines:
        match = _GENERIC_LABEL.match(line)
        turns: list[tuple[str | None, str]] = []
        if match and match["label"] in generic:
            turns.append((None, line[match.end():]))
        else:
            cuts = list(_LABEL.finditer(line))
            if not cuts or cuts[0].start() > 0:
                turns.append((None, line[: cuts[0].start() if cuts else len(line)]))
            for index, cut in enumerate(cuts):
                end = cuts[index + 1].start() if index + 1 < len(cuts) else len(line)
                turns.append((cut["label"], line[cut.end():end]))
        for label, spoken in turns:
            for sentence in split_sentences(spoken):
                found.append(Utterance(_side(label), sentence.strip(),
                                       sentence.rstrip().endswith("?")))
    return found


# -- noise ------------------------------------------------------------------------------

_FILLER_WORDS = frozenset(
    """oui non ok okay d accord tres bien parfait merci beaucoup monsieur madame bonjour bonsoir
    revoir au super ah oh bon alors entendu tant mieux sur bien je vous en prie plaisir avec
    bonne journee soiree route fin de vois comprends regarde ecoute desole desolee voila
    hello hi thanks thank you bye goodbye great fine sure right yes no please welcome
    coute l a votre service appareil puis pour moi que c est i think so euh heu hum hmm um uh
    ben bah""".split()
)
_PLEASANTRY = re.compile(
    r"(a (?:votre|l')ecoute|a votre service|a l'appareil|que puis-je|je vous en prie|bonne (journee|"
    r"soiree|fin de journee|route|semaine)|au revoir|how can i help|have a (nice|good)|"
    r"sorry (?:to hear|about that|for that)|desolee? (?:de l'apprendre|d'apprendre|pour vous)|"
    r"navree? (?:de|d')|that's (?:quite )?a lot|c'est (?:beaucoup|cher))")
_LEADING_FILLER = re.compile(
    r"^(?:(?:oui|non|alors|bon|ah|oh|d'accord|tr[eè]s bien|parfait|entendu|super|ok|bien s[uû]r"
    r"|tout [àa] fait|effectivement|donc|en fait|bonjour|merci|hi|hello|yes"
    r"|good (?:morning|afternoon|evening)|euh+|heu+|hum+|hmm+|um+|uh+|ben|bah|well|so)"
    r"(?:\s+(?:monsieur|madame)(?:\s+[A-ZÀ-Ý][\w-]+)?)?"
    r"\s*[,.!…]*\s+)+", re.IGNORECASE)
_WORD_RE = re.compile(r"[a-z0-9']+")


def _is_noise(sentence: str) -> bool:
    """Greetings, thanks, acknowledgements: nothing a summary should keep."""
    folded = fold(sentence)
    if _PLEASANTRY.search(folded) and len(content_tokens(sentence)) <= 6:
        return True
    words = [w for w in _WORD_RE.findall(folded.replace("'", " ")) if w not in _FILLER_WORDS]
    return len(words) <= 1 and not re.search(r"\d", folded)


def clean(sentence: str) -> str:
    """The sentence without leading fillers (« Oui, », « D'accord, »), capitalised."""
    text = _LEADING_FILLER.sub("", sentence.strip()).strip(" ,;")
    return text[:1].upper() + text[1:] if text else text


# -- amounts ----------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?P<about>(?:environ|à peu près|approximativement|about|around)\s+)?"
    # never from the middle of a number; « 1,200 » (a comma before exactly three digits)
    # groups thousands as in English, « 12,50 » has cents
    r"(?<![\d.,])(?<!\d[.,])(?P<pre>[€£$]\s?)?"  # “£612”, “$1,800”, “€120”
    r"(?P<number>\d{1,3}(?:(?:[   .]|,(?=\d{3}(?!\d)))\d{3})+|\d+)(?:[,.](?P<cents>\d{1,2})(?!\d))?"
    r"(?(pre)|\s?(?P<unit>€|euros?\b|EUR\b|k€|£|pounds?\b|GBP\b|\$|dollars?\b|USD\b))"
    r"(?P<tax>\s+(?:TTC|HT))?"
    r"(?P<per>\s+(?:par|/|per)\s*(?:mois|an|année|nuit|jour|month|year|night))?",
    re.IGNORECASE)
_PERCENT = re.compile(r"\b\d{1,3}(?:,\d+)?\s?%")
_AMOUNT_LABELS: tuple[tuple[str, Text], ...] = (
    (r"franchise|deductible|excess", Text("Franchise", "Deductible")),
    (r"vetuste|depreciation", Text("Vétusté", "Depreciation")),
    (r"cotisation|prime|mensualite|echeanc|premium", Text("Cotisation", "Premium")),
    (r"devis|quote", Text("Devis", "Quote")),
    (r"plafon|jusqu'a|limite|au-dela|au-dessus|superieur a|depass|exced|up to|limit|exceed|"
     r"above", Text("Plafond ou seuil", "Limit or threshold")),
    (r"indemni|rembours|verse|virement|reglons|regle|pris en charge|prise en charge|payout",
     Text("Indemnisation", "Settlement")),
    (r"factur|invoice", Text("Facture", "Invoice")),
    (r"estim|chiffr|degats|dommages|damage", Text("Montant des dégâts estimé",
                                                  "Estimated damage")),
    (r"reparation|remplacement|coute|cout|comptez|repair|cost", Text("Coût estimé",
                                                                    "Estimated cost")),
    (r"achet|achat|valeur|paye|purchase", Text("Valeur d'achat", "Purchase value")),
)
_WHO = re.compile(r"\b(plombier|menuisier|peintre|couvreur|serrurier|vitrier|garage|expert|"
                  r"h[oô]tel|[ée]lectricien|plumber|carpenter)\b", re.IGNORECASE)
_CONDITION = re.compile(r"\b(si\s[^,;.]{3,60}|sinon|au lieu de [^,;.]{1,20})", re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"[,;:()]|\s(?:et|mais|puis)\s")


def _clause_around(sentence: str, start: int, end: int) -> str:
    """The clause of ``sentence`` holding the span [start, end)."""
    left = max((m.end() for m in _CLAUSE_SPLIT.finditer(sentence, 0, start)), default=0)
    right = next((m.start() for m in _CLAUSE_SPLIT.finditer(sentence, end)), len(sentence))
    return sentence[left:right]


def _label(texts: Iterable[str], table: Sequence[tuple[str, Text]]) -> Text | None:
    for text in texts:
        folded = fold(text)
        for pattern, label in table:
            if re.search(pattern, folded):
                return label
    return None


def _format_amount(match: re.Match[str], locale: Locale) -> str:
    """« 1 200,50 € », “€1,200.50”, “£612”: grouped, with cents and the currency as the
    reader writes them."""
    english = locale == "en"
    digits = re.sub(r"\D", "", match["number"])
    grouped = f"{int(digits):,}" if english else f"{int(digits):,}".replace(",", " ")
    unit = (match["pre"] or match["unit"] or "€").strip().lower()
    symbol = ("£" if unit in ("£", "pound", "pounds", "gbp")
              else "$" if unit in ("$", "dollar", "dollars", "usd") else "€")
    thousands = "k" if unit == "k€" else ""
    cents = f"{'.' if english else ','}{match['cents']}" if match["cents"] else ""
    about = ("about " if english else "environ ") if match["about"] else ""
    tax = match["tax"] or ""
    per = (" " + match["per"].strip()) if match["per"] else ""
    if english:
        return f"{about}{symbol}{grouped}{cents}{thousands}{tax}{per}"
    return f"{about}{grouped}{cents}{' k' if thousands else ''} {symbol}{tax}{per}"


def _amount_bullets(items: Sequence[Utterance], locale: Locale) -> list[str]:
    bullets: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        for match in _AMOUNT.finditer(item.text):
            clause = _clause_around(item.text, match.start(), match.end())
            previous = [items[i].text for i in range(index - 1, max(index - 3, -1), -1)]
            asked = previous[:1] if index and items[index - 1].question else []
            label = _label([clause, *asked, item.text, *previous], _AMOUNT_LABELS)
            name = label(locale) if label else (Text("Montant", "Amount")(locale))
            value = _format_amount(match, locale)
            pronoun = re.match(r"(?:il|elle|on)\b", fold(item.text)) is not None
            who = next(filter(None, (_WHO.search(text) for text in
                                     (clause, item.text, *previous[:1 if pronoun else 0]))), None)
            after = clause[clause.find(match.group(0)) + len(match.group(0)):]
            condition = _CONDITION.search(after)
            if condition:
                value += f" ({condition.group(1).strip()})"
            elif who and who.group(1).lower() not in fold(name):
                value += f" ({who.group(1).lower()})"
            bullets.setdefault(name, [])
            if value not in bullets[name]:
                bullets[name].append(value)
        for percent in _PERCENT.finditer(item.text):
            label = _label([_clause_around(item.text, percent.start(), percent.end())],
                           _AMOUNT_LABELS[:3])
            if label is not None:
                bullets.setdefault(label(locale), []).append(percent.group(0))
    between = "; " if locale == "en" else " ; "
    return [f"{name}{colon(locale)}{between.join(values)}" for name, values in bullets.items()]


# -- dates and deadlines ----------------------------------------------------------------

_DAY = (r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|"
        r"thursday|friday|saturday|sunday)")
_MONTH = (r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|"
          r"novembre|d[ée]cembre|january|february|march|april|may|june|july|august|september|"
          r"october|november|december)")
_COUNT = (r"(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze|vingt|trente|"
          r"quarante-huit|soixante-douze)")
_DATE = re.compile(
    rf"(?:entre\s+)?le\s+(?:1er|\d{{1,2}})\s+et\s+le\s+(?:1er|\d{{1,2}})\s+{_MONTH}"
    rf"|(?:(?:avant|après|depuis|jusqu'au|à partir du|à compter du|d'ici)\s+)?(?:le\s+)?"
    rf"(?:{_DAY}\s+)?(?:1er|\d{{1,2}})\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b"
    rf"|(?:(?:d'ici|avant|dès|by|on|before|next)\s+)?\b{_DAY}"
    rf"(?:\s+(?:prochain|dernier|matin|soir|après-midi|morning|afternoon|evening))?"
    rf"(?:\s+(?:à\s+)?\d{{1,2}}\s?h(?:\s?\d{{2}})?)?"
    rf"|\b(?:sous|d'ici|dans|en|pendant|avant|au plus tard|dans un délai de|dans les|"
    rf"à|within|in)\s+(?:les\s+|un délai de\s+)?{_COUNT}(?:\s+"
    rf"(?:jours?(?:\s+ouvr[ée]s|\s+ouvrables)?|heures?|h\b|semaines?|mois|ans?|days?|hours?|weeks?)"
    rf"|\s?h\b)",  # « sous 48h »
    re.IGNORECASE)
_DATE_EVENTS: tuple[tuple[str, Text], ...] = (
    (r"plainte", Text("dépôt de plainte", "police report")),
    (r"rappel|rappelle", Text("rappel du client", "call back")),
    (r"expert", Text("expertise", "expert's visit")),
    (r"arrive|produit|survenu|passe|sinistre|accident|decouvert|apercu|quand|when",
     Text("date de l'événement", "date of the event")),
    (r"effet|demenag|debut|commence", Text("prise d'effet", "start date")),
)


# a preposition or article left hanging where a date was taken out (« sinistre auto du »)
_HANGING = re.compile(r"(?:\s+(?:du|de|des|d'|le|la|les|l'|au|aux|depuis|pour|on|of|the|for|"
                      r"by|until|before|from))+\s*$",
                      re.IGNORECASE)


def _without_dates(text: str) -> str:
    """``text`` with its dates taken out, and what introduced them at a clause's end."""
    parts = _DATE.split(text) if _DATE.groups == 0 else [text]
    joined = re.sub(r"\s+(?=[,.;])", "", " ".join(_HANGING.sub("", part) for part in parts))
    return re.sub(r"([,;])(?:\s*[,;])+", r"\1", joined)


def _says_something(clause: str) -> bool:
    """Three words (« il est passé »), or two that carry meaning (« sinistre auto »)."""
    return len(clause.split()) >= 3 or len(content_tokens(clause)) >= 2


def _squeeze(text: str, words: int = 14) -> str:
    """Fillers and doubled spaces out, at most ``words`` words."""
    squeezed = " ".join(clean(text.strip(" ,.;!")).split()).strip(" ,.;!")
    kept = squeezed.split(" ")
    return " ".join(kept[:words]) + (" …" if len(kept) > words else "")


def _date_bullets(items: Sequence[Utterance], locale: Locale) -> list[str]:
    """« Sous 24 heures : vous recevrez le numéro… », « 8 mars : date de l'événement »."""
    bullets: list[str] = []
    for index, item in enumerate(items):
        spans = list(_DATE.finditer(item.text))
        if not spans or item.question:
            continue
        rest = _without_dates(item.text)
        previous = [items[i].text for i in range(index - 1, max(index - 3, -1), -1)]
        if len(spans) > 1 and len(content_tokens(rest)) < 2:  # « Samedi dernier, le 8 mars. »
            found = [(clean(item.text.strip(" .")).rstrip("."), "")]
            rest = ""
        else:
            found = [(match.group(0).strip(), _squeeze(_without_dates(_clause_around(
                item.text, match.start(), match.end())))) for match in spans]
        for expression, clause in found:
            what = clause if _says_something(clause) else _squeeze(rest)
            if not _says_something(what):
                label = _label([rest, *previous], _DATE_EVENTS)
                what = label(locale) if label else ""
            if not re.match(r"(?:I\b|I'|[A-Z]{2})", what):  # « I will… », « SNCF » keep theirs
                what = what[:1].lower() + what[1:]
            bullets.append(f"{expression[:1].upper()}{expression[1:]}{colon(locale)}{what}"
                           .rstrip(" :"))
    return bullets


# -- commitments, next actions, attention -----------------------------------------------

_COMMITMENT = re.compile(
    r"\b(je vais|nous allons|on va|je vous (?:envoie|adresse|transmets|rappelle|rappellerai|"
    r"confirme|fais parvenir|recontacte|propose de)|nous vous (?:adresserons|enverrons|"
    r"rappellerons|recontacterons|confirmerons|versons|verserons)|je (?:missionne|mandate|"
    r"transmets|declare|cree|enregistre|note|rattache|relance|m'engage|lance|ouvre|fais le "
    r"necessaire)|nous (?:missionnons|mandatons|reglons|prenons en charge|nous engageons)|vous "
    r"(?:recevrez|aurez une|serez rembourse|serez contacte|serez rappele)|sera (?:effectue|verse|"
    r"transmis|envoye|traite|rembourse|transmise)|seront (?:verses|rembourses|envoyes)|je (?:le|"
    r"la|les|lui|leur) (?:rattache|envoie|transmets|rappelle|ai promis)|je (?:lui|leur) "
    r"(?:envoie|ai promis|ai dit)|je (?:lui |leur |vous )?(?:reponds|confirme|ai confirme) "
    r"que oui|promis|i will|i'll|we will|we'll|you will receive)")
# what an English adviser says to ask the customer for something (« Please send… »)
_ENGLISH_ASK = (r"(?:please|you (?:need|have|will need) to|you must|you should|could you|can you|"
                r"make sure(?: you| to)?)\s+")
_INSTRUCTION = re.compile(
    rf"^{_ENGLISH_ASK}"
    r"|^(?:ensuite,?\s+|donc,?\s+|en attendant,?\s+)?(?:vous pouvez (?:m'|nous )?|il faut que vous"
    r" (?:nous |m')?|je vous demande de (?:nous |m')?|merci de (?:nous |m')?|pensez a |vous devez"
    r" (?:nous |m')?|vous devrez |il (?:me|nous) (?:faut|faudrait) |vous (?:prenez|envoyez|"
    r"signez|faites)|a faire|(?!chez\b|assez\b)(?:[a-z]+ez)(?:-(?:nous|moi|le|la|les))?\b(?! vous))",
)
_CUSTOMER_ACTION = re.compile(
    r"\bje (?:vous )?(?:le |la |les |l')?(?:envoie|envoierai|enverrai|poste|fais|ferai|"
    r"m'en occupe|depose|signe|prends|peux le faire|rappelle)\b")
# what a customer promises the adviser (« je vous transmets… », “I'll send you…”)
_CUSTOMER_PROMISE = re.compile(
    r"\bje vous (?:transmets|transmettrai|envoie|enverrai|fais parvenir|ferai parvenir|"
    r"rappelle|rappellerai|depose|deposerai|apporte|apporterai|renvoie|renverrai)\b|"
    r"\bje m'engage\b|\bi(?:'ll| will) (?:send|e-?mail|call|forward|bring|post) (?:you|it|them|"
    r"the)\b")
_PROCESS = re.compile(
    r"(expert\w*\b.*\b(?:passe|passera|viendra|visite|examinera|prendra contact|a mandater|"
    r"a missionner)|(?:a mandater|a missionner|a signer|a envoyer|a remplacer|a faire)\b|"
    r"\bprendra contact|\bprevu)")
_ATTENTION = re.compile(
    r"(mecontent|insatisf|reclamation|resili|concurrence|litige|urgent|vulnerab|retard|"
    r"deuxieme fois|deja appele|erreur de notre part|bloque|differentes|personne ne|"
    r"inadmissible|scandal|avocat|\bmediat|pas normal|unhappy|complain|cancel)")
_VERB_INFINITIVE = {"envoyiez": "envoyer", "fassiez": "faire", "signiez": "signer",
                    "preniez": "prendre", "transmettiez": "transmettre", "fournissiez": "fournir",
                    "attendez": "attendre", "prenez": "prendre", "faites": "faire",
                    "transmettez": "transmettre", "remplissez": "remplir", "joignez": "joindre",
                    "mettez": "mettre"}
_INSTRUCTION_PREFIX = re.compile(
    r"^(?:ensuite,?\s+|donc,?\s+|en attendant,?\s+)?(?:vous pouvez|il faut que vous|je vous "
    r"demande de|merci de|pensez à|vous devez|vous devrez|vous)\s+(?:nous |m'|me )?",
    re.IGNORECASE)
_ENGLISH_INSTRUCTION = re.compile(f"^{_ENGLISH_ASK}", re.IGNORECASE)
_NEED_PREFIX = re.compile(r"^il (?:me|nous) (?:faut|faudrait)\s+", re.IGNORECASE)
# the adviser's note of what the customer was told to do: « Je lui indique qu'elle doit… »
_TOLD_TO = re.compile(
    r"^(?:je|nous) (?:lui|leur|vous) (?:indique|indiquons|explique|expliquons|rappelle|"
    r"rappelons|pr[eé]cise|pr[eé]cisons|dis|disons|demande|demandons|conseille|conseillons)"
    r"(?: bien)? (?:qu'(?:il|elle|ils|elles) (?:doit|doivent|devra|devront|faut) |"
    r"que (?:vous devez|vous devrez|il faut) |qu'il (?:lui |leur |vous )?faut |de )"
    r"(?:nous |m'|me )?",
    re.IGNORECASE)
_IMPERATIVE = re.compile(r"^(\w+ez|faites)(?:-(?:nous|moi))?\b", re.IGNORECASE)
_CUSTOMER_LABEL = Text("Client", "Customer")
_TO_SEND = Text("fournir", "provide")


def _infinitive(verb: str) -> str:
    lowered = verb.lower()
    if lowered in _VERB_INFINITIVE:
        return _VERB_INFINITIVE[lowered]
    return lowered[:-2] + "er" if lowered.endswith("ez") else lowered


def _as_action(text: str, locale: Locale) -> str:
    """« Envoyez-nous le constat » → « Client : envoyer le constat »."""
    sentence = clean(text).rstrip(" .!?")
    english = _ENGLISH_INSTRUCTION.match(sentence)
    if english:  # « Please send us the invoice » → « Customer : send us the invoice »
        return f"{_CUSTOMER_LABEL(locale)}{colon(locale)}{sentence[english.end():]}"
    need = _NEED_PREFIX.match(sentence)
    if need:
        return f"{_CUSTOMER_LABEL(locale)}{colon(locale)}{_TO_SEND(locale)} {sentence[need.end():]}"
    prefixed = _INSTRUCTION_PREFIX.match(sentence)
    rest = sentence[prefixed.end():] if prefixed else sentence
    if prefixed and re.match(r"\w+(?:er|re|ir)\b", rest):
        return f"{_CUSTOMER_LABEL(locale)}{colon(locale)}{rest}"
    imperative = _IMPERATIVE.match(rest)
    if imperative and (prefixed or imperative.group(1).lower().endswith("ez")):
        rest = _infinitive(imperative.group(1)) + re.sub(r"^ bien\b", "", rest[imperative.end():])
        return f"{_CUSTOMER_LABEL(locale)}{colon(locale)}{rest}"
    return sentence


def _time_of(text: str) -> str | None:
    found = re.search(r"\b(ce soir|demain|aujourd'hui|cette semaine|tout de suite|tonight|"
                      r"tomorrow|today|this week|right away|"
                      + _DAY + r"(?: prochain)?)\b", text, re.IGNORECASE)
    return found.group(1) if found else None


# -- the whole summary ------------------------------------------------------------------

_MOTIVE = re.compile(
    r"(j'appelle|je vous appelle|je voudrais|je souhaite|au sujet|concernant|j'ai eu|on m'a|"
    r"j'ai (?:le|la|un|une|de)|je viens de|je demenage|appel d|degat|sinistre|vol|cambriol|"
    r"accident|incendie|grele|bris|reclamation|i'm calling|i would like|i had|i've had|"
    r"i have had|i want to)")
_CLAIM = re.compile(
    r"(degat|sinistre|vol[ée]?\b|cambriol|accident|accroch|incendie|grele|tempete|bris de glace|"
    r"pare-brise|inondation|fuite|demenag|resili|reclamation|rembours|cotisation|attestation|"
    r"damage|theft|stolen|burglar|break-in|accident|fire|storm|hail|flood|leak|broken|"
    r"windscreen|windshield|moving house|cancel|complaint|refund|premium|certificate)")
_OUTBOUND = re.compile(r"je vous appelle (?:suite|au sujet|concernant|pour|a propos)")
_FOLLOW_UP = re.compile(r"prendra contact|passera|viendra|visite")
_THIRD_PERSON_ACTION = re.compile(
    r"^(?:elle|il|ils|elles|le client|la cliente|l'assure|l'assuree) (?:envoie|enverra|doit|va |"
    r"transmet|transmettra|renvoie|fournit|fournira|depose|poste|rappelle|rappellera)")
_EXPERT = Text("Expert", "Expert")
_CALLING = re.compile(r"^(?:je vous appelle|j'appelle|i'm calling)\s+(?:parce que|car|pour "
                      r"vous dire que|because)\s+", re.IGNORECASE)
_REFERENCE = re.compile(r"\b(?:[A-Z]{1,5}[- ]?\d[\w-]{2,}|\d{2,}-\d[\w-]+)\b")
_REFERENCE_KIND = re.compile(r"(contrat|dossier|sinistre|police|policy|claim)")


@dataclass
class CallSummary:
    """The sections of an offline call summary, as bullet texts."""

    motive: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    commitments: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing was found to put in any section (« bonjour », « 12345 »)."""
        return not any((self.motive, self.facts, self.amounts, self.dates, self.commitments,
                        self.actions, self.attention))


def _references(items: Sequence[Utterance], locale: Locale) -> list[str]:
    found = []
    for index, item in enumerate(items):
        for match in _REFERENCE.finditer(item.text):
            context = fold(item.text[: match.start()][-30:])
            previous = fold(items[index - 1].text) if index else ""
            kind = _REFERENCE_KIND.search(context) or _REFERENCE_KIND.search(previous)
            if kind:
                found.append(f"{kind.group(1).capitalize()}{colon(locale)}{match.group(0)}")
    return list(dict.fromkeys(found))


def _substance(text: str) -> int:
    """Content words once amounts, dates, references and fillers are removed."""
    stripped = _REFERENCE.sub(" ", _DATE.sub(" ", _AMOUNT.sub(" ", text)))
    return len([w for w in content_tokens(stripped) if w not in _FILLER_WORDS])


def _motive(items: Sequence[Utterance]) -> int | None:
    """The sentence giving the reason: a claim word first, else a « j'appelle… » cue."""
    opening = [(index, item) for index, item in enumerate(items[:8]) if not item.question]
    for pattern in (_CLAIM, _MOTIVE):
        for index, item in opening:
            folded = fold(item.text)
            outbound = item.side == "adviser" and _OUTBOUND.search(folded)
            if (item.side != "adviser" or outbound) and pattern.search(folded) \
                    and _substance(item.text) >= 2:
                return index
    return None


def _motive_text(sentence: str) -> str:
    folded = fold(sentence)
    outbound = _OUTBOUND.search(folded)
    if outbound:
        sentence = sentence[outbound.start():]
    return clean(_CALLING.sub("", clean(sentence))).rstrip()


def _opening(index: int, item: Utterance) -> bool:
    """The adviser's « Macif, service sinistres, Antoine » that opens the call."""
    return index < 2 and item.side == "adviser" and len(content_tokens(item.text)) <= 6 \
        and re.search(r"bonjour|service|ecoute|appareil|good (?:morning|afternoon|evening)|"
                      r"speaking", fold(item.text)) is not None


def _customer_action(item: Utterance, folded: str) -> bool:
    if item.side == "customer":
        if re.search(r"\b(?:je dois|il faut que je|je vais|i need to|i will|i'll)\b", folded):
            return True
        return bool(_CUSTOMER_ACTION.search(folded)) and (
            _time_of(item.text) is not None or "m'en occupe" in folded)
    return item.side == "unknown" and bool(_THIRD_PERSON_ACTION.search(folded))


def _classify(summary: CallSummary, items: Sequence[Utterance], index: int,
              locale: Locale) -> None:
    item = items[index]
    folded = fold(item.text)
    cleaned = clean(item.text)
    said_by_us = item.side != "customer"
    told = _TOLD_TO.match(cleaned) if said_by_us else None
    if told and re.match(r"\w+(?:er|re|ir)\b", cleaned[told.end():]):
        summary.actions.append(f"{_CUSTOMER_LABEL(locale)}{colon(locale)}"
                               f"{cleaned[told.end():].rstrip(' .!')}")
    elif said_by_us and _COMMITMENT.search(folded) and not _INSTRUCTION.search(folded):
        summary.commitments.append(cleaned)
    elif item.side == "customer" and _CUSTOMER_PROMISE.search(folded):
        # « Je vous transmets la facture du plombier ce soir »: the customer's own commitment
        summary.commitments.append(f"{_CUSTOMER_LABEL(locale)}{colon(locale)}"
                                   f"{cleaned[:1].lower()}{cleaned[1:]}")
    elif _ATTENTION.search(folded) and not re.search(r"porte plainte|plainte deposee", folded):
        summary.attention.append(cleaned)
    elif _customer_action(item, folded):
        _attach_time(summary.actions, cleaned, locale)
    elif said_by_us and _INSTRUCTION.search(folded):
        summary.actions.append(_as_action(item.text, locale))
    elif index and "expert" in fold(items[index - 1].text) and "expert" not in folded \
            and _FOLLOW_UP.search(folded):
        summary.actions.append(f"{_EXPERT(locale)}{colon(locale)}{cleaned[:1].lower()}{cleaned[1:]}")
    elif _PROCESS.search(folded):
        summary.actions.append(cleaned)
    elif _substance(item.text) >= (5 if _AMOUNT.search(item.text) else 3):
        summary.facts.append(cleaned)


_CALL_WORDS = re.compile(
    r"\b(?:client|cliente|assure|assuree|conseill\w+|appel\w*|rappel\w*|contrat|dossier|"
    r"sinistre|devis|cotisation|garantie|franchise|indemni\w+|rembourse\w*|resili\w+|"
    r"rendez-vous|visite|telephone|bonjour|allo|customer|caller|adviser|advisor|agent|policy|"
    r"claim|call\w*|phone|premium|quote|refund|cover|hello)\b")


def looks_like_a_call(notes: str) -> bool:
    """Whether a text reads as notes of a call or a visit: speakers named, or words of an
    exchange with a customer about a contract, a claim or a request (a recipe does not)."""
    if any(item.side != "unknown" for item in utterances(notes)):
        return True
    return len(set(_CALL_WORDS.findall(fold(notes)))) >= 2


def summarise_call(notes: str, locale: Locale = "fr") -> CallSummary:
    """Sort the call's sentences into sections; amounts and dates as short bullets."""
    items = [item for index, item in enumerate(utterances(notes))
             if not _is_noise(item.text) and not _opening(index, item)]
    summary = CallSummary(amounts=_amount_bullets(items, locale),
                          dates=_date_bullets(items, locale))
    summary.facts.extend(_references(items, locale))
    motive = _motive(items)
    for index, item in enumerate(items):
        if index == motive:
            summary.motive.append(_motive_text(item.text))
        elif not item.question:
            _classify(summary, items, index, locale)
    return summary


def _attach_time(actions: list[str], sentence: str, locale: Locale) -> None:
    """« Je vous les envoie ce soir » dates the request just before it, or stands alone."""
    when = _time_of(sentence)
    customer = _CUSTOMER_LABEL(locale)
    if actions and actions[-1].startswith(customer) and when and "(" not in actions[-1]:
        actions[-1] = f"{actions[-1]} ({when})"
    else:
        sentence = re.sub(r"^(?:elle|il|ils|elles)\s+", "", sentence, flags=re.IGNORECASE)
        first = sentence[:1].lower() if sentence[1:2].islower() else sentence[:1]
        actions.append(f"{customer}{colon(locale)}{first}{sentence[1:]}".rstrip(" ."))


_TITLES = (
    ("motive", Text("Motif de l'appel", "Reason for the call")),
    ("facts", Text("Faits", "Facts")),
    ("amounts", Text("Montants", "Amounts")),
    ("dates", Text("Dates et délais", "Dates and deadlines")),
    ("commitments", Text("Engagements pris", "Commitments made")),
    ("actions", Text("Prochaines actions", "Next actions")),
    ("attention", Text("Points d'attention", "Points of attention")),
)
_NOTHING = Text("(rien de relevé)", "(nothing noted)")


def section_titles(locale: Locale) -> list[str]:
    """The offline summary's section titles, in order."""
    return [title(locale) for _, title in _TITLES]


def render(summary: CallSummary, locale: Locale) -> str:
    """Bold section titles, bullet points, « (rien de relevé) » for an empty section."""
    blocks = []
    for attribute, title in _TITLES:
        bullets = list(dict.fromkeys(b for b in getattr(summary, attribute) if b))[:MAX_BULLETS]
        lines = [f"- {bullet}" for bullet in bullets] or [f"- {_NOTHING(locale)}"]
        blocks.append(f"**{title(locale)}**\n" + "\n".join(lines))
    return "\n\n".join(blocks)

"""The offline extractive "model": selects and cites sentences, never invents any.

It lets the embedded default answer with no API key and no network. The gateway
treats it like any other catalogue entry (provider ``extractive``, hosted
internally). From the passages of a request it either picks the sentences most
relevant to the question (Q&A), or sorts them into the sections of the
request's outline (structured summaries).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from bot.gateway.types import CompletionRequest, OutlineSection, StreamBase, TokenUsage
from bot.governance.policy import ModelEntry
from bot.i18n import Text, quoted
from bot.messages import Locale
from bot.text import content_tokens, fold, split_sentences

CATCH_ALL_CUE = "*"
_MAX_ANSWER_UNITS = 4
_MAX_LIST_ITEMS = 8
_MAX_ITEM_CHARS = 300
_MAX_SECTION_SENTENCES = 6

_SOURCE = Text("Selon « {title} » :", "According to “{title}” (in French):")
_SOURCE_SAME = Text("Selon « {title} » :", "According to “{title}”:")  # not a translation
_PARTIAL = Text(
    "Ces passages ne répondent qu'en partie : ils ne disent rien de {missing}.",
    "These passages only partly answer: they say nothing about {missing}.",
)
_NO_ENTITY = Text(
    "Ces passages ne donnent pas {entity} : vérifiez dans le document cité.",
    "These passages give no precise {entity}: check the cited document.",
)
_ENTITY_NAMES = {
    "number": Text("de chiffre précis", "figure"),
    "duration": Text("de durée ni de délai précis", "duration"),
    "date": Text("de date précise", "date"),
}
_CLOSEST = Text(
    "Aucune phrase ne reprend les termes de la question ; le passage le plus proche dit :",
    "No sentence uses the question's words; the closest passage says:",
)
_QUOTED_IN_FRENCH = Text(
    "",
    "(Quoted from the French documents: an approved generative model would answer in English.)",
)
_NOTHING_RELEVANT = Text(
    "Je ne trouve, dans les passages disponibles, aucune phrase qui réponde à cette question.",
    "I can't find any sentence in the available passages that answers this question.",
)
_NOTHING_NOTED = Text("(rien de relevé)", "(nothing noted)")


@dataclass(frozen=True, slots=True)
class _Sentence:
    passage: int
    position: int
    text: str
    tokens: tuple[str, ...]


def _sentences(request: CompletionRequest) -> list[_Sentence]:
    sentences = []
    position = 0
    for passage in request.passages:
        for sentence in split_sentences(passage.text):
            sentences.append(
                _Sentence(passage.number, position, sentence, tuple(content_tokens(sentence)))
            )
            position += 1
    return sentences


def _bm25(query: list[str], texts: Sequence[tuple[str, ...]]) -> list[float]:
    """BM25 of each token list against the query terms (k1=1.2, b=0.5: short texts)."""
    if not texts:
        return []
    count = len(texts)
    average = sum(len(tokens) for tokens in texts) / count or 1.0
    frequency = Counter(token for tokens in texts for token in set(tokens))
    scores = []
    for tokens in texts:
        counts = Counter(tokens)
        score = 0.0
        for term in set(query):
            if term not in counts:
                continue
            idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
            tf = counts[term]
            score += idf * tf * 2.2 / (tf + 1.2 * (0.5 + 0.5 * len(tokens) / average))
        scores.append(score)
    return scores


@dataclass(frozen=True, slots=True)
class _Unit:
    """What an answer may quote: one sentence, or a list's lead-in with all of its items."""

    passage: int
    title: str
    position: int
    text: str
    items: tuple[str, ...]
    tokens: tuple[str, ...]
    heading: tuple[str, ...] = ()  # words of the heading (or FAQ question) it stands under
    # the sentence before it, when it opens with a pronoun that points back to it
    antecedent: str = ""

    @property
    def full_text(self) -> str:
        return " ".join((self.text, *self.items))

    @property
    def matched(self) -> tuple[str, ...]:
        """The words a question is matched against: its own and its heading's."""
        return self.tokens + self.heading


_QUESTION_END = re.compile(r"\?\s*$")
_PROSE_LINE = 150

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
_CALENDAR_DATE = re.compile(
    r"\b\d{1,2}(?:er)?\s+(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|"
    r"octobre|novembre|decembre)\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(?:january|february|march|"
    r"april|may|june|july|august|september|october|november|december)\s+\d{1,2}\b"
)
_NAMES_A_DAY = re.compile(r"\b(?:date|quel jour|what day|deadline)\b")
# a service, a role or a way to reach one (« Service responsable : Qualité », « au 4444 »)
_WHO = re.compile(
    r"\b(?:service|direction|responsable|gestionnaire|equipe|departement|manager|"
    r"interlocuteur|correspondant|referent|conseiller|mediateur|delegue|dpo|rh|"
    r"ressources humaines|agence|support|department|team|office)s?\b|@|\bau \d{3,}"
)
_YES_NO = re.compile(
    r"\b(?:oui|non|peut|peuvent|doit|doivent|pas|jamais|(?:obligatoire|interdite?|autorisee?|"
    r"possible|impossible|necessaire|tenue?)s?)\b"
)
# Words that ask rather than name what is asked about (stemmed as content_tokens does).
_QUESTION_WORDS = frozenset(
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
_ENTITY_PATTERNS = {"duration": _DURATION, "number": _NUMBER, "date": _WHEN, "who": _WHO,
                    "yes_no": _YES_NO}


def asked_entity(question: str) -> str | None:
    """What kind of answer the question asks for: duration, number, date, who (handles it,
    to contact), yes_no or None."""
    folded = fold(question).strip()
    length = _HOW_LONG_IS.search(folded)
    if length and not _TIME_NOUNS.intersection(length.groups()) and not _LASTING.search(
            folded, length.start(1)):
        return "number"  # a length (« How long is the password? »)
    if _ASKS_DURATION.search(folded):
        return "duration"
    if _ASKS_NUMBER.search(folded):
        return "number"
    if _ASKS_DATE.search(folded):
        return "date"
    if _ASKS_WHO.search(folded):
        return "who"
    if _ASKS_YES_NO.search(folded):
        return "yes_no"
    return None


def _is_prose(line: str) -> bool:
    """A full sentence of its own (capitalised, eight words or more), not a list item."""
    return line[:1].isupper() and len(line.split()) >= 8


def entity_found(entity: str, text: str) -> bool:
    """Whether ``text`` carries an answer of the kind ``entity`` (see :func:`asked_entity`)."""
    pattern = _ENTITY_PATTERNS.get(entity)
    return pattern is not None and pattern.search(fold(text)) is not None


def _list_items(lines: list[str], start: int) -> tuple[list[str], bool]:
    """The items of a list whose lead-in ends the line before ``start``, and whether the
    list is short enough to quote whole (a long list or table is never quoted cut)."""
    items: list[str] = []
    for line in lines[start:]:
        if (
            len(line) > _MAX_ITEM_CHARS
            or _QUESTION_END.search(line)
            or line.endswith(":")  # another lead-in: this one had no items of its own
            or (line.endswith(".") and (len(line) > _PROSE_LINE or _is_prose(line)))
        ):
            break
        if len(items) == _MAX_LIST_ITEMS:
            return items, False
        items.append(line)
        if line.endswith("."):
            break  # the last item
    if len(items) >= 2 and _names_columns(items[0], items[1:]):
        items = items[1:]  # each row names its columns already (« Critère : 2. Prix ; … »)
    return items, True


def _names_columns(first: str, rows: list[str]) -> bool:
    """Whether ``first`` is a table's header row (« Critère | Pondération ») whose names
    the rows under it carry."""
    names = first.split(" | ")
    return len(names) >= 2 and all(
        any(row.startswith(f"{name} : ") for name in names) for row in rows)


def _opens_list(sentence: str) -> bool:
    """A lead-in: ends with « : », or with « ; » after an inline « : » (« recouvre : a ; »)."""
    return sentence.endswith(":") or (sentence.endswith(";") and ":" in sentence)


def _is_heading(sentence: str) -> bool:
    """A line without final punctuation that is short (« Cas général », « Procédure ») or
    made of segments (« Mutuelle Horizon — Direction Indemnisation — version 3.2 », « Notice
    d'information — contrat Horizon Prévoyance Entreprises »)."""
    return not sentence.endswith((".", "!", "…", ":", ";")) and (
        len(sentence.split()) < 8 or len(_SEGMENTS.split(sentence)) >= 2)


_SEGMENTS = re.compile(r"\s[—–|]\s")


def _heading_line(sentence: str) -> bool:
    """A line standing over what follows: a heading, or a FAQ's question."""
    return _QUESTION_END.search(sentence) is not None or _is_heading(sentence)


def _stands_over(line: str) -> bool:
    """A whole line that is one heading line (not a paragraph opening with one)."""
    return len(split_sentences(line)) == 1 and _heading_line(line)


_QUOTED_LINE = re.compile(r"^- (.+?) \[(\d{1,2})\]$", re.MULTILINE)


def _quoted(answer: str, number: int | None = None) -> list[str]:
    """The sentences an offline answer quotes (« - … [n] » lines, as ``_grouped`` writes
    them), from passage ``number`` only when given."""
    return [quote for quote, mark in _QUOTED_LINE.findall(answer)
            if number is None or int(mark) == number]


# a list item's own bullet (plain text and PDF keep it): the answer draws its own
_BULLET = re.compile(r"^[-–—•*·▪◦‣●○■□➢►✓✔] +")


_SECTION_NUMBER = re.compile(
    r"^(?:(?:article|chapitre|titre|section|partie|annexe)\s+)?(\d{1,2}(?:\.\d{1,2})*)\b",
    re.IGNORECASE)


def _numbered_under(above: str, heading: str) -> bool:
    """Whether ``heading`` is numbered as a part of the heading line right above it
    (« 6.1 – Date limite » under « ARTICLE 6 – … » or « 6. … »)."""
    parent, child = _SECTION_NUMBER.match(above), _SECTION_NUMBER.match(heading)
    if parent is None or child is None:
        return False
    return child.group(1).startswith(parent.group(1).rstrip(".") + ".")


def passage_units(number: int, title: str, text: str, first_position: int) -> list[_Unit]:
    """Sentences of a passage, a list's lead-in kept together with its items.

    A lead-in whose items are not all in the passage (cut off by its end, or a
    list too long to quote) is left out with them: an answer never ends on « : ».
    Questions and short headings are left out too.
    """
    lines = [_BULLET.sub("", " ".join(line.split())) for line in text.splitlines()]
    lines = [line for line in lines if line]
    units: list[_Unit] = []
    heading: tuple[str, ...] = ()
    above = ""  # the heading line right above, when no sentence came between
    numbered: list[tuple[str, tuple[str, ...]]] = []  # numbered headings seen, their words
    index = 0
    while index < len(lines):
        sentences = split_sentences(lines[index])
        index += 1
        if len(sentences) == 1 and _heading_line(sentences[0]):
            # « Comment sont remboursées les lunettes ? » over the FAQ's answer: the
            # sentences under it are matched with its words too, and with those of the
            # numbered heading it is a part of (« ARTICLE 6 – REMISE DES OFFRES » over « 6.1 –
            # Date limite », even with 6.0's sentences between); a table's header row right
            # under its heading adds to it (« Garantie | Niveau » under « 3.2 – Garanties »)
            line = sentences[0]
            words = tuple(content_tokens(line))
            parent = next((seen for line_above, seen in reversed(numbered)
                           if _numbered_under(line_above, line)), None)
            if parent is not None:
                heading = (*parent, *words)
            elif above and _SECTION_NUMBER.match(line) is None and "|" in line:
                heading = (*heading, *words)
            else:
                heading = words
            if _SECTION_NUMBER.match(line) is not None:
                numbered.append((line, heading))
            above = line
            lead_in = _heading_list(sentences[0], lines, index)
            if lead_in is not None:  # « Pièces justificatives » over its items
                index += len(lead_in[1])
                units.append(_Unit(number, title, first_position + len(units), lead_in[0],
                                   lead_in[1], tuple(content_tokens(" ".join(lead_in[1]))),
                                   heading))
                above = ""
            continue
        above = ""
        for position, sentence in enumerate(sentences):
            items: list[str] = []
            if sentence[:1].islower():
                continue  # a list item whose lead-in is not here, or a cut sentence
            if position == len(sentences) - 1 and _opens_list(sentence):
                items, whole = _list_items(lines, index)
                index += len(items)
                if not whole or (not items and sentence.endswith(":")):
                    continue  # the list is not (all) here: drop its lead-in with it
            if _heading_line(sentence) and not items:
                continue
            tokens = tuple(content_tokens(" ".join((sentence, *items))))
            antecedent = (sentences[position - 1] if position and _POINTS_BACK.match(sentence)
                          and not _opens_list(sentences[position - 1]) else "")
            units.append(_Unit(number, title, first_position + len(units), sentence,
                               tuple(items), tokens, heading, antecedent))
    return units


# a sentence opening with one of these says what it is about in the sentence before
_POINTS_BACK = re.compile(
    r"^(?:Il|Elle|Ils|Elles|Celui-ci|Celle-ci|Ceux-ci|Celles-ci|Cela|Ceci|"
    r"Ce dernier|Cette dernière|Ces derniers|Ces dernières|It|They|This|These)\b"
)


def _heading_list(
    heading: str, lines: list[str], start: int
) -> tuple[str, tuple[str, ...]] | None:
    """A list standing right under a heading, without a lead-in sentence of its own
    (« Pièces justificatives », then « photos des dommages ; », « factures d'achat ; »…):
    the heading as its lead-in (« Pièces justificatives : ») and its items, when the list is
    whole in the passage (its last item ends the sentence, or something follows it)."""
    if _QUESTION_END.search(heading) or start >= len(lines) or not lines[start][:1].islower():
        return None
    items, whole = _list_items(lines, start)
    if not items or not whole or not (
        items[-1].endswith(".") or start + len(items) < len(lines)
    ):
        return None
    return f"{heading.rstrip(' :')} :", tuple(items)


def heading_lines_marked(text: str) -> str:
    """A passage of a file whose headings are lines of their own (``keeps_heading_lines``),
    each heading line (or FAQ question) written as a Markdown heading, so that the web
    chat's source panel shows « Délai de réponse » as the heading it is."""
    lines = []
    for line in text.splitlines():
        plain = " ".join(line.split())
        heading = plain and not _LIST_MARK.match(plain) and _stands_over(plain)
        lines.append(f"### {plain}" if heading else line)
    return "\n".join(lines)


_LIST_MARK = re.compile(r"^(?:[-*•#>]|\d{1,3}[.)])\s")


def quoted_section(text: str, section: str | None, answer: str, number: int) -> str | None:
    """The heading path of what an answer quotes from passage ``number``: ``section`` (the
    passage's main heading path) with its last heading replaced by the heading line standing
    over the first sentence quoted verbatim (« - … [n] »), so that a citation of a FAQ
    passage names the question whose answer was quoted. ``section`` when nothing is quoted
    verbatim (a generative answer) or the sentence stands under no heading line."""
    quoted = [_plain(quote) for quote in _quoted(answer, number)]  # bold marks aside
    if not quoted or not section:
        return section
    heading: str | None = None
    for line in (" ".join(line.split()) for line in text.splitlines()):
        if _stands_over(line):
            heading = line
        elif quoted[0] in _plain(line):
            break
    else:
        return section
    if heading is None:
        return section
    path = section.split(" > ")
    if heading in path:
        return " > ".join(path[: path.index(heading) + 1])
    return " > ".join([*path[:-1], heading])


def _fragment_of(unit: _Unit, other: _Unit) -> bool:
    """A sentence that is the end of one of ``other``'s list items, cut at « 3. »
    (« Performance environnementale ; … » of « Critère : 3. Performance environnementale ; … »)."""
    return not unit.items and other.items != () and any(
        fold(unit.text) in fold(line) for line in other.items)


def _duplicate(unit: _Unit, chosen: list[_Unit]) -> bool:
    """Same sentence (e.g. from two overlapping passages) or nearly the same words."""
    words = set(unit.tokens)
    lines = {fold(line) for line in (unit.text, *unit.items)}
    for other in chosen:
        if fold(other.full_text) == fold(unit.full_text):
            return True
        other_lines = {fold(line) for line in (other.text, *other.items)}
        if len(lines & other_lines) >= max(1, min(len(lines), len(other_lines)) // 2):
            return True  # the same list under two lead-ins, or a sentence quoted in a list
        if _fragment_of(unit, other):
            return True
        others = set(other.tokens)
        if words and others and len(words & others) / len(words | others) >= 0.7:
            return True
    return False


def _closest(units: list[_Unit], pattern: re.Pattern[str] | None) -> list[_Unit]:
    """The top passage's units, those carrying what the question asks for first."""
    closest = [unit for unit in units if unit.passage == units[0].passage]
    if pattern is not None:
        closest.sort(key=lambda unit: pattern.search(fold(unit.full_text)) is None)
    return closest


def _continued(units: list[_Unit], query: list[str], said: set[str]) -> list[_Unit]:
    """The top passage's unit that best matches ``query``, among those not ``said`` already
    (none when nothing matches)."""
    first = [unit for unit in units
             if unit.passage == units[0].passage and _plain(unit.text) not in said]
    scores = _bm25(query, [unit.tokens for unit in first])  # its own words, not its heading's
    best = max(range(len(first)), key=lambda index: scores[index], default=None)
    return [first[best]] if best is not None and scores[best] > 0 else []


def _named_subject(
    units: list[_Unit], query: list[str], context: list[str]
) -> tuple[list[_Unit], list[str]]:
    """A follow-up that names the document found first (« Et pour la prévoyance ? » after
    « Y a-t-il une indemnité ? », « prévoyance » being in « Garanties prévoyance
    collective »): that document's sentences, chosen with the questions it continues too
    (what is asked about it). Otherwise (a word of another document's title, « délai »
    against « Délais de traitement », is no subject the search agreed on) as they are."""
    first = units[0].title if units else ""
    if not set(query) & set(content_tokens(first)):
        return units, query
    return [unit for unit in units if unit.title == first], [*query, *context]


_ACRONYM = re.compile(r"\b[A-Z]{2,5}\b")


def _spelled_out(question: str, units: list[_Unit], query: list[str]) -> list[str]:
    """The words an acronym of the question stands for in the passages, when they spell it
    out and never write it (« IA » → « intelligence artificielle », « RGPD » → « règlement
    général … protection … données »): the run of content words whose initials spell it,
    the one found most often."""
    words: list[str] = []
    for acronym in dict.fromkeys(_ACRONYM.findall(question)):
        letters = acronym.lower()
        if letters not in query or any(letters in unit.matched for unit in units):
            continue  # not a word the question asks with, or written as such
        runs: Counter[tuple[str, ...]] = Counter()
        for unit in units:
            for tokens in (unit.tokens, unit.heading):
                for start in range(len(tokens) - len(letters) + 1):
                    run = tokens[start : start + len(letters)]
                    if "".join(token[0] for token in run) == letters and (
                        len(letters) > 2 or min(map(len, run)) >= 5
                    ):
                        runs[run] += 1
        if runs:
            words.extend(runs.most_common(1)[0][0])
    return words


def _own_words_first(units: list[_Unit], scores: list[float], query: list[str],
                     titles: dict[str, set[str]],
                     carrying: re.Pattern[str] | None = None) -> list[float]:
    """Under one heading, the sentences that say the question's words themselves, when some
    do: « Y a-t-il une indemnité ? » quotes « Une indemnité de 2,50 € … » under « Équipement
    et indemnité », not « L'entreprise fournit un ordinateur portable » matched through the
    heading alone — unless only the latter carries what is asked (``carrying``: the date of
    « 26 février 2027 » under « Date limite », beside « après cette date ») and the heading
    says most of the question. A section whose
    sentences all rely on its heading keeps them all, except under the document's own title
    (« Document fictif de démonstration. » under « FAQ mutuelle santé : remboursements »):
    every line of the document is about its title."""
    asked = set(query)

    def carries(unit: _Unit) -> bool:
        # only where the heading says most of the question (« Date limite » under « Remise
        # des offres »), not one word of it (« Canaux de déclaration » for « Dans quel délai
        # déclarer un dégât des eaux ? »)
        return (carrying is not None and 2 * len(asked & set(unit.heading)) >= len(asked)
                and carrying.search(fold(unit.full_text)) is not None)

    saying: dict[tuple[int, tuple[str, ...]], bool] = {}  # heading → a sayer carries
    for unit, score in zip(units, scores, strict=True):
        if score > 0 and unit.heading and asked & set(unit.tokens):
            key = (unit.passage, unit.heading)
            saying[key] = saying.get(key, False) or carries(unit)
    return [0.0 if not asked & set(unit.tokens) and (
        ((unit.passage, unit.heading) in saying
         and (saying[(unit.passage, unit.heading)] or not carries(unit)))
        or set(unit.heading) <= titles[unit.title]
    ) else score for unit, score in zip(units, scores, strict=True)]


def _beyond_the_title(units: list[_Unit], scores: list[float], query: list[str],
                      titles: dict[str, set[str]]) -> list[float]:
    """A sentence matching only words of its document's title weighs half, when another
    sentence matches more: « Peut-on utiliser le wifi de l'hôtel en télétravail ? » in
    « Politique de télétravail » is answered by the Wi-Fi sentence, not by one that merely
    says « télétravaillé » (every line of that document is about telework)."""
    asked = set(query)
    only_title = [bool(asked & set(unit.matched)) and asked & set(unit.matched) <= titles[unit.title]
                  for unit in units]
    if all(only for only, score in zip(only_title, scores, strict=True) if score > 0):
        return scores  # nothing matches beyond the title: no sentence is set apart
    return [score / 2 if only else score
            for only, score in zip(only_title, scores, strict=True)]


def _on_subject(
    units: list[_Unit], scores: list[float], subject: list[str]
) -> list[float]:
    """A follow-up's matches that are also about the conversation's subject (the words of
    the questions it continues that it does not repeat), when some are: « Et le délai ? »
    after a question on telework keeps the telework row of a table of processing times, not
    every row with a « délai »; a match sharing only a common word (« jours ») with the
    subject, half as close as the best, is left out too."""
    near = _bm25(subject, [unit.matched for unit in units]) if subject else []
    best = max((close for close, score in zip(near, scores, strict=True) if score > 0), default=0.0)
    if best <= 0:
        return scores
    return [score if close >= best / 2 else 0.0
            for score, close in zip(scores, near, strict=True)]


def _just_said(request: CompletionRequest) -> set[str]:
    """The sentences the conversation's last answer quoted (folded), which a follow-up's
    answer does not quote again: « Et le délai pour prévenir ? » after « Combien de jours de
    télétravail ? » does not repeat « trois jours par semaine »."""
    answers = [turn.content for turn in request.messages if turn.role == "assistant"]
    if not request.context_terms or not answers:
        return set()
    return {_plain(quote) for quote in _quoted(answers[-1])}


def _plain(sentence: str) -> str:
    """A sentence compared as words only: folded, bold marks (the source's or the answer's
    figure asked for) left out."""
    return fold(sentence.replace("**", ""))


def _choose(request: CompletionRequest) -> tuple[list[_Unit], bool]:
    """The units worth quoting, and whether they came from matching the question's words."""
    units: list[_Unit] = []
    for passage in request.passages:
        units.extend(passage_units(passage.number, passage.title, passage.text, len(units)))
    query = content_tokens(request.match_terms or request.question)
    entity = asked_entity(request.question)
    pattern = _ENTITY_PATTERNS.get(entity or "")
    query += _spelled_out(request.question, units, query)
    context = content_tokens(request.context_terms)
    asked_again = bool(context) and bool(query) and set(query) <= set(context)
    subject = [token for token in context if token not in query]
    if context:
        units, query = _named_subject(units, query, context)
    scores = _bm25(query, [unit.matched for unit in units])
    own_match = any(score > 0 for score in scores)
    if context and (asked_again or not own_match):
        # « Combien ça coûte ? »: a follow-up whose own words match no sentence, or that
        # only repeats the question's (« Et le délai ? » after « Quel est le délai de
        # traitement d'une réclamation ? »), is read with the questions it continues
        query += context
        scores = _bm25(query, [unit.matched for unit in units])
    if context and own_match:  # else every word of the earlier questions is the subject
        scores = _on_subject(units, scores, subject)
    titles = {unit.title: set(content_tokens(unit.title)) for unit in units}  # title → words
    scores = _own_words_first(units, scores, query, titles,
                              pattern if entity not in (None, "yes_no") else None)
    scores = _beyond_the_title(units, scores, query, titles)
    said = set() if asked_again else _just_said(request)  # asked again: answered again
    # a sentence just quoted is not quoted again, unless it carries what the follow-up asks
    # for (« Qui valide ? » after « …trois jours par semaine, sur accord du manager. »)
    carries = pattern if entity not in (None, "yes_no") else None
    fresh = [0.0 if _plain(unit.text) in said
             and (carries is None or not carries.search(fold(unit.full_text))) else score
             for unit, score in zip(units, scores, strict=True)]
    if any(score > 0 for score in fresh):  # unless it was all said already
        scores = fresh
    ranked: list[tuple[float, _Unit]] = []
    asked = set(query)
    how = _HOW_VERB.search(fold(request.question))
    acting = set(content_tokens(request.action_terms or (how.group(1) if how else "")))
    acting -= _QUESTION_WORDS
    for unit, score in zip(units, scores, strict=True):
        if score <= 0 or len(unit.tokens) < 3:
            continue
        score *= 1 + 1 / unit.passage  # retrieval ranked earlier passages higher: a prior
        # a sentence saying more of the question's words answers more of it (« Quel service
        # traite les réclamations ? »: « Service responsable : Qualité » over a definition of
        # « réclamation » that repeats the word)
        score *= 0.5 + len(asked & set(unit.matched)) / len(asked)
        if pattern is not None and pattern.search(fold(unit.full_text)):
            score *= 1.6
        ranked.append((score, unit))
    ranked.sort(key=lambda item: (-item[0], item[1].position))
    cross_lingual = request.cross_lingual or request.locale != request.source_locale
    if not ranked:
        if not units:
            return [], False
        # the search found the passages relevant, but no sentence shares a word with the
        # question (a question in English; « fourni » against « fournit »): quote the top
        # passage, its sentences carrying what the question asks for (a figure…) first
        return _closest(units, pattern)[:2], False
    if pattern is not None and entity != "yes_no":
        # « Dans quel délai… ? »: when sentences give a duration (a figure, a date), those
        # answer; a list of documents to send matching « dégât des eaux » does not
        carrying = [(score, unit) for score, unit in ranked
                    if pattern.search(fold(unit.full_text))]
        # « Quelle est la date limite ? »: a day of the calendar, where some sentence gives
        # one, rather than « 180 jours à compter de la date limite »
        dated = ([(score, unit) for score, unit in carrying
                  if _CALENDAR_DATE.search(fold(unit.full_text))]
                 if entity == "date" and _NAMES_A_DAY.search(fold(request.question)) else [])
        ranked = dated or carrying or ranked
    if context and not own_match:
        # « Et qui s'en occupe ? »: nothing of its own matched, so it asks about the
        # conversation's document (found first), not about another one matching the
        # earlier question's words (a telework row's « délai de réponse »)
        ranked = [item for item in ranked if item[1].title == units[0].title] or ranked
    best = ranked[0][0]
    relevant = [unit for score, unit in ranked if score >= best * 0.35]
    # « Comment déclarer… ? »: a sentence saying how it is done (« La déclaration se fait
    # par l'espace adhérent, par téléphone… ») answers, though the words of the document's
    # title weigh little and a documents list matching « dégât des eaux » ranks higher
    saying_how = [unit for _, unit in ranked if acting & set(unit.matched)
                  and _MEANS.search(fold(unit.full_text))] if acting else []
    sources = {unit.title for unit in relevant}  # another document is not brought in for it
    saying_how = [unit for unit in saying_how if unit.title in sources]
    relevant += [unit for unit in saying_how if unit not in relevant]
    if request.context_terms and any(unit.title == units[0].title for unit in relevant):
        # a follow-up stays on the conversation's document (found first, searched with the
        # questions it continues) when that one answers it: « Is there an allowance for
        # it? » after a question on telework quotes the telework allowance, not a sick-pay
        # page's « indemnités »; another document speaks only when it alone matches
        relevant = [unit for unit in relevant if unit.title == units[0].title]
    # the best-ranked passage speaks first (its best sentence is always quoted), then
    # each other source's best sentence, in retrieval order, then the best of the rest
    top = min(unit.passage for _, unit in ranked)
    chosen: list[_Unit] = [next((unit for unit in saying_how if unit.passage == top),
                                next(unit for _, unit in ranked if unit.passage == top))]
    if context:
        if chosen[0].title != units[0].title:
            # a follow-up was searched with the questions it continues: the document found
            # first is the conversation's, and speaks first with its sentence closest to
            # both (in English too: its matches were kept on the conversation's subject)
            chosen = _continued(units, query + context, said) or chosen
    elif cross_lingual and top != units[0].passage:
        # an English question's words match French passages by chance (« public »,
        # « civil »): the passage retrieval ranked first speaks first all the same
        chosen = _closest(units, pattern)[:1]
    if request.subject_words and not context:
        relevant = _naming_the_subject(relevant, request.subject_words, request.question)
    by_source: dict[str, _Unit] = {}
    for unit in relevant:
        by_source.setdefault(unit.title, unit)
    firsts = sorted(by_source.values(), key=lambda unit: unit.passage)
    for unit in [*firsts, *relevant]:
        if len(chosen) >= _MAX_ANSWER_UNITS:
            break
        if unit in chosen:
            continue
        fragments = [other for other in chosen if _fragment_of(other, unit)]
        if fragments:  # the whole list item stands where its cut end was
            chosen = [unit if other is fragments[0] else other for other in chosen
                      if other is fragments[0] or other not in fragments]
        elif not _duplicate(unit, chosen):
            chosen.append(unit)
    if request.subject_words and not context:
        chosen = _covering(chosen, [unit for _, unit in ranked], request.subject_words)
    return chosen, True


# « Comment déclarer… ? », « Comment puis-je résilier… ? »: the action asked about
_HOW_VERB = re.compile(
    r"\bcomment\s+(?:(?:puis-je|peut-on|dois-je|faut-il|faire pour)\s+)?"
    r"(?:(?:me|se|le|la|les)\s+|[ms]'|l')?([a-z]+(?:er|ir|re))\b")


# how a thing is done: a channel, a place, a form, a tool
_MEANS = re.compile(
    r"\b(?:se fait|s'effectue|se font|s'effectuent|par (?:telephone|courrier|courriel|mail|"
    r"e-mail|internet|lettre)|en ligne|sur (?:le site|l'espace|votre espace|internet)|aupres "
    r"d|dans l'outil|formulaire|en agence|au guichet|espace (?:adherent|client|personnel)|"
    r"teleservice|via)\b")


def _naming_the_subject(relevant: list[_Unit], subject_words: tuple[str, ...],
                        question: str = "") -> list[_Unit]:
    """The sentences that say one of the question's nouns or names, or the action a
    « comment… ? » asks about (or stand under a heading that does), when some do: « Quelle
    certification est exigée ? » quotes the ISO 27001 sentence, not a table's rows whose
    header says « Niveau minimal exigé »; « Comment déclarer un dégât des eaux ? » keeps
    « La déclaration se fait par l'espace adhérent… »."""
    tokens = {token for word in subject_words for token in content_tokens(word)
              if token not in _QUESTION_WORDS}
    how = _HOW_VERB.search(fold(question))
    if how is not None:
        tokens.update(token for token in content_tokens(how.group(1))
                      if token not in _QUESTION_WORDS)
    naming = [unit for unit in relevant if tokens.intersection(unit.matched)]
    return naming or relevant


def _covering(chosen: list[_Unit], ranked: list[_Unit],
              subject_words: tuple[str, ...]) -> list[_Unit]:
    """``chosen`` with, for each word of the question's subject none of them says, the
    best-ranked sentence of a source already quoted that says it, while there is room:
    « Quelle est la franchise en cas de dégât des eaux ? » quotes the documents list
    matching « dégât des eaux » and the sentence naming the franchise, which alone matches
    fewer words. Another source is not brought in for one word (« justice » in a page
    about something else)."""
    quoted = {unit.title for unit in chosen}
    for word in subject_words:
        tokens = [token for token in content_tokens(word) if token not in _QUESTION_WORDS]
        if len(chosen) >= _MAX_ANSWER_UNITS:
            break
        if not tokens or any(token in unit.matched for unit in chosen for token in tokens):
            continue
        carrying = next((unit for unit in ranked if unit.title in quoted
                         and any(token in unit.matched for token in tokens)
                         and unit not in chosen and not _duplicate(unit, chosen)), None)
        if carrying is not None:
            chosen.append(carrying)
    return chosen


_INFINITIVE = re.compile(r"(?:er|ir|re)$")


def missing_terms(question: str, passages: list[str],
                   subject_words: tuple[str, ...] | None = None) -> list[str]:
    """The question's words (as typed) that no passage mentions at all: among
    ``subject_words`` when given (its nouns and names), else among its long words."""
    found = {token[:5] for text in passages for token in content_tokens(text)}
    missing: dict[str, str] = {}
    words = subject_words if subject_words is not None else re.findall(r"[\w'’-]+", question)
    for word in words:
        tokens = [token for token in content_tokens(word) if token not in _QUESTION_WORDS]
        # five-letter prefixes: « saisissables » is found in « saisies »
        if (
            tokens
            and all(token[:5] not in found for token in tokens)
            and (word[:1].isupper() or len(word) > 4)
            and (subject_words is not None or not _INFINITIVE.search(word))
        ):
            missing.setdefault(tokens[0], word.split("'")[-1].split("’")[-1])
    return list(missing.values())


def missing_renderings(terms: Sequence[tuple[str, tuple[str, ...]]],
                       passages: list[str]) -> list[str]:
    """The words of a question in another language (as the lexicon knows them) none of
    whose renderings any passage mentions, when there are two or more: one alone is most
    often a word the page says otherwise (“proof of address”: « domicile », not
    « adresse ») or a verb (“apply”, “take”), and naming it was a false alarm on one
    answer from the right page in three (`bench.answers`)."""
    found = {token[:5] for text in passages for token in content_tokens(text)}
    missing = [word for word, renderings in terms
               if not any(token[:5] in found
                          for rendering in renderings for token in content_tokens(rendering))]
    return missing if len(missing) >= 2 else []


def _grouped(chosen: list[_Unit], locale: Locale, source: Text = _SOURCE) -> list[str]:
    """Chosen units grouped by source, sources in retrieval order, each in reading order."""
    groups: dict[str, list[_Unit]] = {}
    for unit in sorted(chosen, key=lambda unit: (unit.passage, unit.position)):
        groups.setdefault(unit.title, []).append(unit)
    blocks = []
    for title, units in groups.items():
        lines = [source(locale, title=title)]
        quoted = {(unit.passage, unit.text) for unit in units}
        for unit in sorted(units, key=lambda unit: unit.position):
            # « Il est majoré de 50 % … » says what « il » is only after its sentence
            text = (f"{unit.antecedent} {unit.text}" if unit.antecedent
                    and (unit.passage, unit.antecedent) not in quoted else unit.text)
            lines.append(f"- {text} [{unit.passage}]")
            lines.extend(f"  - {item}" for item in unit.items)
        blocks.append("\n".join(lines))
    return blocks


def select_answer(request: CompletionRequest) -> str:
    """The passages' sentences that answer the question, grouped by source, each cited.

    Lists stay whole with their lead-in, no sentence is repeated, sentences carrying
    what the question asks for (a duration, a figure, a date, a yes or no) come first,
    and the answer says plainly what the passages do not cover.
    """
    locale = request.locale
    chosen, matched = _choose(request)
    if not chosen:
        return _NOTHING_RELEVANT(locale)
    translated = locale != request.source_locale
    blocks = _grouped(chosen, locale, _SOURCE if translated else _SOURCE_SAME)
    if not matched:
        blocks.insert(0, _CLOSEST(locale))
    notes = []
    entity = asked_entity(request.question)
    if entity in _ENTITY_NAMES and not any(
        _ENTITY_PATTERNS[entity].search(fold(unit.full_text)) for unit in chosen
    ):
        notes.append(_NO_ENTITY(locale, entity=_ENTITY_NAMES[entity](locale)))
    texts = [passage.title + " " + passage.text for passage in request.passages]
    # the question's own words, looked for in the passages when they share a language;
    # else its key words' renderings (“car”: « voiture », « véhicule »…)
    missing = (
        [] if not matched
        else missing_renderings(request.rendered_terms, texts) if request.rendered_terms
        else missing_terms(request.question, texts, request.subject_words)
        if locale == "fr" and not request.cross_lingual else []
    )
    if missing:
        notes.append(_PARTIAL(locale, missing=", ".join(quoted(word, locale)
                                                        for word in missing[:3])))
    if locale == "en" and translated:
        notes.append(_QUOTED_IN_FRENCH(locale))
    return "\n\n".join(blocks + notes)


def _cue_score(sentence: _Sentence, section: OutlineSection) -> int:
    """How many of the section's cues start a word of the sentence."""
    folded = " " + re.sub(r"[^a-z0-9€']+", " ", fold(sentence.text))
    return sum(
        1 for cue in section.cues
        if cue != CATCH_ALL_CUE and (" " + fold(cue)) in folded
    )


def select_outline(request: CompletionRequest) -> str:
    """Sort the passages' sentences into the outline's sections by their cue words."""
    sections: dict[str, list[_Sentence]] = {section.title: [] for section in request.outline}
    catch_all = next(
        (section.title for section in request.outline if CATCH_ALL_CUE in section.cues), None
    )
    for sentence in _sentences(request):
        if len(sentence.tokens) < 2:
            continue
        scores = [(_cue_score(sentence, section), section.title) for section in request.outline]
        best_score, best_title = max(scores, key=lambda item: item[0])
        if best_score > 0:
            sections[best_title].append(sentence)
        elif catch_all is not None:
            sections[catch_all].append(sentence)
    blocks = []
    for title, chosen in sections.items():
        lines = [f"- {sentence.text}" for sentence in chosen[:_MAX_SECTION_SENTENCES]]
        if not lines:
            lines = [f"- {_NOTHING_NOTED(request.locale)}"]
        blocks.append(f"**{title}**\n" + "\n".join(lines))
    return "\n\n".join(blocks)


class _ExtractiveStream(StreamBase):
    async def __aiter__(self) -> AsyncIterator[str]:
        request = self._request
        text = select_outline(request) if request.outline else select_answer(request)
        prompt_words = sum(len(passage.text.split()) for passage in request.passages)
        self._usage = TokenUsage(
            prompt_tokens=prompt_words + len(request.question.split()),
            completion_tokens=len(text.split()),
        )
        for line in text.splitlines(keepends=True):
            yield line


class ExtractiveProvider:
    """Provider ``extractive``: offline, deterministic, cites what it selects."""

    def open_stream(self, entry: ModelEntry, request: CompletionRequest) -> _ExtractiveStream:
        """Select sentences for ``request`` (the entry has no settings to honour)."""
        return _ExtractiveStream(entry, request)

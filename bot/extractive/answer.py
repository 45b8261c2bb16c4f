"""The offline answer to a question: the passages' sentences that answer it, grouped by
source and cited, and what the passages do not cover (see ``select_answer``)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.extractive.asked import (
    CALENDAR_DATE,
    ENTITY_PATTERNS,
    NAMES_A_DAY,
    QUESTION_WORDS,
    asked_entity,
)
from bot.extractive.units import Unit, passage_units, plain, quoted_lines
from bot.gateway.types import CompletionRequest
from bot.i18n import Text, quoted
from bot.messages import Locale
from bot.text import content_tokens, fold

_MAX_ANSWER_UNITS = 4

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


def _fragment_of(unit: Unit, other: Unit) -> bool:
    """A sentence that is the end of one of ``other``'s list items, cut at « 3. »
    (« Performance environnementale ; … » of « Critère : 3. Performance environnementale ; … »)."""
    return not unit.items and other.items != () and any(
        fold(unit.text) in fold(line) for line in other.items)


def _duplicate(unit: Unit, chosen: list[Unit]) -> bool:
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


def _closest(units: list[Unit], pattern: re.Pattern[str] | None) -> list[Unit]:
    """The top passage's units, those carrying what the question asks for first."""
    closest = [unit for unit in units if unit.passage == units[0].passage]
    if pattern is not None:
        closest.sort(key=lambda unit: pattern.search(fold(unit.full_text)) is None)
    kept: list[Unit] = []
    for unit in closest:  # (a form's two blank rows are one line to quote)
        if not _duplicate(unit, kept):
            kept.append(unit)
    return kept


def _continued(units: list[Unit], query: list[str], said: set[str]) -> list[Unit]:
    """The top passage's unit that best matches ``query``, among those not ``said`` already
    (none when nothing matches)."""
    first = [unit for unit in units
             if unit.passage == units[0].passage and plain(unit.text) not in said]
    scores = _bm25(query, [unit.tokens for unit in first])  # its own words, not its heading's
    best = max(range(len(first)), key=lambda index: scores[index], default=None)
    return [first[best]] if best is not None and scores[best] > 0 else []


def _named_subject(
    units: list[Unit], query: list[str], context: list[str]
) -> tuple[list[Unit], list[str]]:
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


def _spelled_out(question: str, units: list[Unit], query: list[str]) -> list[str]:
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


_DAY_WORDS = frozenset(content_tokens("date limite jour deadline day"))


def _own_words_first(units: list[Unit], scores: list[float], query: list[str],
                     titles: dict[str, set[str]],
                     carrying: re.Pattern[str] | None = None,
                     naming: frozenset[str] = frozenset()) -> list[float]:
    """Under one heading, the sentences that say the question's words themselves, when some
    do: « Y a-t-il une indemnité ? » quotes « Une indemnité de 2,50 € … » under « Équipement
    et indemnité », not « L'entreprise fournit un ordinateur portable » matched through the
    heading alone — unless only the latter carries what is asked (``carrying``: the date of
    « 26 février 2027 » under « Date limite », beside « après cette date ») and the heading
    says most of the question, less the words ``naming`` what is asked (« la date limite
    pour poser des questions » under « Questions des candidats »). A section whose
    sentences all rely on its heading keeps them all, except under the document's own title
    (« Document fictif de démonstration. » under « FAQ mutuelle santé : remboursements »):
    every line of the document is about its title."""
    asked = set(query)
    subject = asked - naming or asked

    def carries(unit: Unit) -> bool:
        # only where the heading says most of the question (« Date limite » under « Remise
        # des offres »), not one word of it (« Canaux de déclaration » for « Dans quel délai
        # déclarer un dégât des eaux ? »)
        return (carrying is not None and 2 * len(subject & set(unit.heading)) >= len(subject)
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


def _beyond_the_title(units: list[Unit], scores: list[float], query: list[str],
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
    units: list[Unit], scores: list[float], subject: list[str], said: set[str],
    carrying: re.Pattern[str] | None = None,
) -> list[float]:
    """A follow-up's matches that are also about the conversation's subject (the words of
    the questions it continues that it does not repeat), when some are: « Et le délai ? »
    after a question on telework keeps the telework row of a table of processing times, not
    every row with a « délai »; a match sharing only a common word (« jours ») with the
    subject, half as close as the best, is left out too. The sentences the last answer
    quoted (``said``) set no bar: « Et la réponse définitive ? » after the acknowledgement
    delay of a complaint, quoted, keeps « La réponse définitive est apportée sous deux mois
    … de la réception de la réclamation ». A match carrying what the questions ask for
    (``carrying``: a delay) stays: « Et pour un vol ? » after « Dans quel délai déclarer un
    dégât des eaux ? » keeps « En cas de vol, le délai est réduit à 2 jours ouvrés », though
    the list naming « dégât des eaux » again is closer to the words it replaces."""
    near = _bm25(subject, [unit.matched for unit in units]) if subject else []
    best = max((close for close, score, unit in zip(near, scores, units, strict=True)
                if score > 0 and plain(unit.text) not in said), default=0.0)
    if best <= 0:
        return scores
    return [score if close >= best / 2 or (
                carrying is not None and close > 0 and carrying.search(fold(unit.full_text)))
            else 0.0 for score, close, unit in zip(scores, near, units, strict=True)]


def _just_said(request: CompletionRequest) -> set[str]:
    """The sentences the conversation's last answer quoted (folded), which a follow-up's
    answer does not quote again: « Et le délai pour prévenir ? » after « Combien de jours de
    télétravail ? » does not repeat « trois jours par semaine »."""
    answers = [turn.content for turn in request.messages if turn.role == "assistant"]
    if not request.context_terms or not answers:
        return set()
    return {plain(quote) for quote in quoted_lines(answers[-1])}


@dataclass(frozen=True, slots=True)
class _Scoring:
    """How the units matched the question: its words, a follow-up's context, the scores."""

    query: list[str]  # the words matched (the question's, or its renderings)
    context: list[str]  # the earlier questions' words, for a follow-up
    own_match: bool  # the question's own words matched some unit
    said: set[str]  # sentences the last answer quoted
    scores: list[float]  # one per unit
    entity: str | None  # what the question asks for (a duration, a figure…)
    pattern: re.Pattern[str] | None  # what a sentence carrying it looks like


def _choose(request: CompletionRequest) -> tuple[list[Unit], bool]:
    """The units worth quoting, and whether they came from matching the question's words."""
    units: list[Unit] = []
    for passage in request.passages:
        units.extend(passage_units(passage.number, passage.title, passage.text, len(units)))
    units, scoring = _scored(request, units)
    ranked = _ranked(request, units, scoring)
    if not ranked:
        if not units:
            return [], False
        # the search found the passages relevant, but no sentence shares a word with the
        # question (a question in English; « fourni » against « fournit »): quote the top
        # passage, its sentences carrying what the question asks for (a figure…) first
        return _closest(units, scoring.pattern)[:2], False
    return _picked(request, units, ranked, scoring), True


def _scored(request: CompletionRequest, units: list[Unit]) -> tuple[list[Unit], _Scoring]:
    """Each unit's score for the question (a follow-up's units kept to its subject)."""
    query = content_tokens(request.match_terms or request.question)
    # « Et pour un vol ? » after « Dans quel délai… ? » still asks for a delay
    entity = asked_entity(request.question)
    inherited = entity is None and bool(request.context_terms) and (
        asked_entity(request.context_terms) not in (None, "yes_no"))
    if inherited:
        entity = asked_entity(request.context_terms)
    own = set(query)  # the follow-up's own words (« vol »), before any of the context's
    pattern = ENTITY_PATTERNS.get(entity or "")
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
    said = set() if asked_again else _just_said(request)  # asked again: answered again
    if context and own_match:  # else every word of the earlier questions is the subject
        scores = _on_subject(units, scores, subject, said, pattern if inherited else None)
    titles = {unit.title: set(content_tokens(unit.title)) for unit in units}  # title → words
    # « Quelle est la date limite pour poser des questions ? »: a day of the calendar
    names_a_day = entity == "date" and NAMES_A_DAY.search(fold(request.question)) is not None
    scores = _own_words_first(units, scores, query, titles,
                              CALENDAR_DATE if names_a_day
                              else pattern if entity not in (None, "yes_no") else None,
                              _DAY_WORDS if names_a_day else frozenset())
    scores = _beyond_the_title(units, scores, query, titles)
    # a sentence just quoted is not quoted again, unless it carries what the follow-up asks
    # for (« Qui valide ? » after « …trois jours par semaine, sur accord du manager. »)
    # — an inherited one (« Et pour un vol ? ») when the sentence has the follow-up's words
    carries = pattern if entity not in (None, "yes_no") else None
    fresh = [0.0 if plain(unit.text) in said
             and (carries is None or not carries.search(fold(unit.full_text))
                  or (inherited and not own & set(unit.matched))) else score
             for unit, score in zip(units, scores, strict=True)]
    if any(score > 0 for score in fresh):  # unless it was all said already
        scores = fresh
    return units, _Scoring(query, context, own_match, said, scores, entity, pattern)


def _ranked(request: CompletionRequest, units: list[Unit],
            scoring: _Scoring) -> list[tuple[float, Unit]]:
    """The units that matched, best first, weighed by retrieval rank, by how much of the
    question they say and by whether they carry what it asks for."""
    ranked: list[tuple[float, Unit]] = []
    asked = set(scoring.query)
    pattern, entity = scoring.pattern, scoring.entity
    for unit, score in zip(units, scoring.scores, strict=True):
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
    if ranked and pattern is not None and entity != "yes_no":
        # « Dans quel délai… ? »: when sentences give a duration (a figure, a date), those
        # answer; a list of documents to send matching « dégât des eaux » does not
        carrying = [(score, unit) for score, unit in ranked
                    if pattern.search(fold(unit.full_text))]
        # « Quelle est la date limite ? »: a day of the calendar, where some sentence gives
        # one, rather than « 180 jours à compter de la date limite »
        dated = ([(score, unit) for score, unit in carrying
                  if CALENDAR_DATE.search(fold(unit.full_text))]
                 if entity == "date" and NAMES_A_DAY.search(fold(request.question)) else [])
        ranked = dated or carrying or ranked
    if ranked and scoring.context and not scoring.own_match:
        # « Et qui s'en occupe ? »: nothing of its own matched, so it asks about the
        # conversation's document (found first), not about another one matching the
        # earlier question's words (a telework row's « délai de réponse »)
        ranked = [item for item in ranked if item[1].title == units[0].title] or ranked
    return ranked


def _picked(request: CompletionRequest, units: list[Unit], ranked: list[tuple[float, Unit]],
            scoring: _Scoring) -> list[Unit]:
    """At most ``_MAX_ANSWER_UNITS`` of the ranked units: the best-ranked passage's first,
    each other source's best, then the best of the rest, none twice."""
    context = scoring.context
    cross_lingual = request.cross_lingual or request.locale != request.source_locale
    best = ranked[0][0]
    relevant = [unit for score, unit in ranked if score >= best * 0.35]
    how = _HOW_VERB.search(fold(request.question))
    acting = set(content_tokens(request.action_terms or (how.group(1) if how else "")))
    acting -= QUESTION_WORDS
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
    chosen: list[Unit] = [next((unit for unit in saying_how if unit.passage == top),
                                next(unit for _, unit in ranked if unit.passage == top))]
    if context:
        if chosen[0].title != units[0].title:
            # a follow-up was searched with the questions it continues: the document found
            # first is the conversation's, and speaks first with its sentence closest to
            # both (in English too: its matches were kept on the conversation's subject)
            chosen = _continued(units, scoring.query + context, scoring.said) or chosen
    elif cross_lingual and top != units[0].passage:
        # an English question's words match French passages by chance (« public »,
        # « civil »): the passage retrieval ranked first speaks first all the same
        chosen = _closest(units, scoring.pattern)[:1]
    if request.subject_words and not context:
        relevant = _naming_the_subject(relevant, request.subject_words, request.question)
    by_source: dict[str, Unit] = {}
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
    return chosen


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


def _naming_the_subject(relevant: list[Unit], subject_words: tuple[str, ...],
                        question: str = "") -> list[Unit]:
    """The sentences that say one of the question's nouns or names, or the action a
    « comment… ? » asks about (or stand under a heading that does), when some do: « Quelle
    certification est exigée ? » quotes the ISO 27001 sentence, not a table's rows whose
    header says « Niveau minimal exigé »; « Comment déclarer un dégât des eaux ? » keeps
    « La déclaration se fait par l'espace adhérent… »."""
    tokens = {token for word in subject_words for token in content_tokens(word)
              if token not in QUESTION_WORDS}
    how = _HOW_VERB.search(fold(question))
    if how is not None:
        tokens.update(token for token in content_tokens(how.group(1))
                      if token not in QUESTION_WORDS)
    naming = [unit for unit in relevant if tokens.intersection(unit.matched)]
    return naming or relevant


def _covering(chosen: list[Unit], ranked: list[Unit],
              subject_words: tuple[str, ...]) -> list[Unit]:
    """``chosen`` with, for each word of the question's subject none of them says, the
    best-ranked sentence of a source already quoted that says it, while there is room:
    « Quelle est la franchise en cas de dégât des eaux ? » quotes the documents list
    matching « dégât des eaux » and the sentence naming the franchise, which alone matches
    fewer words. Another source is not brought in for one word (« justice » in a page
    about something else)."""
    quoted = {unit.title for unit in chosen}
    for word in subject_words:
        tokens = [token for token in content_tokens(word) if token not in QUESTION_WORDS]
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
        tokens = [token for token in content_tokens(word) if token not in QUESTION_WORDS]
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
                       passages: list[str], at_least: int = 2) -> list[str]:
    """The words of a question in another language (as the lexicon knows them) none of
    whose renderings any passage mentions, when there are two or more: one alone is most
    often a word the page says otherwise (“proof of address”: « domicile », not
    « adresse ») or a verb (“apply”, “take”), and naming it was a false alarm on one
    answer from the right page in three (`bench.answers`). A follow-up names one thing
    (“What about the deadline?”): ``at_least`` 1 says when it is that one."""
    found = {token[:5] for text in passages for token in content_tokens(text)}
    missing = [word for word, renderings in terms
               if not any(token[:5] in found
                          for rendering in renderings for token in content_tokens(rendering))]
    return missing if len(missing) >= at_least else []


def _grouped(chosen: list[Unit], locale: Locale, source: Text = _SOURCE) -> list[str]:
    """Chosen units grouped by source, sources in retrieval order, each in reading order."""
    groups: dict[str, list[Unit]] = {}
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
        ENTITY_PATTERNS[entity].search(fold(unit.full_text)) for unit in chosen
    ):
        notes.append(_NO_ENTITY(locale, entity=_ENTITY_NAMES[entity](locale)))
    texts = [passage.title + " " + passage.text for passage in request.passages]
    # the question's own words, looked for in the passages when they share a language;
    # else its key words' renderings (“car”: « voiture », « véhicule »…)
    missing = (
        [] if not matched
        else missing_renderings(request.rendered_terms, texts,
                                1 if request.context_terms else 2) if request.rendered_terms
        else missing_terms(request.question, texts, request.subject_words)
        if locale == "fr" and not request.cross_lingual else []
    )
    if missing:
        notes.append(_PARTIAL(locale, missing=", ".join(quoted(word, locale)
                                                        for word in missing[:3])))
    if locale == "en" and translated:
        notes.append(_QUOTED_IN_FRENCH(locale))
    return "\n\n".join(blocks + notes)

"""Questions about an attached table answered by computing over its cells rather than by
quoting a row: « Quelle est la note moyenne ? », « Quel est le total de l'effectif estimé par
niveau ? », « Combien de réponses en Île-de-France ? », “What is the average score by
product?”.

The question must name an aggregate (moyenne, total, minimum, maximum, combien de lignes…)
and, for a figure, a column of numbers whose name it says (or the table's only one); it may
name a column to group by (« par produit », “by channel”) or a period of the date column
(« par mois »), values of columns to keep to (« pour l'auto en Île-de-France »), conditions
on columns of figures (« une note inférieure à 3 », see ``skills.table_conditions``) and a
stretch of time (« depuis mars 2024 », see ``skills.table_periods``). Anything less clear is
left to the search; words nothing accounts for are named in the answer.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.i18n import Text, grouped, plural, quoted
from bot.messages import Locale
from bot.text import content_tokens, fold
from knowledge.attached import AttachedFile
from knowledge.english import french_search_words, is_english_word, rendered_units
from knowledge.language import ENGLISH_FUNCTION_WORDS
from knowledge.records import KnowledgeError
from knowledge.table_profile import Table, is_table, number, read_tables
from skills.table_answers import (
    COUNT_SHEETS,
    COUNTED,
    IN_SPAN,
    PERIOD_NAMES,
    SHEET_LINE,
    Aggregate,
    Grouping,
    NamedTable,
    count_answer,
    figure_answer,
    where_text,
)
from skills.table_columns import (
    NPS_WORDS,
    cell,
    column_named,
    date_column,
    distinct_values,
    header_words,
    holds_figures,
    last_day,
    nps_column,
    scales,
    values_said,
    within,
)
from skills.table_conditions import Condition, conditions_in, said_conditions
from skills.table_periods import names_span, said_span, span_in

_NPS = re.compile(r"\b(?:nps|net promoter(?: score)?)\b")
_AGGREGATES: tuple[tuple[Aggregate, re.Pattern[str]], ...] = (
    ("count", re.compile(r"\b(?:combien (?:de |d')?(?:lignes|reponses|verbatims|avis|"
                         r"enregistrements|entrees|commentaires|clients|personnes|notes|"
                         r"repondants)|nombre (?:de |d')(?:lignes|reponses|verbatims|avis|"
                         r"enregistrements|entrees|commentaires|notes|repondants)|how many "
                         r"(?:rows|responses|answers|entries|records|comments|reviews|scores|"
                         r"ratings|respondents|customers))\b")),
    # « Quelle part des réponses… », “What share of…”: rows counted, with their share
    ("count", re.compile(r"\b(?:quelle (?:part|proportion)|quel (?:pourcentage|taux)|combien "
                         r"de pourcents?|what (?:is the )?(?:share|proportion|percentage)|how "
                         r"many percent|combien de (?:detracteurs|promoteurs|passifs)|how many "
                         r"(?:detractors|promoters|passives))\b")),
    # « Quel canal a le plus de réponses ? », « Quel est le canal le plus utilisé ? »
    ("count", re.compile(r"\b(?:le (?:plus|moins) de (?:reponses|avis|verbatims|commentaires|"
                         r"lignes|clients)|the (?:most|fewest|least) (?:responses|answers|"
                         r"reviews|comments|rows|customers)|(?:le|la|les) (?:plus|moins) "
                         r"(?:utilisee?s?|frequente?s?|citee?s?|courante?s?|representee?s?)|"
                         r"(?:most|least) (?:used|common|frequent|cited))\b")),
    ("median", re.compile(r"\b(?:mediane|median)\b")),
    # « Quel produit a la meilleure note ? », « le canal le plus mal noté »: groups ranked
    # by their mean
    ("mean", re.compile(r"\b(?:(?:meilleure?|pire|moins bonne?|plus mauvaise?|best|worst) "
                        r"(?:note|score|rating|satisfaction)|(?:le|la|les) (?:mieux|plus mal|"
                        r"moins bien|plus mauvais) notee?s?|(?:best|worst|highest|lowest)"
                        r"[ -]rated)\b")),
    # “mean” alone is also a verb (“What does NPS mean?”)
    ("mean", re.compile(r"\b(?:moyenne|moyennes|moyen|average|the mean|mean (?:value|of))\b")),
    ("sum", re.compile(r"\b(?:total|totale|totaux|somme|cumul|cumule|cumulee|sum)\b")),
    ("min", re.compile(r"\b(?:minimum|minimale?|plus (?:petite?|faible|bas(?:se)?)|lowest|"
                       r"smallest)\b")),
    ("max", re.compile(r"\b(?:maximum|maximale?|plus (?:grande?|elevee?|haute?|fort|forte)|"
                       r"highest|largest|biggest)\b")),
    # « Quel est le NPS par canal ? »: the Net Promoter Score of 0-10 answers, not their mean
    # (« le NPS moyen » asks the mean, found first)
    ("nps", _NPS),
)
_SPREAD = re.compile(r"\b(?:repartition|distribution|ventilation|breakdown)\b (?:des |de la |du |"
                     r"de l'|d'|of (?:the )?)?(?P<what>[a-z0-9'’ -]+?)\s*(?=\?|$|,|\bet\b|"
                     r"\band\b|\ben\b|\bin\b|\bpour\b|\bfor\b|\bdepuis\b|\bsince\b)")
# « Que veut dire NPS ? », “What does NPS mean?”: what a word means, nothing to compute
_DEFINITION = re.compile(r"\b(?:what (?:does|do|is meant by)|que (?:veut dire|signifie)|"
                         r"qu'est-ce qu(?:e|'on appelle)|c'est quoi|definition|definis|"
                         r"define)\b")
# « Quel canal a la note la plus basse ? », “Which product has the most responses?”: the
# groups of the column named first, ranked, the first said
_WHICH = re.compile(r"^(?:et )?(?:(?:which|what) (?:is|are) the (?:most|least|best|worst|"
                    r"highest|lowest)(?:[ -](?:used|common|frequent|cited|rated))?|(?:quel|"
                    r"quelle|quels|quelles|which|what)(?: (?:est|sont|is|are) (?:le|la|les|"
                    r"the))?) (?P<what>[a-z'’-]+)")
_LOW = re.compile(r"\b(?:plus (?:bas(?:se)?|faible|mauvaise?|mal)|moins (?:bonne?|bien|de|"
                  r"utilisee?|frequente?|citee?|courante?|representee?)|pire|worst|lowest|"
                  r"least|fewest|smallest)\b")
_HIGH = re.compile(r"\b(?:plus (?:haute?|elevee?|forte?|grande?|de|utilisee?|frequente?|"
                   r"citee?|courante?|representee?)|meilleure?|mieux|best|highest|most|"
                   r"largest|biggest)\b")
# the people an NPS sorts by their answer (0 to 10): which answers they gave
# (« passifs », plural: « le passif » of a balance sheet is no NPS group)
_NPS_GROUP = re.compile(r"\b(detract|promot|passi)(?:eurs?|ors?|ers?|fs|ves)\b")
_NPS_RANGES = {"detract": "0 a 6", "promot": "9 a 10", "passi": "7 a 8"}
_NPS_GROUP_WORDS = frozenset(content_tokens(
    "détracteur détracteurs promoteur promoteurs passif passifs detractor detractors promoter "
    "promoters passive passives"))
# the words a follow-up changes a ranking with
_RANK_WORDS = frozenset(content_tokens(
    "plus moins haut haute bas basse meilleur meilleure pire best worst highest lowest most "
    "least top"))
# « plus de 60 ans », “more than 3”: a condition, not a ranking
_THAN = re.compile(r"\b(?:plus|moins) (?:de|d') ?\d|\b(?:more|less|fewer) than\b")
# « Combien de niveaux ? », “How many regions?”: the values of the column named, counted
_HOW_MANY_OF = re.compile(r"^(?:et )?(?:combien (?:de |d')|how many )(?P<what>[a-z'’-]+)")
# a follow-up naming another column: « Et de canaux ? », « Et par produit ? », “And by product?”
_AND_OF = re.compile(r"^(?:et |and |what about |how about )?(?:(?:de|des|du|par|pour les|of|by|"
                     r"for) |d')?(?P<what>[a-z'’-]+)\s*\??\s*$")
_GROUP = re.compile(r"\b(?:par|selon|by|per|for each) ([a-z0-9'’ -]+?)\s*(?:\?|$|,|\bet\b|\band\b)")
# words of the question that say the aggregate, not the column
_ASKING = frozenset(content_tokens(
    "quel quelle quels quelles est sont la le les de des du moyenne moyen total totale somme "
    "cumul minimum maximum plus petit petite grand grande élevé élevée faible bas basse haut "
    "haute combien nombre répartition distribution ventilation breakdown lignes réponses "
    "verbatims avis fichier tableau colonne what is are the average mean sum total lowest "
    "highest smallest largest biggest how many rows responses answers entries records "
    "comments reviews respondents customers ratings répondants part proportion pourcentage "
    "taux pourcent share percentage percent médiane median in file table column of"))
# words a question about a table says without naming anything in it
_FILLERS = frozenset(content_tokens(
    "client clients donné donnée données obtenu obtenue global globale général générale "
    "ensemble tout tous toutes actuel actuelle enquête sondage export extraction pour "
    "customer customers given overall all survey export current et and ou or each every "
    "per which avec quand dont ayant ont mis donné with where when having whose gave has have "
    "had meilleur meilleure mieux pire best worst most least fewest utilisé utilisée fréquent "
    "fréquente cité citée courant courante représenté représentée noté notée mal bien "
    "used common frequent cited rated about came come comes coming given gave only seulement "
    "uniquement"))
_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# words a question about a table says to ask, not to name what it asks about
ASKING_WORDS = _ASKING | _FILLERS
# « par mois », “by quarter”: the period of the table's date column to group by
_PERIOD = re.compile(r"\b(?:par|by|per|each|chaque) (mois|month|trimestre|quarter|annee|an|year)\b")
_PERIODS = {"mois": "month", "month": "month", "trimestre": "quarter", "quarter": "quarter",
            "annee": "year", "an": "year", "year": "year"}
_PERIOD_WORDS = frozenset(content_tokens("mois trimestre année an month quarter year par by"))
_MAX_QUESTION = 300  # characters
_MAX_SHEETS = 4  # sheets whose values a question counts one after the other

# conditions on a table's columns of figures: (column, condition, the words that named it)
Conditioned = list[tuple[int, Condition, set[str]]]
_LEFT_OUT = Text("\nNon pris en compte : {words} (aucune colonne ni valeur ne {them} dit).",
                 "\nNot taken into account: {words} (no column or value says {them}).")


def asks_computation(question: str) -> bool:
    """Whether a short question names an aggregate (cheap: before any file is read)."""
    if len(question) > _MAX_QUESTION:  # pasted text asks nothing to compute
        return False
    folded = _spread(fold(question))
    return not _DEFINITION.search(folded) and (any(
        pattern.search(folded) for _, pattern in _AGGREGATES) or bool(_HOW_MANY_OF.search(folded)))


def _spread(folded: str) -> str:
    """« la répartition des notes », “the breakdown of scores”: rows counted by that column;
    « les détracteurs », “promoters”: the answers of 0 to 6, or 9 and 10, of the NPS column."""
    folded = _SPREAD.sub(lambda found: f"combien de lignes par {found.group('what')} ", folded)
    return _NPS_GROUP.sub(lambda found: f"{found.group(0)} nps de {_NPS_RANGES[found.group(1)]}",
                          folded)


@dataclass(frozen=True, slots=True)
class _Asked:
    """What a question and its follow-ups ask of a table, read from their words."""

    question: str  # the question and its follow-ups, as typed
    texts: list[str]  # folded, the latest follow-up first, the question last
    aggregate: Aggregate
    period: re.Match[str] | None  # « par mois »
    grouping: re.Match[str] | None  # « par canal », or a ranking's « Quel canal … »
    rank: str  # "asc", "desc" or ""
    distinct: bool  # « Combien de niveaux ? »: the values of the column named, counted
    timed: str | None  # the text naming a stretch of time
    conditions: list[Condition]
    words: set[str]  # the words that may name the column asked about
    group_words: set[str]  # the words naming the column to group by
    replaced: frozenset[str]  # the question's words naming a column a follow-up replaced


@dataclass(frozen=True, slots=True)
class _Plan:
    """One table's reading of the question: how well its column fits, and what it keeps."""

    score: int
    named: NamedTable
    column: int | None  # the column of figures (None: rows counted)
    group: int | None
    conditioned: Conditioned


def answer(question: str, tables: Sequence[NamedTable], locale: Locale,
           follow_ups: Sequence[str] = ()) -> str | None:
    """The computed answer, or None when the question does not say clearly what to compute
    over which column (the search then answers). An English question's words are also
    matched through their French renderings (“score” → « note »). « Quel canal a la note la
    plus basse ? » groups by the column it names and ranks the groups. Its ``follow_ups``,
    oldest first (« Et pour la santé ? », « Et par région ? », « Et en 2023 ? »), each replace
    the value kept, the condition, the grouping, the stretch of time or the aggregate they
    name, the latest first."""
    if not asks_computation(question) or any(len(text) > _MAX_QUESTION for text in follow_ups):
        return None
    asked = _asked(question, tables, locale, follow_ups)
    if asked is None:
        return None
    figures: dict[int, set[int]] = {}  # id of a table → its columns of numbers
    plans = _plans(asked, tables, locale, figures)
    best = max((plan.score for plan in plans), default=0)
    chosen = [plan for plan in plans if plan.score == best]
    if asked.aggregate == "count" and len(chosen) > 1 and not (
            asked.group_words or asked.period or asked.timed):
        return _count_sheets([plan.named for plan in chosen], asked.texts, figures, follow_ups,
                             locale)
    if asked.distinct and 1 < len(chosen) <= _MAX_SHEETS:  # « Combien de catégories ? »
        counted = [_computed(asked, plan, figures[id(plan.named.table)], follow_ups, locale)
                   for plan in chosen]  # each sheet's values, one after the other
        return "\n\n".join(text for text in counted if text) or None
    if len(chosen) != 1:  # nothing fits, or two tables fit as well: the search answers
        return None
    return _computed(asked, chosen[0], figures[id(chosen[0].named.table)], follow_ups, locale)


def _asked(question: str, tables: Sequence[NamedTable], locale: Locale,
           follow_ups: Sequence[str]) -> _Asked | None:
    """The aggregate, grouping, ranking, time and conditions the texts say (None: no
    aggregate)."""
    latest = [_spread(fold(text)) for text in reversed(follow_ups)]
    folded = _spread(fold(question))
    texts = [*latest, folded]  # the latest says it first
    aggregate = next((kind for text in texts for kind, pattern in _AGGREGATES
                      if pattern.search(text)), None)
    if aggregate in ("min", "max") and any(_NPS.search(text) for text in texts):
        aggregate = "nps"  # « la région au NPS le plus bas »: the groups' NPS, ranked
    how_many = _counted_column(latest, folded, tables, locale) if aggregate is None else None
    distinct = how_many is not None
    if distinct:
        aggregate = "count"
    if aggregate is None:
        return None
    grouped_by = next((text for text in texts if _PERIOD.search(text) or _names_column(
        _said(_GROUP.search(text)), tables, locale)), folded)
    period = _PERIOD.search(grouped_by)
    grouping = how_many if distinct else None if period else _GROUP.search(grouped_by)
    which = _WHICH.search(folded)
    # the latest text saying a ranking: « Et le plus haut ? » after « … le plus bas ? »
    rank = next(("asc" if _LOW.search(text) else "desc" for text in texts
                 if _LOW.search(text) or _HIGH.search(text)), "")
    if which and rank and grouping is None and period is None and _names_column(
            which.group("what"), tables, locale, values_only=True):
        grouping = which  # its « what » group is read as « par … »
        if aggregate in ("min", "max"):  # « la note la plus basse »: the lowest mean
            aggregate = "mean"
    elif rank and grouping is not None and period is None and not _THAN.search(folded):
        # « Quel est le NPS le plus haut par canal ? »: the groups ranked
        if aggregate in ("min", "max"):
            aggregate = "mean"
    else:
        rank = ""
    whole = " ".join((question, *follow_ups))
    words = set(content_tokens(_with_french(whole, locale))) - _ASKING
    group_words = (set() if grouping is None
                   else set(content_tokens(_with_french(grouping.group(1), locale))) - _ASKING)
    if period is not None:
        words -= set(content_tokens(period.group(1)))
    replaced = _replaced(question, follow_ups, how_many, tables, locale)
    return _Asked(whole, texts, aggregate, period, grouping, rank, distinct,
                  next((text for text in texts if names_span(text)), None),
                  [condition for text in texts for condition in conditions_in(text)],
                  words - replaced, group_words, replaced)


def _replaced(question: str, follow_ups: Sequence[str], how_many: re.Match[str] | None,
              tables: Sequence[NamedTable], locale: Locale) -> frozenset[str]:
    """The question's words naming the column it asked about, when the latest follow-up
    names another one instead (« Quel est le total de l'effectif ? » → « Et l'assiette ? »;
    « Combien de garanties ? » → « Et de niveaux ? »)."""
    if not follow_ups:
        return frozenset()
    if how_many is not None:
        first = _HOW_MANY_OF.search(fold(question))
        return (frozenset(content_tokens(_with_french(first.group("what"), locale)))
                if first is not None and how_many.string != first.string else frozenset())
    latest = set(content_tokens(_with_french(follow_ups[-1], locale))) - _ASKING
    if not _names_figures(latest, tables):
        return frozenset()
    asked = set(content_tokens(_with_french(question, locale))) - _ASKING - latest
    return frozenset(word for word in asked if _names_figures({word}, tables))


def _names_figures(words: set[str], tables: Sequence[NamedTable]) -> bool:
    """Whether the words name a column of figures of some table."""
    return any(words & header_words(name) and holds_figures(named.table, index)
               for named in tables for index, name in enumerate(named.table.header))


def _counted_column(latest: Sequence[str], folded: str, tables: Sequence[NamedTable],
                    locale: Locale) -> re.Match[str] | None:
    """« Combien de régions ? »: the column whose values are counted, or the one a
    follow-up names instead (« Et de canaux ? », « Et par produit ? »), the latest first
    (None: the question counts no column's values)."""
    asked = _HOW_MANY_OF.search(folded)
    if asked is None or _GROUP.search(folded) or not _names_column(
            asked.group("what"), tables, locale, values_only=True):
        return None
    for text in latest:
        found = _HOW_MANY_OF.search(text) or _AND_OF.search(text)
        if found is not None and _names_column(found.group("what"), tables, locale,
                                               values_only=True):
            return found
    return asked


def _plans(asked: _Asked, tables: Sequence[NamedTable], locale: Locale,
           figures: dict[int, set[int]]) -> list[_Plan]:
    """Each table's fit to the question (``figures``: its columns of numbers, filled in)."""
    plans: list[_Plan] = []
    group_words, grouping = asked.group_words, asked.grouping
    for named in tables:
        table = named.table
        if not table.rows and asked.aggregate != "count":  # an empty export has 0 rows
            continue
        numeric = figures.setdefault(id(table), {index for index in range(len(table.header))
                                                 if holds_figures(table, index)})
        group = (column_named(table, group_words, numeric - scales(table, numeric),
                              figures=False)[1] if group_words else None)
        if group_words and group is None and (grouping is None or not values_said(
                table, _with_renderings([fold(grouping.group(1))], locale)[0],
                exclude=numeric)):
            continue  # (« par téléphone » names a value to keep to, not a column)
        if (asked.period or asked.timed) and date_column(table) is None:
            continue  # « par mois », « en 2024 » over a table without dates
        # « quand le NPS est supérieur à 8 » names the column it keeps to, not the one asked
        conditioned = _on_columns(table, asked.conditions, numeric, locale)
        if any(_NPS_GROUP.search(text) for text in asked.texts) and not any(
                " nps de " in condition.said for _, condition, _ in conditioned):
            continue  # « les détracteurs » of a table holding no answers from 0 to 10
        if asked.aggregate == "count":
            if asked.conditions and not conditioned:
                continue  # « une note de 1 ou 2 » over a sheet without notes
            plans.append(_Plan(1, named, None, group, conditioned))
            continue
        naming = asked.words - group_words - {
            token for _, _, tokens in conditioned for token in tokens}
        if asked.aggregate == "nps":
            column = nps_column(table, naming, numeric - {group})
            if column is not None:
                plans.append(_Plan(1, named, column, group, conditioned))
            continue
        score, column = column_named(table, naming, numeric, figures=True,
                                     exclude=set() if group is None else {group})
        if column is None and asked.words & NPS_WORDS:  # « le NPS moyen » over « Recommandation »
            score, column = 1, nps_column(table, naming, numeric - {group})
        if column is not None:
            plans.append(_Plan(score, named, column, group, conditioned))
    return plans


def _computed(asked: _Asked, plan: _Plan, numeric: set[int], follow_ups: Sequence[str],
              locale: Locale) -> str | None:
    """The answer computed over the rows the plan keeps (None: the latest follow-up asks
    about something the table does not hold)."""
    named, column, group = plan.named, plan.column, plan.group
    table = named.table
    dated = date_column(table)
    taken = numeric | {index for index in (group, column, dated) if index is not None}
    kept = _kept(table, _with_renderings(asked.texts, locale), taken)
    if follow_ups and not _explained(follow_ups[-1], table, kept, locale):
        return None  # « Et le délai de traitement ? » asks about something else
    # the latest condition on each column
    limits = {index: condition for index, condition, _ in reversed(plan.conditioned)}
    base = [row for row in table.rows if all(cell(row, index) in values for index, values in kept)]
    when = ""
    span = (span_in(asked.timed, last_day(table, dated))
            if asked.timed and dated is not None else None)
    if span is not None and dated is not None:
        base = [row for row in base if within(row, dated, span)]
        when = IN_SPAN(locale, column=table.header[dated], span=span.text(locale))
    rows = [row for row in base
            if all(_holds(row, index, condition) for index, condition in limits.items())]
    where = where_text(table, kept, locale, sorted(
        (index, condition.text(locale)) for index, condition in limits.items())) + when
    # the share of « Quelle part des réponses en agence a une note de 1 ou 2 ? » is of the
    # rows in agence; without a condition, of all rows
    population = ((len(base), where_text(table, kept, locale) + when) if limits
                  else (len(table.rows), ""))
    period = asked.period
    by = (Grouping(dated, PERIOD_NAMES[_PERIODS[period.group(1)]](locale),
                   _PERIODS[period.group(1)], "Q" if locale == "en" else "T")
          if period is not None and dated is not None
          else Grouping(group, table.header[group], rank=asked.rank, distinct=asked.distinct)
          if group is not None
          else None)
    left = _left_out((*follow_ups, asked.question), table, kept, locale, asked.replaced)
    if column is None and by is None and not kept and not limits and not when and left:
        return None  # « Combien de clients mécontents ? »: not every row, which it would say
    computed = (count_answer(named, rows, by, where, locale, population) if column is None
                else figure_answer(named, rows, asked.aggregate, column, by, where, locale))
    return computed + (_LEFT_OUT(locale, s=plural(len(left), locale), words=", ".join(
        quoted(word, locale) for word in left),
        them=("les" if locale != "en" else "them") if len(left) > 1 else (
            "le" if locale != "en" else "it")) if left else "")


def _left_out(texts: Sequence[str], table: Table, kept: Sequence[tuple[int, tuple[str, ...]]],
              locale: Locale, replaced: frozenset[str] = frozenset()) -> list[str]:
    """The words of the question that nothing computed accounts for (« pour la voiture »
    when no cell says « voiture »): said, so that a count over every row is not read as one
    over the rows meant."""
    known = set(content_tokens(table.title)).union(*map(header_words, table.header))
    # any value of a column kept to: « Et pour l'auto ? » replaced « l'habitation » asked first
    known |= {token for index, _ in kept for value in distinct_values(table, index)
              for token in content_tokens(value)}
    # an English expression whose renderings a column or value says accounts for all its
    # words (“home insurance” → « habitation »: neither “home” nor “insurance” is left out)
    rendered = {word for text in texts if locale == "en"
                for said, renderings in rendered_units(text) if renderings is not None
                and set(content_tokens(" ".join(renderings))) & known
                for word in said.split()}
    left: list[str] = []
    for text in texts:
        remaining = set(_WORDS.findall(said_conditions(said_span(_PERIOD.sub(" ",
                                                                          fold(text))))))
        for word in (word for word in _WORDS.findall(text) if fold(word) in remaining):
            if locale == "en" and word.lower() in ENGLISH_FUNCTION_WORDS:
                continue  # “from”, “the”
            if locale == "en" and is_english_word(word.lower()):
                tokens = set(content_tokens(word)) or {fold(word)}  # “car”, not « car »
            else:
                tokens = set(content_tokens(word))
            tokens -= _ASKING | _FILLERS | _PERIOD_WORDS | NPS_WORDS | _NPS_GROUP_WORDS | replaced
            if not tokens or tokens & known or any(token.isdigit() for token in tokens):
                continue
            if locale == "en" and ({word.lower(), word.lower().removesuffix("s")} & rendered or set(
                    content_tokens(french_search_words(word))) & known):
                continue
            if word not in left:
                left.append(word)
    return left


def _said(found: re.Match[str] | None) -> str | None:
    return found.group(1) if found is not None else None


def _names_column(said: str | None, tables: Sequence[NamedTable], locale: Locale, *,
                  values_only: bool = False) -> bool:
    """Whether « par … » names a column of some table (« par canal »), not a value to keep
    to (« par téléphone », which leaves the earlier grouping as it was); ``values_only``:
    a column of values, not of figures (« Quel canal … », but not « Quelle note … », which
    asks about the note itself)."""
    if said is None:
        return False
    words = set(content_tokens(_with_french(said, locale))) - _ASKING
    return any(words & header_words(name)
               and not (values_only and holds_figures(named.table, index))
               for named in tables for index, name in enumerate(named.table.header))


def _with_french(text: str, locale: Locale) -> str:
    """An English text followed by its French renderings (« score » → « note »)."""
    return text if locale != "en" else f"{text} {french_search_words(text)}"


def _with_renderings(texts: Sequence[str], locale: Locale) -> list[str]:
    """An English question's texts followed by their French renderings (“for health” keeps
    to « santé »)."""
    if locale != "en":
        return list(texts)
    return [f"{text} | {fold(french_search_words(text))}" for text in texts]


def _on_columns(table: Table, conditions: Sequence[Condition], numeric: set[int],
                locale: Locale) -> Conditioned:
    """Each condition whose words name a column of figures (the fewest words before it that
    do: « avec une note inférieure à 3 » → « note »), with that column and those words."""
    found = []
    for condition in conditions:
        words = condition.words.split()
        for size in range(1, len(words) + 1):
            tail = " ".join(words[-size:])
            said = _with_french(tail, locale)
            tokens = set(content_tokens(said)) - _ASKING - NPS_WORDS
            score, column = column_named(table, tokens, numeric, figures=True)
            if column is None:  # a column named « score » (a word of “net promoter score”)
                tokens = set(content_tokens(said)) - _ASKING
                score, column = column_named(table, tokens, numeric, figures=True)
            if column is None and set(content_tokens(tail)) & NPS_WORDS:
                score, column = 1, nps_column(table, set(), numeric)
            if column is not None and score:
                found.append((column, condition, tokens | set(content_tokens(tail))))
                break
    return found


def _holds(row: list[object], index: int, condition: Condition) -> bool:
    figure = number(row[index]) if index < len(row) else None
    return figure is not None and condition.holds(figure)


def _kept(table: Table, texts: Sequence[str],
          taken: set[int]) -> list[tuple[int, tuple[str, ...]]]:
    """The values the question and its follow-ups keep to, by column (« l'auto ou
    l'habitation » keeps either), the latest said first: « Et pour la santé ? » replaces
    « auto » and keeps « en agence »."""
    kept: dict[int, tuple[str, ...]] = {}
    for text in texts:
        said: dict[int, list[str]] = {}
        for index, value in values_said(table, text, exclude=taken):
            said.setdefault(index, []).append(value)
        for index, values in said.items():  # « pour l'auto ou l'habitation »: either
            kept.setdefault(index, tuple(values))
    return sorted(kept.items())


def _count_sheets(tables: Sequence[NamedTable], texts: Sequence[str],
                  figures: dict[int, set[int]], follow_ups: Sequence[str],
                  locale: Locale) -> str | None:
    """« Combien de lignes ? » over a workbook of several sheets: each sheet's rows; the one
    sheet holding the value the question keeps to, if only one does."""
    rendered = _with_renderings(texts, locale)
    kept = [(named, _kept(named.table, rendered, figures[id(named.table)])) for named in tables]
    holding = [(named, values) for named, values in kept if values]
    if len(holding) == 1:
        named, values = holding[0]
        if follow_ups and not _explained(follow_ups[-1], named.table, values, locale):
            return None
        rows = [row for row in named.table.rows
                if all(cell(row, index) in kept_values for index, kept_values in values)]
        where = where_text(named.table, values, locale)
        return count_answer(named, rows, None, where, locale)
    if holding or (follow_ups and not all(_explained(follow_ups[-1], named.table, [], locale)
                                          for named in tables)):
        return None  # values in several sheets, or a follow-up about something else
    lines = [COUNT_SHEETS(locale)]
    lines += [SHEET_LINE(locale, sheet=named.table.title or named.file,
                          rows=grouped(len(named.table.rows), locale),
                          s=plural(len(named.table.rows), locale)) for named in tables]
    files = list(dict.fromkeys(named.file for named in tables))
    lines += ["", COUNTED(locale, source=", ".join(quoted(name, locale) for name in files))]
    return "\n".join(lines)


def _explained(follow_up: str, table: Table, kept: Sequence[tuple[int, tuple[str, ...]]],
               locale: Locale) -> bool:
    """Whether every word a follow-up names is a column's name, a value it keeps to, a
    period or a stretch of time: then it goes on with the computation rather than asking of
    another subject."""
    follow_up = said_conditions(said_span(fold(follow_up)))
    said = _with_french(follow_up, locale)
    named = {token for word in _WORDS.findall(follow_up)
             if word not in ENGLISH_FUNCTION_WORDS  # “what about”
             for token in content_tokens(word)} - _ASKING - _PERIOD_WORDS - NPS_WORDS - \
        _FILLERS - _NPS_GROUP_WORDS - _RANK_WORDS  # « Et le plus haut ? », “And the best?”
    known = set().union(*map(header_words, table.header))
    for _, values in kept:
        known |= {token for value in values for token in content_tokens(value)}
    renderings = set(content_tokens(said)) - set(content_tokens(follow_up))
    return all(token in known or token.isdigit() or (
        locale == "en" and renderings & known) for token in named)


class ReadTables:
    """Tables already read, by their file's content (a thread's next question about the same
    workbook is not read again), at most ``max_cells`` cells kept, the oldest dropped first.
    Kept in the replica's memory only, like the prepared attachments."""

    def __init__(self, max_cells: int = 2_000_000) -> None:
        self._max_cells = max_cells
        self._kept: OrderedDict[str, tuple[list[Table], int]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, attached: AttachedFile) -> list[Table]:
        """Blocking: the file's tables (KnowledgeError when it cannot be read)."""
        key = hashlib.sha256(attached.data).hexdigest() + PurePosixPath(attached.name).suffix
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key][0]
        tables = read_tables(attached.name, attached.data)
        cells = sum(len(table.header) * max(1, len(table.rows)) for table in tables)
        if cells <= self._max_cells:
            with self._lock:
                self._kept[key] = (tables, cells)
                while sum(size for _, size in self._kept.values()) > self._max_cells:
                    self._kept.popitem(last=False)
        return tables


def answer_from_files(question: str, files: Sequence[AttachedFile], locale: Locale,
                      read: ReadTables | None = None,
                      follow_ups: Sequence[str] = ()) -> str | None:
    """Blocking: the computed answer over the tables among ``files`` (None: none fits, or a
    table cannot be read — the search then says why); see :func:`answer`."""
    tables = _tables_of(files, read)
    return answer(question, tables, locale, follow_ups) if tables else None


def names_a_cell(question: str, files: Sequence[AttachedFile], locale: Locale,
                 read: ReadTables | None = None) -> bool:
    """Blocking: whether the question names a value of some table among ``files`` (« Combien
    de retraités ? » over a price grid's « Retraité » row, which its row then answers)."""
    said = set(content_tokens(_with_french(question, locale))) - ASKING_WORDS
    return any(said & {token for value in distinct_values(named.table, index)
                       for token in content_tokens(value)}
               for named in _tables_of(files, read) for index in range(len(named.table.header)))


def _tables_of(files: Sequence[AttachedFile], read: ReadTables | None) -> list[NamedTable]:
    """The tables among ``files`` (none when one cannot be read)."""
    tables: list[NamedTable] = []
    for attached in files:
        if not is_table(attached.name):
            continue
        try:
            found = read.read(attached) if read is not None else read_tables(attached.name,
                                                                              attached.data)
        except KnowledgeError:
            return []
        tables += [NamedTable(attached.name, table) for table in found]
    return tables

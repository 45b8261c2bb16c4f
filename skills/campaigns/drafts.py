"""Drafts for a brief: the approved model of role ``marketing`` when there is one, else the
template library (typed variables filled from the brief). Either way every piece carries
the channel's mandatory mentions and keeps its personalisation fields."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot.gateway.llm import ChatTurn, CompletionRequest, ContextPassage, ModelGateway
from bot.gateway.types import GatewayError, NeedsGeneration
from bot.i18n import Text
from bot.messages import Locale
from bot.skills import SkillError
from skills.campaigns.brief import BRIEF_FIELDS, MEDIUM_LABELS, Brief, Medium
from skills.campaigns.checks import fits_channel
from skills.campaigns.draft_library import DraftLibrary, with_mentions
from skills.campaigns.pieces import Piece, PiecesError, parse_pieces
from skills.campaigns.rules import CampaignRules

log = logging.getLogger(__name__)

SKILL = "campaigns"
ROLE = "marketing"

_SYSTEM = Text(
    "Tu es rédacteur marketing dans une compagnie d'assurance. Écris {variants} variante(s) "
    "par canal demandé ({channels}), chacune dans une section qui commence par une ligne "
    "« ### canal numéro » (par exemple « ### email 1 », « ### sms 2 ») ; pour un e-mail, la "
    "ligne suivante est « Objet : … ». Garde tels quels les champs de personnalisation entre "
    "doubles accolades ({{{{prenom}}}}, {{{{lien}}}}). N'écris aucun chiffre, aucune date ni "
    "aucune promesse absents du brief ; pas de « gratuit », pas de superlatif sans source. "
    "Un SMS tient en 160 caractères. N'ajoute pas les mentions légales : elles sont ajoutées "
    "ensuite.",
    "You are a marketing copywriter at an insurance company. Write {variants} variant(s) per "
    "requested channel ({channels}), each in a section starting with a line “### channel "
    "number” (for example “### email 1”, “### sms 2”); for an e-mail the next line is "
    "“Subject: …”. Write in English. Keep personalisation fields in double braces ({{{{prenom}}}}, {{{{lien}}}}) "
    "as they are. Write no figure, date or promise absent from the brief; no “free”, no "
    "superlative without a source. An SMS fits in 160 characters. Do not add the legal "
    "mentions: they are added afterwards.",
)


@dataclass(frozen=True, slots=True)
class Drafts:
    """Drafted pieces and where they come from (``library`` or ``model:<alias>``)."""

    pieces: tuple[Piece, ...]
    source: str
    note: str = ""  # why the library was used although a model was asked


_MODEL_FAILED = Text("Le modèle approuvé n'a pas pu rédiger ({why}) : brouillons issus de la "
                     "bibliothèque.",
                     "The approved model could not write ({why}): drafts from the library.")
_UNREADABLE = Text("la réponse du modèle n'avait pas le format attendu",
                   "the model's answer was not in the expected format")


class Drafter:
    """Writes the first version of a campaign, in the brief's language (``language``, else
    the author's: French by default, English for English-speaking authors)."""

    def __init__(self, libraries: Mapping[Locale, DraftLibrary], rules: CampaignRules) -> None:
        self._libraries = libraries
        self._rules = rules

    def offline(self, brief: Brief, language: Locale = "fr") -> Drafts:
        """Drafts from the template library of ``language`` (French when it has none);
        :class:`SkillError` naming the brief's missing fields when a channel would get no
        draft at all (a campaign is never created empty)."""
        library = self._libraries.get(language) or self._libraries["fr"]
        gaps = library.missing(brief)
        if gaps:
            raise SkillError(_NO_DRAFT, **{f"gaps_{locale}": _gaps(gaps, locale)
                                           for locale in ("fr", "en")})
        return Drafts(library.draft(brief, self._rules,
                                    lambda piece: fits_channel(piece, self._rules)), "library")

    async def draft(self, brief: Brief, models: ModelGateway | None, locale: Locale) -> Drafts:
        """Drafts by the approved model of role ``marketing``, else from the library."""
        language: Locale = brief.language or locale
        if models is None:
            return self.offline(brief, language)
        channels = ", ".join(medium.value for medium in brief.channels)
        brief_text = brief.as_yaml()
        request = CompletionRequest(
            skill=SKILL, role=ROLE, question=brief.title, locale=locale,
            messages=(ChatTurn("system", _SYSTEM(language, variants=brief.variants,
                                                 channels=channels)),
                      ChatTurn("user", brief_text)),
            passages=(ContextPassage(1, brief.title, brief_text),),
            requires_generation=True, max_tokens=3000)
        try:
            result = await models.complete(request)
        except NeedsGeneration:
            return self.offline(brief, language)
        except GatewayError as error:
            log.info("campaign drafts: model unavailable (%s)", type(error).__name__)
            return _noted(self.offline(brief, language),
                          _MODEL_FAILED(locale, why=type(error).__name__))
        try:
            pieces = parse_pieces(result.text)
        except PiecesError:
            return _noted(self.offline(brief, language),
                          _MODEL_FAILED(locale, why=_UNREADABLE(locale)))
        wanted = set(brief.channels)
        kept = tuple(Piece(p.medium, p.variant,
                           with_mentions(p.medium, p.body, self._rules, language), p.subject)
                     for p in pieces if p.medium in wanted)
        if not kept:
            return _noted(self.offline(brief, language),
                          _MODEL_FAILED(locale, why=_UNREADABLE(locale)))
        return Drafts(kept, f"model:{result.alias}")


_NO_DRAFT = Text(
    "Je ne peux rédiger aucun brouillon à partir de la bibliothèque de modèles avec ce brief : "
    "{gaps_fr}. Complétez le brief, puis créez la campagne de nouveau.",
    "I cannot write any draft from the template library with this brief: {gaps_en}. "
    "Complete the brief, then create the campaign again.",
)
_NEEDS = Text("pour {channel}, il manque {fields}", "for {channel}, it lacks {fields}")
_AT_LEAST = Text("« {field} » (au moins {count})", "“{field}” (at least {count})")
_FIELD = Text("« {field} »", "“{field}”")


def _gaps(gaps: Mapping[Medium, tuple[tuple[str, int], ...]], locale: Locale) -> str:
    """« pour e-mail, il manque « Messages clés » (au moins 1) »."""
    labels = {name: label(locale).split(" (")[0] for name, label, _multi in BRIEF_FIELDS}
    said = []
    for medium, fields in gaps.items():
        named = [(_AT_LEAST(locale, field=labels.get(field, field), count=count)
                  if field == "key_messages" else _FIELD(locale, field=labels.get(field, field)))
                 for field, count in fields]
        said.append(_NEEDS(locale, channel=MEDIUM_LABELS[medium](locale),
                           fields=", ".join(named)))
    return " ; ".join(said) if locale == "fr" else "; ".join(said)


def _noted(drafts: Drafts, note: str) -> Drafts:
    return Drafts(drafts.pieces, drafts.source, note)


def channel_names(brief: Brief, locale: Locale) -> str:
    """« e-mail, SMS »."""
    return ", ".join(MEDIUM_LABELS[medium](locale) for medium in brief.channels)

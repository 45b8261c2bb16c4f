"""Checks run on every version before review, each with a reason a person can act on.

Channel limits (SMS encoding and segments, e-mail subject, banner, LinkedIn, letter),
mandatory mentions, forbidden and risky claims, personal data (DLP patterns), and
consistency with the brief's offer (every figure of the text must come from the brief, an
offer carries its conditions, no end date beyond the offer's).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.governance.dlp import Detector, DlpSettings, DlpUnavailable
from bot.i18n import Text
from bot.messages import Locale
from skills.campaigns.brief import Brief, Medium
from skills.campaigns.draft_library import format_date
from skills.campaigns.pieces import FIELD, Piece
from skills.campaigns.rules import CampaignRules
from skills.campaigns.sms import measure

Status = Literal["ok", "warn", "fail"]
# a figure, with its minus sign when it is written against it (« -20 % »; not the dash of a
# bullet, « - 2 mois offerts »)
_FIGURE = re.compile(r"(?<![\w{])(?:-(?=\d))?\d+(?:[.,]\d+)?\s?(?:%|€|euros?\b|mois\b|ans?\b|"
                     r"jours?\b|semaines?\b|months?\b|years?\b|days?\b|weeks?\b)",
                     re.IGNORECASE)
# figures written in words (« Trois mois offerts ») are figures too
_WORD_NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
                 "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12,
                 "quinze": 15, "vingt": 20, "trente": 30, "one": 1, "two": 2, "three": 3,
                 "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                 "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30}
_WORDED = re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")(?=\s+(?:premiers?\s+|first\s+)?"
                     r"(?:mois|ans?|années?|jours?|semaines?|months?|years?|days?|weeks?)\b)",
                     re.IGNORECASE)


def _in_digits(text: str) -> str:
    """« Trois mois offerts » → « 3 mois offerts »."""
    return _WORDED.sub(lambda match: str(_WORD_NUMBERS[match.group(1).lower()]), text)


_MONTH_NUMBERS = {"janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5,
                  "juin": 6, "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10,
                  "novembre": 11, "décembre": 12, "decembre": 12,
                  "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
                  "july": 7, "august": 8, "september": 9, "october": 10, "november": 11,
                  "december": 12}
_DATE = re.compile(r"\b(\d{1,2})(?:er|st|nd|rd|th)?\s+(" + "|".join(_MONTH_NUMBERS)
                   + r")\s+(\d{4})\b", re.IGNORECASE)
_CONDITIONS_MARK = re.compile(r"\*|conditions|voir\s+modalit|sous\s+r[ée]serve|terms|"
                              r"subject\s+to", re.IGNORECASE)

T = {
    "sms_ok": Text("{encoding}, {units} caractères, {segments} segment(s).",
                   "{encoding}, {units} characters, {segments} segment(s)."),
    "sms_long": Text(
        "{units} caractères en {encoding} (champs comptés pour leur longueur probable) : "
        "{segments} segments, le maximum est {max}. Raccourcissez de {over} caractères.",
        "{units} characters in {encoding} (fields counted at their likely length): "
        "{segments} segments, the maximum is {max}. Shorten by {over} characters."),
    "sms_ucs2": Text(
        "Caractères hors alphabet GSM ({chars}) : le SMS passe en UCS-2, 70 caractères par "
        "segment au lieu de 160.",
        "Characters outside the GSM alphabet ({chars}): the SMS switches to UCS-2, 70 "
        "characters per segment instead of 160."),
    "subject_missing": Text("L'e-mail n'a pas d'objet.", "The e-mail has no subject."),
    "subject_long": Text("Objet de {length} caractères : au-delà de {max}, il est coupé dans "
                         "la plupart des messageries.",
                         "Subject of {length} characters: beyond {max}, most mail apps cut it."),
    "subject_ok": Text("Objet de {length} caractères (max. {max}).",
                       "Subject of {length} characters (max {max})."),
    "length_long": Text("{length} caractères : le maximum pour ce canal est {max}.",
                        "{length} characters: the maximum for this channel is {max}."),
    "length_ok": Text("{length} caractères (max. {max}).", "{length} characters (max {max})."),
    "mention_missing": Text("Mention obligatoire absente (« {text} ») : {reason}.",
                            "Mandatory mention missing (“{text}”): {reason}."),
    "mentions_ok": Text("Mentions obligatoires présentes ({count}).",
                        "Mandatory mentions present ({count})."),
    "forbidden": Text("Allégation interdite « {words} » : {reason}.",
                      "Forbidden claim “{words}”: {reason}."),
    "risky": Text("« {words} » : {reason}.", "“{words}”: {reason}."),
    "claims_ok": Text("Aucune allégation interdite ou non prouvée.",
                      "No forbidden or unproven claim."),
    "personal_data": Text(
        "Donnée personnelle dans le texte ({kinds}) : remplacez-la par un champ de "
        "personnalisation (par exemple {{{{prenom}}}}) ou retirez-la.",
        "Personal data in the text ({kinds}): replace it with a personalisation field (for "
        "example {{{{prenom}}}}) or remove it."),
    "personal_ok": Text("Aucune donnée personnelle détectée.", "No personal data detected."),
    "dlp_unavailable": Text("La détection des données personnelles n'a pas pu s'exécuter : "
                            "relisez le texte vous-même.",
                            "Personal-data detection could not run: read the text yourself."),
    "figure": Text("« {figure} » ne figure pas dans l'offre ni les messages du brief "
                   "(offre : « {offer} »).",
                   "“{figure}” is not in the brief's offer or messages (offer: “{offer}”)."),
    "conditions": Text("L'offre est citée sans renvoi à ses conditions (astérisque ou "
                       "« conditions ») alors que le brief en prévoit.",
                       "The offer is quoted without a pointer to its conditions (asterisk or "
                       "“conditions”) although the brief has some."),
    "late_date": Text("Date du {day} postérieure à la fin de l'offre du brief ({end}).",
                      "Date {day} is after the end of the brief's offer ({end})."),
    "offer_ok": Text("Chiffres et dates cohérents avec le brief.",
                     "Figures and dates consistent with the brief."),
}
LABELS = {
    "length": Text("Longueur", "Length"), "subject": Text("Objet", "Subject"),
    "mentions": Text("Mentions obligatoires", "Mandatory mentions"),
    "claims": Text("Allégations", "Claims"), "personal_data": Text("Données personnelles",
                                                                   "Personal data"),
    "offer": Text("Cohérence avec l'offre", "Offer consistency"),
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of one piece."""

    code: str  # length | subject | mentions | claims | personal_data | offer
    piece: str  # "email 1"
    status: Status
    reasons: tuple[tuple[str, dict[str, Any]], ...]  # (message key, values)

    def text(self, locale: Locale) -> str:
        """The reasons, in the reader's language (a value ``x_en`` stands for ``x`` in
        English; versions checked before English existed keep their French values)."""
        return " ".join(T[key](locale, **_in(values, locale)) for key, values in self.reasons)

    def as_json(self) -> dict[str, Any]:
        """Stored form (the version keeps the checks it was submitted with)."""
        return {"code": self.code, "piece": self.piece, "status": self.status,
                "reasons": [[key, values] for key, values in self.reasons]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        """Read back :meth:`as_json`."""
        return cls(str(data["code"]), str(data["piece"]), data["status"],
                   tuple((str(key), dict(values)) for key, values in data["reasons"]))


class CampaignChecker:
    """Runs every check of a version against the rules and the brief."""

    def __init__(self, rules: CampaignRules, detector: Detector | None = None) -> None:
        self._rules = rules
        self._detector = detector or Detector(DlpSettings(ner=False))

    def check(self, pieces: Sequence[Piece], brief: Brief) -> list[CheckResult]:
        """All results, piece by piece."""
        results: list[CheckResult] = []
        for piece in pieces:
            results.extend(self.check_piece(piece, brief))
        return results

    def check_piece(self, piece: Piece, brief: Brief) -> list[CheckResult]:
        """The six checks of one piece."""
        results = [self._length(piece)]
        if piece.medium is Medium.EMAIL:
            results.append(self._subject(piece))
        results += [self._mentions(piece), self._claims(piece, brief),
                    self._personal_data(piece), self._offer(piece, brief)]
        return results

    # -- the checks -----------------------------------------------------------------------

    def _length(self, piece: Piece) -> CheckResult:
        return length_result(piece, self._rules)

    def _subject(self, piece: Piece) -> CheckResult:
        return subject_result(piece, self._rules)

    def _mentions(self, piece: Piece) -> CheckResult:
        required = self._rules.mentions_for(piece.medium)
        text = f"{piece.subject}\n{piece.body}"
        missing = [("mention_missing", _english(
                       {"text": mention.text, "reason": mention.reason},
                       {"text": mention.text_for("en"), "reason": mention.reason_en}))
                   for mention in required if not mention.found_in(text)]
        if missing:
            return CheckResult("mentions", piece.key, "fail", tuple(missing))
        return CheckResult("mentions", piece.key, "ok",
                           (("mentions_ok", {"count": len(required)}),))

    def _claims(self, piece: Piece, brief: Brief) -> CheckResult:
        text = f"{piece.subject}\n{piece.body}"
        reasons: list[tuple[str, dict[str, Any]]] = []
        for claim in self._rules.forbidden:
            words = claim.matches(text)
            if words:
                reasons.append(("forbidden", _english(
                    {"words": _join(words), "reason": claim.reason},
                    {"reason": claim.reason_en})))
        proven = self._rules.has_proof(text) or bool(brief.proofs)
        if not proven:
            for claim in self._rules.risky:
                words = claim.matches(text)
                if words:
                    reasons.append(("risky", _english(
                        {"words": _join(words), "reason": claim.reason},
                        {"reason": claim.reason_en})))
        if reasons:
            return CheckResult("claims", piece.key, "fail", tuple(reasons))
        return CheckResult("claims", piece.key, "ok", (("claims_ok", {}),))

    def _personal_data(self, piece: Piece) -> CheckResult:
        text = FIELD.sub(" ", f"{piece.subject}\n{piece.body}")
        for allowed in self._rules.allowed_contacts:
            text = text.replace(allowed, " ")
        try:
            findings = self._detector.detect(text)
        except DlpUnavailable:
            return CheckResult("personal_data", piece.key, "warn", (("dlp_unavailable", {}),))
        if findings:
            kinds = ", ".join(sorted({finding.kind for finding in findings}))
            return CheckResult("personal_data", piece.key, "fail",
                               (("personal_data", {"kinds": kinds}),))
        return CheckResult("personal_data", piece.key, "ok", (("personal_ok", {}),))

    def _offer(self, piece: Piece, brief: Brief) -> CheckResult:
        text = f"{piece.subject}\n{piece.body}"
        source = _normal(_in_digits(" ".join([brief.offer, brief.conditions, brief.segment,
                                              *brief.key_messages, *brief.proofs])))
        reasons: list[tuple[str, dict[str, Any]]] = []
        for figure in dict.fromkeys(_FIGURE.findall(_in_digits(text))):
            if _normal(figure) not in source:
                reasons.append(("figure", {"figure": figure.strip(),
                                           "offer": brief.offer or "-"}))
        if brief.offer and brief.conditions and _normal(brief.offer) in _normal(text) \
                and not _CONDITIONS_MARK.search(text):
            reasons.append(("conditions", {}))
        if brief.offer_end is not None:
            for day in _dates(text):
                if day > brief.offer_end:
                    reasons.append(("late_date", _english(
                        {"day": format_date(day), "end": format_date(brief.offer_end)},
                        {"day": format_date(day, "en"),
                         "end": format_date(brief.offer_end, "en")})))
        if reasons:
            return CheckResult("offer", piece.key, "fail", tuple(reasons))
        return CheckResult("offer", piece.key, "ok", (("offer_ok", {}),))


def blocking(results: Iterable[CheckResult]) -> list[CheckResult]:
    """The failed checks (a version with any cannot be sent for review)."""
    return [result for result in results if result.status == "fail"]


def _english(values: dict[str, Any], english: dict[str, Any]) -> dict[str, Any]:
    """``values`` with ``key_en`` for each English value that differs."""
    return {**values, **{f"{key}_en": value for key, value in english.items()
                         if value and value != values.get(key)}}


def _in(values: dict[str, Any], locale: Locale) -> dict[str, Any]:
    """The values for ``locale``: ``key_en`` replaces ``key`` in English."""
    chosen = {key: value for key, value in values.items() if not key.endswith("_en")}
    if locale == "en":
        chosen.update({key[:-3]: value for key, value in values.items() if key.endswith("_en")})
    return chosen


def _join(words: list[str]) -> str:
    return ", ".join(dict.fromkeys(word.strip() for word in words))


def _normal(text: str) -> str:
    """Lowercase, no accents, no spaces: « -20 % » and « -20% » compare equal."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"\s+", "", folded.replace(",", ".").replace("euros", "€").replace("euro", "€"))


def _dates(text: str) -> Iterable[date]:
    for match in _DATE.finditer(text):
        try:
            yield date(int(match.group(3)), _MONTH_NUMBERS[match.group(2).lower()],
                       int(match.group(1)))
        except ValueError:
            continue


def length_result(piece: Piece, rules: CampaignRules) -> CheckResult:
    """The channel's length check (SMS: encoding and segments)."""
    limits = rules.limits
    if piece.medium is Medium.SMS:
        sent = FIELD.sub(lambda m: "x" * rules.field_length(m.group(1)), piece.body)
        length = measure(sent)
        reasons: list[tuple[str, dict[str, Any]]] = []
        status: Status = "ok"
        if length.segments > limits.sms_max_segments:
            status = "fail"
            allowed = (length.single_limit if limits.sms_max_segments == 1
                       else length.per_segment * limits.sms_max_segments)
            reasons.append(("sms_long", {"units": length.units, "encoding": length.encoding,
                                         "segments": length.segments,
                                         "max": limits.sms_max_segments,
                                         "over": length.units - allowed}))
        else:
            reasons.append(("sms_ok", {"units": length.units, "encoding": length.encoding,
                                       "segments": length.segments}))
        if length.non_gsm:
            status = "fail" if status == "fail" else "warn"
            reasons.append(("sms_ucs2", {"chars": " ".join(length.non_gsm[:6])}))
        return CheckResult("length", piece.key, status, tuple(reasons))
    maximum = {Medium.BANNER: limits.banner_max, Medium.LINKEDIN: limits.linkedin_max,
               Medium.LETTER: limits.letter_max, Medium.EMAIL: 20_000}[piece.medium]
    shown = piece.body.split("\n\n", 1)[0] if piece.medium is Medium.BANNER else piece.body
    # a banner's headline; its mentions are the small print
    return _within("length", piece, len(shown), maximum)


def subject_result(piece: Piece, rules: CampaignRules) -> CheckResult:
    """The e-mail subject check: present, and short enough for mail apps."""
    maximum = rules.limits.subject_max
    length = len(FIELD.sub(lambda m: "x" * rules.field_length(m.group(1)),
                           piece.subject))
    if not piece.subject.strip():
        return CheckResult("subject", piece.key, "fail", (("subject_missing", {}),))
    return _within("subject", piece, length, maximum)


def _within(code: str, piece: Piece, length: int, maximum: int) -> CheckResult:
    """A length check: ``{code}_long`` (blocking) over ``maximum``, else ``{code}_ok``."""
    values = {"length": length, "max": maximum}
    if length > maximum:
        return CheckResult(code, piece.key, "fail", ((f"{code}_long", values),))
    return CheckResult(code, piece.key, "ok", ((f"{code}_ok", values),))


def fits_channel(piece: Piece, rules: CampaignRules) -> bool:
    """Whether a piece keeps to its channel's length limits (and an e-mail's subject to its
    own): what the offline drafts are chosen by."""
    results = [length_result(piece, rules)]
    if piece.medium is Medium.EMAIL:
        results.append(subject_result(piece, rules))
    return all(result.status != "fail" for result in results)

"""The column-confirmation card: the columns detected, each one changeable, and a button
that (re-)launches the analysis with the columns chosen.

The card is channel-neutral (:mod:`bot.cards`): a drop-down per field (the file's columns,
or « aucune »), one for the score type, and the button ``verbatims:columns`` whose only fixed
value is the analysis job it was shown for. Nothing in it is trusted: the skill checks the
job is the presser's and the reader checks every column name again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.cards import Card, CardButton, CardInput
from bot.i18n import Text
from bot.messages import Locale
from bot.skills import SkillError
from bot.text import fold
from skills.verbatims.model import Columns
from skills.verbatims.report import FIELD_NAMES, SCORE_NAMES

ACTION = "verbatims:columns"
NONE = "aucune"  # read by the reader as « no column »
AUTO = "auto"  # score type: as detected from the column's values
KIND = "score_kind"
SHOWN_KIND = "shown_kind"  # the score type the card showed: kept only if the person changed it
ORDER = ("text", "score", "date", "product", "channel", "region", "id")
_MAX_CHOICES = 99  # the file's columns offered (plus « aucune »); beyond, a text field

_TITLE = Text("Colonnes de « {name} »", "Columns of “{name}”")
_TEXT = Text(
    "En-tête trouvé ligne {row}. Vérifiez les colonnes retenues ; si l'une ne convient pas, "
    "choisissez-en une autre (ou « aucune ») puis relancez l'analyse.",
    "Header found on row {row}. Check the columns chosen; if one is wrong, pick another "
    "(or “none”) and run the analysis again.")
_TEXT_LATER = Text(
    "Fichier volumineux : les colonnes sont détectées pendant l'analyse. Pour en imposer, "
    "saisissez leur nom (ou leur lettre, ou « aucune ») puis relancez l'analyse.",
    "Large file: columns are detected during the analysis. To set some, type their name "
    "(or letter, or “none”) and run the analysis again.")
_NONE_TITLE = Text("(aucune)", "(none)")
_AUTO_TITLE = Text("(selon les valeurs)", "(from the values)")
_KIND_LABEL = Text("type de note (sans objet si note : aucune)",
                   "score type (ignored when score: none)")
_AUTO_PLACEHOLDER = Text("détection automatique", "automatic detection")
_TWICE = Text("La colonne « {column} » est choisie pour {first} et pour {second} : une colonne "
               "ne sert qu'à un usage.",
               "Column “{column}” is chosen for both {first} and {second}: a column serves "
               "one purpose only.")
_RUN = Text("Relancer l'analyse avec ces colonnes", "Run the analysis with these columns")


def columns_card(name: str, job_id: str, locale: Locale, columns: Columns | None,
                 headers: Sequence[str], header_row: int) -> Card:
    """The card shown with a started analysis (``columns`` None: not detected yet)."""
    inputs = [_field(field, columns, headers, locale) for field in ORDER]
    kind_choices = ((AUTO, _AUTO_TITLE(locale)),
                    *((kind, title(locale)) for kind, title in SCORE_NAMES.items()))
    # no score column: no type either (a type left from an earlier choice would mislead)
    kind = (columns.score_kind if columns is not None and columns.score
            and columns.score_kind else AUTO)
    inputs.insert(2, CardInput(KIND, _KIND_LABEL(locale), value=kind, choices=kind_choices))
    text = (_TEXT(locale, row=header_row or 1) if columns is not None
            else _TEXT_LATER(locale))
    return Card(title=_TITLE(locale, name=name), text=text, inputs=tuple(inputs),
                buttons=(CardButton(_RUN(locale), ACTION, {"job": job_id, SHOWN_KIND: kind},
                                    "primary"),))


def _field(field: str, columns: Columns | None, headers: Sequence[str],
           locale: Locale) -> CardInput:
    label = FIELD_NAMES[field](locale)
    if columns is None or not headers or len(headers) > _MAX_CHOICES:
        current = getattr(columns, field) if columns is not None else None
        return CardInput(field, label, value=current or "",
                         placeholder=_AUTO_PLACEHOLDER(locale))
    choices = [(header, header) for header in dict.fromkeys(headers) if header]
    if field != "text":  # the text column is the one thing an analysis cannot go without
        choices.insert(0, (NONE, _NONE_TITLE(locale)))
    current = getattr(columns, field)
    return CardInput(field, label, value=current if current else NONE, choices=tuple(choices))


def form_overrides(values: Mapping[str, str], locale: Locale) -> dict[str, str]:
    """The columns a pressed card asks for, as reader overrides (empty fields: detected; the
    score type only when changed, so a new score column gets its own detected type, and
    never with « aucune » note);
    :class:`SkillError` when one column is chosen for two fields."""
    overrides = {field: values[field].strip() for field in ORDER
                 if values.get(field, "").strip()}
    seen: dict[str, str] = {}
    for field, column in overrides.items():
        key = fold(column).strip()
        if key == NONE:
            continue
        if key in seen:
            raise SkillError(_TWICE, column=column, first=FIELD_NAMES[seen[key]](locale),
                             second=FIELD_NAMES[field](locale))
        seen[key] = field
    kind = values.get(KIND, "").strip()
    no_score = fold(overrides.get("score", "")).strip() == NONE
    if kind and kind != AUTO and kind != values.get(SHOWN_KIND, "") and not no_score:
        overrides[KIND] = kind
    return overrides

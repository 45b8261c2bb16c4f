"""« De quoi parle ce fichier ? » about a table (CSV, Excel): what its columns hold, computed
from every cell (:mod:`knowledge.table_profile`), in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.i18n import Text, colon, figure, grouped, plural, quoted
from bot.messages import Locale
from knowledge.table_profile import ColumnProfile, SheetProfile, TableProfile

_FILE = Text("« {name} » : tableau de {more}{rows} ligne{rs} et {columns} colonne{cs}.",
             "“{name}”: a table of {more}{rows} row{rs} and {columns} column{cs}.")
_WORKBOOK = Text("« {name} » : classeur de {sheets} feuille{s}.",
                 "“{name}”: a workbook of {sheets} sheet{s}.")
_SHEET = Text("**Feuille « {title} »** : {more}{rows} ligne{rs}, {columns} colonne{cs}.",
              "**Sheet “{title}”**: {more}{rows} row{rs}, {columns} column{cs}.")
_AT_LEAST = Text("au moins ", "at least ")
_NO_TABLE = Text("« {name} » ne contient aucun tableau à en-têtes que je sache lire.",
                 "“{name}” holds no table with headers that I can read.")
_IDENTIFIER = Text("identifiant (une valeur par ligne)", "identifier (one value per row)")
_DATES = Text("dates du {first} au {last}", "dates from {first} to {last}")
_NUMBERS = Text("nombres de {minimum} à {maximum}, moyenne {mean}",
                "numbers from {minimum} to {maximum}, mean {mean}")
_TEXT = Text("texte libre ({length} caractères en moyenne)",
             "free text ({length} characters on average)")
_ALWAYS = Text("toujours {value}", "always {value}")
_VALUES = Text("{count} valeurs : {values}", "{count} values: {values}")
_MOSTLY = Text("{count} valeurs, surtout {values}", "{count} values, mostly {values}")
_EMPTY_COLUMN = Text("vide", "empty")
_EMPTIES = Text(" ; {count} cellule{s} vide{s}", "; {count} empty cell{s}")
_VERBATIMS = Text(
    "Des commentaires libres ({columns}) : `/almia verbatims` avec ce fichier en tire les "
    "thèmes, le sentiment, les moteurs d'insatisfaction et les tendances.",
    "Free-text comments ({columns}): `/almia verbatims` with this file draws themes, "
    "sentiment, dissatisfaction drivers and trends from them.")
_ASK = Text("Calculé sur toutes les cellules. Posez une question précise (une ligne, une "
            "valeur) pour une réponse citée.",
            "Computed from every cell. Ask a precise question (a row, a value) for a cited "
            "answer.")
_MAX_COLUMNS = 30
_MAX_VALUE = 40  # characters of a value shown
_VERBATIM_ROWS = 20  # a text column over this many rows reads as survey comments


def tables_text(profiles: Sequence[TableProfile], locale: Locale) -> str:
    """Each table's rows and columns, one line per column."""
    blocks = [_table(profile, locale) for profile in profiles]
    texts = [column.name for profile in profiles for sheet in profile.sheets
             for column in sheet.columns
             if column.kind == "text" and sheet.rows >= _VERBATIM_ROWS]
    if texts:
        names = ", ".join(_quoted(name, locale) for name in dict.fromkeys(texts))
        blocks.append(_VERBATIMS(locale, columns=names))
    blocks.append(_ASK(locale))
    return "\n\n".join(blocks)


def _table(profile: TableProfile, locale: Locale) -> str:
    if not profile.sheets:
        return _NO_TABLE(locale, name=profile.name)
    if len(profile.sheets) == 1 and not profile.sheets[0].title:
        sheet = profile.sheets[0]
        return "\n".join([_FILE(locale, name=profile.name, **_size(sheet, locale)),
                          *_columns(sheet, locale)])
    lines = [_WORKBOOK(locale, name=profile.name, sheets=len(profile.sheets),
                       s=plural(len(profile.sheets), locale))]
    for sheet in profile.sheets:
        lines += ["", _SHEET(locale, title=sheet.title, **_size(sheet, locale)),
                  *_columns(sheet, locale)]
    return "\n".join(lines)


def _size(sheet: SheetProfile, locale: Locale) -> dict[str, object]:
    return {"rows": grouped(sheet.rows, locale), "rs": plural(sheet.rows, locale),
            "more": _AT_LEAST(locale) if sheet.truncated else "",
            "columns": len(sheet.columns), "cs": plural(len(sheet.columns), locale)}


def _columns(sheet: SheetProfile, locale: Locale) -> list[str]:
    lines = [f"- **{column.name}**{colon(locale)}{_summary(column, locale)}"
             + (_EMPTIES(locale, count=grouped(column.empty, locale),
                         s=plural(column.empty, locale))
                if column.empty and column.kind != "empty" else "")
             for column in sheet.columns[:_MAX_COLUMNS]]
    if len(sheet.columns) > _MAX_COLUMNS:
        lines.append(f"- … (+{len(sheet.columns) - _MAX_COLUMNS})")
    return lines


def _summary(column: ColumnProfile, locale: Locale) -> str:
    if column.kind == "empty":
        return _EMPTY_COLUMN(locale)
    if column.kind == "identifier":
        return _IDENTIFIER(locale)
    if column.kind == "date" and column.first is not None and column.last is not None:
        return _DATES(locale, first=_day(column.first, locale), last=_day(column.last, locale))
    if column.kind == "number" and column.minimum is not None and column.maximum is not None:
        return _NUMBERS(locale, minimum=figure(column.minimum, locale),
                        maximum=figure(column.maximum, locale),
                        mean=figure(column.mean or 0.0, locale))
    if column.kind == "text":
        return _TEXT(locale, length=column.mean_length)
    if column.distinct == 1 and column.top:
        return _ALWAYS(locale, value=_quoted(column.top[0][0], locale))
    if column.distinct == column.filled:  # every value once: name them
        values = ", ".join(_quoted(value, locale) for value, _ in column.top)
        more = "…" if column.distinct > len(column.top) else ""
        return _VALUES(locale, count=column.distinct, values=values + more)
    percent = "%" if locale == "en" else " %"
    shares = ", ".join(f"{_quoted(value, locale)} ({round(100 * count / column.filled)}{percent})"
                       for value, count in column.top)
    return _MOSTLY(locale, count=grouped(column.distinct, locale), values=shares)


def _quoted(value: str, locale: Locale) -> str:
    shown = value if len(value) <= _MAX_VALUE else value[:_MAX_VALUE - 1] + "…"
    return quoted(shown, locale)


def _day(day: date, locale: Locale) -> str:
    return day.isoformat() if locale == "en" else day.strftime("%d/%m/%Y")

"""Survey exports in: CSV or XLSX rows streamed, columns detected, verbatims out.

Rows the analysis should not see (empty, « RAS », exact duplicates, not in French) are
counted and kept in a :class:`RowMap`, so every output can still list every input row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Literal

from lxml import etree  # type: ignore[import-untyped]

from bot.i18n import Refusal, Text
from bot.text import fold
from skills.verbatims.model import Columns, InputCounts, ScoreKind, Verbatim

Cell = str | float | date | None
Source = bytes | Path
FIELDS = ("text", "id", "score", "date", "product", "channel", "region")
_HEADER_SCAN = 40  # physical rows searched for the header
_SAMPLE = 2000  # data rows sampled to type the columns
_CHUNK = 1 << 20

# row statuses in a RowMap
ANALYSED, DUPLICATE, EMPTY, NO_CONTENT, NOT_FRENCH = range(5)
STATUS_NAMES = ("analysed", "duplicate", "empty", "no_content", "not_french")


class ReaderError(Refusal):
    """A file that cannot be read as a survey export (message for the person)."""


_UNREADABLE = Text("Je ne parviens pas à lire ce fichier comme un export d'enquête (CSV ou "
                   "XLSX) : {reason}.",
                   "I cannot read this file as a survey export (CSV or XLSX): {reason}.")
_NO_TEXT = Text("Je ne trouve pas de colonne de texte libre (les verbatims) parmi : {headers}. "
                "Indiquez-la, par exemple texte=\"Commentaire\".",
                "I cannot find a free-text column (the verbatims) among: {headers}. Name it, "
                "e.g. text=\"Comment\".")
_NO_ROWS = Text("Ce fichier n'a que sa ligne d'en-tête ({headers}) : aucune réponse à "
                "analyser.", "This file only has its header row ({headers}): no answer to "
                "analyse.")
_EMPTY_TEXT = Text("La colonne « {name} » est vide : aucun verbatim à analyser.",
                   "The “{name}” column is empty: no verbatim to analyse.")
_UNKNOWN_COLUMN = Text("Colonne « {name} » introuvable pour {field}. Colonnes du fichier : "
                       "{headers}.",
                       "Column “{name}” not found for {field}. The file's columns: {headers}.")
_BAD_KIND = Text("Type de note « {value} » inconnu : étoiles (1-5), nps (0-10) ou "
                 "satisfaction (1-10).",
                 "Unknown score type “{value}”: stars (1-5), nps (0-10) or satisfaction "
                 "(1-10).")

# ---------------------------------------------------------------------------- header names
_HINTS: dict[str, tuple[str, ...]] = {
    "text": ("verbatim", "commentaire", "comment", "texte", "text", "remarque", "avis",
             "reponse", "response", "answer", "suggestion", "pourquoi", "why", "feedback",
             "message", "expression", "precision", "question ouverte", "libre"),
    "id": ("id", "identifiant", "ref", "reference", "numero", "n°", "num", "respondent",
           "repondant", "uuid", "code", "key", "cle"),
    "score": ("nps", "note", "score", "satisf", "recommand", "etoile", "star", "rating",
              "csat", "notation"),
    "date": ("date", "jour", "day", "created", "submitted", "horodat", "timestamp", "mois",
             "month", "periode", "le "),
    "product": ("produit", "product", "offre", "offer", "gamme", "contrat", "contract",
                "formule", "marque", "brand", "univers", "ligne"),
    "channel": ("canal", "channel", "source", "support", "contact", "touchpoint", "media",
                "parcours", "origine", "point de"),
    "region": ("region", "agence", "agency", "site", "departement", "ville", "city",
               "secteur", "territoire", "zone", "direction", "bureau", "branch", "magasin",
               "store"),
}
_ALIASES: dict[str, str] = {
    "text": "text", "texte": "text", "verbatim": "text", "commentaire": "text",
    "id": "id", "identifiant": "id",
    "score": "score", "note": "score", "nps": "score", "satisfaction": "score",
    "date": "date",
    "product": "product", "produit": "product",
    "channel": "channel", "canal": "channel",
    "region": "region", "agence": "region", "agency": "region",
}
_KINDS: dict[str, ScoreKind] = {
    "stars5": "stars5", "stars": "stars5", "etoiles": "stars5", "etoile": "stars5",
    "5": "stars5", "nps": "nps", "sat10": "sat10", "satisfaction": "sat10", "10": "sat10",
}
_NONE_VALUES = frozenset({"", "-", "none", "aucune", "aucun", "non", "no"})


def field_name(key: str) -> str | None:
    """The Columns field an override key names (French or English), or None."""
    return _ALIASES.get(fold(key).strip())


def score_kind_of(value: str) -> ScoreKind:
    """A score kind from what a person typed (« étoiles », « nps », « satisfaction »…)."""
    kind = _KINDS.get(fold(value).strip())
    if kind is None:
        raise ReaderError(_BAD_KIND, value=value)
    return kind


# ---------------------------------------------------------------------------- results
@dataclass
class RowMap:
    """Every data row's fate: its status and, when analysed or a duplicate, its verbatim."""

    status: bytearray = field(default_factory=bytearray)
    target: array[int] = field(default_factory=lambda: array("l"))
    ids: list[str | None] | None = None  # per data row, when the file has an id column
    texts: dict[int, str] = field(default_factory=dict)  # row → text set aside (RAS, not French)

    def __len__(self) -> int:
        return len(self.status)


@dataclass
class Survey:
    """A read survey: what was chosen, what is analysed and what was set aside."""

    columns: Columns
    headers: tuple[str, ...]
    header_row: int  # physical row (1-based) of the header; 0 when the file has none
    verbatims: list[Verbatim]
    counts: InputCounts
    rows: RowMap
    detected: Columns  # the detection before overrides


@dataclass(frozen=True, slots=True)
class Layout:
    """What detection found from the first rows."""

    headers: tuple[str, ...]
    header_row: int
    columns: Columns
    detected: Columns
    date_order: Literal["dmy", "mdy"] = "dmy"
    sampled: int = 0  # answers read in the first rows (blank and « RAS » ones left out)
    not_french: int = 0  # of those, how many are not in French (they would be set aside)


# ---------------------------------------------------------------------------- entry points
def is_xlsx(source: Source) -> bool:
    """True for an XLSX (a ZIP container), whatever the file is named."""
    if isinstance(source, bytes):
        return source[:4] == b"PK\x03\x04"
    with source.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def inspect(source: Source, overrides: Mapping[str, str] | None = None) -> Layout:
    """Find the header and choose the columns from the first rows (overrides win)."""
    try:
        head: list[list[Cell]] = []
        for row in _raw_rows(source):
            head.append(row)
            if len(head) >= _HEADER_SCAN + _SAMPLE:
                break
    except (zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, csv.Error, OSError) as error:
        raise ReaderError(_UNREADABLE, reason=type(error).__name__) from None
    if not any(_width(row) for row in head):
        raise ReaderError(_UNREADABLE, reason="aucune ligne / no rows")
    header_index = _header_index(head)
    if header_index is None:
        width = max(len(row) for row in head)
        headers = tuple(f"colonne {n}" for n in range(1, width + 1))
        data = head
    else:
        headers = _header_names(head[header_index])
        data = head[header_index + 1:]
    profiles = [_profile(headers[j], [row[j] if j < len(row) else None for row in data])
                for j in range(len(headers))]
    named = next((value for key, value in (overrides or {}).items()
                  if field_name(key) == "text" and fold(value).strip() not in _NONE_VALUES),
                 None)  # the person's text column, when the detection finds none
    detected = _detect(profiles, headers, _column(named, headers, "text") if named else None)
    columns = _apply(detected, overrides or {}, headers, profiles)
    date_order: Literal["dmy", "mdy"] = next(
        (p.date_order for p in profiles if p.name == columns.date), "dmy")
    at = headers.index(columns.text)
    answers = [text for row in data if at < len(row)
               if (text := _text(row[at])) and not is_no_content(text)]
    return Layout(headers, 0 if header_index is None else header_index + 1, columns, detected,
                  date_order, len(answers), sum(not is_french(text) for text in answers))


def read_survey(source: Source, overrides: Mapping[str, str] | None = None) -> Survey:
    """Read every row: the verbatims to analyse, and what was set aside (counted)."""
    layout = inspect(source, overrides)
    columns = layout.columns
    index = {name: j for j, name in enumerate(layout.headers)}
    where = {name: index[getattr(columns, name)] for name in FIELDS
             if getattr(columns, name) is not None}
    rows = RowMap(ids=[] if "id" in where else None)
    verbatims: list[Verbatim] = []
    seen: dict[bytes, int] = {}
    tally: Counter[int] = Counter()
    rows_iter = _raw_rows(source)
    for _ in range(layout.header_row):
        next(rows_iter, None)
    number = 0
    for raw in rows_iter:
        number += 1
        if not _width(raw):
            continue  # a blank line: not a row (row numbers still count it)
        values = {name: raw[j] if j < len(raw) else None for name, j in where.items()}
        text = _text(values["text"])
        ident = _plain(values.get("id"))
        if rows.ids is not None:
            rows.ids.extend([None] * (number - 1 - len(rows.ids)))
            rows.ids.append(ident)
        status, target = _triage(text, raw, seen, len(verbatims))
        _extend(rows, number)
        rows.status.append(status)
        rows.target.append(target)
        tally[status] += 1
        if status in (NO_CONTENT, NOT_FRENCH):
            rows.texts[number] = text
        if status == ANALYSED:
            verbatims.append(Verbatim(
                row=number, text=text, id=ident,
                score=_score(values.get("score")),
                date=_date(values.get("date"), layout.date_order),
                product=_plain(values.get("product")), channel=_plain(values.get("channel")),
                region=_plain(values.get("region"))))
    counts = InputCounts(rows=sum(tally.values()), analysed=tally[ANALYSED], empty=tally[EMPTY],
                         no_content=tally[NO_CONTENT], duplicates=tally[DUPLICATE],
                         not_french=tally[NOT_FRENCH])
    return Survey(columns, layout.headers, layout.header_row, verbatims, counts, rows,
                  layout.detected)


def _extend(rows: RowMap, number: int) -> None:
    """Blank lines keep their row number: they are padded as empty, never counted."""
    while len(rows.status) < number - 1:
        rows.status.append(EMPTY)
        rows.target.append(-1)


def _triage(text: str, raw: Sequence[Cell], seen: dict[bytes, int], next_index: int
            ) -> tuple[int, int]:
    if not text:
        return EMPTY, -1
    if is_no_content(text):
        return NO_CONTENT, -1
    key = hashlib.blake2b("\x1f".join("" if c is None else str(c) for c in raw).encode(),
                          digest_size=12).digest()
    original = seen.get(key)
    if original is not None:
        return DUPLICATE, original
    if not is_french(text):
        return NOT_FRENCH, -1
    seen[key] = next_index
    return ANALYSED, next_index


# ---------------------------------------------------------------------------- content checks
_NO_CONTENT = frozenset({
    "ras", "r a s", "rien", "rien a dire", "rien a signaler", "rien de plus", "rien a ajouter",
    "rien de special", "rien de particulier", "nsp", "ne sait pas", "je ne sais pas",
    "pas d avis", "sans avis", "aucun avis", "aucun", "aucune", "aucun commentaire",
    "aucune remarque", "pas de commentaire", "sans commentaire", "pas de remarque",
    "pas de remarque particuliere", "neant", "na", "n a", "nc", "xxx", "xx", "x", "non",
    "non merci", "ok", "idem", "pas de reponse", "sans objet", "nothing", "none", "no comment",
    "n c", "vide", "test",
})
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def is_no_content(text: str) -> bool:
    """« RAS », « rien », « . », « N/A »… an answer that says nothing."""
    if not _LETTERS.search(text):
        return True
    words = _NON_WORD.sub(" ", fold(text)).strip()
    return words in _NO_CONTENT


_FRENCH = frozenset("""le la les des du une et est au aux pour pas que qui ne je il elle nous
vous on ce cette mon ma mes votre vos son sa ses tres mais avec sur dans par plus bien tout ca
ai ete etre sont fait suis j c l d n qu m s etait avoir deja toujours rien jamais trop merci
depuis chez leur mois encore aussi donc car quand comme alors apres avant sans""".split())
_OTHERS: dict[str, frozenset[str]] = {
    "en": frozenset("""the and is was to of for with my it not very i you they this that have
has are be but at were would been from your our an me had so just there their what when which
will can get got did don t didn""".split()),
    "es": frozenset("""el los las y es muy con por para mi pero del se lo fue esta estoy
nada bueno todo cuando muy servicio siempre""".split()),
    "de": frozenset("""der die das und ist nicht ich sehr mit fur ein eine zu auf war es
sie wir haben hat auch aber noch nur kein""".split()),
    "it": frozenset("""il gli e non per molto sono che della delle ho mio questo ma anche
servizio sempre""".split()),
    "pt": frozenset("""o os nao muito com um uma do da meu minha foi sao esta mas tambem
servico sempre""".split()),
}
_TOKEN = re.compile(r"[a-z]+")
_FRENCH_MARKS = re.compile(r"[éèêàùçœ]|\b[ldjcnmst]['’]", re.IGNORECASE)


def is_french(text: str) -> bool:
    """A cheap check: French unless another language's function words clearly dominate."""
    words = _TOKEN.findall(fold(text))
    if len(words) < 3:
        return True
    french = sum(word in _FRENCH for word in words) + min(3, len(_FRENCH_MARKS.findall(text)))
    other = max(sum(word in vocabulary for word in words) for vocabulary in _OTHERS.values())
    return not (other >= 2 and other > 2 * french)


# ---------------------------------------------------------------------------- values
_X_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NUMBER = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:/\s*(?:5|10)\s*)?"
                     r"(?:[ée]toiles?|stars?|pts?|points?)?\s*$", re.IGNORECASE)
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ].*)?\s*$")
_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T].*)?\s*$")


def _plain(cell: Cell) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else str(cell)
    value = str(cell).strip()
    return value or None


def _text(cell: Cell) -> str:
    if cell is None or isinstance(cell, float | date):
        return "" if cell is None else str(cell)
    return cell.replace("\r\n", "\n").replace("\r", "\n").strip()


def _number(cell: Cell) -> float | None:
    if isinstance(cell, float):
        return cell
    if not isinstance(cell, str):
        return None
    match = _NUMBER.match(cell)
    return float(match.group(1).replace(",", ".")) if match else None


def _score(cell: Cell) -> float | None:
    value = _number(cell)
    return value if value is not None and 0 <= value <= 10 else None


def _date(cell: Cell, order: str = "dmy") -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if not isinstance(cell, str):
        return None
    try:
        match = _ISO.match(cell)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
        match = _DMY.match(cell)
        if match:
            first, second, year = (int(part) for part in match.groups())
            year += 2000 if year < 100 else 0
            day, month = (second, first) if order == "mdy" else (first, second)
            return date(year, month, day)
    except ValueError:
        return None
    return None


# ---------------------------------------------------------------------------- detection
@dataclass
class _Profile:
    name: str
    filled: int = 0
    numeric: int = 0
    integral: int = 0
    dates: int = 0
    low: float = 11.0
    high: float = -1.0
    mean_length: float = 0.0
    distinct: int = 0
    zero: bool = False
    date_order: Literal["dmy", "mdy"] = "dmy"

    def hinted(self, what: str) -> int:
        """How strongly the header names ``what`` (2: starts with a hint, 1: contains one)."""
        name = fold(self.name).strip()
        best = 0
        for hint in _HINTS[what]:
            if name == hint or name.startswith(hint + " ") or name.startswith(hint + "_"):
                best = max(best, 2)
            elif (len(hint) > 3 and hint in name) or re.search(rf"\b{re.escape(hint)}\b", name):
                best = max(best, 1)
        return best


def _profile(name: str, cells: Sequence[Cell]) -> _Profile:
    profile = _Profile(name)
    lengths = 0
    values: set[str] = set()
    firsts: list[int] = []
    seconds: list[int] = []
    for cell in cells:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        profile.filled += 1
        values.add(str(cell))
        number = _number(cell)
        if number is not None:
            profile.numeric += 1
            profile.integral += number.is_integer()
            profile.low, profile.high = min(profile.low, number), max(profile.high, number)
            profile.zero |= number == 0
        elif isinstance(cell, date) or _date(cell) is not None:
            profile.dates += 1
            if isinstance(cell, str) and (match := _DMY.match(cell)):
                firsts.append(int(match.group(1)))
                seconds.append(int(match.group(2)))
        lengths += len(str(cell))
    profile.distinct = len(values)
    profile.mean_length = lengths / profile.filled if profile.filled else 0.0
    if seconds and max(seconds) > 12 >= max(firsts):
        profile.date_order = "mdy"
    return profile


def _detect(profiles: Sequence[_Profile], headers: Sequence[str],
            named_text: str | None = None) -> Columns:
    taken: set[str] = set()
    text = _pick_text(profiles) or named_text
    if text is None and not any(p.filled for p in profiles):
        raise ReaderError(_NO_ROWS, headers=", ".join(headers))
    hinted = [p for p in profiles if p.hinted("text") == 2]
    if text is None and hinted and not any(p.filled for p in hinted):
        raise ReaderError(_EMPTY_TEXT, name=hinted[0].name)
    if text is None:
        raise ReaderError(_NO_TEXT, headers=", ".join(headers))
    taken.add(text)
    chosen: dict[str, str | None] = {"text": text}
    chosen["date"] = _best(profiles, taken, "date", lambda p: p.dates >= 0.8 * p.filled > 0)
    score, kind = _pick_score(profiles, taken)
    chosen["score"] = score
    for what in ("id", "product", "channel", "region"):
        chosen[what] = _best(profiles, taken, what, _fits(what), need_hint=True)
    return Columns(text=text, id=chosen["id"], score=score, score_kind=kind,
                   date=chosen["date"], product=chosen["product"],
                   channel=chosen["channel"], region=chosen["region"])


def _pick_text(profiles: Sequence[_Profile]) -> str | None:
    candidates = [p for p in profiles if p.filled and p.numeric + p.dates < 0.5 * p.filled
                  and p.mean_length >= 8 and p.distinct > 0.3 * p.filled]
    if not candidates:  # answers that often repeat (« RAS », the same few sentences) but long
        candidates = [p for p in profiles if p.filled and p.numeric + p.dates < 0.5 * p.filled
                      and p.mean_length >= 25 and p.distinct >= max(10, 0.1 * p.filled)]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.mean_length * (1.3 if p.hinted("text") else 1.0),
                                          p.filled)).name


def _score_kind(profile: _Profile) -> ScoreKind | None:
    if not profile.filled or profile.numeric < 0.9 * profile.filled or profile.low < 0 \
            or profile.high > 10 or profile.integral < 0.9 * profile.numeric:
        return None
    name = fold(profile.name)
    if "nps" in name or "recommand" in name:
        return "nps"
    if profile.high <= 5 and profile.low >= 1:
        return "stars5"
    if profile.zero:
        return "nps"
    return "sat10"


def _pick_score(profiles: Sequence[_Profile], taken: set[str]
                ) -> tuple[str | None, ScoreKind | None]:
    order = {"nps": 3, "stars5": 2, "sat10": 1}
    scored = [(p, kind) for p in profiles if p.name not in taken
              and (kind := _score_kind(p)) is not None and p.distinct >= 2]
    hinted = [(p, kind) for p, kind in scored if p.hinted("score")]
    pool = hinted or scored[:1]
    if not pool:
        return None, None
    profile, kind = max(pool, key=lambda item: (item[0].hinted("score"), order[item[1]]))
    taken.add(profile.name)
    return profile.name, kind


def _fits(what: str) -> Callable[[_Profile], bool]:
    if what == "id":
        return lambda p: p.filled > 0 and p.distinct >= 0.8 * p.filled and p.mean_length < 40
    return lambda p: (p.filled > 0 and p.numeric < 0.5 * p.filled and p.mean_length < 40
                      and p.distinct <= max(200, 0.05 * p.filled))


def _best(profiles: Sequence[_Profile], taken: set[str], what: str,
          fits: Callable[[_Profile], bool], *, need_hint: bool = False) -> str | None:
    candidates = [p for p in profiles if p.name not in taken and fits(p)
                  and (p.hinted(what) or not need_hint)]
    if not candidates:
        return None
    best = max(candidates, key=lambda p: p.hinted(what))
    taken.add(best.name)
    return best.name


def _apply(detected: Columns, overrides: Mapping[str, str], headers: Sequence[str],
           profiles: Sequence[_Profile]) -> Columns:
    """The person's choices over the detection: a header name, a column number or letter."""
    chosen = {name: getattr(detected, name) for name in FIELDS}
    kind: ScoreKind | None = detected.score_kind
    explicit_kind = False
    for key, value in overrides.items():
        folded = fold(key).strip()
        if folded in ("score_kind", "type_note", "kind", "type"):
            kind, explicit_kind = score_kind_of(value), True
            continue
        name = field_name(key)
        if name is None:
            continue
        column = None if fold(value).strip() in _NONE_VALUES else _column(value, headers, name)
        if name == "text" and column is None:
            continue
        for other in FIELDS:  # a column serves one purpose
            if column is not None and other != name and chosen[other] == column:
                chosen[other] = None
        chosen[name] = column
    text = chosen["text"]
    assert text is not None
    if chosen["score"] != detected.score and not explicit_kind:
        profile = next((p for p in profiles if p.name == chosen["score"]), None)
        kind = _score_kind(profile) if profile is not None else None
    if chosen["score"] is None:
        kind = None
    return Columns(text=text, id=chosen["id"], score=chosen["score"], score_kind=kind,
                   date=chosen["date"], product=chosen["product"],
                   channel=chosen["channel"], region=chosen["region"])


def _column(value: str, headers: Sequence[str], what: str) -> str:
    wanted = fold(value).strip()
    for header in headers:
        if fold(header).strip() == wanted:
            return header
    if wanted.isdigit() and 1 <= int(wanted) <= len(headers):
        return headers[int(wanted) - 1]
    if re.fullmatch(r"[a-z]{1,2}", wanted):
        number = _letters_index(wanted.upper())
        if number < len(headers):
            return headers[number]
    raise ReaderError(_UNKNOWN_COLUMN, name=value, field=what, headers=", ".join(headers))


# ---------------------------------------------------------------------------- header row
def _width(row: Sequence[Cell]) -> int:
    return sum(1 for cell in row if cell is not None and str(cell).strip())


def _header_index(head: Sequence[Sequence[Cell]]) -> int | None:
    widths = Counter(w for row in head if (w := _width(row)) > 1)
    if not widths:
        return None
    target = widths.most_common(1)[0][0]
    for index, row in enumerate(head[:_HEADER_SCAN]):
        cells = [cell for cell in row if cell is not None and str(cell).strip()]
        if len(cells) < max(2, round(0.6 * target)):
            continue
        if all(isinstance(cell, str) and _number(cell) is None and _date(cell) is None
               and len(cell) <= 80 for cell in cells) and len(set(cells)) == len(cells):
            return index
        return None  # the first wide row looks like data: the file has no header
    return None


def _header_names(row: Sequence[Cell]) -> tuple[str, ...]:
    names: list[str] = []
    for number, cell in enumerate(row, 1):
        name = _plain(cell) or f"colonne {number}"
        base, copy = name, 2
        while name in names:
            name, copy = f"{base} ({copy})", copy + 1
        names.append(name)
    while names and names[-1].startswith("colonne ") and len(names) > 1:
        names.pop()  # trailing cells without a header
    return tuple(names)


# ---------------------------------------------------------------------------- raw rows
def _raw_rows(source: Source) -> Iterator[list[Cell]]:
    if is_xlsx(source):
        yield from _xlsx_rows(source)
    else:
        yield from _csv_rows(source)


def _open(source: Source) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _encoding(source: Source) -> str:
    """UTF-8 (with or without BOM) when every byte decodes, else Windows-1252."""
    with _open(source) as stream:
        start = stream.read(3)
        if start == codecs.BOM_UTF8:
            return "utf-8-sig"
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(start)
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _separator(sample: str) -> str:
    best, best_score = ";", -1
    for candidate in (";", ",", "\t"):
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=candidate))[:-1] or \
                list(csv.reader(io.StringIO(sample), delimiter=candidate))
        except csv.Error:
            continue
        widths = Counter(len(row) for row in rows if len(row) > 1)
        if not widths:
            continue
        width, count = widths.most_common(1)[0]
        score = count * min(width, 50)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _csv_rows(source: Source) -> Iterator[list[Cell]]:
    encoding = _encoding(source)
    with _open(source) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        sample = text.read(65_536)
        text.seek(0)
        delimiter = _separator(sample)
        for row in csv.reader(text, delimiter=delimiter):
            yield [cell if cell.strip() else None for cell in row]


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DATE_FORMATS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 30, 36, 45, 46, 47, 50, 57})
_REF = re.compile(r"([A-Z]+)(\d+)")


def _parse(part: IO[bytes], tag: str) -> Iterator[etree._Element]:
    events = etree.iterparse(part, events=("end",), tag=_NS + tag, resolve_entities=False,
                             no_network=True, huge_tree=True)
    for _event, element in events:
        yield element
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]


def _xlsx_rows(source: Source) -> Iterator[list[Cell]]:
    with _open(source) as stream, zipfile.ZipFile(stream) as archive:
        names = set(archive.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            with archive.open("xl/sharedStrings.xml") as part:
                shared = [_unescape("".join(t.text or "" for t in item.iter(_NS + "t")
                                            if t.getparent().tag != _NS + "rPh"))
                          for item in _parse(part, "si")]
        dates, epoch = _date_styles(archive, names)
        with archive.open(_first_sheet(archive, names)) as part:
            expected = 1
            for row in _parse(part, "row"):
                number = int(row.get("r") or expected)
                while expected < number:  # rows absent from the XML are blank
                    yield []
                    expected += 1
                expected = number + 1
                yield _xlsx_row(row, shared, dates, epoch)


def _xlsx_row(row: etree._Element, shared: Sequence[str], dates: frozenset[int],
              epoch: date) -> list[Cell]:
    cells: list[Cell] = []
    for cell in row.iter(_NS + "c"):
        ref = _REF.match(cell.get("r") or "")
        column = _letters_index(ref.group(1)) if ref else len(cells)
        cells.extend([None] * (column - len(cells)))
        cells.append(_xlsx_value(cell, shared, dates, epoch))
    return cells


def _xlsx_value(cell: etree._Element, shared: Sequence[str], dates: frozenset[int],
                epoch: date) -> Cell:
    kind = cell.get("t")
    if kind == "inlineStr":
        return _unescape("".join(t.text or "" for t in cell.iter(_NS + "t"))) or None
    found = cell.findtext(_NS + "v")
    if found is None or found == "":
        return None
    value = str(found)
    if kind == "s":
        index = int(value)
        return shared[index] if 0 <= index < len(shared) else None
    if kind in ("str", "e"):
        return _unescape(value)
    if kind == "b":
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    if int(cell.get("s") or 0) in dates and 0 < number < 2_958_466:
        return epoch + timedelta(days=int(number))
    return number


def _unescape(text: str) -> str:
    return _X_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def _letters_index(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def _first_sheet(archive: zipfile.ZipFile, names: set[str]) -> str:
    try:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"),
                                    etree.XMLParser(resolve_entities=False, no_network=True))
        sheet = workbook.find(f"{_NS}sheets/{_NS}sheet")
        rel_id = sheet.get(_REL_NS + "id") if sheet is not None else None
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"),
                                etree.XMLParser(resolve_entities=False, no_network=True))
        for rel in rels.iter(_PKG_REL + "Relationship"):
            if rel.get("Id") == rel_id:
                target = str(rel.get("Target")).lstrip("/")
                path = target if target.startswith("xl/") else "xl/" + target
                if path in names:
                    return path
    except (KeyError, etree.XMLSyntaxError):
        pass
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    if not sheets:
        raise KeyError("no worksheet")
    return sheets[0]


def _date_styles(archive: zipfile.ZipFile, names: set[str]) -> tuple[frozenset[int], date]:
    """Style indexes whose number format is a date, and the workbook's date epoch."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    epoch = date(1899, 12, 30)
    if "xl/workbook.xml" in names:
        properties = etree.fromstring(archive.read("xl/workbook.xml"), parser).find(
            _NS + "workbookPr")
        if properties is not None and properties.get("date1904") in ("1", "true"):
            epoch = date(1904, 1, 1)
    if "xl/styles.xml" not in names:
        return frozenset(), epoch
    styles = etree.fromstring(archive.read("xl/styles.xml"), parser)
    custom = {int(fmt.get("numFmtId")): fmt.get("formatCode") or ""
              for fmt in styles.iter(_NS + "numFmt")}
    date_formats = set(_DATE_FORMATS)
    for number, code in custom.items():
        bare = re.sub(r'"[^"]*"|\[[^]]*]|\\.', "", code).lower()
        if re.search(r"[dy]", bare) or re.search(r"m{3,}", bare):
            date_formats.add(number)
    found: set[int] = set()
    xfs = styles.find(_NS + "cellXfs")
    if xfs is not None:
        for index, xf in enumerate(xfs.iter(_NS + "xf")):
            if int(xf.get("numFmtId") or 0) in date_formats:
                found.add(index)
    return frozenset(found), epoch

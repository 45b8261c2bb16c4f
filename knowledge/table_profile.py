"""What a table holds, computed from its cells: rows, and for each column its kind (numbers,
dates, an identifier, free text or categories) with what sums it up (range and mean, first
and last date, most frequent values). « De quoi parle ce fichier ? » about a CSV or an Excel
workbook is answered from this rather than from its first row."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Literal

from knowledge.loaders import check_unzipped, decode_text
from knowledge.records import KnowledgeError

TABLE_SUFFIXES = frozenset({".csv", ".xlsx"})
MAX_ROWS = 200_000  # rows read for a profile; past that it says « at least »
_MAX_DISTINCT = 5_000  # values remembered per column to count distinct ones
_TOP = 3
_SHARE = 0.95  # of a column's filled cells that must read as numbers (dates) for it to be one
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:[  \u202f]\d{3})+|\d+)(?:[.,]\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T][\d:.]+)?$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: [\d:]+)?$")
_ID_NAME = re.compile(r"(?:^|[\s_-])(?:id|identifiant|n°|no|num|numero|numéro|code|ref|"
                      r"référence|reference)(?:$|[\s_-])", re.IGNORECASE)
Kind = Literal["number", "date", "identifier", "text", "category", "empty"]


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its kind and what sums it up."""

    name: str
    kind: Kind
    filled: int
    empty: int
    distinct: int  # at most _MAX_DISTINCT (then « more than »)
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    first: date | None = None
    last: date | None = None
    top: tuple[tuple[str, int], ...] = ()  # most frequent values and their counts
    mean_length: int = 0


@dataclass(frozen=True)
class SheetProfile:
    """One table (a CSV file, or a sheet of a workbook)."""

    title: str
    rows: int
    columns: tuple[ColumnProfile, ...]
    truncated: bool  # more rows than MAX_ROWS


@dataclass(frozen=True)
class Table:
    """A table's cells: a CSV file, or a sheet of a workbook (``title``)."""

    title: str
    header: list[str]
    rows: list[list[object]]
    truncated: bool  # more rows than MAX_ROWS


@dataclass(frozen=True)
class TableProfile:
    """Every table of a file."""

    name: str
    sheets: tuple[SheetProfile, ...]


def is_table(name: str) -> bool:
    """Whether a file of this name is a table (CSV, Excel)."""
    return PurePosixPath(name).suffix.lower() in TABLE_SUFFIXES


def read_tables(name: str, data: bytes) -> list[Table]:
    """Blocking: the tables of a CSV file or an Excel workbook, each under its header row
    (KnowledgeError when it cannot be read)."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".csv":
        header, rows, truncated = _csv_rows(data)
        return [Table("", header, rows, truncated)] if header else []
    if suffix == ".xlsx":
        return [Table(title, header, rows, truncated)
                for title, header, rows, truncated in _xlsx_tables(data) if header]
    raise KnowledgeError(f"pas un tableau : {name}")


def profile_table(name: str, data: bytes) -> TableProfile:
    """Blocking: the profile of a CSV file or an Excel workbook (KnowledgeError when it
    cannot be read)."""
    return TableProfile(name, tuple(_sheet(table.title, table.header, table.rows,
                                           table.truncated)
                                    for table in read_tables(name, data)))


def _csv_rows(data: bytes) -> tuple[list[str], list[list[object]], bool]:
    text = decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096],
                                                                       delimiters=";,\t|")
    except csv.Error:
        dialect = csv.excel
    header: list[str] = []
    rows: list[list[object]] = []
    for row in csv.reader(io.StringIO(text), dialect):
        if not any(cell.strip() for cell in row):
            continue
        if not header:
            header = [cell.strip() or f"colonne {index + 1}" for index, cell in enumerate(row)]
            continue
        if len(rows) >= MAX_ROWS:
            return header, rows, True
        rows.append(list(row))
    return header, rows, False


def _xlsx_tables(data: bytes) -> list[tuple[str, list[str], list[list[object]], bool]]:
    import openpyxl

    check_unzipped(data, "classeur Excel")  # a zip bomb is refused before it is opened
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, xml, key and value errors on bad files
        raise KnowledgeError(f"classeur Excel illisible : {error}") from error
    tables = []
    try:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            header: list[str] = []
            rows: list[list[object]] = []
            truncated = False
            for row in sheet.iter_rows(values_only=True):
                values: list[object] = list(row)
                filled = [value for value in values if value is not None and str(value).strip()]
                if not filled:
                    continue
                if not header:
                    if len(filled) >= 2 and all(isinstance(value, str) for value in filled):
                        header = [str(value).strip() if value is not None else
                                  f"colonne {index + 1}" for index, value in enumerate(values)]
                    continue  # a title line above the table, or its header
                if len(rows) >= MAX_ROWS:
                    truncated = True
                    break
                rows.append(values)
            tables.append((sheet.title, header, rows, truncated))
    finally:
        workbook.close()
    return tables


def _sheet(title: str, header: list[str], rows: list[list[object]],
           truncated: bool) -> SheetProfile:
    width = max([len(header), *(len(row) for row in rows)]) if rows else len(header)
    names = header + [f"colonne {index + 1}" for index in range(len(header), width)]
    columns = tuple(_column(names[index], [row[index] if index < len(row) else None
                                           for row in rows]) for index in range(width))
    kept = tuple(column for column in columns if column.kind != "empty"
                 or not column.name.startswith("colonne "))
    return SheetProfile(title, len(rows), kept, truncated)


def _column(name: str, values: list[object]) -> ColumnProfile:
    texts: list[str] = []
    numbers: list[float] = []
    dates: list[date] = []
    counts: Counter[str] = Counter()
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        text = shown(value)
        texts.append(text)
        if len(counts) < _MAX_DISTINCT or text in counts:
            counts[text] += 1
        figure = number(value)
        if figure is not None:
            numbers.append(figure)
        day = day_of(value)
        if day is not None:
            dates.append(day)
    filled, empty = len(texts), len(values) - len(texts)
    distinct = len(counts)
    if not filled:
        return ColumnProfile(name, "empty", filled, empty, distinct)
    mean_length = round(sum(len(text) for text in texts) / filled)
    unique = len(counts) == filled and filled >= 10
    if len(dates) >= _SHARE * filled:
        return ColumnProfile(name, "date", filled, empty, distinct, first=min(dates),
                             last=max(dates))
    if len(numbers) >= _SHARE * filled and not (unique and _ID_NAME.search(name)):
        return ColumnProfile(name, "number", filled, empty, distinct, minimum=min(numbers),
                             maximum=max(numbers), mean=sum(numbers) / len(numbers))
    if unique and mean_length <= 24 and sum(" " in text for text in texts) <= 0.05 * filled:
        return ColumnProfile(name, "identifier", filled, empty, distinct,
                             mean_length=mean_length)
    if mean_length >= 40 or (mean_length >= 25 and filled >= 30 and distinct >= 0.9 * filled):
        return ColumnProfile(name, "text", filled, empty, distinct, mean_length=mean_length)
    return ColumnProfile(name, "category", filled, empty, distinct,
                         top=tuple(counts.most_common(_TOP)), mean_length=mean_length)


def reads_as(values: list[object], parse: Callable[[object], object | None]) -> bool:
    """Whether enough of a column's filled cells read as numbers (or days) for it to be a
    column of them."""
    filled = [value for value in values if value is not None and str(value).strip()]
    return bool(filled) and sum(parse(value) is not None for value in filled) >= (
        _SHARE * len(filled))


def shown(value: object) -> str:
    """A cell as text (a whole float without « .0 », a date in ISO form)."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else (
            value.isoformat(sep=" "))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def number(value: object) -> float | None:
    """A cell's value as a number (« 1 250,5 », « 15 % », 3), None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip().removesuffix("€").removesuffix("%").strip()
    if not _NUMBER.match(text):
        return None
    return float(re.sub(r"[  \u202f]", "", text).replace(",", "."))


def day_of(value: object) -> date | None:
    """A cell as a day (a date or datetime, « 2024-03-05 », « 05/03/2024 »), else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        iso = _ISO_DATE.match(text)
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        french = _FRENCH_DATE.match(text)
        if french:
            return date(int(french.group(3)), int(french.group(2)), int(french.group(1)))
    except ValueError:  # « 2024-13-45 »
        return None
    return None

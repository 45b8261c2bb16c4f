"""Attached tables: describing a survey export (« De quoi parle ce fichier ? ») and computing
questions over it (« Quelle est la note moyenne par produit pour la Bretagne ? »).

Generates ``../shared/eval/verbatims-synth`` exports of several sizes (CSV, and the same
rows as an Excel workbook for the smaller ones), then times, per size: reading the table,
the profile (every column's kind and summary) and each computed question; and checks each
computed figure against the same figure computed directly from the generator's CSV.

    python -m bench.tables [--sizes 3000,30000,100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from openpyxl import Workbook

from knowledge.table_profile import profile_table, read_tables
from skills.table_answers import NamedTable
from skills.table_questions import answer

SYNTH = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "verbatims-synth"
# (question, what it groups by, what it keeps to: a column's value or values (« 1|2 »), a
# year, or days from a date « since »)
QUESTIONS: tuple[tuple[str, str | None, tuple[tuple[str, str], ...]], ...] = (
    ("Quelle est la note moyenne ?", None, ()),
    ("Quelle est la note moyenne par produit ?", "produit", ()),
    ("Combien de réponses en Bretagne ?", None, (("region", "Bretagne"),)),
    ("Quel est le NPS moyen par canal pour l'auto ?", "canal", (("produit", "auto"),)),
    ("What is the average score by product?", "produit", ()),
    ("Combien de réponses par trimestre en 2024 ?", "quarter", (("year", "2024"),)),
    ("Combien de réponses pour l'auto en agence depuis mars 2024 ?", None,
     (("produit", "auto"), ("canal", "agence"), ("since", "2024-03-01"))),
    ("Quel est le NPS par canal ?", "canal", ()),
    ("Combien de réponses avec une note de 1 ou 2 par canal ?", "canal", (("note", "1|2"),)),
)
_MAX_XLSX_ROWS = 30_000  # openpyxl writes slowly past that
T = TypeVar("T")


def _export(n: int, folder: Path) -> Path:
    out = folder / f"v{n}.csv"
    if not out.exists():
        subprocess.run([sys.executable, str(SYNTH / "generate.py"), "--n", str(n), "--seed",
                        "5", "--out", str(out)], check=True, capture_output=True)
    return out


def _workbook(path: Path) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Enquête")
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _expected(path: Path, group: str | None,
              kept: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """Rows per group (or in all) straight from the CSV: what the answers must count."""
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            year, month = row["date"][:4], int(row["date"][5:7])
            if not all(row["date"][:10] >= value if column == "since"
                       else (year if column == "year" else row[column]) in value.split("|")
                       for column, value in kept):
                continue
            key = (f"{year}-T{(month - 1) // 3 + 1}" if group == "quarter"
                   else row[group] if group else "")
            counts[key] = counts.get(key, 0) + 1
    return counts


def _timed(rounds: int, call: Callable[..., T], *args: object) -> tuple[float, T]:
    times: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = call(*args)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="3000,30000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in (int(size) for size in args.sizes.split(",")):
            path = _export(n, folder)
            files = [(path.name, path.read_bytes())]
            if n <= _MAX_XLSX_ROWS:
                files.append((path.stem + ".xlsx", _workbook(path)))
            for name, data in files:
                read_s, tables = _timed(args.rounds, read_tables, name, data)
                profile_s, _ = _timed(args.rounds, profile_table, name, data)
                named = [NamedTable(name, table) for table in tables]
                asked, right = [], 0
                for question, group, kept in QUESTIONS:
                    locale = "en" if question.startswith("What") else "fr"
                    seconds, said = _timed(args.rounds, answer, question, named, locale)
                    asked.append(seconds)
                    expected = _expected(path, group, kept)
                    text = str(said or "")
                    right += all(f"{count:,}".replace(",", "\u202f" if locale == "fr" else ",")
                                 in text for count in expected.values())
                print(f"{name:>14} ({len(data) / 1_048_576:5.1f} MB): read {read_s:5.2f} s, "
                      f"profile {profile_s:5.2f} s, questions p50 "
                      f"{statistics.median(asked):5.2f} s / max {max(asked):5.2f} s; "
                      f"row counts right {right}/{len(QUESTIONS)}", flush=True)


if __name__ == "__main__":
    main()

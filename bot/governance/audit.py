"""The append-only audit trail: each record carries the hash of the one before it.

``hash = sha256(prev_hash || canonical JSON of the record)``. Editing, deleting or
reordering any record breaks every hash after it, which :func:`verify_chain` reports.
Deleting the *last* records cannot be seen from the chain alone: export the head hash
(``almia audit verify`` prints it) to a place the application cannot write.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
CHAINED_FIELDS = ("created_at", "action", "user_id", "space_id", "channel", "skill",
                  "model_alias", "data_class", "outcome", "details")


def normalise_time(moment: datetime) -> str:
    """A timestamp as UTC ISO text, the same whether the database kept the zone or not."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def record_hash(previous: str, record: Mapping[str, Any]) -> str:
    """The hash of ``record`` chained after ``previous``."""
    canonical = {
        name: normalise_time(record[name]) if name == "created_at" else record.get(name)
        for name in CHAINED_FIELDS
    }
    payload = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((previous + payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of a verification."""

    records: int
    head: str
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """True when no record was edited, removed or moved."""
        return not self.problems


class ChainWalk:
    """Recomputes the links of records given one at a time, in id order."""

    def __init__(self) -> None:
        self.previous = GENESIS
        self.count = 0
        self.problems: list[str] = []

    def add(self, record: Mapping[str, Any]) -> None:
        """Check one record against the one before it."""
        self.count += 1
        if record.get("hash") is None:  # written before the chain existed (migration 0004)
            return
        if record["prev_hash"] != self.previous:
            self.problems.append(f"record {record['id']}: does not follow the previous record "
                                 "(a record was removed or moved)")
        if record_hash(record["prev_hash"], record) != record["hash"]:
            self.problems.append(f"record {record['id']}: content changed after it was written")
        self.previous = record["hash"]

    def report(self) -> ChainReport:
        """What the walk found."""
        return ChainReport(records=self.count, head=self.previous,
                           problems=tuple(self.problems))


def verify_chain(records: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk the records in id order and recompute every link."""
    walk = ChainWalk()
    for record in records:
        walk.add(record)
    return walk.report()


def export_rows(records: Iterable[Mapping[str, Any]], form: str) -> Iterator[str]:
    """Records as JSON lines or CSV text (header first), for the data-protection officer."""
    columns = ("id", *CHAINED_FIELDS, "prev_hash", "hash")
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        yield buffer.getvalue()
        for record in records:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([_plain(record.get(column)) for column in columns])
            yield buffer.getvalue()
        return
    for record in records:
        yield json.dumps({column: _plain(record.get(column)) for column in columns},
                         ensure_ascii=False) + "\n"


def _plain(value: Any) -> Any:
    return normalise_time(value) if isinstance(value, datetime) else value

"""Extracted facts kept by dossier digest: re-screening with new criteria reads nothing again."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from skills.tenders.model import Contradiction, Extraction, Fact, Lot, Source

VERSION = 10  # bump when extraction changes: older cached facts are read again


def to_json(extraction: Extraction) -> dict[str, Any]:
    """The extraction as JSON."""
    return {"version": VERSION, "dossier": extraction.dossier, "digest": extraction.digest,
            "facts": {key: {**fact.as_dict(), "id": fact.id}
                      for key, fact in extraction.facts.items()},
            "lots": [{"number": lot.number, "title": lot.title,
                      "sources": [s.as_dict() for s in lot.sources]} for lot in extraction.lots],
            "contradictions": [c.as_dict() for c in extraction.contradictions],
            "lot_amounts": {str(k): v for k, v in extraction.lot_amounts.items()},
            "documents": list(extraction.documents), "skipped": list(extraction.skipped)}


def from_json(data: dict[str, Any]) -> Extraction | None:
    """The inverse of :func:`to_json` (None for another version)."""
    if data.get("version") != VERSION:
        return None
    facts = {key: Fact(key, item["value"], tuple(Source.from_dict(s) for s in item["sources"]),
                       str(item.get("note") or "")) for key, item in data["facts"].items()}
    lots = tuple(Lot(int(item["number"]), str(item["title"]),
                     tuple(Source.from_dict(s) for s in item["sources"]))
                 for item in data["lots"])
    contradictions = tuple(Contradiction(str(item["topic"]), tuple(
        (str(v["value"]), Source.from_dict(v["source"])) for v in item["values"]))
        for item in data["contradictions"])
    return Extraction(str(data["dossier"]), str(data["digest"]), facts, lots, contradictions,
                      {int(k): float(v) for k, v in data["lot_amounts"].items()},
                      tuple(data.get("documents", ())), tuple(data.get("skipped", ())))


class FactCache:
    """One JSON file per dossier digest in a private folder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def _path(self, digest: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{16,64}", digest):
            raise ValueError("not a digest")
        return self._folder / f"{digest}.json"

    def get(self, digest: str) -> Extraction | None:
        """The cached extraction, or None."""
        try:
            data = json.loads(self._path(digest).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        try:
            return from_json(data)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, extraction: Extraction) -> None:
        """Keep an extraction (written atomically, owner-only)."""
        self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(to_json(extraction), stream, ensure_ascii=False)
        Path(temporary).replace(self._path(extraction.digest))

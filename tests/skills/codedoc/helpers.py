"""Fixtures shared by the code documentation tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from skills.codedoc.inventory import build
from skills.codedoc.model import Inventory, SourceFile, Unit
from skills.codedoc.sources import Sources, from_folder

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "code"


def fixture_sources() -> Sources:
    """Every per-language fixture."""
    return from_folder(FIXTURES)


def inventory_of(files: dict[str, str]) -> Inventory:
    """The inventory of small in-memory sources."""
    sources = Sources()
    for path, text in files.items():
        sources.add(path, text.encode("utf-8"))
    return build(sources)


def source_named(inventory: Inventory, path: str) -> SourceFile:
    """The parsed file at ``path``."""
    return next(source for source in inventory.files if source.path == path)


def unit_named(inventory: Inventory, qualified: str) -> Unit:
    """The unit with that qualified name."""
    return inventory.index[qualified]


def zipped(files: dict[str, bytes]) -> bytes:
    """A ZIP holding ``files``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def fixtures_zip() -> bytes:
    """The fixtures folder as a ZIP (as a developer would send it)."""
    return zipped({path.relative_to(FIXTURES).as_posix(): path.read_bytes()
                   for path in sorted(FIXTURES.rglob("*")) if path.is_file()})

"""Regenerate the Teams icons and the manifest's ``commandLists`` from the registered skills.

Run: ``.venv/bin/python manifests/teams/generate.py`` (stdlib PNG writer, no Pillow).
"""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

ACCENT = (0x1F, 0x4E, 0x9C)  # Almia blue


def png(width: int, height: int, pixel: object) -> bytes:
    """An RGBA PNG; ``pixel(x, y)`` returns ``(r, g, b, a)``."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))  # type: ignore[operator]
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _in_a(x: float, y: float) -> bool:
    """A bold letter A in the unit square."""
    left = abs(x - (0.5 - 0.35 * y)) < 0.09 and 0.1 < y < 0.9
    right = abs(x - (0.5 + 0.35 * y)) < 0.09 and 0.1 < y < 0.9
    bar = 0.58 < y < 0.7 and 0.3 < x < 0.7
    return left or right or bar


def color_icon() -> bytes:
    """192×192: a white A on the accent colour."""
    return png(192, 192, lambda x, y: (255, 255, 255, 255) if _in_a(x / 192, y / 192)
               else (*ACCENT, 255))


def outline_icon() -> bytes:
    """32×32: a white A on a transparent background."""
    return png(32, 32, lambda x, y: (255, 255, 255, 255) if _in_a(x / 32, y / 32)
               else (0, 0, 0, 0))


def main() -> None:
    """Write the icons and refresh ``commandLists`` in manifest.json."""
    from adapters.teams_cards import command_lists
    from skills import SkillServices, build_skills

    (HERE / "color.png").write_bytes(color_icon())
    (HERE / "outline.png").write_bytes(outline_icon())
    manifest_path = HERE / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    skills = build_skills(SkillServices(knowledge=None))  # type: ignore[arg-type]
    manifest["bots"][0]["commandLists"] = command_lists(skills)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")


if __name__ == "__main__":
    main()

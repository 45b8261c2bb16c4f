"""``almia teams package``: the Teams app package (manifest with real ids, two icons) as a zip."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from adapters.teams_channel_files import RSC_PERMISSIONS
from bot.settings import Settings, load_settings

MANIFEST_DIR = Path(__file__).resolve().parents[1] / "manifests" / "teams"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
ICONS = ("color.png", "outline.png")


class PackageError(Exception):
    """The package cannot be built from these settings."""


def manifest_for(settings: Settings,
                 template: Path = MANIFEST_DIR / "manifest.json") -> dict[str, Any]:
    """The manifest with the placeholder ids replaced by the bot's app id; with
    ``teams.channel_files``, the team permissions (resource-specific consent) it reads them
    with."""
    app_id = settings.teams.app_id
    if not app_id:
        raise PackageError("teams.app_id (ALMIA_TEAMS__APP_ID) is required to package the app")
    text = template.read_text(encoding="utf-8").replace(PLACEHOLDER_ID, app_id)
    manifest: dict[str, Any] = json.loads(text)
    if settings.teams.channel_files:
        manifest["authorization"] = {"permissions": {"resourceSpecific": [
            {"name": name, "type": "Application"} for name in RSC_PERMISSIONS]}}
    return manifest


def package_command(output: Path, settings: Settings | None = None) -> Path:
    """Write the zip (``manifest.json``, ``color.png``, ``outline.png``) and return its path."""
    manifest = manifest_for(settings or load_settings())
    if output.is_dir():
        output = output / "almia-teams.zip"
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for icon in ICONS:
            archive.write(MANIFEST_DIR / icon, icon)
    return output

"""The Teams manifest, its icons, the package command, and inert rendering."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from adapters.teams_cards import answer_card, command_lists, inert_text, split_text
from adapters.teams_package import MANIFEST_DIR, PLACEHOLDER_ID, PackageError, package_command
from bot.messages import Citation, Reply
from bot.settings import load_settings
from skills import SkillServices, build_skills
from tests.conftest import FakeSearch

SCHEMA = (Path(__file__).resolve().parents[3]
          / "shared/schemas/teams/MicrosoftTeams.v1.29.schema.json")
MANIFEST = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_is_valid_for_schema_1_29() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # the schema's own check fails on \p{L} (not a Python regex), used only by Office extensions
    errors = [error.message for error in jsonschema.Draft4Validator(schema).iter_errors(MANIFEST)]
    assert errors == []
    assert MANIFEST["manifestVersion"] == "1.29"
    assert MANIFEST["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    # without it Teams lets nobody attach a file in a personal chat with the bot
    assert MANIFEST["bots"][0]["supportsFiles"] is True


def test_manifest_commands_are_the_registered_skills() -> None:
    skills = build_skills(SkillServices(knowledge=FakeSearch()))  # type: ignore[arg-type]
    canonical = [skill.commands[0] for skill in skills if skill.commands]
    for command_list in MANIFEST["bots"][0]["commandLists"]:
        assert [command["title"] for command in command_list["commands"]] == canonical
    assert MANIFEST["bots"][0]["commandLists"] == command_lists(skills)


def _png_size(data: bytes) -> tuple[int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, color_type


def test_icons_have_the_required_sizes() -> None:
    color = (MANIFEST_DIR / "color.png").read_bytes()
    outline = (MANIFEST_DIR / "outline.png").read_bytes()
    assert _png_size(color)[:2] == (192, 192)
    assert _png_size(outline) == (32, 32, 6)  # RGBA
    idat = outline[outline.index(b"IDAT") + 4:outline.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    assert raw[1:5] == b"\x00\x00\x00\x00", "outline corner is transparent"


def test_package_replaces_placeholder_ids(tmp_path: Path) -> None:
    app_id = "12345678-90ab-cdef-1234-567890abcdef"
    settings = load_settings(data_dir=tmp_path, _env_file=None, teams={"app_id": app_id})
    path = package_command(tmp_path / "out", settings)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert PLACEHOLDER_ID not in json.dumps(manifest)
    assert manifest["id"] == manifest["bots"][0]["botId"] == app_id
    assert manifest["webApplicationInfo"]["id"] == app_id


def test_package_needs_an_app_id(tmp_path: Path) -> None:
    with pytest.raises(PackageError):
        package_command(tmp_path / "x.zip", load_settings(data_dir=tmp_path, _env_file=None))


@pytest.mark.parametrize(("model_text", "forbidden", "expected"), [
    ("<at>Tous</at> urgent", "<at>", "Tous urgent"),
    ("voir [ici](https://evil.example/x)", "](", "ici (https://evil.example/x)"),
    ("![pixel](https://evil.example/p.png)", "![", "pixel (https://evil.example/p.png)"),
    ('<a href="https://evil.example">banque</a>', "<a ", "&lt;a href="),
    ("<script>alert(1)</script>", "<script>", "&lt;script&gt;"),
    ("[x][1]\n\n[1]: https://evil.example", "]:", "1\u00a0: https://evil.example"),
])
def test_model_text_is_inert(model_text: str, forbidden: str, expected: str) -> None:
    rendered = inert_text(model_text)
    assert forbidden not in rendered
    assert expected in rendered


def test_card_has_numbered_citations_and_feedback() -> None:
    reply = Reply("Le délai est de 5 jours [1].", turn_id="t1", citations=(
        Citation(1, "doc.md", "Guide sinistres", "…", section="Déclaration", page=3,
                 url="https://intranet/doc"),))
    card = answer_card(reply)
    text = json.dumps(card, ensure_ascii=False)
    assert "[1] Guide sinistres — Déclaration — p. 3" in text
    assert "https://intranet/doc" in text
    assert [action["data"] for action in card["actions"]] == [
        {"almia": "feedback", "turn_id": "t1", "value": 1},
        {"almia": "feedback", "turn_id": "t1", "value": -1}]


def test_long_text_is_split_under_the_limit() -> None:
    text = "\n\n".join("é" * 900 for _ in range(60))
    pieces = split_text(text, 20_000)
    assert len(pieces) > 1
    assert all(len(piece.encode()) <= 20_000 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_channel_files_add_the_team_permissions_to_the_package(tmp_path: Path) -> None:
    app_id = "12345678-90ab-cdef-1234-567890abcdef"
    settings = load_settings(data_dir=tmp_path, _env_file=None, teams={
        "app_id": app_id, "app_password": "secret", "tenant_id": app_id,
        "channel_files": True})
    with zipfile.ZipFile(package_command(tmp_path / "out", settings)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(manifest)] == []
    assert manifest["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"},
        {"name": "Files.Read.Group", "type": "Application"}]
    assert manifest["webApplicationInfo"]["id"] == app_id  # RSC is granted to this app
    plain = load_settings(data_dir=tmp_path, _env_file=None, teams={"app_id": app_id})
    with zipfile.ZipFile(package_command(tmp_path / "plain", plain)) as archive:
        assert "authorization" not in json.loads(archive.read("manifest.json"))

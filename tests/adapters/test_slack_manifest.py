"""The Slack app manifest is valid and exposes every registered skill."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from knowledge import Passage
from skills import SkillServices, build_skills

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).resolve().parents[3] / "shared/schemas/slack/manifest.schema.1.0.0.json"


class _NoDocuments:
    async def search(self, query: str, *, space: str | None = None,
                     collections: Sequence[str] | None = None, k: int = 5) -> list[Passage]:
        return []


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifests/slack/manifest.yaml").read_text(encoding="utf-8"))


def test_manifest_matches_slack_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(manifest(), schema)


def test_slash_commands_are_almia_and_template() -> None:
    commands = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert commands == {"/almia", "/template"}


def test_every_skill_is_reachable_through_almia() -> None:
    [almia] = [c for c in manifest()["features"]["slash_commands"] if c["command"] == "/almia"]
    hint = {part.strip().split(" ")[0] for part in almia["usage_hint"].split("|")}
    skills = build_skills(SkillServices(knowledge=_NoDocuments()))
    assert {skill.commands[0] for skill in skills if skill.commands} <= hint


def test_endpoints_and_least_privilege() -> None:
    data = manifest()
    urls = {data["settings"]["event_subscriptions"]["request_url"],
            data["settings"]["interactivity"]["request_url"],
            *(c["url"] for c in data["features"]["slash_commands"])}
    assert urls == {"https://almia.example.com/slack/events"}
    assert set(data["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "chat:write", "commands", "im:history", "channels:read",
        "groups:read", "usergroups:read", "files:read", "files:write", "users.profile:read",
        "assistant:write", "users:read"}
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.im", "member_joined_channel", "assistant_thread_started"}
    assert data["settings"]["socket_mode_enabled"] is False

"""Settings: prefix, nesting, clear errors naming the key, where values came from."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import enabled_adapters
from bot.settings import SettingsError, load_settings, setting_sources


def test_environment_with_prefix_and_nesting(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("ALMIA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ALMIA_WEB__PORT", "4000")
    monkeypatch.setenv("ALMIA_SLACK__BOT_TOKEN", "xoxb-secret")
    settings = load_settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.web.port == 4000
    assert "xoxb-secret" not in repr(settings)
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    sources = setting_sources(settings)
    assert sources["web.port"] == "environment (ALMIA_WEB__PORT)"
    assert sources["web.host"] == "default"


def test_invalid_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALMIA_WEB__PORT", "quatre-mille")
    with pytest.raises(SettingsError, match=r"web\.port \(ALMIA_WEB__PORT\)"):
        load_settings(_env_file=None)


def test_emulator_mode_is_refused_in_production() -> None:
    with pytest.raises(SettingsError, match="emulator"):
        load_settings(production=True, teams={"emulator": True}, _env_file=None)


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ALMIA_MEMORY_TURNS=4\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.memory_turns == 4
    assert setting_sources(settings, environ={})["memory_turns"] == ".env (ALMIA_MEMORY_TURNS)"


@pytest.mark.parametrize(("slack", "missing"), [
    ({"bot_token": "xoxb-1"}, "slack.signing_secret (HTTP events) or slack.socket_mode"),
    ({"bot_token": "xoxb-1", "socket_mode": True}, "slack.app_token (xapp-…"),
    ({"signing_secret": "s" * 32}, "slack.bot_token"),
    ({}, None),
    ({"bot_token": "xoxb-1", "signing_secret": "s" * 32}, None),  # on
])
def test_half_a_slack_configuration_says_what_it_lacks(
        slack: dict[str, object], missing: str | None, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(data_dir=tmp_path, _env_file=None, slack=slack)
    found = settings.slack.missing
    assert found == missing if missing is None else found is not None and found.startswith(missing)
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        enabled_adapters(settings)
    assert ("Slack is off" in caplog.text) is (missing is not None)

"""The admin command line: config check, audit verify/export, purge (in-process, real store)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli import app
from bot.messages import Channel, Message, Space, User
from bot.settings import load_settings
from tests.conftest import FakeSearch


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALMIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    return tmp_path / "data"


def _seed(data_dir: Path) -> None:
    async def run() -> None:
        runtime = build_runtime(load_settings(data_dir=data_dir, _env_file=None),
                                knowledge=FakeSearch())  # type: ignore[arg-type]
        await runtime.start()
        try:
            for user in ("alice", "bob"):
                await runtime.assistant.answer(Message(
                    text="summary Appel du client.", user=User(user), space=Space("web:default"),
                    channel=Channel.WEB, thread_id=user))
        finally:
            await runtime.close()

    asyncio.run(run())


def test_config_check_lists_models_skills_and_sources(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["config", "check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["skills"]["qa"]["roles"] == {"answer": ["extractive"]}
    assert report["settings"]["data_dir"]["source"].startswith("environment")


def test_invalid_setting_stops_with_the_key_named(data_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALMIA_WEB__PORT", "beaucoup")
    result = CliRunner().invoke(app, ["config", "check"])
    assert result.exit_code == 2 and "ALMIA_WEB__PORT" in result.output


def test_audit_verify_export_and_purge(data_dir: Path) -> None:
    _seed(data_dir)
    runner = CliRunner()
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output
    exported = runner.invoke(app, ["audit", "export", "--since", "1d", "--format", "jsonl"])
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert [line["user_id"] for line in lines] == ["alice", "bob"]
    purged = runner.invoke(app, ["purge", "--user", "alice"])
    assert purged.exit_code == 0 and "2 turns" in purged.output
    assert runner.invoke(app, ["purge"]).exit_code == 2
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_serve_refuses_a_key_file_others_can_read(data_dir: Path) -> None:
    from bot.crypto import LocalKeyFile

    key_file = data_dir / "keys" / "kek.key"
    LocalKeyFile(key_file)
    key_file.chmod(0o644)
    result = CliRunner().invoke(app, ["serve"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "chmod 600" in said and "kek.key" in said

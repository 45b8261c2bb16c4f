"""The command line: ``almia chat`` (as a real process and in-process), config check,
audit verify/export, purge (real store)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli.chat import LOG_FILE, render_reply, run_chat, show_reply
from bot.cli.config import display_value
from bot.cli.main import app
from bot.messages import Channel, Citation, Delta, Message, Progress, Reply, ReplyEvent, Space, User
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch, passage
from tests.fakes.model_server import FakeModelServer, write_policy


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


@pytest.mark.parametrize("columns", ["100", "60"])
def test_config_check_summarises_long_texts_and_never_cuts_a_name(data_dir: Path,
                                                                 columns: str) -> None:
    runner = CliRunner()
    report = json.loads(runner.invoke(app, ["config", "check", "--json"]).output)
    result = runner.invoke(app, ["config", "check"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= int(columns)
    assert "N'y saisissez" not in result.output and "Only enter the data" not in result.output
    words = {word for line in result.output.splitlines() for word in line.split()}
    charter = report["settings"]["charter.text_fr"]["value"]
    assert str(len(charter)) in words and "characters:" in words
    cut = [key for key in report["settings"] if key not in words]
    assert cut == []


def test_long_setting_texts_are_summarised_by_length_and_first_words() -> None:
    charter = "Charte d'utilisation d'Almia\n1. Almia est un assistant."
    assert display_value(charter) == f"{len(charter)} characters: « Charte d'utilisation d'Almia 1. … »"
    assert display_value("https://graph.microsoft.com/v1.0") == "https://graph.microsoft.com/v1.0"
    assert (display_value(None), display_value(""), display_value({"A": 1})) == ("-", '""', '{"A": 1}')


def test_config_check_shows_dict_settings_and_azure_api_version(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("""
models:
  - {alias: extractive, provider: extractive, hosting: internal, clearance: secret}
  - alias: gpt-4o-azure-deploiement-europe-ouest
    model: azure/gpt-4o-deploiement-europe-ouest
    api_base: https://almia-test.openai.azure.com
    api_version: 2024-10-21
    api_key: os.environ/AZURE_API_KEY
    hosting: external
    clearance: internal
skills:
  qa: {roles: {answer: [gpt-4o-azure-deploiement-europe-ouest, extractive]}}
  call_summary: {roles: {summarise: [extractive]}}
  templates: {roles: {generate: [extractive]}}
  verbatims: {roles: {verbatims: [extractive]}}
  codedoc: {roles: {code: [extractive]}}
  campaigns: {roles: {marketing: [extractive]}}
  tenders: {roles: {tenders: [extractive]}}
  help: {roles: {}}
""", encoding="utf-8")
    monkeypatch.setenv("ALMIA_POLICY_FILE", str(policy))
    monkeypatch.setenv("AZURE_API_KEY", "not-a-real-key")
    monkeypatch.setenv("ALMIA_DLP__CUSTOM_PATTERNS", '{"CONTRAT": "CTR-\\\\d{8}"}')
    runner = CliRunner()
    report = json.loads(runner.invoke(app, ["config", "check", "--json"]).output)
    assert report["settings"]["dlp.custom_patterns"]["value"] == {"CONTRAT": "CTR-\\d{8}"}
    [azure] = [m for m in report["models"] if m["provider"] == "litellm"]
    assert azure["api_version"] == "2024-10-21"
    assert "not-a-real-key" not in json.dumps(report)
    for columns in ("120", "60"):
        shown = runner.invoke(app, ["config", "check"], env={"COLUMNS": columns}).output
        words = {word.strip(",;()") for line in shown.splitlines() for word in line.split()}
        assert {"gpt-4o-azure-deploiement-europe-ouest", "azure/gpt-4o-deploiement-europe-ouest",
                "2024-10-21", "dlp.custom_patterns"} <= words, shown
        assert '"CONTRAT"' in shown and "not-a-real-key" not in shown


def _chat_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The test process's environment without its ``ALMIA_`` settings, plus ``settings``."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("ALMIA_")}
    environment.update(ALMIA_DATA_DIR=str(data_dir), COLUMNS="100", **settings)
    return environment


async def _almia_chat(cwd: Path, environment: dict[str, str],
                      lines: list[str]) -> tuple[int | None, str, str]:
    """``almia chat`` as a real process fed ``lines`` on stdin: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", cwd=cwd, env=environment,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    typed = "".join(f"{line}\n" for line in lines).encode()
    out, err = await asyncio.wait_for(process.communicate(typed), timeout=600)
    return process.returncode, out.decode(), err.decode()


async def test_chat_process_prints_every_reply_once_and_no_log_line(data_dir: Path,
                                                                   tmp_path: Path) -> None:
    code, out, err = await _almia_chat(
        tmp_path, _chat_environment(data_dir, ALMIA_CHARTER__ENABLED="true"),
        ["Bonjour", "J'accepte", "Quelle est la capitale de la Mongolie ?", "/almia help",
         "quitter", "/almia help"])
    assert code == 0, err
    assert "Charte d'utilisation d'Almia" in out and "répondant « J'accepte »" in out
    assert "Merci, la charte (version 2026-11) est acceptée" in out
    assert "Je ne sais pas" in out
    assert out.count("Voici ce que je sais faire") == 1  # once, and nothing after « quitter »
    assert "**" not in out  # Markdown is rendered, not shown
    assert err == ""


async def test_chat_process_writes_warnings_to_a_log_file_not_the_terminal(
        data_dir: Path, tmp_path: Path) -> None:
    async with FakeModelServer(fail_status=500) as broken:
        policy = write_policy(tmp_path / "policy.yaml", broken.url, fallback_extractive=True)
        code, out, err = await _almia_chat(
            tmp_path, _chat_environment(data_dir, ALMIA_POLICY_FILE=str(policy),
                                        ALMIA_CHARTER__ENABLED="false"),
            ["/almia summary Client : dégât des eaux le 3 mars, 650 euros de réparations.",
             "Conseiller : je vous rappelle jeudi."])
    assert code == 0, err
    assert broken.requests  # the model was tried and failed: a warning was logged
    assert "650 euros" in out and "WARNING" not in out
    log_file = data_dir / LOG_FILE
    assert err.strip() == f"Des avertissements ont été consignés dans {log_file}."
    logged = log_file.read_text(encoding="utf-8")
    assert "WARNING bot.gateway.llm" in logged and "3 mars" not in logged
    assert log_file.stat().st_mode & 0o777 == 0o600
    assert log_file.parent.stat().st_mode & 0o777 == 0o700


async def test_chat_process_stops_on_ctrl_c_while_waiting_for_a_line(data_dir: Path,
                                                                     tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", cwd=tmp_path,
        env=_chat_environment(data_dir, ALMIA_CHARTER__ENABLED="false"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    seen = b""
    while b"> " not in seen:  # the banner, then the prompt: a line is awaited
        chunk = await asyncio.wait_for(process.stdout.read(100), timeout=600)
        assert chunk, seen
        seen += chunk
    process.send_signal(signal.SIGINT)  # stdin stays open: nothing else ends the read
    code = await asyncio.wait_for(process.wait(), timeout=600)
    assert code == 130


async def _events(*events: ReplyEvent) -> AsyncIterator[ReplyEvent]:
    for event in events:
        yield event


async def test_streamed_reply_is_printed_once_rendered_then_its_sources() -> None:
    output = io.StringIO()
    console = Console(file=output, width=80)
    citation = Citation(1, "declaration.md", "Déclaration de sinistre", "…",
                        section="Déclaration de sinistre > Délais", page=3)
    await show_reply(_events(
        Progress("Recherche dans les documents…"), Delta("Déclarez sous "),
        Delta("**5 jours ouvrés**. [1]"),
        Reply("Déclarez sous **5 jours ouvrés**. [1]", citations=(citation,))), console)
    out = output.getvalue()
    assert out.count("Déclarez sous") == 1 and "**" not in out
    assert "Recherche dans les documents" not in out  # progress is for terminals only
    assert out.index("5 jours ouvrés") < out.index(
        "[1] Déclaration de sinistre — Délais, p. 3 (declaration.md)")


async def test_chat_answers_from_documents_through_the_core(settings: Settings) -> None:
    knowledge = FakeSearch([passage(1, "Le sinistre doit être déclaré dans les **5 jours ouvrés** "
                                       "suivant sa découverte.")])
    runtime = build_runtime(settings, knowledge=knowledge)  # type: ignore[arg-type]
    await runtime.start()
    lines = iter(["", "Dans quel délai déclarer un sinistre ?", "quit", "Et ensuite ?"])

    async def read_line() -> str | None:
        return next(lines, None)

    output = io.StringIO()
    console = Console(file=output, width=100)
    try:
        await run_chat(runtime, user="alice", space="web:default", read_line=read_line,
                       console=console)
    finally:
        await runtime.close()
    out = output.getvalue()
    assert out.count("5 jours ouvrés") == 1 and "**" not in out
    assert out.index("5 jours ouvrés") < out.index("[1] Guide sinistres — Déclaration (doc1.md)")
    assert [query for query, _ in knowledge.queries] == ["Dans quel délai déclarer un sinistre ?"]


def test_replies_keep_line_breaks_and_lose_terminal_control_characters() -> None:
    output = io.StringIO()
    console = Console(file=output, width=60)
    console.print(render_reply(Reply("Conseiller : bonjour.\nClient : bonjour.\x1b]0;titre\x07"
                                     "\x1b[2J <b>pas du HTML</b>", kind="error")))
    out = output.getvalue()
    assert "Conseiller : bonjour.\nClient : bonjour." in out
    assert "\x1b" not in out and "\x07" not in out and "<b>pas du HTML</b>" in out


def test_serve_refuses_a_key_file_others_can_read(data_dir: Path) -> None:
    from bot.governance.crypto import LocalKeyFile

    key_file = data_dir / "keys" / "kek.key"
    LocalKeyFile(key_file)
    key_file.chmod(0o644)
    result = CliRunner().invoke(app, ["serve"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "chmod 600" in said and "kek.key" in said

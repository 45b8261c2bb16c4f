"""``almia campaigns new|list|export|remind`` on a real store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli.campaigns import register_commands
from bot.settings import Settings
from bot.store.campaigns import CampaignStore
from tests.conftest import FakeSearch
from tests.skills.campaigns.conftest import brief


def _app(settings: Settings) -> typer.Typer:
    app = typer.Typer()
    register_commands(app, lambda: build_runtime(settings, knowledge=FakeSearch()))  # type: ignore[arg-type]
    return app


async def _approve(settings: Settings, campaign_id: str) -> None:
    runtime = build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    try:
        await runtime.store.migrate()  # loads the data keys (encryption at rest)
        store = CampaignStore(runtime.store.engine, runtime.store)
        await store.submit(campaign_id, 1, "web:aline", ("web:claire",))
        await store.decide(campaign_id, 1, "web:claire", "web:claire", "approve", "OK")
    finally:
        await runtime.close()


def test_new_list_export_approved_only(campaign_settings: Settings, tmp_path: Path) -> None:
    app, runner = _app(campaign_settings), CliRunner()
    source = tmp_path / "brief.yaml"
    source.write_text(brief("web:claire", "un").replace("canaux: [email, sms]", "canaux: email"),
                      encoding="utf-8")
    created = runner.invoke(app, ["campaigns", "new", str(source), "--user", "web:aline"])
    assert created.exit_code == 0, created.output
    assert "### email 1" in created.output and "créée" in created.output
    [listed] = json.loads(runner.invoke(app, ["campaigns", "list", "--json"]).output)
    assert (listed["status"], listed["author"], listed["version"]) == ("draft", "web:aline", 1)
    out = tmp_path / "export"
    refused = runner.invoke(app, ["campaigns", "export", listed["id"][:8], "--out", str(out)])
    assert refused.exit_code == 2 and not out.exists()
    asyncio.run(_approve(campaign_settings, listed["id"]))
    exported = runner.invoke(app, ["campaigns", "export", listed["id"][:8], "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "Approuvé par web:claire" in exported.output
    assert sorted(path.name for path in out.iterdir()) == [
        f"campagne-{listed['id'][:8]}-v1-email-1.html",
        f"campagne-{listed['id'][:8]}-v1-email-2.html", f"campagne-{listed['id'][:8]}-v1.docx"]
    assert runner.invoke(app, ["campaigns", "export", "nothere1", "--out", str(out)]).exit_code \
        == 2
    assert "no reminder due" in runner.invoke(app, ["campaigns", "remind"]).output
    bad = tmp_path / "bad.yaml"
    bad.write_text("titre: x\n", encoding="utf-8")
    failed = runner.invoke(app, ["campaigns", "new", str(bad)])
    assert failed.exit_code == 2 and "produit" in failed.output


def test_a_bad_campaigns_section_is_named_without_a_traceback(tmp_path: Path) -> None:
    from bot.settings import load_settings
    from tests.skills.campaigns.conftest import write_policy

    policy = write_policy(tmp_path / "policy.yaml",
                          {"roles": {"conformite": {"members": ["cora"]}}})
    settings = load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)
    result = CliRunner().invoke(_app(settings), ["campaigns", "list"])
    assert result.exit_code == 2
    assert "campaigns.roles.conformite.members" in result.output and "not a member: cora" \
        in result.output and "Traceback" not in result.output

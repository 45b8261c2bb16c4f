"""``/template`` in Slack: signed slash commands, the modal (views.open), ``view_submission``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.store.templates import TemplateStore
from tests.adapters.test_slack import FIXTURES, Harness, blocks_text, running
from tests.fakes.model_server import FakeModelServer
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_computed_fields'")


@pytest.fixture
async def almia(tmp_path: Path) -> AsyncIterator[Harness]:
    async with FakeSlackApi() as slack, FakeModelServer() as model, \
            running(tmp_path, slack, model) as harness:
        yield harness


def template_form(almia: Harness, **changes: str) -> str:
    raw = (FIXTURES / "slash_command_template.txt").read_text(encoding="utf-8").strip()
    form = dict(parse_qsl(raw))
    form["response_url"] = almia.slack.response_url("template")
    form.update(changes)
    return urlencode(form)


async def test_missing_variables_open_a_modal_whose_submission_runs_the_template(
        almia: Harness) -> None:
    response = await almia.command(template_form(almia))
    assert response.status == 200
    await almia.slack.wait_for(lambda: bool(almia.slack.of("views.open")))
    [opened] = almia.slack.of("views.open")
    assert opened.data["trigger_id"].startswith("7001234999.")
    view = opened.data["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "almia_template_form"
    blocks = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert blocks["var:client"]["element"]["initial_value"] == "Mme Durand"
    assert [o["value"] for o in blocks["var:motif"]["element"]["options"]][:2] == [
        "pièce manquante", "cotisation impayée"]
    assert blocks["var:delai"]["optional"] is True
    assert almia.model.requests == []  # nothing ran yet

    submission = json.loads((FIXTURES / "view_submission_template.json").read_text("utf-8"))
    submission["view"]["private_metadata"] = view["private_metadata"]
    response = await almia.action(submission)
    assert response.status == 200
    await almia.slack.wait_for(lambda: bool(almia.slack.of("response_url")))
    await almia.settled()
    [answer] = almia.slack.of("response_url")
    assert "Réponse du modèle factice" in blocks_text(answer)
    prompt = json.dumps(almia.model.requests[0], ensure_ascii=False)
    assert "Mme Durand" in prompt and "cotisation impayée" in prompt
    assert 'contrat 4567 \\"habitation\\"' in prompt and "15 jours" in prompt
    stats = await _stats(almia)
    assert stats["runs"] == 1 and stats["use_cases"][0]["space"] == "slack:T0ALMIA01:C0SINISTRE"


async def test_complete_command_runs_without_a_modal(almia: Harness) -> None:
    text = 'use courrier-relance client="Mme Durand" motif="pièce manquante"'
    response = await almia.command(template_form(almia, text=text))
    assert (await response.json())["response_type"] == "ephemeral"
    await almia.slack.wait_for(lambda: bool(almia.slack.of("response_url")))
    assert almia.slack.of("views.open") == []
    assert "Mme Durand" in json.dumps(almia.model.requests[0], ensure_ascii=False)


async def test_unknown_template_is_named_privately(almia: Harness) -> None:
    await almia.command(template_form(almia, text="use inconnu"))
    await almia.slack.wait_for(lambda: bool(almia.slack.of("response_url")))
    assert "inconnu" in blocks_text(almia.slack.of("response_url")[0])
    assert almia.slack.of("views.open") == [] and almia.model.requests == []


async def test_a_forged_modal_submission_changes_nothing(almia: Harness) -> None:
    submission = json.loads((FIXTURES / "view_submission_template.json").read_text("utf-8"))
    submission["view"]["private_metadata"] = "not json"
    assert (await almia.action(submission)).status == 200
    await almia.settled()
    assert almia.model.requests == []


async def _stats(almia: Harness) -> Any:
    stats = await TemplateStore(almia.runtime.store.engine).stats(timedelta(days=1))
    return stats.as_json()

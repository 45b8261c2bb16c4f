"""Templates in Teams: a message opens an Adaptive Card form; its submit invoke runs it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.store.inbox import InboxStore
from tests.adapters.test_teams import Harness, card_of, finals, fixture, harness

__all__ = ["harness"]

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botbuilder.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:botframework.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:msrest.*"),
    pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning"),
]


async def test_missing_variables_send_a_form_card_and_its_submit_runs_the_template(
        harness: Harness) -> None:
    activity = fixture("message_personal_template", harness.connector.url)
    assert (await harness.post(activity)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    card = card_of(finals(calls)[-1])
    inputs = {item["id"]: item for item in card["body"] if item["type"].startswith("Input.")}
    assert inputs["var:client"]["value"] == "Mme Durand"
    assert inputs["var:motif"]["type"] == "Input.ChoiceSet" and inputs["var:motif"]["isRequired"]
    assert inputs["var:delai"]["value"] == "8 jours"
    [action] = card["actions"]
    assert action["type"] == "Action.Execute" and action["data"]["name"] == "courrier-relance"
    assert harness.model.requests == []

    invoke = fixture("invoke_template_submit", harness.connector.url)
    response = await harness.post(invoke)
    assert response.status == 200
    assert "modèle" in (await response.json())["value"]
    await harness.connector.wait_for(lambda calls: len(finals(calls)) >= 2)
    prompt = json.dumps(harness.model.requests[0], ensure_ascii=False)
    assert "Mme Durand" in prompt and "cotisation impayée" in prompt and "15 jours" in prompt


async def test_a_submit_for_an_unknown_template_is_answered_by_name(harness: Harness) -> None:
    invoke = fixture("invoke_template_submit", harness.connector.url)
    invoke["value"]["action"]["data"]["name"] = "inconnu"
    assert (await harness.post(invoke)).status == 200
    calls = await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    assert "inconnu" in json.dumps(finals(calls)[-1].body, ensure_ascii=False)
    assert harness.model.requests == []


async def test_an_unauthenticated_submit_runs_nothing(harness: Harness) -> None:
    invoke = fixture("invoke_template_submit", harness.connector.url)
    assert (await harness.post(invoke, anonymous=True)).status == 401
    assert harness.model.requests == []


async def test_a_submit_a_dead_replica_left_is_run_here(harness: Harness) -> None:
    invoke = fixture("invoke_template_submit", harness.connector.url)
    store = harness.runtime.store
    user = f"teams:{invoke['from']['aadObjectId']}"
    await InboxStore(store.engine, store).add("teams", user,
                                              {"activity": invoke, "kind": "template"},
                                              owner="replica-dead", lease=timedelta(seconds=-1))
    assert await harness.runtime.inbox.sweep() == 1
    await harness.connector.wait_for(lambda calls: bool(finals(calls)))
    await harness.settled()
    prompt = json.dumps(harness.model.requests[0], ensure_ascii=False)
    assert "Mme Durand" in prompt and "cotisation impayée" in prompt
    assert await InboxStore(store.engine, store).count() == 0

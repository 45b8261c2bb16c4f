"""Who may create, review, approve and export: the policy's ``campaigns:`` section (campaign
roles with Almia roles, user ids and directory groups as members), the deprecated rules-file
groups, and the erased reviewer slot."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME, build_app, build_runtime
from bot.governance.directory import EntraGroups, SlackUserGroups
from bot.governance.policy import CampaignPolicy, PolicyError
from bot.governance.roles import RoleResolver
from bot.messages import User
from bot.settings import Settings, load_settings
from tests.conftest import FakeSearch
from tests.fakes.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    SLACK_TOKEN,
    TENANT,
    FakeEntra,
    FakeSlackUserGroups,
    LoopbackHttpClient,
)
from tests.skills.campaigns.conftest import write_policy, write_rules
from tests.skills.campaigns.test_web_flow import _created, _submitted, button, press, say

VALIDATORS = "0b1f6c1e-7d55-4c54-9a53-0000000000a1"
VERA = "6b1c2f8e-4a7d-4f0e-9b3a-2c5d7e9f1a3b"
STRICT = {
    "roles": {
        "marketing_redacteur": {"members": ["web:aline"]},
        "marketing_validator": {"members": ["web:claire", f"entra-group:{VALIDATORS}"]},
        "conformite": {"members": ["web:cora", "slack-group:SCOMPLY"]},
        "relecture": {"members": ["web:remi"]},
    },
    "permissions": {
        "create": ["marketing_redacteur"],
        "review": ["marketing_redacteur", "marketing_validator", "conformite", "relecture"],
        "approve": ["marketing_validator", "conformite"],
        "export": ["marketing_validator"],
    },
}


WITHOUT_GROUPS = {**STRICT, "roles": {
    name: {"members": [m for m in role["members"] if "group:" not in m]}
    for name, role in STRICT["roles"].items()}}


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Any]:
    policy = write_policy(tmp_path / "policy.yaml", WITHOUT_GROUPS)
    settings = load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)
    app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


async def test_create_review_approve_and_export_follow_the_policy(strict: Any) -> None:
    refused = await say(strict, "/almia campagne nouvelle\nproduit: x", "bob")
    assert refused["kind"] == "error" and "campaigns.permissions.create" in refused["text"]
    campaign_id, submitted = await _submitted(
        strict, reviewers="marketing_validator, conformite, relecture", approval="tous")
    # Rémi may review (request changes) but not approve: no approve button, a clear refusal
    remi_card = await say(strict, f"/almia campagne voir {campaign_id[:8]}", "remi")
    actions = [(b["action"], b["values"].get("decision")) for b in remi_card["cards"][0]["buttons"]]
    assert ("campaigns:decide", "changes") in actions
    assert ("campaigns:decide", "approve") not in actions
    approve = button(submitted, "campaigns:decide", "approve")
    not_allowed = await press(strict, approve, "remi")
    assert not_allowed["kind"] == "error"
    assert "marketing_validator, conformite" in not_allowed["text"]
    # validators and compliance approve; Rémi's slot is still open in « all » mode, so he
    # requests changes instead of approving: the campaign goes back to its author
    assert "en relecture" in (await press(strict, approve, "claire"))["text"]
    assert "en relecture" in (await press(strict, approve, "cora"))["text"]
    changes = button(submitted, "campaigns:decide", "changes")
    asked = await press(strict, changes, "remi", comment="Plus court")
    assert "modifications demandées" in asked["text"]
    audit = await strict.app[RUNTIME].store.audit_records()
    assert any(r["outcome"] == "not_permitted" for r in audit if r["action"] ==
               "campaign_decision")


async def test_export_needs_the_export_permission(strict: Any) -> None:
    campaign_id, submitted = await _submitted(strict, reviewers="marketing_validator",
                                              approval="tous")
    approved = await press(strict, button(submitted, "campaigns:decide", "approve"), "claire")
    assert "approuvée" in approved["text"]
    by_author = await say(strict, f"/almia campagne export {campaign_id[:8]}", "aline")
    assert by_author["kind"] == "error" and "exporter" in by_author["text"]
    by_validator = await say(strict, f"/almia campagne export {campaign_id[:8]}", "claire")
    assert by_validator["kind"] == "info" and by_validator["job_id"]


async def test_a_brief_may_name_a_campaign_role_but_not_an_unknown_one(strict: Any) -> None:
    _campaign_id, reply = await _created(strict, reviewers="conformite")
    assert reply["kind"] == "info"
    unknown = await say(strict, "/almia campagne nouvelle\n" + _brief("validateurs"), "aline")
    assert unknown["kind"] == "error" and "marketing_validator" in unknown["text"]


async def test_a_campaign_role_nobody_holds_cannot_be_the_reviewer(
        campaign_settings: Settings) -> None:
    app = build_app(campaign_settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        empty = await say(client, "/almia campagne nouvelle\n" + _brief("marketing_validator"))
        assert empty["kind"] == "error" and "campaigns.roles.marketing_validator.members" \
            in empty["text"]
    finally:
        await client.close()


def _brief(reviewers: str) -> str:
    from tests.skills.campaigns.conftest import brief

    return brief(reviewers=reviewers)


def test_the_policy_refuses_bad_campaign_sections() -> None:
    with pytest.raises(ValueError, match="not a member: cora"):
        CampaignPolicy.model_validate({"roles": {"conformite": {"members": ["cora"]}}})
    with pytest.raises(ValueError, match=r"permissions.approve: unknown conformit "):
        CampaignPolicy.model_validate({"roles": {"conformite": {"members": ["web:cora"]}},
                                       "permissions": {"approve": ["conformit"]}})
    with pytest.raises(ValueError, match="other than an Almia role"):
        CampaignPolicy.model_validate({"roles": {"manager": {"members": []}}})
    with pytest.raises(ValueError, match="Extra inputs"):
        CampaignPolicy.model_validate({"permissions": {"publish": ["employee"]}})
    groups = CampaignPolicy.model_validate(STRICT).directory_groups()
    assert groups == {f"entra-group:{VALIDATORS}", "slack-group:SCOMPLY"}


def test_directory_groups_need_the_directory_credentials(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "policy.yaml", STRICT)
    settings = load_settings(data_dir=tmp_path / "data", policy_file=policy, _env_file=None)
    with pytest.raises(PolicyError, match=r"entra-group.*tenant_id"):
        build_runtime(settings, knowledge=FakeSearch())  # type: ignore[arg-type]


async def test_members_of_directory_groups_hold_the_campaign_role() -> None:
    from skills.campaigns.access import AccessRules, CampaignAccess

    async with FakeEntra(members={VERA: {VALIDATORS}}) as entra, \
            FakeSlackUserGroups(groups={"SCOMPLY": {"U0SAM"}}) as slack:
        source = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID,
                             credential=CLIENT_SECRET, group_roles={},
                             graph_url=entra.graph_url,
                             http_client=LoopbackHttpClient(entra.url))
        slack_source = SlackUserGroups(bot_token=SLACK_TOKEN, group_roles={},
                                       api_url=slack.api_url, named_groups=["slack-group:SCOMPLY"])
        from bot.governance.directory import CompositeDirectory

        access = CampaignAccess(AccessRules.from_policy(CampaignPolicy.model_validate(STRICT)),
                                RoleResolver({}, CompositeDirectory([source, slack_source])))
        vera = User(f"teams:{VERA}", directory_id=VERA)
        sam = User("slack:T0:U0SAM", directory_id="U0SAM")
        other = User("slack:T0:U0ZOE", directory_id="U0ZOE")
        assert await access.matches(vera, "marketing_validator")
        assert not await access.matches(vera, "conformite")
        assert await access.matches(sam, "conformite") and await access.may(sam, "approve")
        assert not await access.matches(other, "conformite")
        assert not await access.may(other, "approve")
        assert "conformite" in await access.recipients(sam)
        calls = entra.graph_calls()
        assert calls and calls[0].body == {"groupIds": [VALIDATORS]}


async def test_the_deprecated_rules_file_groups_still_apply_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(data_dir=tmp_path / "data", _env_file=None)
    write_rules(settings.data_dir, {"conformite": ["web:cora"]})
    with caplog.at_level(logging.WARNING, logger="skills.campaigns.access"):
        app = build_app(settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    assert "deprecated" in caplog.text and "campaigns:" in caplog.text
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        _campaign_id, submitted = await _submitted(client, reviewers="conformite")
        approved = await press(client, button(submitted, "campaigns:decide", "approve"), "cora")
        assert "approuvée" in approved["text"]
    finally:
        await client.close()


def test_the_policy_wins_over_the_rules_file_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from skills.campaigns.access import access_rules
    from skills.campaigns.rules import load_rules

    data = tmp_path / "data"
    write_rules(data, {"conformite": ["web:old"]})
    with caplog.at_level(logging.WARNING, logger="skills.campaigns.access"):
        rules = access_rules(CampaignPolicy.model_validate(STRICT),
                             load_rules(data / "campaigns.yaml"))
    assert rules.source == "policy" and rules.roles["conformite"][0] == "web:cora"
    assert "ignored" in caplog.text


async def test_acting_on_an_erased_reviewer_slot_is_refused_politely(
        campaign_settings: Settings) -> None:
    app = build_app(campaign_settings, knowledge=FakeSearch())  # type: ignore[arg-type]
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        campaign_id, submitted = await _submitted(client, reviewers="web:claire, conformite")
        await app[RUNTIME].store.purge(user_id="web:claire")
        approve = button(submitted, "campaigns:decide", "approve")
        first = await press(client, approve, "cora")
        assert "personne effacée : en attente" in first["text"]
        again = await press(client, approve, "cora")
        assert again["kind"] == "error" and "personne ne peut décider" in again["text"]
        shown = await say(client, f"/almia campagne voir {campaign_id[:8]}", "aline")
        facts = str(shown["cards"][0]["facts"])
        assert "personne effacée" in facts and "erased" not in facts
        colleague = await press(client, approve, "carl")  # same compliance slot, decided
        assert "personne ne peut décider" in colleague["text"]
    finally:
        await client.close()


async def test_an_unreadable_directory_grants_no_campaign_role() -> None:
    async with FakeEntra(members={VERA: {VALIDATORS}}, graph_status=503) as entra:
        source = EntraGroups(tenant_id=TENANT, client_id=CLIENT_ID,
                             credential=CLIENT_SECRET, group_roles={},
                             graph_url=entra.graph_url,
                             http_client=LoopbackHttpClient(entra.url))
        resolver = RoleResolver({}, source)
        vera = User(f"teams:{VERA}", directory_id=VERA)
        assert await resolver.groups_of(vera, [f"entra-group:{VALIDATORS}"]) == frozenset()
        assert await RoleResolver({}).groups_of(vera, [f"entra-group:{VALIDATORS}"]) == \
            frozenset()

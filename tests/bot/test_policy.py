"""The policy file: validation names the bad key; env references; skill coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy import DataClass, PolicyError, load_policy
from bot.settings import Settings


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_shipped_policy_is_valid(settings: Settings) -> None:
    policy = load_policy(settings.resolved_policy_file, {})
    assert [entry.alias for entry in policy.approved("qa", "answer")] == ["extractive"]
    assert policy.model("extractive").data_clearance is DataClass.SECRET


def test_unknown_alias_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, """
models: [{alias: extractive, provider: extractive, hosting: internal, clearance: secret}]
skills: {qa: {roles: {answer: [gpt-9]}}}
""")
    with pytest.raises(PolicyError, match=r"skills\.qa\.roles\.answer: unknown model alias gpt-9"):
        load_policy(path, {})


def test_bad_clearance_and_missing_model_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, """
models:
  - {alias: a, model: openai/x, hosting: external, clearance: top-secret}
  - {alias: b, hosting: external, clearance: public}
skills: {}
""")
    with pytest.raises(PolicyError) as raised:
        load_policy(path, {})
    assert "models.0" in str(raised.value) and "top-secret" in str(raised.value)
    assert "models.1" in str(raised.value) and "needs `model`" in str(raised.value)


def test_environment_references_are_resolved_and_required(tmp_path: Path) -> None:
    path = _write(tmp_path, """
models:
  - {alias: m, model: mistral/mistral-small, api_key: os.environ/MISTRAL_KEY,
     hosting: external, clearance: internal}
skills: {}
""")
    policy = load_policy(path, {"MISTRAL_KEY": "k-123"})
    key = policy.model("m").api_key
    assert key is not None and key.get_secret_value() == "k-123"
    assert "k-123" not in repr(policy)
    with pytest.raises(PolicyError, match="MISTRAL_KEY is not set"):
        load_policy(path, {})


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="Cannot read"):
        load_policy(tmp_path / "missing.yaml", {})
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(_write(tmp_path, "models: [unclosed"), {})


def test_check_skills_requires_every_role(settings: Settings) -> None:
    policy = load_policy(settings.resolved_policy_file, {})
    with pytest.raises(PolicyError, match=r"skills\.qa\.roles\.rerank: missing"):
        policy.check_skills({"qa": ("answer", "rerank"), "call_summary": ("summarise",),
                             "help": ()})
    with pytest.raises(PolicyError, match=r"skills\.help: no such skill"):
        policy.check_skills({"qa": ("answer",), "call_summary": ("summarise",)})

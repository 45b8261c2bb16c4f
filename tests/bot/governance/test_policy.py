"""The policy file: validation names the bad key; env references; skill coverage."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from bot.gateway.llm import ChatTurn, CompletionRequest, ModelGateway, default_providers
from bot.governance.policy import DataClass, ModelEntry, Policy, PolicyError, load_policy
from bot.settings import Settings
from tests.fakes.model_server import FakeModelServer

_ROOT = Path(__file__).resolve().parents[3]


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


def test_api_version_is_a_model_field_for_litellm_models(tmp_path: Path) -> None:
    path = _write(tmp_path, """
models:
  - {alias: quoted, model: azure/gpt-4o, api_base: "https://r.openai.azure.com",
     api_version: "2024-10-21", hosting: external, clearance: internal}
  - {alias: unquoted, model: azure/gpt-4o, api_version: 2024-10-21,
     hosting: external, clearance: internal}
skills: {}
""")
    policy = load_policy(path, {})
    assert policy.model("quoted").api_version == "2024-10-21"
    assert policy.model("unquoted").api_version == "2024-10-21"  # a YAML date, taken as written
    path = _write(tmp_path, """
models:
  - {alias: m, provider: openai-compatible, model: llama, api_base: "http://llm:8000/v1",
     api_version: "2024-10-21", hosting: internal, clearance: internal}
skills: {}
""")
    with pytest.raises(PolicyError, match=r"models\.0.*api_version"):
        load_policy(path, {})


@dataclass
class FakeAzureOpenAI(FakeModelServer):
    """The fake model at Azure OpenAI's path; records each request's ``api-version``."""

    versions: list[str | None] = field(default_factory=list)

    def routes(self, app: web.Application) -> None:
        """Azure's deployment-scoped chat-completions endpoint."""
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._azure)

    async def _azure(self, request: web.Request) -> web.StreamResponse:
        self.versions.append(request.query.get("api-version"))
        return await self._completions(request)


async def test_api_version_reaches_azure_through_litellm(tmp_path: Path) -> None:
    async with FakeAzureOpenAI() as azure:
        path = _write(tmp_path, f"""
models:
  - {{alias: azure, model: azure/gpt-4o-deployment, api_base: "{azure.base_url}",
     api_version: 2024-10-21, api_key: test-not-secret, hosting: internal,
     clearance: internal, timeout_seconds: 30}}
skills: {{qa: {{roles: {{answer: [azure]}}}}}}
""")
        policy = load_policy(path, {})
        gateway = ModelGateway(policy, default_providers(policy))
        result = await gateway.complete(CompletionRequest(
            skill="qa", role="answer", messages=(ChatTurn("user", "Quel délai ?"),),
            question="Quel délai ?", passages=(), data_class=DataClass.INTERNAL))
    assert result.alias == "azure" and "Réponse du modèle factice" in result.text
    assert azure.versions == ["2024-10-21"]
    assert azure.headers[0].get("api-key") == "test-not-secret"


def _readme_section(title: str) -> str:
    readme = (_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n## {title}\n")
    return readme[start:readme.index("\n## ", start + 1)]


def _commented_examples(policy_text: str) -> str:
    """The default policy's commented model examples, uncommented."""
    block = policy_text[policy_text.index("  # Examples"):policy_text.index("\nskills:")]
    lines = [line for line in block.splitlines() if re.match(r"^  #( -|   ) ?\w+:", line)]
    return "models:\n" + "\n".join(line.replace("  # ", "  ", 1) for line in lines) + "\n"


def test_default_policy_examples_load_and_match_the_readme(tmp_path: Path) -> None:
    environ = {"MISTRAL_API_KEY": "m", "INTERNAL_LLM_KEY": "i", "AZURE_API_KEY": "a"}
    examples = yaml.safe_load(_commented_examples(
        (_ROOT / "bot" / "default_policy.yaml").read_text(encoding="utf-8")))
    readme = _readme_section("Plugging in a model")
    start = readme.index("```yaml\n") + len("```yaml\n")
    readme_models = load_policy(_write(tmp_path, readme[start:readme.index("```", start)]),
                                environ)
    examples["skills"] = {}
    loaded = load_policy(_write(tmp_path, yaml.safe_dump(examples)), environ)
    assert [entry.alias for entry in loaded.models] == ["mistral-large", "llama-interne",
                                                        "gpt-4o-azure"]
    for entry in loaded.models:
        assert entry == readme_models.model(entry.alias), entry.alias
    assert loaded.model("llama-interne").provider == "openai-compatible"


def test_readme_names_every_model_field() -> None:
    readme = _readme_section("Plugging in a model")
    fields = readme[readme.index("Model fields:"):]
    fields = fields[:fields.index("\n\n")]
    missing = [name for name in ModelEntry.model_fields if f"`{name}`" not in fields]
    assert missing == []


def test_campaigns_section_is_validated_with_named_errors(tmp_path: Path) -> None:
    head = "models: [{alias: x, provider: extractive, hosting: internal, clearance: secret}]\n" \
           "skills: {}\n"
    path = _write(tmp_path, head + """campaigns:
  roles:
    conformite: {members: [web:cora, cora]}
""")
    with pytest.raises(PolicyError, match=r"campaigns\.roles\.conformite\.members: .*not a "
                                          r"member: cora"):
        load_policy(path, {})
    path = _write(tmp_path, head + """campaigns:
  roles: {conformite: {members: [manager]}}
  permissions: {approve: [conformite, validateurs], publish: [admin]}
""")
    with pytest.raises(PolicyError) as raised:
        load_policy(path, {})
    assert "campaigns.permissions.publish" in str(raised.value)
    path = _write(tmp_path, head + """campaigns:
  roles: {conformite: {members: [manager]}}
  permissions: {approve: [conformite, validateurs]}
""")
    with pytest.raises(PolicyError, match=r"permissions\.approve: unknown validateurs"):
        load_policy(path, {})


def test_default_policy_campaigns_example_loads() -> None:
    text = (_ROOT / "bot" / "default_policy.yaml").read_text(encoding="utf-8")
    block = text[text.index("# campaigns:"):]
    example = yaml.safe_load("\n".join(line.removeprefix("# ") for line in block.splitlines()))
    policy = load_policy(_ROOT / "bot" / "default_policy.yaml", {})
    assert policy.campaigns is None  # shipped commented: everyone, or the rules file's groups
    loaded = Policy.model_validate({**yaml.safe_load(text), **example})
    assert loaded.campaigns is not None
    assert loaded.campaigns.permissions.approve == ("marketing_validator", "conformite")
    assert loaded.campaigns.directory_groups() == {
        "slack-group:S0MARKETING", "entra-group:00000000-0000-0000-0000-000000000001"}

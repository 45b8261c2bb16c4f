"""Operations settings (``ALMIA_OPS__…``): metrics, probes, shutdown, logs, processes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class VaultSettings(BaseModel):
    """HashiCorp Vault transit engine holding the key-encryption key (the KEK never leaves it).

    The token comes from ``token`` or, better, from ``token_file`` (a mounted secret, read at
    each start so that it can be rotated by the platform).
    """

    url: str | None = None  # e.g. https://vault.example.fr:8200 ; unset: local key file
    key_name: str = Field(default="almia", pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    mount: str = Field(default="transit", pattern=r"^[A-Za-z0-9_./-]{1,100}$")
    token: SecretStr | None = None
    token_file: Path | None = None
    namespace: str | None = None  # Vault Enterprise namespace
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=5.0, gt=0)


class OpsSettings(BaseModel):
    """How a replica exposes itself to the platform that runs it."""

    # ``/metrics`` (Prometheus); needs ``metrics_token`` (else ``web.api_token``) as a
    # bearer token; without either, only loopback clients are served
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None
    # set by ``almia serve --workers N`` for its processes: where they write their samples
    metrics_dir: Path | None = None
    # seconds /readyz answers 503 after SIGTERM before the listener closes (load balancers
    # and Kubernetes endpoints stop sending new requests meanwhile)
    drain_seconds: float = Field(default=5.0, ge=0, le=300)
    # in-flight requests and answer streams are given this long to finish, then cut
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # JSON lines on stderr; default: in production (``ALMIA_PRODUCTION``) only
    log_format: Literal["auto", "json", "text"] = "auto"
    # processes serving HTTP in this replica (SO_REUSEPORT); ``almia serve --workers``
    workers: int = Field(default=1, ge=1, le=64)
    # OpenTelemetry traces (needs the ``otel`` extra and an OTLP endpoint)
    tracing: bool = False
    otlp_endpoint: str | None = None
    vault: VaultSettings = VaultSettings()

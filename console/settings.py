"""Settings of the governance console (``ALMIA_CONSOLE__…``), read by :mod:`bot.settings`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from bot.governance.app_credential import AppCertificate, CertificateSettings

ConsoleRoleName = Literal["admin", "dpo", "auditor", "champion"]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class OidcSettings(CertificateSettings):
    """Sign-in with Entra ID (OpenID Connect, authorization code flow with PKCE, via MSAL)."""

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None  # or a certificate (CertificateSettings)
    authority_host: str = "https://login.microsoftonline.com"
    # a complete authority for private or sovereign clouds (https://login.example/<tenant>)
    authority: str | None = None
    # the callback Entra ID redirects to: https://almia.example.com/console/auth/callback
    redirect_url: str | None = None
    ca_bundle: Path | None = None  # CA certificates to trust for a private login service
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def credential(self) -> SecretStr | AppCertificate | None:
        """The client secret or the certificate the sign-in proves the app with."""
        return self.client_secret or self.certificate

    @property
    def enabled(self) -> bool:
        """On once a client, an authority (or tenant) and a callback URL are configured."""
        return bool(self.client_id and self.redirect_url and (self.authority or self.tenant_id))

    @property
    def resolved_authority(self) -> str:
        """The authority MSAL talks to."""
        if self.authority:
            return self.authority.rstrip("/")
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"


class ConsoleSettings(BaseModel):
    """The web console of the AI governance committee, under ``/console``."""

    enabled: bool = True
    idle_minutes: int = Field(default=30, ge=1, le=720)  # signed out after this long idle
    session_hours: int = Field(default=10, ge=1, le=24)  # signed out after this long anyway
    link_minutes: int = Field(default=15, ge=1, le=1440)  # a one-time admin link's validity
    secure_cookies: bool = True  # False only for a plain-HTTP loopback test server
    min_group_size: int = Field(default=5, ge=1)  # no chart bar counts fewer people
    summary_seconds: float = Field(default=60.0, gt=0)  # how often the daily summaries catch up
    # departments from Entra ID (Graph permission User.Read.All), looked up again after N days
    departments: bool = True
    department_days: int = Field(default=7, ge=1)
    # the Slack custom profile field holding the department (Xf…; bot scope users.profile:read)
    slack_department_field: str | None = Field(default=None, pattern=r"^Xf[A-Z0-9]+$")
    # console roles by user id (teams:<object id>, slack:T…:U…, web:…), besides the
    # policy's admin and champion roles
    roles: dict[ConsoleRoleName, list[str]] = Field(default_factory=dict)
    # Entra group object id (the ID token's "groups" claim) → console role
    group_roles: dict[str, ConsoleRoleName] = Field(default_factory=dict)
    oidc: OidcSettings = OidcSettings()

    @field_validator("group_roles")
    @classmethod
    def _group_ids(cls, value: dict[str, ConsoleRoleName]) -> dict[str, ConsoleRoleName]:
        bad = [key for key in value if not _GUID.match(key)]
        if bad:
            raise ValueError(f"group_roles: not a group object id: {', '.join(bad)}")
        return {key.lower(): role for key, role in value.items()}

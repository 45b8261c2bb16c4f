"""Process settings: environment (``ALMIA_`` prefix, ``__`` for nesting), ``.env``, defaults.

This is the only module that reads the environment. Everything else receives a
:class:`Settings` (or a part of it) from :func:`bot.app.build_app`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.files.settings import FileSettings
from bot.governance.app_credential import AppCredential, CertificateSettings, ManagedIdentity
from bot.governance.dlp import DlpSettings
from bot.jobs.settings import JobSettings
from bot.ops.settings import OpsSettings
from console.settings import ConsoleSettings
from knowledge import KnowledgeSettings

ENV_PREFIX = "ALMIA_"
NESTED_DELIMITER = "__"


_HOST_ENTRY = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?$"


class WebSettings(BaseModel):
    """The local web chat and its JSON endpoint."""

    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=1, le=65535)
    api_token: SecretStr | None = None  # when set, /api/* requires "Authorization: Bearer <token>"
    enabled: bool = True
    # Host header values served besides the loopback names and ``host`` (DNS-rebinding
    # defence), e.g. ["almia.example.com"]; an entry without a port matches any port
    allowed_hosts: list[Annotated[str, Field(pattern=_HOST_ENTRY)]] = Field(default_factory=list)

    def is_loopback(self) -> bool:
        """True when the server only listens on this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class SlackSettings(BaseModel):
    """A Slack workspace connection (HTTP events or Socket Mode)."""

    signing_secret: SecretStr | None = None
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None  # xapp-… for Socket Mode
    api_url: str = "https://slack.com/api/"
    socket_mode: bool = False
    # stream answers with chat.startStream/appendStream/stopStream (falls back to throttled
    # chat.update when the workspace refuses them)
    streaming: bool = False

    @property
    def missing(self) -> str | None:
        """What a partly configured Slack lacks to be on (None when on, or not asked for)."""
        if self.enabled or not (self.bot_token or self.signing_secret or self.app_token
                                or self.socket_mode):
            return None
        if self.bot_token is None:
            return "slack.bot_token (xoxb-…)"
        if self.socket_mode:
            return "slack.app_token (xapp-…, scope connections:write) for Socket Mode"
        return "slack.signing_secret (HTTP events) or slack.socket_mode with slack.app_token"

    @property
    def enabled(self) -> bool:
        """Slack is on once a bot token and a way to receive events are configured."""
        has_receiver = self.signing_secret is not None or (
            self.socket_mode and self.app_token is not None
        )
        return self.bot_token is not None and has_receiver


class TeamsSettings(CertificateSettings):
    """A Microsoft Teams (Azure Bot) connection: its password, or its certificate."""

    instead_of: ClassVar[str] = "app_password"

    app_id: str | None = None
    app_password: SecretStr | None = None
    tenant_id: str | None = None
    app_type: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = "SingleTenant"
    emulator: bool = False  # accept unauthenticated local Bot Framework Emulator traffic
    # Bot Framework endpoints for sovereign or government clouds; all four or none
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    login_url: str | None = None
    oauth_scope: str | None = None
    # proactive installation (Microsoft Graph) so review requests reach people who never wrote
    # to the bot: the app's id in the tenant's app catalog (not the manifest id), the Bot
    # Connector service URL personal chats are written to; Graph credentials: directory's
    app_catalog_id: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
    proactive_service_url: str = "https://smba.trafficmanager.net/teams/"
    # hosts (and their subdomains) Teams file download URLs may point to; nothing else is fetched
    file_hosts: list[str] = Field(default_factory=lambda: [
        "sharepoint.com", "sharepoint.us", "sharepoint.de", "sharepoint.cn",
        "sharepoint-df.com"])
    # files shared in channels, read through Microsoft Graph with the team owner's consent
    # (resource-specific: ChannelMessage.Read.Group, Files.Read.Group); Graph credentials:
    # directory's
    channel_files: bool = False

    @model_validator(mode="after")
    def _endpoints_all_or_none(self) -> TeamsSettings:
        given = [self.openid_metadata_url, self.token_issuer, self.login_url, self.oauth_scope]
        if any(given) and not all(given):
            raise ValueError("openid_metadata_url, token_issuer, login_url and oauth_scope "
                             "go together (a custom cloud needs all four)")
        return self

    @property
    def enabled(self) -> bool:
        """Teams is on with an app id, or in the explicit local emulator mode."""
        return self.app_id is not None or self.emulator


_CHARTER_FR = """Charte d'utilisation d'Almia
1. Almia est un assistant : ses réponses sont des brouillons à vérifier par vous avant tout usage ; il n'envoie jamais rien à un client.
2. N'y saisissez que les données nécessaires à votre demande. Les données personnelles et les secrets détectés sont masqués avant tout envoi à un modèle hébergé hors de l'entreprise.
3. Chaque demande est tracée (qui, quelle fonction, quel modèle, quel niveau de confidentialité, sans le contenu) pour la gouvernance et le délégué à la protection des données.
4. Les conversations sont conservées pour une durée limitée, puis supprimées.
5. Signalez toute réponse inexacte ou inappropriée avec 👎."""

_CHARTER_EN = """Almia usage charter
1. Almia is an assistant: its answers are drafts you must check before any use; it never sends anything to a customer.
2. Only enter the data your request needs. Personal data and secrets it detects are masked before any call to a model hosted outside the company.
3. Every request is logged (who, which function, which model, which confidentiality level, not the content) for governance and the data-protection officer.
4. Conversations are kept for a limited time, then deleted.
5. Report any wrong or inappropriate answer with 👎."""


class CharterSettings(BaseModel):
    """The usage charter each user accepts before any skill runs."""

    enabled: bool = True
    version: str = Field(default="2026-11", min_length=1, max_length=64)
    text_fr: str = _CHARTER_FR
    text_en: str = _CHARTER_EN


class EncryptionSettings(BaseModel):
    """Encryption at rest of conversation text and template bodies."""

    enabled: bool = True
    # the key-encryption key; default <data_dir>/keys/kek.key (created on first start)
    key_file: Path | None = None


class InboxSettings(BaseModel):
    """Slack and Teams messages kept until answered (``ALMIA_INBOX__…``): the replica
    answering holds a lease it renews every ``sweep_seconds``; another replica takes a
    message up once its lease ran out, ``max_attempts`` times at most, and tells its asker
    when it cannot (too many attempts, or older than ``max_age_minutes``)."""

    lease_seconds: float = Field(default=60.0, ge=2.0)
    sweep_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_age_minutes: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _renewed_in_time(self) -> InboxSettings:
        if self.sweep_seconds * 2 > self.lease_seconds:
            raise ValueError("sweep_seconds must be at most half of lease_seconds "
                             "(leases are renewed at each sweep)")
        return self


RoleName = Literal["employee", "champion", "manager", "admin"]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SLACK_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")


class DirectorySettings(CertificateSettings):
    """Roles granted by directory groups: Entra ID groups (Teams users), Slack user groups.

    Entra credentials default to the Teams app's (``teams.app_id``, ``app_password``,
    ``tenant_id``); the app needs the Graph application permission GroupMember.Read.All.
    """

    entra_group_roles: dict[str, RoleName] = Field(default_factory=dict)  # group object id → role
    slack_group_roles: dict[str, RoleName] = Field(default_factory=dict)  # S… user group → role
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None  # or a certificate (CertificateSettings)
    # or: client_id is an Azure user-assigned managed identity's, whose tokens the platform
    # hands out (Almia runs on Azure with that identity attached)
    managed_identity: bool = False
    authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    graph_scope: str = "https://graph.microsoft.com/.default"
    cache_ttl_seconds: float = Field(default=900.0, gt=0)
    failure_ttl_seconds: float = Field(default=60.0, gt=0)  # no lookups after a failure
    cache_size: int = Field(default=20_000, ge=1)
    timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _check_managed_identity(self) -> DirectorySettings:
        if self.managed_identity and (self.client_id is None or self.client_secret is not None
                                      or self.certificate_path is not None):
            raise ValueError("managed_identity: give client_id (the identity's client id), "
                             "and no client secret or certificate")
        return self

    @model_validator(mode="after")
    def _check_group_ids(self) -> DirectorySettings:
        bad = [key for key in self.entra_group_roles if not _GUID.match(key)]
        if bad:
            raise ValueError(f"entra_group_roles: not a group object id: {', '.join(bad)}")
        bad = [key for key in self.slack_group_roles if not _SLACK_GROUP.match(key)]
        if bad:
            raise ValueError(f"slack_group_roles: not a Slack user group id (S…): {', '.join(bad)}")
        return self


class Settings(BaseSettings):
    """Everything the process needs to start; invalid values stop start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path(".almia")
    database_url: str | None = None  # default: SQLite file in data_dir
    chroma_url: str | None = None  # default: embedded Chroma in data_dir
    redis_url: str | None = None
    policy_file: Path | None = None  # default: the policy shipped with Almia
    production: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_message_chars: int = Field(default=32_000, ge=100)
    memory_turns: int = Field(default=10, ge=0, le=100)
    skill_timeout_seconds: float = Field(default=120.0, gt=0)
    web: WebSettings = WebSettings()
    slack: SlackSettings = SlackSettings()
    teams: TeamsSettings = TeamsSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    dlp: DlpSettings = DlpSettings()
    charter: CharterSettings = CharterSettings()
    encryption: EncryptionSettings = EncryptionSettings()
    directory: DirectorySettings = DirectorySettings()
    files: FileSettings = FileSettings()
    jobs: JobSettings = JobSettings()
    inbox: InboxSettings = InboxSettings()
    ops: OpsSettings = OpsSettings()
    console: ConsoleSettings = ConsoleSettings()

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.production and self.teams.emulator:
            raise ValueError(
                "teams.emulator: the unauthenticated emulator mode is refused when production is set"
            )
        if self.directory.entra_group_roles and None in self.entra_credentials():
            raise ValueError("directory.entra_group_roles needs directory.tenant_id, client_id and "
                             "client_secret or certificate (or the Teams app's tenant_id, "
                             "app_id and password or certificate)")
        if self.teams.app_catalog_id and (self.teams.app_id is None
                                          or None in self.entra_credentials()):
            raise ValueError("teams.app_catalog_id needs teams.app_id and Graph credentials "
                             "(directory.tenant_id, client_id and client_secret or certificate, or "
                             "the Teams app's tenant_id, app_id and password or certificate)")
        if self.teams.channel_files and (self.teams.app_id is None
                                         or None in self.entra_credentials()):
            raise ValueError("teams.channel_files needs teams.app_id and Graph credentials "
                             "(directory.tenant_id, client_id and client_secret or certificate, or "
                             "the Teams app's tenant_id, app_id and password or certificate)")
        if self.directory.slack_group_roles and self.slack.bot_token is None:
            raise ValueError("directory.slack_group_roles needs slack.bot_token")
        if self.jobs.engine == "procrastinate" and not (
                self.database_url or "").startswith("postgresql"):
            raise ValueError("jobs.engine procrastinate needs a PostgreSQL database_url")
        return self

    def entra_credentials(self) -> tuple[str | None, str | None, AppCredential | None]:
        """Tenant id, client id and credential (a secret, a certificate or a managed
        identity) for Microsoft Graph (default: the Teams app's)."""
        directory = self.directory
        tenant = directory.tenant_id or self.teams.tenant_id
        if directory.client_id is not None:  # a separate app registration: its own credential
            if directory.managed_identity:
                return tenant, directory.client_id, ManagedIdentity(directory.client_id)
            return tenant, directory.client_id, directory.client_secret or directory.certificate
        teams = self.teams
        if teams.app_type == "UserAssignedMSI" and teams.app_id is not None:
            return tenant, teams.app_id, ManagedIdentity(teams.app_id)  # the bot's own identity
        return tenant, teams.app_id, teams.app_password or teams.certificate

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL actually used."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'almia.db').resolve()}"

    @property
    def resolved_policy_file(self) -> Path:
        """The policy file actually used."""
        if self.policy_file is not None:
            return self.policy_file
        return Path(__file__).with_name("default_policy.yaml")


class SettingsError(Exception):
    """Settings could not be loaded; the message names each bad key."""


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            key = ".".join(str(part) for part in detail["loc"]) or "(settings)"
            env_name = ENV_PREFIX + NESTED_DELIMITER.join(
                str(part) for part in detail["loc"]
            ).upper()
            problems.append(f"  {key} ({env_name}): {detail['msg']}")
        raise SettingsError("Invalid settings:\n" + "\n".join(problems)) from None


def setting_sources(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """For each leaf setting, where its value came from: environment, .env file, or default."""
    from dotenv import dotenv_values

    env = dict(os.environ if environ is None else environ)
    env_file = settings.model_config.get("env_file")
    dotenv: dict[str, str | None] = {}
    if isinstance(env_file, str) and Path(env_file).is_file():
        dotenv = dotenv_values(env_file)
    sources: dict[str, str] = {}

    def walk(model: BaseModel, prefix: tuple[str, ...]) -> None:
        for name, value in model:
            path = (*prefix, name)
            if isinstance(value, BaseModel):
                walk(value, path)
                continue
            env_name = ENV_PREFIX + NESTED_DELIMITER.join(path).upper()
            parent_env = ENV_PREFIX + path[0].upper() if len(path) > 1 else None
            if env_name in env or (parent_env and parent_env in env):
                sources[".".join(path)] = f"environment ({env_name})"
            elif env_name in dotenv:
                sources[".".join(path)] = f".env ({env_name})"
            else:
                sources[".".join(path)] = "default"

    walk(settings, ())
    return sources


def process_environment() -> dict[str, str]:
    """A copy of the process environment, for resolving ``os.environ/NAME`` references."""
    return dict(os.environ)

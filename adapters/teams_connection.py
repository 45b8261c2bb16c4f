"""Bot Framework authentication for the Teams adapter.

Endpoints of the public cloud or a sovereign one, the outbound credentials of each app
type (secret, certificate, managed identity, MSAL without instance discovery in a custom
cloud, or a token source in tests) and connector clients cached per service URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AppCredentials,
    CertificateServiceClientCredentialsFactory,
    ConnectorFactory,
    ManagedIdentityServiceClientCredentialsFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)

from adapters.teams_auth import ClientCredential, CustomCloudCredentialsFactory
from bot.settings import TeamsSettings


@dataclass(frozen=True, slots=True)
class TeamsEndpoints:
    """Bot Framework endpoints; all are needed once one is overridden (tests, other clouds)."""

    openid_metadata_url: str
    emulator_openid_metadata_url: str
    token_issuer: str
    login_url: str
    oauth_scope: str = "https://api.botframework.com"


class _Configuration:
    """The attribute bag ``ConfigurationBotFrameworkAuthentication`` reads."""

    def __init__(self, endpoints: TeamsEndpoints | None) -> None:
        if endpoints is not None:
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = endpoints.openid_metadata_url
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = endpoints.emulator_openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = endpoints.token_issuer
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = endpoints.login_url
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = endpoints.oauth_scope
            self.VALIDATE_AUTHORITY = endpoints.login_url.startswith("https://")


class _CachedConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """Reuses one connector client per (service URL, audience).

    botbuilder builds a new client (≈10 ms of CPU, never closed) for every send; the
    client's credentials refresh their own tokens, so one per endpoint is enough.
    """

    def __init__(self, inner: Any, cache: dict[tuple[str, str | None], Any]) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
        return client


class CachingAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """Bot Framework authentication whose connector factories share cached clients."""

    def __init__(self, configuration: Any, credentials_factory: Any) -> None:
        super().__init__(configuration, credentials_factory=credentials_factory)
        self._clients: dict[tuple[str, str | None], Any] = {}

    async def close_clients(self) -> None:
        """Close the cached connector clients' HTTP sessions."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.__aexit__(None, None, None)

    async def authenticate_request(self, activity: Activity, auth_header: str | None) -> Any:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _CachedConnectorFactory(result.connector_factory,
                                                               self._clients)
        return result

    def create_connector_factory(self, claims_identity: Any) -> Any:
        return _CachedConnectorFactory(super().create_connector_factory(claims_identity),
                                       self._clients)


class _StaticTokenCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(self, app_id: str, token: Callable[[], str]) -> None:
        super().__init__(app_id=app_id)
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token()


class _StaticTokenCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Outbound credentials from a token source (tests, or a token broker): no MSAL."""

    def __init__(self, app_id: str, token: Callable[[], str]) -> None:
        self._app_id = app_id
        self._token = token

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self._app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> AppCredentials:
        return _StaticTokenCredentials(self._app_id, self._token)


def configured_endpoints(settings: TeamsSettings) -> TeamsEndpoints | None:
    """Custom cloud endpoints from the settings (validated as all-or-none)."""
    if not (settings.openid_metadata_url and settings.token_issuer and settings.login_url
            and settings.oauth_scope):
        return None
    return TeamsEndpoints(settings.openid_metadata_url, settings.openid_metadata_url,
                          settings.token_issuer, settings.login_url, settings.oauth_scope)


def build_authentication(settings: TeamsSettings, endpoints: TeamsEndpoints | None,
                         outbound_token: Callable[[], str] | None,
                         login_verify: bool | str) -> CachingAuthentication:
    """Inbound validation against ``endpoints`` (None: the public cloud) and outbound
    credentials for the app's type."""
    return CachingAuthentication(_Configuration(endpoints),
                                 _credentials(settings, outbound_token, endpoints, login_verify))


def _credentials(settings: TeamsSettings, outbound_token: Callable[[], str] | None,
                 endpoints: TeamsEndpoints | None, login_verify: bool | str) -> Any:
    """Outbound credentials; in a custom cloud, MSAL without instance discovery."""
    app_id = settings.app_id
    if app_id is None:  # explicit emulator mode: authentication disabled
        return PasswordServiceClientCredentialFactory(None, None)
    if outbound_token is not None:
        return _StaticTokenCredentialsFactory(app_id, outbound_token)
    tenant = settings.tenant_id if settings.app_type == "SingleTenant" else None
    if settings.app_type == "UserAssignedMSI":
        return ManagedIdentityServiceClientCredentialsFactory(app_id)
    if endpoints is not None:
        return CustomCloudCredentialsFactory(app_id, _client_credential(settings),
                                             tenant_id=tenant, verify=login_verify)
    if settings.certificate_path is not None:
        private_key = settings.certificate_path.read_text(encoding="utf-8")
        return CertificateServiceClientCredentialsFactory(
            settings.certificate_thumbprint, private_key, app_id, tenant_id=tenant
        )
    password = settings.app_password.get_secret_value() if settings.app_password else None
    return PasswordServiceClientCredentialFactory(app_id, password, tenant)


def _client_credential(settings: TeamsSettings) -> ClientCredential:
    """The app's secret, or its certificate in MSAL's form."""
    if settings.certificate_path is not None:
        return {"private_key": settings.certificate_path.read_text(encoding="utf-8"),
                "thumbprint": settings.certificate_thumbprint or ""}
    return settings.app_password.get_secret_value() if settings.app_password else ""

"""Outbound Bot Framework tokens in a private or sovereign cloud: MSAL built by Almia.

botbuilder builds MSAL itself with its defaults: for a login host MSAL does not know,
MSAL first asks ``login.microsoftonline.com`` to validate the authority (instance
discovery), which a private cloud cannot reach, and botbuilder never passes the
validation setting on. So no reply was ever delivered. Here MSAL is created for the
configured login URL with instance discovery off: it reads that authority's own
OpenID configuration and asks its token endpoint for a client-credentials token.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import msal
import requests
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

# a client secret, or MSAL's certificate form {"private_key": PEM, "thumbprint": hex}
ClientCredential = str | dict[str, str]


class _LoginHttpClient:
    """MSAL's HTTP client for the login service, with the TLS trust and timeout given here.

    requests lets ``REQUESTS_CA_BUNDLE`` override a session's own ``verify``; passing it
    with each request keeps the bundle Almia was given.
    """

    def __init__(self, verify: bool | str, timeout: float) -> None:
        self._verify = verify
        self._timeout = timeout
        self._session = requests.Session()
        self._session.mount("https://", HTTPAdapter(max_retries=1))

    def get(self, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        return self._session.get(url, *args, **self._options(kwargs))

    def post(self, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        return self._session.post(url, *args, **self._options(kwargs))

    def close(self) -> None:
        self._session.close()

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs.setdefault("timeout", self._timeout)
        if self._verify is not True:
            kwargs["verify"] = self._verify
        return kwargs


class CustomCloudCredentials(AppCredentials):  # type: ignore[misc]
    """Tokens for one (authority, scope) from MSAL without instance discovery."""

    def __init__(self, app_id: str, credential: ClientCredential, authority: str,
                 oauth_scope: str, *, verify: bool | str, timeout: float) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self.oauth_endpoint = authority
        self._credential = credential
        self._verify = verify
        self._timeout = timeout
        self._application: Any = None

    def _msal(self) -> Any:
        if self._application is None:  # reads the authority's OpenID configuration
            self._application = msal.ConfidentialClientApplication(
                self.microsoft_app_id, client_credential=self._credential,
                authority=self.oauth_endpoint, instance_discovery=False,
                validate_authority=False,
                http_client=_LoginHttpClient(self._verify, self._timeout))
        return self._application

    def get_access_token(self, force_refresh: bool = False) -> str:
        """A cached token, or a new one from the authority's token endpoint."""
        scope = str(self.oauth_scope)
        if not scope.endswith("/.default"):
            scope = f"{scope.rstrip('/')}/.default"
        result = self._msal().acquire_token_for_client(scopes=[scope])
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str):
            error = result.get("error") if isinstance(result, dict) else None
            log.error("teams: %s refused a token (%s)", self.oauth_endpoint, error or "no answer")
            raise PermissionError(f"no Bot Framework token from {self.oauth_endpoint}")
        return token


class CustomCloudCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Credentials for the Bot Framework authentication of a custom cloud.

    ``verify`` is the TLS check of the login service (``True``: the default trust, which
    honours ``REQUESTS_CA_BUNDLE``; or a CA bundle path). One credentials object per
    (scope, authority) keeps MSAL's token cache across sends.
    """

    def __init__(self, app_id: str, credential: ClientCredential, *,
                 tenant_id: str | None = None, verify: bool | str = True,
                 timeout: float = 10.0) -> None:
        self._app_id = app_id
        self._credential = credential
        self._tenant_id = tenant_id
        self._verify = verify
        self._timeout = timeout
        self._credentials: dict[tuple[str, str], CustomCloudCredentials] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self._app_id

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> CustomCloudCredentials:
        if app_id != self._app_id:
            raise PermissionError("credentials asked for another app id")
        authority = login_authority(login_endpoint, self._tenant_id)
        key = (oauth_scope, authority)
        credentials = self._credentials.get(key)
        if credentials is None:
            credentials = CustomCloudCredentials(
                self._app_id, self._credential, authority, oauth_scope,
                verify=self._verify, timeout=self._timeout)
            self._credentials[key] = credentials
        return credentials


def login_authority(login_url: str, tenant_id: str | None) -> str:
    """The MSAL authority: the login URL, with the tenant appended when it has no path."""
    url = login_url.rstrip("/")
    if not urlsplit(url).path.strip("/") and tenant_id:
        return f"{url}/{tenant_id}"
    return url

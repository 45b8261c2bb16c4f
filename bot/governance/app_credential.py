"""How an Entra ID app proves itself: a client secret, a certificate, or (for Graph calls)
an Azure managed identity.

A certificate (its private key in a PEM file, and its SHA-1 thumbprint as the Entra portal
shows it) is what many tenants require: MSAL signs a short-lived client assertion with the
key, so no secret crosses the wire or sits in the environment. Used by the Graph token
(directory, channel files, app installation, console departments) and the console sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, SecretStr, model_validator

_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")


@dataclass(frozen=True)
class AppCertificate:
    """A certificate credential: the PEM file holding its private key, and its thumbprint."""

    path: Path
    thumbprint: str


@dataclass(frozen=True)
class ManagedIdentity:
    """An Azure user-assigned managed identity (by its client id): the platform hands out
    its tokens (instance metadata service, App Service endpoint…), no credential is held."""

    client_id: str


AppCredential = SecretStr | AppCertificate | ManagedIdentity


def certificate_of(path: Path | None, thumbprint: str | None) -> AppCertificate | None:
    """The certificate the settings give (checked by :func:`checked_thumbprint`), if any."""
    return AppCertificate(path, thumbprint or "") if path is not None else None


def checked_thumbprint(path: Path | None, thumbprint: str | None, secret: SecretStr | None,
                       *, must_exist: bool) -> str | None:
    """The thumbprint without separators (« AB:CD… » → « ABCD… »), None without a
    certificate; ``ValueError`` for half a certificate, a secret beside it, a thumbprint that
    is not 40 hexadecimal digits or (``must_exist``) a missing file."""
    if path is None and thumbprint is None:
        return None
    if path is None or thumbprint is None:
        raise ValueError("certificate_path and certificate_thumbprint go together")
    if secret is not None:
        raise ValueError("give a client secret or a certificate, not both")
    bare = re.sub(r"[\s:]", "", thumbprint)
    if not _THUMBPRINT.match(bare):
        raise ValueError("certificate_thumbprint: the certificate's SHA-1 thumbprint, "
                         "40 hexadecimal digits")
    if must_exist and not path.is_file():
        raise ValueError("certificate_path: no such file")
    return bare


class CertificateSettings(BaseModel):
    """The settings of an app that may prove itself with a certificate instead of the
    secret held in its field ``instead_of``; checked as :func:`checked_thumbprint` says
    (the file must exist at start-up when ``file_must_exist``)."""

    # a PEM file with the certificate's private key, and its SHA-1 thumbprint
    certificate_path: Path | None = None
    certificate_thumbprint: str | None = None
    instead_of: ClassVar[str] = "client_secret"
    file_must_exist: ClassVar[bool] = True

    @model_validator(mode="after")
    def _check_certificate(self) -> Self:
        secret = getattr(self, self.instead_of)
        thumbprint = checked_thumbprint(self.certificate_path, self.certificate_thumbprint,
                                        secret, must_exist=self.file_must_exist)
        if thumbprint is not None:
            self.certificate_thumbprint = thumbprint
        return self

    @property
    def certificate(self) -> AppCertificate | None:
        """The certificate these settings give, if any."""
        return certificate_of(self.certificate_path, self.certificate_thumbprint)


def msal_credential(credential: str | SecretStr | AppCertificate) -> str | dict[str, str]:
    """A secret as MSAL takes it, or a certificate in MSAL's form (its PEM file read now:
    ``OSError`` when it cannot be)."""
    if isinstance(credential, AppCertificate):
        return {"private_key": credential.path.read_text(encoding="utf-8"),
                "thumbprint": credential.thumbprint}
    return credential.get_secret_value() if isinstance(credential, SecretStr) else credential

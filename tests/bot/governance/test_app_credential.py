"""An app registration's credential: a secret, or a certificate in MSAL's form."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.governance.app_credential import (
    AppCertificate,
    certificate_of,
    checked_thumbprint,
    msal_credential,
)


def test_a_certificate_becomes_msals_private_key_and_thumbprint(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    assert msal_credential(AppCertificate(pem, "AB" * 20)) == {
        "private_key": pem.read_text(), "thumbprint": "AB" * 20}
    assert msal_credential(SecretStr("s3cret")) == "s3cret"
    assert msal_credential("plain") == "plain"
    with pytest.raises(OSError):
        msal_credential(AppCertificate(tmp_path / "gone.pem", "AB" * 20))


def test_a_thumbprint_is_checked_and_its_separators_dropped(tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    pem.touch()
    assert checked_thumbprint(None, None, SecretStr("s"), must_exist=True) is None
    spaced = " ".join(["ab:cd"] * 10)
    assert checked_thumbprint(pem, spaced, None, must_exist=True) == "abcd" * 10
    assert checked_thumbprint(tmp_path / "later.pem", "ab" * 20, None, must_exist=False)
    assert certificate_of(pem, "ab" * 20) == AppCertificate(pem, "ab" * 20)
    assert certificate_of(None, None) is None
    for path, thumbprint, secret, message in [
        (pem, None, None, "go together"), (None, "ab" * 20, None, "go together"),
        (pem, "ab" * 20, SecretStr("s"), "not both"), (pem, "xyz", None, "40 hexadecimal"),
        (tmp_path / "gone.pem", "ab" * 20, None, "no such file"),
    ]:
        with pytest.raises(ValueError, match=message):
            checked_thumbprint(path, thumbprint, secret, must_exist=True)

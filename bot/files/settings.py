"""Limits on files people send and artefacts Almia returns (``ALMIA_FILES__…``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class FileSettings(BaseModel):
    """Bounds applied to every file before anything of it is stored.

    Sizes are in megabytes. A ZIP (and an Office file, which is a ZIP inside) is refused when
    it has more entries than ``zip_max_entries``, would expand past ``zip_max_total_mb``, or
    expands one entry more than ``zip_max_ratio`` times (the signature of a zip bomb).
    """

    enabled: bool = True
    max_file_mb: int = Field(default=50, ge=1, le=2048)
    max_files: int = Field(default=10, ge=1, le=200)
    zip_max_entries: int = Field(default=1000, ge=1)
    zip_max_total_mb: int = Field(default=2048, ge=1)
    zip_max_ratio: int = Field(default=200, ge=10)
    retention_days: int = Field(default=30, ge=1)  # uploads and artefacts, then erased
    link_ttl_minutes: int = Field(default=60 * 24, ge=5)  # signed download links
    # Secret that signs download links; generated in the data dir when unset.
    link_secret: SecretStr | None = None
    # Public base URL of this deployment for links posted in Teams and Slack
    # (e.g. https://almia.example.fr); the web chat uses relative links.
    public_url: str | None = None

    @property
    def max_bytes(self) -> int:
        """``max_file_mb`` in bytes."""
        return self.max_file_mb * 1_048_576

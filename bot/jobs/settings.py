"""How jobs run (``ALMIA_JOBS__…``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class JobSettings(BaseModel):
    """The job engine and its bounds.

    ``engine``: ``inprocess`` (default: jobs run inside ``almia serve``, state in the store,
    resumed at start-up) or ``procrastinate`` (a PostgreSQL queue; ``almia worker`` processes
    on any number of machines run the jobs; needs a PostgreSQL ``database_url``).
    """

    engine: Literal["inprocess", "procrastinate"] = "inprocess"
    concurrency: int = Field(default=2, ge=1, le=64)  # jobs at once per process
    lease_seconds: float = Field(default=30.0, ge=2.0)  # a silent worker's job is retaken after
    timeout_minutes: float = Field(default=60.0, gt=0)  # per attempt
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_active_per_user: int = Field(default=3, ge=1)
    max_active_per_skill: int = Field(default=20, ge=1)
    progress_interval_seconds: float = Field(default=3.0, ge=0.0)  # channel updates at most
    sweep_seconds: float = Field(default=10.0, gt=0)  # look for orphaned or undelivered jobs
    # on SIGTERM a worker lets running jobs finish this long, then hands them back
    shutdown_grace_seconds: float = Field(default=5.0, ge=0.0)
    queue: str = "almia"
    # PostgreSQL URL of the queue when it differs from database_url (e.g. other options)
    queue_url: str | None = None

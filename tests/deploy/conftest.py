"""A failed cluster test shows the end of every replica's log (they go with the cluster)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[
        None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    tails: Callable[[], str] | None = getattr(item, "log_tails", None)
    failed = report.failed or (report.skipped and hasattr(report, "wasxfail"))
    if report.when == "call" and failed and tails is not None:
        report.sections.append(("cluster logs (last lines)", tails()))

"""Slack delivery helpers that need no workspace."""

from __future__ import annotations

from types import SimpleNamespace

from slack_sdk.errors import SlackApiError

from adapters.slack_delivery import error_code


def test_an_error_body_that_is_not_slacks_json_has_no_code() -> None:
    # a proxy's HTML page: reading its « error » must not raise inside the handler
    assert error_code(SlackApiError("refused", SimpleNamespace(data="<html>502</html>"))) is None
    refused = SlackApiError("refused", SimpleNamespace(data={"ok": False, "error": "msg_too_long"}))
    assert error_code(refused) == "msg_too_long"

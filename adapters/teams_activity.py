"""The shape of incoming Teams activities, checked before any bot logic reads them.

The body of ``POST /api/messages`` is parsed with bounds (no recursion crash, no
huge integers, bounded nesting), then the fields Almia reads are checked for their
JSON types. What is not an activity Almia can read is refused (400), never a 500.
Unknown fields are kept: the Bot Framework adds new ones over time.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Teams activities nest a dozen levels at most (Adaptive Card data inside ``value``).
MAX_DEPTH = 64


class InvalidActivity(ValueError):
    """The body is not an activity Almia can read."""


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Account(_Shape):
    id: str | None = None
    name: str | None = None
    aad_object_id: str | None = Field(default=None, alias="aadObjectId")


class _Conversation(_Shape):
    id: str
    name: str | None = None
    conversation_type: str | None = Field(default=None, alias="conversationType")
    tenant_id: str | None = Field(default=None, alias="tenantId")


class _Team(_Shape):
    id: str | None = None
    name: str | None = None
    aad_group_id: str | None = Field(default=None, alias="aadGroupId")


class _Tenant(_Shape):
    id: str | None = None


class _ChannelData(_Shape):
    team: _Team | None = None
    tenant: _Tenant | None = None


class _Activity(_Shape):
    type: str = Field(min_length=1)
    id: str | None = None
    name: str | None = None
    action: str | None = None
    text: str | None = None
    locale: str | None = None
    service_url: str = Field(alias="serviceUrl", min_length=1)
    sender: _Account | None = Field(default=None, alias="from")
    recipient: _Account | None = None
    conversation: _Conversation
    channel_data: _ChannelData | None = Field(default=None, alias="channelData")
    entities: list[dict[str, Any]] | None = None  # mentions are read defensively
    attachments: list[dict[str, Any]] | None = None
    members_added: list[_Account] | None = Field(default=None, alias="membersAdded")


def parse_body(data: bytes) -> dict[str, Any]:
    """The JSON object of a request body; :class:`InvalidActivity` for anything else."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as error:  # syntax, encoding, 4,300+ digit integers
        raise InvalidActivity(f"unreadable JSON ({type(error).__name__})") from None
    if not isinstance(body, dict):
        raise InvalidActivity("not a JSON object")
    if _depth_exceeds(body, MAX_DEPTH):
        raise InvalidActivity("nested too deeply")
    return body


def check_activity(body: dict[str, Any]) -> None:
    """Refuse an activity whose fields read by Almia have the wrong JSON types."""
    try:
        _Activity.model_validate(body)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
        raise InvalidActivity(f"invalid fields: {', '.join(fields[:5])}") from None


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether lists and objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = []
    if isinstance(value, dict | list):
        stack.append((value, 1))
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False

"""What each sealed campaign value is bound to (its encryption context), and erased slots.

Shared by the campaign store and the erasure of a person from campaigns
(:mod:`bot.store.campaign_purge`), which reseals what it edits with the same contexts.
"""

from __future__ import annotations

ERASED_SLOT_SEPARATOR = "#"  # ``erased#2``: a second erased reviewer slot of one campaign


def is_erased(entry: str, erased: str) -> bool:
    """True for ``erased`` and its numbered slots (``erased#2``…): nobody holds them."""
    return entry == erased or entry.startswith(f"{erased}{ERASED_SLOT_SEPARATOR}")


def brief_context(campaign_id: str) -> str:
    """The brief's."""
    return f"campaign:{campaign_id}:brief"


def text_context(campaign_id: str, number: int) -> str:
    """A version's text."""
    return f"campaign:{campaign_id}:v{number}"


def comment_context(campaign_id: str, version: int, slot: str) -> str:
    """A decision's comment (bound to its reviewer slot)."""
    return f"campaign:{campaign_id}:v{version}:{slot}"


def notice_context(campaign_id: str) -> str:
    """A notice's comment."""
    return f"campaign:{campaign_id}:notice"

"""The language the code's own comments are written in, so that what is added matches it."""

from __future__ import annotations

from bot.i18n import detect_locale
from bot.messages import Locale
from skills.codedoc.model import Inventory

_AT_LEAST = 3  # comments whose language is clear
_SHARE = 2 / 3  # of which this share in one language


def comment_locale(inventory: Inventory) -> Locale | None:
    """French or English when most of the existing docstrings and comment blocks that read
    clearly as one language are in it; None when there are too few or they are mixed."""
    votes: dict[Locale, int] = {"fr": 0, "en": 0}
    texts = [source.doc for source in inventory.files] + [unit.doc for unit in inventory.units]
    for text in texts:
        if not text.strip():
            continue
        guess = detect_locale(text, "fr")
        if guess == detect_locale(text, "en"):  # the default did not decide it
            votes[guess] += 1
    decided = votes["fr"] + votes["en"]
    if decided < _AT_LEAST:
        return None
    for locale in ("fr", "en"):
        if votes[locale] >= _SHARE * decided:
            return locale
    return None

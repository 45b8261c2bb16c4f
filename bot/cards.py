"""Channel-neutral cards: a title, text, facts, inputs and buttons.

A skill attaches cards to its :class:`~bot.messages.Reply`; each channel renders them
(Block Kit, Adaptive Card, web) and turns a button press into a
:class:`~bot.messages.Action` named ``skill:verb`` whose values are the button's values
plus what the person typed in the card's inputs (by input id). Nothing in a button is
trusted: the skill checks who pressed it, and on what, again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_INPUT_CHARS = 8_000
ButtonStyle = Literal["default", "primary", "danger"]


@dataclass(frozen=True, slots=True)
class CardInput:
    """A text field whose value is sent with any button of the card; with ``choices``
    ((value, title) pairs) a drop-down list instead, ``value`` the one chosen."""

    id: str
    label: str
    multiline: bool = False
    value: str = ""
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CardButton:
    """A button: the action it sends (``skill:verb``) and its fixed values."""

    label: str
    action: str
    values: Mapping[str, str] = field(default_factory=dict)
    style: ButtonStyle = "default"


@dataclass(frozen=True, slots=True)
class Card:
    """What a channel shows as one card."""

    title: str
    text: str = ""  # markdown-ish (bold, bullets); channels make it inert
    facts: tuple[tuple[str, str], ...] = ()
    inputs: tuple[CardInput, ...] = ()
    buttons: tuple[CardButton, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """JSON-ready card (web chat)."""
        return {"title": self.title, "text": self.text,
                "facts": [[label, value] for label, value in self.facts],
                "inputs": [{"id": i.id, "label": i.label, "multiline": i.multiline,
                            "value": i.value, "placeholder": i.placeholder,
                            "choices": [[value, title] for value, title in i.choices]}
                           for i in self.inputs],
                "buttons": [{"label": b.label, "action": b.action, "values": dict(b.values),
                             "style": b.style} for b in self.buttons]}


def action_values(fixed: Mapping[str, Any], typed: Mapping[str, Any]) -> dict[str, str]:
    """A button's values plus the inputs' (strings, bounded; fixed values win)."""
    values = {str(key)[:64]: str(value)[:MAX_INPUT_CHARS] for key, value in typed.items()
              if isinstance(value, str | int | float)}
    values.update({str(key)[:64]: str(value)[:MAX_INPUT_CHARS] for key, value in fixed.items()
                   if isinstance(value, str | int | float)})
    return values

"""Teams rendering without the SDK: inert text, size-bounded chunks, Adaptive Cards.

Model text is never trusted: ``<at>`` mentions, HTML and markdown links are made
inert (links become ``label (url)`` with the address visible). Everything here
returns plain JSON-ready dicts; :mod:`adapters.teams` wraps them in activities.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from bot.cards import Card, action_values
from bot.messages import Citation, Locale, Reply
from bot.skills import Skill
from bot.typography import french_spacing
from skills.templates import TemplateForm

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
FEEDBACK_ACTION = "feedback"
TEMPLATE_ACTION = "template_use"
CARD_ACTION = "almia_card"  # a bot.cards button (Action.Execute verb and data marker)
CARD_INPUT = "in:"  # + the card input's id
# Teams refuses activities above ~28 KB; keep room for the JSON envelope.
MAX_TEXT_BYTES = 20_000

_AT_TAG = re.compile(r"</?\s*at\b[^>]*>", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[([^\]\n]+)\]:\s*(\S+).*$", re.MULTILINE)
_REFERENCE_LINK = re.compile(r"\[([^\]\n]+)\]\[([^\]\n]*)\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>", re.IGNORECASE)


def neutralise_markdown(text: str) -> str:
    """Markdown links and images become visible ``label (url)``; ``<at>`` tags disappear."""
    text = _AT_TAG.sub("", text)
    text = _IMAGE.sub(lambda m: f"{m.group(1)} ({m.group(2)})".strip(), text)
    text = _LINK.sub(lambda m: _visible_link(m.group(1), m.group(2)), text)
    text = _REFERENCE_LINK.sub(lambda m: f"{m.group(1)}", text)
    text = _REFERENCE_DEFINITION.sub(lambda m: f"{m.group(1)} : {m.group(2)}", text)
    return _AUTOLINK.sub(lambda m: m.group(1), text)


def _visible_link(label: str, url: str) -> str:
    label = label.strip()
    if not label or label == url:
        return url
    return f"{label} ({url})"


def inert_text(text: str) -> str:
    """Model text safe for a Teams ``message``: no mentions, no live HTML, no hidden links."""
    return html.escape(french_spacing(neutralise_markdown(text)), quote=False)


def inert_card_text(text: str) -> str:
    """Model text safe for an Adaptive Card ``TextBlock`` (cards never render HTML)."""
    return french_spacing(neutralise_markdown(text))


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes, cut at paragraph, line or word ends."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        window = rest.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < len(window) // 2:
            cut = len(window)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def _citation_line(citation: Citation, locale: Locale) -> str:
    parts = [f"[{citation.number}] {inert_card_text(citation.title or citation.document)}"]
    if citation.section:
        parts.append(inert_card_text(citation.section))
    if citation.page is not None:
        parts.append(f"p. {citation.page}" if locale == "fr" else f"page {citation.page}")
    line = " — ".join(parts)
    if citation.url:
        line += f"\n{citation.url}"
    return line


def _feedback_actions(turn_id: str, locale: Locale) -> list[dict[str, Any]]:
    labels = ("👍 Utile", "👎 Pas utile") if locale == "fr" else ("👍 Helpful", "👎 Not helpful")
    return [
        {"type": "Action.Submit", "title": title,
         "data": {"almia": FEEDBACK_ACTION, "turn_id": turn_id, "value": value}}
        for title, value in zip(labels, (1, -1), strict=True)
    ]


def answer_card(reply: Reply, *, include_text: bool = True) -> dict[str, Any]:
    """An Adaptive Card: the answer, its numbered sources, and 👍/👎 buttons."""
    body: list[dict[str, Any]] = []
    if include_text:
        body.append({"type": "TextBlock", "text": inert_card_text(reply.text), "wrap": True})
    if reply.citations:
        body.append({"type": "TextBlock", "text": "Sources", "weight": "Bolder", "wrap": True,
                     "separator": True, "spacing": "Medium"})
        for citation in reply.citations:
            body.append({"type": "TextBlock", "text": _citation_line(citation, reply.locale),
                         "wrap": True, "isSubtle": True, "size": "Small", "spacing": "Small"})
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if reply.turn_id:
        card["actions"] = _feedback_actions(reply.turn_id, reply.locale)
    return card


def needs_card(reply: Reply) -> bool:
    """A card helps when there are sources to show or an answer to rate."""
    return bool(reply.citations) or (reply.turn_id is not None and reply.kind == "answer")


def welcome_card(skills: Sequence[Skill], team_id: str | None, locale: Locale) -> dict[str, Any]:
    """What the bot can do and, in a team, how to attach document collections."""
    fr = locale == "fr"
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
         "text": "Bonjour, je suis Almia 👋" if fr else "Hello, I am Almia 👋"},
        {"type": "TextBlock", "wrap": True,
         "text": ("Posez-moi une question, ou commencez par une commande :" if fr
                  else "Ask me a question, or start with a command:")},
        {"type": "FactSet", "facts": [
            {"title": skill.commands[0], "value": skill.description(locale)}
            for skill in skills if skill.commands
        ]},
    ]
    if team_id is not None:
        command = f"almia collections attach NOM teams:{team_id}" if fr else \
            f"almia collections attach NAME teams:{team_id}"
        body.append({"type": "TextBlock", "wrap": True, "separator": True,
                     "text": ("Pour que je réponde avec les documents de l'équipe, "
                              "un administrateur rattache ses collections :" if fr else
                              "To answer from the team's documents, an administrator "
                              "attaches its collections:")})
        body.append({"type": "TextBlock", "wrap": True, "fontType": "Monospace",
                     "text": command})
        body.append({"type": "TextBlock", "wrap": True, "isSubtle": True,
                     "text": ("Dans un canal, mentionnez-moi (@Almia) pour que je réponde." if fr
                              else "In a channel, mention me (@Almia) to get an answer.")})
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.5", "body": body}


def command_lists(skills: Sequence[Skill]) -> list[dict[str, Any]]:
    """The manifest's ``commandLists``: per scope, one command per skill (its canonical word)."""
    commands = [
        {"title": skill.commands[0][:32], "description": _shorten(skill.description("fr"), 128)}
        for skill in skills if skill.commands
    ]
    return [{"scopes": [scope], "commands": commands[:10]}
            for scope in ("personal", "team", "groupChat")]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def template_form_card(form: TemplateForm, locale: Locale) -> dict[str, Any]:
    """An input form for a template's variables; its ``Action.Execute`` sends them back."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": inert_card_text(form.prompt), "wrap": True,
         "weight": "Bolder"}]
    for variable in form.variables:
        given = form.values.get(variable.name, variable.default)
        field: dict[str, Any] = {"id": f"var:{variable.name}", "label": variable.name,
                                 "isRequired": variable.required}
        if variable.type == "choice":
            field |= {"type": "Input.ChoiceSet", "style": "compact",
                      "choices": [{"title": c, "value": c} for c in variable.choices]}
        elif variable.type == "number":
            field |= {"type": "Input.Number"}
        else:
            field |= {"type": "Input.Text", "isMultiline": True}
        if given:
            field["value"] = given
        body.append(field)
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.5", "body": body, "actions": [{
                "type": "Action.Execute", "verb": TEMPLATE_ACTION,
                "title": "Lancer le modèle" if locale == "fr" else "Run the template",
                "data": {"almia": TEMPLATE_ACTION, "name": form.name,
                         "version": form.version}}]}


def form_values(data: dict[str, Any]) -> dict[str, str]:
    """The variables of a submitted template card (inputs are merged into ``data``)."""
    return {key.removeprefix("var:"): str(value) for key, value in data.items()
            if key.startswith("var:") and value not in (None, "")}


def adaptive_card(card: Card) -> dict[str, Any]:
    """A :class:`bot.cards.Card` as an Adaptive Card: title, text, facts, inputs, buttons.

    Each button is an ``Action.Execute`` (verb ``almia_card``) whose data names the action
    and its values; Teams merges the inputs (ids ``in:<id>``) into that data."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": inert_card_text(card.title), "wrap": True,
         "weight": "Bolder", "size": "Medium"}]
    if card.text:
        body.append({"type": "TextBlock", "text": inert_card_text(card.text), "wrap": True})
    if card.facts:
        body.append({"type": "FactSet", "facts": [
            {"title": inert_card_text(label), "value": inert_card_text(value)}
            for label, value in card.facts]})
    for field in card.inputs:
        item: dict[str, Any] = {"type": "Input.Text", "id": f"{CARD_INPUT}{field.id}",
                                "label": inert_card_text(field.label),
                                "isMultiline": field.multiline}
        if field.value:
            item["value"] = field.value
        if field.placeholder:
            item["placeholder"] = field.placeholder
        if field.choices:  # a drop-down: Teams merges the chosen value like a text's
            item = {"type": "Input.ChoiceSet", "id": item["id"], "label": item["label"],
                    "style": "compact", "value": field.value,
                    "choices": [{"title": inert_card_text(title or value), "value": value}
                                for value, title in field.choices]}
        body.append(item)
    actions = []
    for button in card.buttons:
        action: dict[str, Any] = {"type": "Action.Execute", "verb": CARD_ACTION,
                                  "title": button.label,
                                  "data": {"almia": CARD_ACTION, "action": button.action,
                                           "values": dict(button.values)}}
        if button.style == "primary":
            action["style"] = "positive"
        elif button.style == "danger":
            action["style"] = "destructive"
        actions.append(action)
    card_json: dict[str, Any] = {
        "type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5", "body": body, "msteams": {"width": "Full"}}
    if actions:
        card_json["actions"] = actions
    return card_json


def card_action(data: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The action name and values of a pressed card button, with the inputs Teams merged in."""
    name, values = data.get("action"), data.get("values")
    if not isinstance(name, str) or not isinstance(values, dict):
        return None
    typed = {key.removeprefix(CARD_INPUT): value for key, value in data.items()
             if isinstance(key, str) and key.startswith(CARD_INPUT)}
    return name, action_values(values, typed)

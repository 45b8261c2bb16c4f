"""Slack rendering: safe mrkdwn, Block Kit answers within Slack's limits, Slack-only texts.

Everything coming from a model or a document is escaped (``&``, ``<``, ``>``), so that
``<!channel>``, ``<@U…>``, ``<!subteam^…>`` and ``<http…|…>`` show as plain text and never
ping anyone nor hide a link. Answers are split into sections and messages, never cut.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from bot.cards import Card, CardInput, action_values
from bot.i18n import Text, colon
from bot.messages import Citation, Locale, Reply
from bot.typography import french_spacing
from skills.templates import TemplateForm

Block = dict[str, Any]

SECTION_LIMIT = 3_000  # characters in one section's text
BLOCKS_PER_MESSAGE = 50
MESSAGE_CHAR_BUDGET = 36_000  # below Slack's 40,000 characters per message
PREVIEW_LIMIT = SECTION_LIMIT - 10  # characters of a streaming preview
PREVIEW_SOURCE_CHARS = 2 * SECTION_LIMIT  # answer characters a preview is rendered from
FEEDBACK_UP = "almia_feedback_up"
FEEDBACK_DOWN = "almia_feedback_down"
FEEDBACK_BLOCK = "almia_feedback"

TEXTS: dict[str, Text] = {
    "placeholder": Text("… _Almia réfléchit_", "… _Almia is thinking_"),
    # the assistant pane's status, shown by Slack after the app's name
    "status": Text("réfléchit…", "is thinking…"),
    "working": Text("⏳ Je prépare votre réponse…", "⏳ Preparing your answer…"),
    "files_disabled": Text("Je ne peux pas recevoir de fichiers sur ce serveur (fonction "
                           "désactivée par l'administrateur).",
                           "I cannot receive files on this server (turned off by the "
                           "administrator)."),
    "template_run": Text("Lancer", "Run"),
    "template_cancel": Text("Annuler", "Cancel"),
    "welcome": Text(
        "*Bonjour, je suis Almia*, l'assistant IA interne de l'entreprise.\n"
        "• Mentionnez-moi (@Almia) dans ce canal, ou écrivez-moi en message direct ; "
        "je réponds dans le fil, qui me sert de mémoire.\n"
        "• « /almia <question> » répond en privé ; « /almia aide » liste ce que je sais faire "
        "({commands}).\n"
        "• Mes réponses citent leurs sources et restent des brouillons à vérifier.\n"
        "*Responsables* : pour que je cherche dans les documents de votre équipe, rattachez "
        "une collection à ce canal :\n`almia collections attach NOM {space}`",
        "*Hello, I am Almia*, the company's internal AI assistant.\n"
        "• Mention me (@Almia) in this channel, or send me a direct message; I answer in the "
        "thread, which is my memory.\n"
        "• “/almia <question>” answers privately; “/almia help” lists what I can do "
        "({commands}).\n"
        "• My answers cite their sources and are drafts to check.\n"
        "*Managers*: to let me search your team's documents, attach a collection to this "
        "channel:\n`almia collections attach NAME {space}`",
    ),
    "delivery_failed": Text(
        "Désolé, je n'ai pas pu publier ma réponse complète (Slack l'a refusée). "
        "Réessayez dans un instant.",
        "Sorry, I could not post my full answer (Slack refused it). Please try again shortly.",
    ),
    "sources": Text("Sources", "Sources"),
    "page": Text("p. {page}", "p. {page}"),
    "open": Text("ouvrir", "open"),
    "useful": Text("👍 Utile", "👍 Useful"),
    "not_useful": Text("👎 Pas utile", "👎 Not useful"),
    "continued": Text("(suite {index}/{total})", "(continued {index}/{total})"),
    "assistant_title": Text("Que puis-je faire pour vous ?", "What can I do for you?"),
}

# the assistant pane's suggested prompts: each sends a whole message Almia answers as is
_ASSISTANT_PROMPTS: tuple[tuple[Text, Text], ...] = (
    (Text("Ce que je sais faire", "What I can do"), Text("aide", "help")),
    (Text("Documents consultables", "Documents I can search"), Text("docs list", "docs list")),
    (Text("Modèles de prompts", "Prompt templates"), Text("template list", "template list")),
    (Text("Mes tâches en cours", "My running jobs"), Text("jobs", "jobs")),
)


def assistant_prompts(locale: Locale) -> list[dict[str, str]]:
    """``assistant.threads.setSuggestedPrompts``' prompts (at most four), in ``locale``."""
    return [{"title": title(locale), "message": message(locale)}
            for title, message in _ASSISTANT_PROMPTS]

TEMPLATE_FORM = "almia_template_form"
CARD_ACTION = "almia_card:"  # + the button's index
CARD_INPUT = "almia_input:"  # + the card input's id
SLACK_INPUT_LIMIT = 3_000  # characters of a plain_text_input
SELECT_OPTIONS = 100  # options of a static_select
SELECT_VALUE_LIMIT = 150  # characters of an option value

_MENTION_WORDS = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SAFE_URL = re.compile(r"^https?://[^\s<>|\"]+$")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD_MARK = "\x00"


def text(key: str, locale: Locale, **values: object) -> str:
    """A Slack-specific user-facing sentence."""
    return TEXTS[key](locale, **values)


def escape(raw: str) -> str:
    """Escape mrkdwn control characters and defuse broadcast words (``@channel``…)."""
    escaped = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION_WORDS.sub(lambda m: "@\u2060" + m.group(1), escaped)


def to_mrkdwn(markdown: str) -> str:
    """The core's Markdown-ish text as safe Slack mrkdwn (``**b**`` → ``*b*``, links shown)."""
    safe = escape(french_spacing(markdown))
    safe = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", safe)
    safe = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", safe)
    safe = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(1) or m.group(2)}{_BOLD_MARK}", safe)
    safe = _BULLET.sub(lambda m: f"{m.group(1)}• ", safe)
    safe = _ITALIC.sub(lambda m: f"_{m.group(1)}_", safe)
    return safe.replace(_BOLD_MARK, "*")


def from_slack(raw: str, bot_user_id: str | None = None) -> str:
    """Slack message text as plain text for the core: bot mention removed, markup unwrapped."""

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if bot_user_id and target == f"@{bot_user_id}":
            return ""
        if label:
            return label if target.startswith(("@", "#", "!")) else f"{label} ({target})"
        return target

    unwrapped = _SLACK_TOKEN.sub(plain, raw)
    unescaped = unwrapped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return unescaped.strip()


def split_text(body: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split ``body`` into pieces of at most ``limit`` characters, at paragraph, line or
    word boundaries when possible; joining the pieces loses nothing but boundary spaces."""
    pieces: list[str] = []
    rest = body.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 3:
            cut = window.rfind("\n")
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def citation_line(citation: Citation, locale: Locale) -> str:
    """``[1] *Title* — section, p. 3 — <url|open>`` with every part escaped."""
    parts = [f"[{citation.number}] *{escape(citation.title or citation.document)}*"]
    where = [escape(citation.section)] if citation.section else []
    if citation.page is not None:
        where.append(text("page", locale, page=citation.page))
    if where:
        parts.append(", ".join(where))
    if citation.url and _SAFE_URL.match(citation.url):
        parts.append(f"<{citation.url.replace('&', '&amp;')}|{text('open', locale)}>")
    return " — ".join(parts)


def feedback_block(turn_id: str, locale: Locale) -> Block:
    """👍/👎 buttons carrying the answer's turn id."""

    def button(action_id: str, label: str) -> Block:
        return {"type": "button", "action_id": action_id, "value": turn_id,
                "text": {"type": "plain_text", "text": label, "emoji": True}}

    return {"type": "actions", "block_id": FEEDBACK_BLOCK, "elements": [
        button(FEEDBACK_UP, text("useful", locale)),
        button(FEEDBACK_DOWN, text("not_useful", locale)),
    ]}


def reply_blocks(reply: Reply, section_limit: int = SECTION_LIMIT) -> list[Block]:
    """Every block of a reply: answer sections, numbered sources, feedback buttons."""
    blocks = [_section(piece) for piece in split_text(to_mrkdwn(reply.text), section_limit)]
    if reply.citations:
        blocks.append({"type": "divider"})
        lines = "\n".join(citation_line(c, reply.locale) for c in reply.citations)
        header = f"*{text('sources', reply.locale)}*\n"
        for index, piece in enumerate(split_text(lines, section_limit - len(header))):
            blocks.append(_section(header + piece if index == 0 else piece))
    for card in reply.cards:
        blocks.extend(card_blocks(card, section_limit, reply.locale))
    if reply.turn_id and reply.kind == "answer":
        blocks.append(feedback_block(reply.turn_id, reply.locale))
    return blocks


def card_blocks(card: Card, section_limit: int = SECTION_LIMIT,
                locale: Locale | None = None) -> list[Block]:
    """A :class:`bot.cards.Card` as Block Kit: title, text, facts, inputs, buttons.

    Each button's ``action_id`` is ``almia_card:<n>`` and its value the JSON of its action
    and values; inputs are ``input`` blocks (``block_id`` ``almia_input:<id>``) whose
    values Slack sends back in ``state``. An input longer than a Slack text field is left
    out (the skill then says how to give it by command)."""
    blocks: list[Block] = [{"type": "divider"}, _section(f"*{escape(card.title)}*")]
    if card.text:
        blocks.extend(_section(piece)
                      for piece in split_text(to_mrkdwn(card.text), section_limit))
    if card.facts:
        facts = "\n".join(f"*{escape(label)}*{colon(locale or 'fr')}{escape(value)}"
                          for label, value in card.facts)
        blocks.extend(_section(piece) for piece in split_text(facts, section_limit))
    for field in card.inputs:
        if len(field.value) > SLACK_INPUT_LIMIT:
            continue
        element: Block = {"type": "plain_text_input", "action_id": "value",
                          "multiline": field.multiline, "max_length": SLACK_INPUT_LIMIT}
        if field.value:
            element["initial_value"] = field.value
        if _fits_select(field):
            element = _select(field)
        blocks.append({"type": "input", "block_id": f"{CARD_INPUT}{field.id}"[:255],
                       "optional": True, "dispatch_action": False,
                       "label": _plain(field.label, 2000), "element": element})
    if card.buttons:
        elements: list[Block] = []
        for index, button in enumerate(card.buttons[:25]):
            value = json.dumps({"a": button.action, "v": dict(button.values)},
                               ensure_ascii=False)
            element = {"type": "button", "action_id": f"{CARD_ACTION}{index}",
                       "text": _plain(button.label, 75), "value": value[:2000]}
            if button.style != "default":
                element["style"] = button.style
            elements.append(element)
        blocks.append({"type": "actions", "block_id": "almia_card", "elements": elements})
    return blocks


def _fits_select(field: CardInput) -> bool:
    """Choices Slack can show as a drop-down (else the field stays a text input)."""
    return 0 < len(field.choices) <= SELECT_OPTIONS and all(
        0 < len(value) <= SELECT_VALUE_LIMIT for value, _ in field.choices)


def _select(field: CardInput) -> Block:
    options = [{"text": _plain(title or value, 75), "value": value}
               for value, title in field.choices]
    element: Block = {"type": "static_select", "action_id": "value", "options": options}
    chosen = next((option for option in options if option["value"] == field.value), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def card_action(action: dict[str, Any],
                state: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The action name and values of a pressed card button, with the card's inputs."""
    try:
        data = json.loads(str(action.get("value") or ""))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) \
            or not isinstance(data.get("v"), dict):
        return None
    typed: dict[str, str] = {}
    blocks = state.get("values")
    for block_id, actions in (blocks.items() if isinstance(blocks, dict) else ()):
        entry = actions.get("value") if isinstance(actions, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("selected_option"), dict):
            entry = entry["selected_option"]  # a drop-down: the option chosen
        if str(block_id).startswith(CARD_INPUT) and isinstance(entry, dict) \
                and isinstance(entry.get("value"), str):
            typed[str(block_id).removeprefix(CARD_INPUT)] = entry["value"]
    return data["a"], action_values(data["v"], typed)


def _block_chars(block: Block) -> int:
    return len(block.get("text", {}).get("text", "")) + 50


def pack(blocks: Sequence[Block], char_budget: int = MESSAGE_CHAR_BUDGET,
         max_blocks: int = BLOCKS_PER_MESSAGE) -> list[list[Block]]:
    """Group blocks into messages within Slack's per-message block and character limits."""
    messages: list[list[Block]] = []
    current: list[Block] = []
    used = 0
    for block in blocks:
        size = _block_chars(block)
        if current and (len(current) >= max_blocks or used + size > char_budget):
            messages.append(current)
            current, used = [], 0
        current.append(block)
        used += size
    if current:
        messages.append(current)
    return messages


def render_reply(reply: Reply, *, section_limit: int = SECTION_LIMIT,
                 char_budget: int = MESSAGE_CHAR_BUDGET) -> list[list[Block]]:
    """A reply as one or more Block Kit messages (smaller limits after ``msg_too_long``)."""
    return pack(reply_blocks(reply, section_limit), char_budget)


def fallback_text(blocks: Sequence[Block], limit: int = 300) -> str:
    """The notification text of a message (its full content is in the blocks)."""
    first = next((b["text"]["text"] for b in blocks if b.get("type") == "section"), "")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def preview(partial: str, limit: int = PREVIEW_LIMIT, *, more: bool = False) -> str:
    """A streaming preview of the start of a partial answer (``more``: text follows it);
    the final message replaces it whole."""
    safe = to_mrkdwn(partial)
    if len(safe) <= limit and not more:
        return safe
    return safe[:limit].rstrip() + " …"


def _plain(value: str, limit: int) -> Block:
    return {"type": "plain_text", "text": value[:limit] or "-"}


def template_modal(form: TemplateForm, metadata: str, locale: Locale) -> Block:
    """A modal asking for a template's variables (``views.open``)."""
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn",
                                                        "text": escape(form.prompt)}}]
    for variable in form.variables:
        given = form.values.get(variable.name, variable.default)
        element: Block
        if variable.type == "choice":
            options = [{"text": _plain(choice, 75), "value": choice[:150]}
                       for choice in variable.choices]
            element = {"type": "static_select", "action_id": "value", "options": options}
            chosen = [o for o in options if o["value"] == given]
            if chosen:
                element["initial_option"] = chosen[0]
        elif variable.type == "number":
            element = {"type": "number_input", "action_id": "value", "is_decimal_allowed": True}
            if given:
                element["initial_value"] = given
        else:
            element = {"type": "plain_text_input", "action_id": "value", "multiline": True}
            if given:
                element["initial_value"] = given[:3000]
        blocks.append({"type": "input", "block_id": f"var:{variable.name}",
                       "label": _plain(variable.name, 2000), "element": element,
                       "optional": not variable.required})
    return {"type": "modal", "callback_id": TEMPLATE_FORM, "private_metadata": metadata,
            "title": _plain(form.title, 24), "submit": _plain(text("template_run", locale), 24),
            "close": _plain(text("template_cancel", locale), 24), "blocks": blocks[:100]}


def modal_values(state: dict[str, Any]) -> dict[str, str]:
    """The submitted variables of a template modal (``view.state.values``)."""
    values: dict[str, str] = {}
    blocks = state.get("values")
    for block_id, actions in (blocks.items() if isinstance(blocks, dict) else ()):
        if not block_id.startswith("var:") or not isinstance(actions, dict):
            continue
        action = actions.get("value")
        if not isinstance(action, dict):
            continue
        selected = action.get("selected_option")
        value = selected.get("value") if isinstance(selected, dict) else action.get("value")
        if isinstance(value, str) and value != "":
            values[block_id.removeprefix("var:")] = value
    return values


# what Bolt and the listeners read of a payload (None counts as absent)
_TYPED_FIELDS = ("event", "view")  # objects with a text ``type`` when present
_DICT_FIELDS = ("container", "message", "previous_message", "item",
                "function_data", "assistant_thread", "state")
_LIST_FIELDS = ("actions", "authorizations", "response_urls")
_ID_FIELDS = ("user", "team", "channel", "enterprise")  # an id or an object


def well_formed(payload: object) -> bool:
    """True when a parsed Slack body has the shape Bolt and Almia's listeners rely on:
    an object whose ``type`` is text, whose ``event`` and ``view`` are objects with a text
    ``type``, whose other containers are objects and whose lists hold objects (values
    nested deeper are read defensively by the listeners)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("type", ""), str | None):
        return False
    for key in _TYPED_FIELDS:
        if key in payload and not (isinstance(payload[key], dict)
                                   and isinstance(payload[key].get("type"), str)):
            return False
    if any(payload.get(key) is not None and not isinstance(payload[key], dict)
           for key in _DICT_FIELDS):
        return False
    if any(payload.get(key) is not None and not (
            isinstance(payload[key], list) and all(isinstance(i, dict) for i in payload[key]))
           for key in _LIST_FIELDS):
        return False
    return all(isinstance(payload.get(key), str | dict | None) for key in _ID_FIELDS)


_TITLE_CHARS = 60


def thread_title(question: str) -> str:
    """An assistant thread's title: the question's first line, cut after a word."""
    line = " ".join(question.strip().split("\n", 1)[0].split())
    if len(line) <= _TITLE_CHARS:
        return line
    cut = line[:_TITLE_CHARS].rsplit(" ", 1)[0] or line[:_TITLE_CHARS]
    return cut.rstrip(" ,;:") + "…"

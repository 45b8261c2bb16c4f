"""Slack rendering: neutralised markup, Markdown to mrkdwn, limits without cutting."""

from __future__ import annotations

import pytest

from adapters.slack_render import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    escape,
    from_slack,
    pack,
    render_reply,
    reply_blocks,
    split_text,
    to_mrkdwn,
)
from bot.cards import Card
from bot.messages import Citation, Reply


@pytest.mark.parametrize("hostile", [
    "<!channel>", "<!here>", "<!everyone>", "<@U0BOSS>", "<!subteam^S0ALL|@tous>",
    "<https://evil.example|votre banque>", "<#C0PRIVE>",
])
def test_model_and_document_markup_is_neutralised(hostile: str) -> None:
    rendered = to_mrkdwn(f"Voir {hostile} maintenant")
    assert "<" not in rendered and ">" not in rendered
    assert "&lt;" in rendered


def test_broadcast_words_and_ampersands_are_defused() -> None:
    assert escape("R&D @channel @here") == "R&amp;D @\u2060channel @\u2060here"


def test_markdown_becomes_mrkdwn() -> None:
    text = "# Titre\n**gras** et *italique*\n- point\n[doc](https://x.example/a)"
    assert to_mrkdwn(text) == "*Titre*\n*gras* et _italique_\n• point\ndoc (https://x.example/a)"


def test_slack_text_for_the_core() -> None:
    raw = "<@UBOT> voir <https://a.example|le guide> &amp; <@U1|marie> &lt;b&gt;"
    assert from_slack(raw, "UBOT") == "voir le guide (https://a.example) & marie <b>"


def test_split_never_loses_text() -> None:
    body = " ".join(f"mot{n}" for n in range(5_000))
    pieces = split_text(body, 3_000)
    assert all(len(p) <= 3_000 for p in pieces)
    assert " ".join(pieces).split() == body.split()
    unbroken = "x" * 7_001
    assert "".join(split_text(unbroken, 3_000)) == unbroken


def test_citations_and_feedback() -> None:
    reply = Reply(
        "Réponse [1] [2].", turn_id="abc123",
        citations=(
            Citation(1, "doc-1", "Guide <sinistres>", "…", section="3.2", page=4,
                     url="https://intranet.example/guide?a=1&b=2"),
            Citation(2, "doc-2", "Note", "…", url="javascript:alert(1)"),
        ),
    )
    [blocks] = render_reply(reply)
    sources = blocks[-2]["text"]["text"]
    assert "[1] *Guide &lt;sinistres&gt;* — 3.2, p. 4 — " \
           "<https://intranet.example/guide?a=1&amp;b=2|ouvrir>" in sources
    assert "javascript" not in sources
    actions = blocks[-1]
    assert [e["action_id"] for e in actions["elements"]] == [FEEDBACK_UP, FEEDBACK_DOWN]
    assert {e["value"] for e in actions["elements"]} == {"abc123"}


def test_errors_have_no_feedback_buttons() -> None:
    [blocks] = render_reply(Reply("Oups", kind="error", turn_id="t1"))
    assert all(block["type"] != "actions" for block in blocks)


def test_pack_respects_block_count() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "a"}}] * 120
    assert [len(m) for m in pack(blocks)] == [50, 50, 20]



def test_card_facts_follow_the_readers_typography() -> None:
    card = Card(title="Lot 1", facts=(("Date limite", "26/02/2027"),))
    french = reply_blocks(Reply("Analyse", kind="info", cards=(card,), locale="fr"))
    english = reply_blocks(Reply("Screening", kind="info", cards=(card,), locale="en"))
    assert "*Date limite* : 26/02/2027" in str(french)
    assert "*Date limite*: 26/02/2027" in str(english)

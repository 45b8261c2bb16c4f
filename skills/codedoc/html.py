"""One self-contained HTML page of the Markdown documentation (no script, no network)."""

from __future__ import annotations

from collections.abc import Mapping

from markdown_it import MarkdownIt

from bot.messages import Locale

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;
color:#1b1f24}
nav{border-bottom:1px solid #d0d7de;margin-bottom:1rem;padding-bottom:.5rem}
nav a{margin-right:.8rem}
pre{background:#f6f8fa;padding:.7rem;overflow-x:auto;border-radius:6px}
pre.mermaid{border-left:4px solid #8250df}
code{font-family:ui-monospace,Consolas,monospace;font-size:.9em}
blockquote{color:#57606a;border-left:3px solid #d0d7de;margin:0;padding-left:.8rem}
section{border-top:2px solid #d0d7de;margin-top:2rem}
h3{margin-top:1.6rem}
"""


def render(pages: Mapping[str, str], title: str, locale: Locale) -> bytes:
    """Every page in one HTML file; links between pages become anchors.

    Mermaid diagrams are shown as their source (no JavaScript is shipped or fetched): paste
    it in any Mermaid viewer, or open the Markdown in a renderer that draws them.
    """
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    anchors = {name: "p-" + "".join(c if c.isalnum() else "-" for c in name) for name in pages}
    sections = []
    for name, text in pages.items():
        body = text
        for target, anchor in anchors.items():
            body = body.replace(f"]({target})", f"](#{anchor})").replace(
                f"](modules/{target.removeprefix('modules/')})", f"](#{anchor})")
        rendered = markdown.render(body).replace('<pre><code class="language-mermaid">',
                                                 '<pre class="mermaid"><code>')
        sections.append(f'<section id="{anchors[name]}">{rendered}</section>')
    nav = "".join(f'<a href="#{anchors[name]}">{name.removeprefix("modules/")}</a>'
                  for name in list(pages)[:2])
    from html import escape

    return (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<nav>{nav}</nav>{''.join(sections)}</body></html>").encode()

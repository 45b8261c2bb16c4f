"""One self-contained HTML page of the Markdown documentation (no script, no network)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape

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
nav+section{border-top:0;margin-top:0}
h3{margin-top:1.6rem}
figure.graph{margin:0 0 .5rem;overflow-x:auto}
"""
_LINK = re.compile(r"\]\(((?:modules/)?[^)\s]+\.md)\)")
_HEADING = re.compile(r"^# +(.+?) *#* *$", re.MULTILINE)


def _heading(page: str) -> str | None:
    """A Markdown page's first title (« Vue d'ensemble »), for the navigation."""
    found = _HEADING.search(page)
    return found.group(1).strip() if found else None


def render(pages: Mapping[str, str], title: str, locale: Locale,
           drawings: Mapping[str, Sequence[str | None]] | None = None) -> bytes:
    """Every page in one HTML file; links between pages become anchors.

    ``drawings[page][k]`` (inline SVG) is shown above the page's k-th Mermaid block; the
    Mermaid source itself is shown as text (no JavaScript is shipped or fetched): paste it in
    any Mermaid viewer, or open the Markdown in a renderer that draws it.
    """
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    anchors = {name: "p-" + "".join(c if c.isalnum() else "-" for c in name) for name in pages}

    def link(match: re.Match[str]) -> str:
        anchor = anchors.get(match.group(1))
        return f"](#{anchor})" if anchor else match.group(0)

    sections = []
    for name, text in pages.items():
        rendered = markdown.render(_LINK.sub(link, text))
        blocks = rendered.split('<pre><code class="language-mermaid">')
        figures = list((drawings or {}).get(name, ()))
        for index in range(1, len(blocks)):
            figure = figures[index - 1] if index - 1 < len(figures) else None
            code, _, rest = blocks[index].partition("</code></pre>")
            source = f'<pre class="mermaid"><code>{code}</code></pre>'
            blocks[index] = (f'<figure class="graph">{figure}</figure><details><summary>Mermaid'
                             f"</summary>{source}</details>" if figure else source) + rest
        sections.append(f'<section id="{anchors[name]}">{"".join(blocks)}</section>')
    nav = "".join(f'<a href="#{anchors[name]}">{escape(_heading(pages[name]) or name)}</a>'
                  for name in list(pages)[:2])
    return (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<nav>{nav}</nav>{''.join(sections)}</body></html>").encode()

"""A small left-to-right drawing of a graph as inline SVG (no script, no network).

Nodes go in columns by their longest path from a root (edges closing a cycle are drawn but
do not count), in order of appearance within a column. Meant for the HTML page's overview;
a graph past ``MAX_NODES`` is not drawn (its Mermaid source stays beside it).
"""

from __future__ import annotations

from html import escape

MAX_NODES = 60
_WIDTH, _HEIGHT, _GAP_X, _GAP_Y = 170, 26, 60, 12


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    children: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        children[source].append(target)
    layer = dict.fromkeys(nodes, 0)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    order: list[str] = []

    def visit(node: str) -> None:  # depth-first, iterative (deep call chains)
        stack = [(node, iter(children[node]))]
        state[node] = 1
        while stack:
            current, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                state[current] = 2
                order.append(current)
                stack.pop()
            elif state.get(following) is None:
                state[following] = 1
                stack.append((following, iter(children[following])))

    for node in nodes:
        if node not in state:
            visit(node)
    position = {node: index for index, node in enumerate(reversed(order))}
    for node in reversed(order):  # topological order once back edges are ignored
        for target in children[node]:
            if position[target] > position[node]:
                layer[target] = max(layer[target], layer[node] + 1)
    return layer


def draw(edges: list[tuple[str, str]], labels: dict[str, str],
         muted: frozenset[str] | set[str] = frozenset()) -> str | None:
    """SVG markup of the graph (``muted`` nodes dashed: outside the code read), or None when
    it is empty or too large to read."""
    nodes = list(dict.fromkeys(name for edge in edges for name in edge))
    if not nodes or len(nodes) > MAX_NODES:
        return None
    layer = _layers(nodes, edges)
    columns: dict[int, list[str]] = {}
    for node in nodes:
        columns.setdefault(layer[node], []).append(node)
    place = {node: (column * (_WIDTH + _GAP_X) + 4, row * (_HEIGHT + _GAP_Y) + 4)
             for column, members in columns.items() for row, node in enumerate(members)}
    width = (max(columns) + 1) * (_WIDTH + _GAP_X)
    height = max(len(members) for members in columns.values()) * (_HEIGHT + _GAP_Y) + 8
    parts = [f'<svg width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" font-size="11" '
             'font-family="system-ui,sans-serif">',
             '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
             'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#57606a"/>'
             "</marker></defs>"]
    for source, target in edges:
        (x1, y1), (x2, y2) = place[source], place[target]
        start_x = x1 + _WIDTH if x2 > x1 else x1
        end_x = x2 if x2 > x1 else x2 + _WIDTH
        parts.append(f'<line x1="{start_x}" y1="{y1 + _HEIGHT // 2}" x2="{end_x}" '
                     f'y2="{y2 + _HEIGHT // 2}" stroke="#8c959f" marker-end="url(#arrow)"/>')
    for node in nodes:
        x, y = place[node]
        label = labels.get(node, node)
        shown = label if len(label) <= 26 else label[:25] + "…"
        stroke = ('stroke="#8c959f" stroke-dasharray="4 3"' if node in muted
                  else 'stroke="#8250df"')
        parts.append(f'<g><title>{escape(label)}</title><rect x="{x}" y="{y}" width="{_WIDTH}" '
                     f'height="{_HEIGHT}" rx="5" fill="#f6f8fa" {stroke}/>'
                     f'<text x="{x + 8}" y="{y + 17}">{escape(shown)}</text></g>')
    return "".join([*parts, "</svg>"])

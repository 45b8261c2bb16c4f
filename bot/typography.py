"""French typography for chat platforms: no-break spaces where French sets a space.

French puts a space inside « » and before : ; ? ! %. Sent as a plain space, a narrow
phone screen can start a line with the guillemet or the colon. The web chat sets these
spaces in its page; Slack and Teams show our text as it is, so the adapters set them
with :func:`french_spacing` before rendering.

Code (``inline`` or fenced) is left as it is, and so is a space next to a formatting mark
(``*``, ``_``, ``~``): Slack and Teams recognise bold or italics only beside an ordinary
space.
"""

from __future__ import annotations

import re

NO_BREAK_SPACE = "\u00a0"
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
_OPENING = re.compile(r"« (?![*_~`])")
_CLOSING = re.compile(r"(?<=[^\s*_~`]) (?=[»:;?!%](?:\s|$|[»).,;?!*_~]))")


def _spaced(prose: str) -> str:
    prose = _OPENING.sub("«" + NO_BREAK_SPACE, prose)
    return _CLOSING.sub(NO_BREAK_SPACE, prose)


def french_spacing(text: str) -> str:
    """``text`` with a no-break space after « and before » : ; ? ! % (outside code)."""
    if "«" not in text and not any(mark in text for mark in (" :", " ;", " ?", " !", " »",
                                                             " %")):
        return text
    pieces: list[str] = []
    last = 0
    for code in _CODE.finditer(text):
        pieces.append(_spaced(text[last:code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(_spaced(text[last:]))
    return "".join(pieces)

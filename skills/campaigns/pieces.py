"""Campaign pieces (one text per channel and variant) and their editable text form.

A version is written as sections, which is also how an edit comes back::

    ### email 1
    Objet : Votre habitation mieux protégée
    Bonjour {{prenom}}, …

    ### sms 1
    {{prenom}}, … STOP au {{numero_stop}}

Personalisation fields (``{{prenom}}``) are kept as they are, for the sending platform.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.i18n import Text
from bot.skills import SkillError
from skills.campaigns.brief import Medium

FIELD = re.compile(r"\{\{\s*([^\W\d]\w{0,39})\s*\}\}")
_HEADER = re.compile(r"^###\s*(\w[\w-]*)\s+(\d{1,2})\s*$", re.MULTILINE)
_SUBJECT = re.compile(r"^\s*(?:objet|subject)\s*:\s*(.*)$", re.IGNORECASE)
_MEDIUM_NAMES = {medium.value: medium for medium in Medium}
MAX_PIECE_CHARS = 8_000


class PiecesError(SkillError):
    """An edited text that cannot be read back into pieces."""


_NO_SECTION = Text(
    "Je ne trouve aucune section « ### canal numéro » (par exemple « ### email 1 ») dans le "
    "texte modifié : gardez les titres de section.",
    "I find no “### channel number” section (for example “### email 1”) in the edited "
    "text: keep the section headings.")
_BAD_MEDIUM = Text("Section « ### {name} » : canal inconnu (email, sms, letter, banner, "
                   "linkedin).",
                   "Section “### {name}”: unknown channel (email, sms, letter, banner, "
                   "linkedin).")
_DUPLICATE = Text("La section « ### {name} {number} » apparaît deux fois.",
                  "Section “### {name} {number}” appears twice.")
_EMPTY = Text("La section « ### {name} {number} » est vide.",
              "Section “### {name} {number}” is empty.")
_TOO_LONG = Text("La section « ### {name} {number} » dépasse {limit} caractères.",
                 "Section “### {name} {number}” is over {limit} characters.")


@dataclass(frozen=True, slots=True)
class Piece:
    """One publishable text: its channel, variant number, e-mail subject and body."""

    medium: Medium
    variant: int
    body: str
    subject: str = ""

    @property
    def key(self) -> str:
        """``email 1``: how sections and checks name the piece."""
        return f"{self.medium.value} {self.variant}"

    @property
    def fields(self) -> tuple[str, ...]:
        """The personalisation fields the piece uses, in order of appearance."""
        seen: list[str] = []
        for name in FIELD.findall(f"{self.subject}\n{self.body}"):
            if name not in seen:
                seen.append(name)
        return tuple(seen)


def serialise(pieces: Iterable[Piece], language: str = "fr") -> str:
    """The pieces as editable sections (« Objet : », "Subject:" in English drafts)."""
    label = "Subject:" if language == "en" else "Objet :"
    blocks = []
    for piece in pieces:
        lines = [f"### {piece.key}"]
        if piece.medium is Medium.EMAIL:
            lines.append(f"{label} {piece.subject}")
        lines.append(piece.body.strip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def parse_pieces(text: str) -> tuple[Piece, ...]:
    """Pieces from sections (raises :class:`PiecesError` naming the bad section)."""
    text = text.replace("\r\n", "\n")
    headers = list(_HEADER.finditer(text))
    if not headers:
        raise PiecesError(_NO_SECTION)
    pieces: list[Piece] = []
    seen: set[tuple[str, int]] = set()
    for index, header in enumerate(headers):
        name, number = header.group(1).lower(), int(header.group(2))
        medium = _MEDIUM_NAMES.get(name)
        if medium is None:
            raise PiecesError(_BAD_MEDIUM, name=name[:20])
        if (name, number) in seen:
            raise PiecesError(_DUPLICATE, name=name, number=number)
        seen.add((name, number))
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        content = text[header.end():end].strip("\n")
        subject = ""
        if medium is Medium.EMAIL:
            first, _, rest = content.partition("\n")
            match = _SUBJECT.match(first)
            if match:
                subject, content = match.group(1).strip(), rest
        body = content.strip()
        if not body:
            raise PiecesError(_EMPTY, name=name, number=number)
        if len(body) + len(subject) > MAX_PIECE_CHARS:
            raise PiecesError(_TOO_LONG, name=name, number=number, limit=MAX_PIECE_CHARS)
        pieces.append(Piece(medium, number, body, subject))
    return tuple(pieces)


def fingerprint(pieces: Sequence[Piece]) -> str:
    """SHA-256 of the exact text of a version (stamped on exports)."""
    return hashlib.sha256(serialise(pieces).encode("utf-8")).hexdigest()

"""Passages cut into the units an offline answer quotes: sentences, a list kept whole with
its lead-in (or the heading it stands under), and the section a quoted line comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import content_tokens, fold, split_sentences

_MAX_LIST_ITEMS = 12
_MAX_ITEM_CHARS = 300


@dataclass(frozen=True, slots=True)
class Unit:
    """What an answer may quote: one sentence, or a list's lead-in with all of its items."""

    passage: int
    title: str
    position: int
    text: str
    items: tuple[str, ...]
    tokens: tuple[str, ...]
    heading: tuple[str, ...] = ()  # words of the heading (or FAQ question) it stands under
    # the sentence before it, when it opens with a pronoun that points back to it
    antecedent: str = ""

    @property
    def full_text(self) -> str:
        return " ".join((self.text, *self.items))

    @property
    def matched(self) -> tuple[str, ...]:
        """The words a question is matched against: its own and its heading's."""
        return self.tokens + self.heading


_QUESTION_END = re.compile(r"\?\s*$")
_PROSE_LINE = 150


def _is_prose(line: str) -> bool:
    """A full sentence of its own (capitalised, eight words or more), not a list item."""
    return line[:1].isupper() and len(line.split()) >= 8


def _list_items(lines: list[str], start: int) -> tuple[list[str], bool]:
    """The items of a list whose lead-in ends the line before ``start``, and whether the
    list is short enough to quote whole (a long list or table is never quoted cut)."""
    items: list[str] = []
    following = 0  # the number the next item of a numbered list carries (0: not numbered)
    for line in lines[start:]:
        number = _NUMBERED_ITEM.match(line)
        if number is not None and int(number.group(1)) == (following or (0 if items else 1)):
            # « 1. Ouvrir le dossier … », « 2. Vérifier … »: a step, whole sentence or not
            if len(items) == _MAX_LIST_ITEMS:
                return items, False
            if len(line) > 2 * _MAX_ITEM_CHARS:
                break
            items.append(line)
            following = int(number.group(1)) + 1
            continue
        if following:
            break  # the numbering stopped: the list is over
        # « …de retard ; » then « retard dans … au-delà de dix jours ouvrés. »: the last item,
        # however long, not a paragraph after the list; « Prix (…) : 55 % » then « Valeur
        # technique (…) : 45 %, dont … » (items of one shape): the last item too
        last_item = (line[:1].islower() and bool(items) and items[-1].endswith(";")) or (
            bool(items) and _LABELLED.match(items[-1]) is not None
            and _LABELLED.match(line) is not None and not items[-1].endswith("."))
        if (
            len(line) > _MAX_ITEM_CHARS
            or _QUESTION_END.search(line)
            or line.endswith(":")  # another lead-in: this one had no items of its own
            or (line.endswith(".") and not last_item
                and (len(line) > _PROSE_LINE or _is_prose(line)))
        ):
            break
        if len(items) == _MAX_LIST_ITEMS:
            return items, False
        items.append(line)
        if line.endswith("."):
            break  # the last item
    if len(items) >= 2 and _names_columns(items[0], items[1:]):
        items = items[1:]  # each row names its columns already (« Critère : 2. Prix ; … »)
    return items, True


_NUMBERED_ITEM = re.compile(r"^(\d{1,2})[.)]\s+\S")
# an item naming what it gives a figure for (« Prix (montant TTC) : 55 % »)
_LABELLED = re.compile(r"^[A-ZÀ-Ý][^:.;]{1,160} : \S+.{0,40}(?:%|€|\bpoints?\b)")


def _names_columns(first: str, rows: list[str]) -> bool:
    """Whether ``first`` is a table's header row (« Critère | Pondération ») whose names
    the rows under it carry."""
    names = first.split(" | ")
    return len(names) >= 2 and all(
        any(row.startswith(f"{name} : ") for name in names) for row in rows)


def _opens_list(sentence: str) -> bool:
    """A lead-in: ends with « : », or with « ; » after an inline « : » (« recouvre : a ; »)."""
    return sentence.endswith(":") or (sentence.endswith(";") and ":" in sentence)


def _is_heading(sentence: str) -> bool:
    """A line without final punctuation that is short (« Cas général », « Procédure ») or
    made of segments (« Mutuelle Horizon — Direction Indemnisation — version 3.2 », « Notice
    d'information — contrat Horizon Prévoyance Entreprises »)."""
    return not sentence.endswith((".", "!", "…", ":", ";")) and not _TABLE_ROW.match(
        sentence) and (len(sentence.split()) < 8 or len(_SEGMENTS.split(sentence)) >= 2)


_SEGMENTS = re.compile(r"\s[—–|]\s")
# a table's row as the loaders write it (« Garantie : Décès – PTIA ; Niveau : … »): never a
# heading, though a cell holds a dash
_TABLE_ROW = re.compile(r"^[^:;]{1,80} : [^;]+ ; [^:;]{1,80} : ")


def _heading_line(sentence: str) -> bool:
    """A line standing over what follows: a heading, or a FAQ's question."""
    return _QUESTION_END.search(sentence) is not None or _is_heading(sentence)


def _stands_over(line: str) -> bool:
    """A whole line that is one heading line (not a paragraph opening with one)."""
    return len(split_sentences(line)) == 1 and _heading_line(line)


_QUOTED_LINE = re.compile(r"^- (.+?) \[(\d{1,2})\]$", re.MULTILINE)


def quoted_lines(answer: str, number: int | None = None) -> list[str]:
    """The sentences an offline answer quotes (« - … [n] » lines, as ``_grouped`` writes
    them), from passage ``number`` only when given."""
    return [quote for quote, mark in _QUOTED_LINE.findall(answer)
            if number is None or int(mark) == number]


# a list item's own bullet (plain text and PDF keep it): the answer draws its own
_BULLET = re.compile(r"^[-–—•*·▪◦‣●○■□➢►✓✔] +")


_SECTION_NUMBER = re.compile(
    r"^(?:(?:article|chapitre|titre|section|partie|annexe)\s+)?(\d{1,2}(?:\.\d{1,2})*)\b",
    re.IGNORECASE)


def _numbered_under(above: str, heading: str) -> bool:
    """Whether ``heading`` is numbered as a part of the heading line right above it
    (« 6.1 – Date limite » under « ARTICLE 6 – … » or « 6. … »)."""
    parent, child = _SECTION_NUMBER.match(above), _SECTION_NUMBER.match(heading)
    if parent is None or child is None:
        return False
    return child.group(1).startswith(parent.group(1).rstrip(".") + ".")


def _item_then_prose(line: str) -> list[str]:
    """A list's last item and the prose after it, which a PDF's text joins on one line
    (« … au-delà de dix jours ouvrés. Le montant cumulé des pénalités est plafonné… »), as
    two lines: the item ends the list, the prose is quoted on its own."""
    if not line[:1].islower():
        return [line]
    sentences = split_sentences(line)
    if len(sentences) < 2 or not sentences[0].endswith(".") or not sentences[1][:1].isupper():
        return [line]
    rest = line.find(sentences[1], len(sentences[0]) - 1)
    return [line[:rest].strip(), line[rest:]] if rest > 0 else [line]


def passage_units(number: int, title: str, text: str, first_position: int) -> list[Unit]:
    """Sentences of a passage, a list's lead-in kept together with its items.

    A lead-in whose items are not all in the passage (cut off by its end, or a
    list too long to quote) is left out with them: an answer never ends on « : ».
    Questions and short headings are left out too.
    """
    lines = [_BULLET.sub("", " ".join(line.split())) for line in text.splitlines()]
    lines = [part for line in lines if line for part in _item_then_prose(line)]
    units: list[Unit] = []
    heading: tuple[str, ...] = ()
    above = ""  # the heading line right above, when no sentence came between
    numbered: list[tuple[str, tuple[str, ...]]] = []  # numbered headings seen, their words
    index = 0
    while index < len(lines):
        sentences = split_sentences(lines[index])
        index += 1
        if len(sentences) == 1 and _heading_line(sentences[0]):
            # « Comment sont remboursées les lunettes ? » over the FAQ's answer: the
            # sentences under it are matched with its words too, and with those of the
            # numbered heading it is a part of (« ARTICLE 6 – REMISE DES OFFRES » over « 6.1 –
            # Date limite », even with 6.0's sentences between); a table's header row right
            # under its heading adds to it (« Garantie | Niveau » under « 3.2 – Garanties »)
            line = sentences[0]
            words = tuple(content_tokens(line))
            parent = next((seen for line_above, seen in reversed(numbered)
                           if _numbered_under(line_above, line)), None)
            if parent is not None:
                heading = (*parent, *words)
            elif above and _SECTION_NUMBER.match(line) is None and "|" in line:
                heading = (*heading, *words)
            else:
                heading = words
            if _SECTION_NUMBER.match(line) is not None:
                numbered.append((line, heading))
            above = line
            lead_in = _heading_list(sentences[0], lines, index)
            if lead_in is not None:  # « Pièces justificatives » over its items
                index += len(lead_in[1])
                units.append(Unit(number, title, first_position + len(units), lead_in[0],
                                   lead_in[1], tuple(content_tokens(" ".join(lead_in[1]))),
                                   heading))
                above = ""
            continue
        above = ""
        for position, sentence in enumerate(sentences):
            items: list[str] = []
            if sentence[:1].islower():
                continue  # a list item whose lead-in is not here, or a cut sentence
            if position == len(sentences) - 1 and _opens_list(sentence):
                items, whole = _list_items(lines, index)
                index += len(items)
                if not whole or (not items and sentence.endswith(":")):
                    continue  # the list is not (all) here: drop its lead-in with it
            if _heading_line(sentence) and not items:
                continue
            tokens = tuple(content_tokens(" ".join((sentence, *items))))
            antecedent = (sentences[position - 1] if position and _POINTS_BACK.match(sentence)
                          and not _opens_list(sentences[position - 1]) else "")
            units.append(Unit(number, title, first_position + len(units), sentence,
                               tuple(items), tokens, heading, antecedent))
    return units


# a sentence opening with one of these says what it is about in the sentence before
_POINTS_BACK = re.compile(
    r"^(?:Il|Elle|Ils|Elles|Celui-ci|Celle-ci|Ceux-ci|Celles-ci|Cela|Ceci|"
    r"Ce dernier|Cette dernière|Ces derniers|Ces dernières|It|They|This|These)\b"
)


def _heading_list(
    heading: str, lines: list[str], start: int
) -> tuple[str, tuple[str, ...]] | None:
    """A list standing right under a heading, without a lead-in sentence of its own
    (« Pièces justificatives », then « photos des dommages ; », « factures d'achat ; »…):
    the heading as its lead-in (« Pièces justificatives : ») and its items, when the list is
    whole in the passage (its last item ends the sentence, or something follows it)."""
    if _QUESTION_END.search(heading) or start >= len(lines) or not (
            lines[start][:1].islower() or _NUMBERED_ITEM.match(lines[start]) is not None):
        return None
    items, whole = _list_items(lines, start)
    if not items or not whole or not (
        items[-1].endswith(".") or start + len(items) < len(lines)
    ):
        return None
    return f"{heading.rstrip(' :')} :", tuple(items)


def table_header(line: str, following: str) -> bool:
    """A table's header row as the loaders write it (« Équipement | Plafond »), over its
    rows (« Équipement : Lentilles ; Plafond : 150 € »): no heading, though it reads as one."""
    first = line.split(" | ", 1)[0].strip()
    return " | " in line and bool(first) and _TABLE_ROW.match(following) is not None and (
        following.startswith(f"{first} : ") or following.startswith(f"{first}, "))


def _following(lines: list[str], index: int) -> str:
    return next((" ".join(line.split()) for line in lines[index + 1:] if line.strip()), "")


def heading_lines_marked(text: str, headings: tuple[str, ...] = ()) -> str:
    """A passage of a file whose headings are lines of their own (``keeps_heading_lines``),
    each heading line (or FAQ question) written as a Markdown heading, so that the web
    chat's source panel shows « Délai de réponse » as the heading it is (a table's header
    row is not one); ``headings``, the passage's own heading path, are headings whatever
    they look like (« 1. Principes »)."""
    lines = []
    raw = text.splitlines()
    known = {" ".join(heading.split()) for heading in headings if heading.strip()}
    for index, line in enumerate(raw):
        plain = " ".join(line.split())
        # a heading of the passage's own path (« 1. Principes » in a Word file) is one,
        # numbered like a list item or not
        heading = plain in known or (
            plain and not _LIST_MARK.match(plain) and _stands_over(plain)
            and not table_header(plain, _following(raw, index)))
        lines.append(f"### {plain}" if heading else line)
    return "\n".join(lines)


_LIST_MARK = re.compile(r"^(?:[-*•#>]|\d{1,3}[.)])\s")


def quoted_section(text: str, section: str | None, answer: str, number: int) -> str | None:
    """The heading path of what an answer quotes from passage ``number``: ``section`` (the
    passage's main heading path) with its last heading replaced by the heading line standing
    over the first sentence quoted verbatim (« - … [n] »), so that a citation of a FAQ
    passage names the question whose answer was quoted. ``section`` when nothing is quoted
    verbatim (a generative answer) or the sentence stands under no heading line."""
    quoted = [plain(quote) for quote in quoted_lines(answer, number)]  # bold marks aside
    if not quoted or not section:
        return section
    heading: str | None = None
    raw = text.splitlines()
    for index, line in enumerate(" ".join(line.split()) for line in raw):
        if _stands_over(line) and not table_header(line, _following(raw, index)):
            heading = line
        elif quoted[0] in plain(line):
            break
    else:
        return section
    if heading is None:
        return section
    path = section.split(" > ")
    if heading in path:
        return " > ".join(path[: path.index(heading) + 1])
    return " > ".join([*path[:-1], heading])


def plain(sentence: str) -> str:
    """A sentence compared as words only: folded, bold marks (the source's or the answer's
    figure asked for) left out."""
    return fold(sentence.replace("**", ""))

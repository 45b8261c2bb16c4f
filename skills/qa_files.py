"""The files a question is answered from: those attached to it, or, for a thread's later
questions, those its person attached to earlier ones (read back from the file store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bot.files.service import stored_attachment
from bot.i18n import Text, quoted
from bot.messages import Attachment, Locale, Reply
from bot.skills import SkillRequest
from bot.text import content_tokens
from knowledge import Passage
from knowledge.attached import AttachedFile, FileOutline, readable
from knowledge.table_profile import is_table
from skills.table_questions import ASKING_WORDS

THREAD_FILES = 5  # documents of a thread's earlier messages searched for its next questions
_THREAD_FILES_SEEN = 20  # of the files attached earlier in a thread, looked at for those
NOT_IN_FILES = Text(
    "Je ne sais pas : je ne trouve pas de réponse sûre dans {names}. Reformulez la question ; "
    "pour chercher dans les documents de l'espace, posez-la sans pièce jointe.",
    "I don't know: I find no sure answer in {names}. Rephrase the question; to search this "
    "space's documents, ask it without an attachment.",
)
CLOSEST_PART = Text(
    "La partie qui s'en approche le plus est {part}{page} : consultez-la.",
    "The part that comes closest is {part}{page}: have a look at it.",
)
_CLOSEST_LEXICAL = 0.5  # the question's words (or their renderings) matched that well
TABLE_HINT = Text(
    "Sur un tableau, je calcule ce que la question nomme : « Combien de réponses par canal ? », "
    "« Quelle est la note moyenne par produit depuis mars ? », « Quel est le NPS pour "
    "l'auto ? » ; « De quoi parle ce fichier ? » décrit ses colonnes.",
    "Over a table, I compute what the question names: “How many responses by channel?”, "
    "“What is the average score by product since March?”, “What is the NPS for car?”; "
    "“What is this file about?” describes its columns.",
)
NOT_IN_THREAD_FILES = Text(
    "Je ne sais pas : je ne trouve de réponse sûre ni dans {names}, joint plus haut, ni dans "
    "les documents accessibles depuis cet espace. Reformulez la question, ou joignez le "
    "document qui en parle.",
    "I don't know: I find no sure answer in {names}, attached above, nor in the documents "
    "available in this space. Rephrase the question, or attach the document that covers it.",
)
UNREADABLE = Text(
    "Je n'arrive pas à lire la pièce jointe : {reason}. Envoyez-la en PDF, Word, Excel, "
    "texte ou CSV.",
    "I cannot read the attachment: {reason}. Send it as PDF, Word, Excel, text or CSV.",
)
NOT_A_DOCUMENT = Text(
    "Je ne peux répondre qu'à partir de documents (PDF, Word, Excel, HTML, Markdown, texte "
    "ou CSV) : « {name} » n'en est pas un. Pour une archive ZIP, `/almia docs add` ajoute "
    "son contenu aux documents de l'espace (managers).",
    "I can only answer from documents (PDF, Word, Excel, HTML, Markdown, text or CSV): "
    "“{name}” is not one. For a ZIP archive, `/almia docs add` adds its content to this "
    "space's documents (managers).",
)
NO_FILE_QUESTIONS = Text(
    "Je ne peux pas répondre à partir d'un fichier joint sur ce serveur : posez la question "
    "sans pièce jointe pour chercher dans les documents de l'espace.",
    "I cannot answer from an attached file on this server: ask without an attachment to "
    "search this space's documents.",
)

@runtime_checkable
class FileSearch(Protocol):
    """Searching the files attached to a message (the knowledge base does it in memory)."""

    async def search_files(
        self, files: Sequence[AttachedFile], query: str, *, k: int = 5
    ) -> list[Passage]:
        """Passages of ``files``, best first."""
        ...

    async def outline_files(self, files: Sequence[AttachedFile]) -> list[FileOutline]:
        """Each file's parts, their pages and openings."""
        ...



def _row_words(passages: Sequence[Passage]) -> tuple[set[str], set[str]]:
    """The five-letter stems of a table's column names and of its cells, from its rows'
    passages (« colonne : valeur ; … », see ``knowledge.loaders``)."""
    names: set[str] = set()
    cells: set[str] = set()
    for passage in passages:
        for line in passage.text.splitlines():
            for pair in line.split(" ; "):
                name, _, value = pair.partition(" : ")
                names |= {token[:5] for token in content_tokens(name)} if value else set()
                cells |= {token[:5] for token in content_tokens(value or name)}
    return names, cells


def names_only_columns(subject: Sequence[str], passages: Sequence[Passage]) -> bool:
    """Whether a question over an attached table's rows names nothing their cells say but
    its column names: « Que veut dire NPS ? » over a survey export matched every row on its
    « nps » column and quoted a customer's « ça ne veut rien dire ». ``subject``: the
    question's nouns and names (or an English question's French renderings)."""
    rows = [passage for passage in passages if is_table(passage.document)]
    if not rows or len(rows) < len(passages):
        return False
    said = {token[:5] for word in subject for token in content_tokens(word)}
    if not said:  # nothing named (« Et alors ? »): not this rule's to decide
        return False
    names, cells = _row_words(rows)
    # what the question asks (« moyenne », « clients », « plus ») names nothing: « Quelle est
    # la moyenne de l'âge des clients ? » over a survey without ages quoted « vous avez
    # perdu un client »
    if not said - names:  # only column names
        return True
    named = said - names - {token[:5] for token in ASKING_WORDS}
    return bool(named) and not named & cells


def closest_part(top: Passage, borderline: bool) -> Passage | None:
    """A file's passage that came closest to a question it does not answer, when its words
    matched it (« What is the price weighting? »: ARTICLE 7 > 7.2 – Critères d'attribution)
    or the evidence was borderline; None otherwise (the recipe for tarte tatin has none)."""
    return top if borderline or (top.lexical or 0.0) >= _CLOSEST_LEXICAL else None


def closest_part_text(part: Passage, locale: Locale) -> str:
    """« La partie qui s'en approche le plus est « 7.2 – … » (p. 5) : consultez-la. »"""
    page = f" (p. {part.page})" if part.page else ""
    return CLOSEST_PART(locale, part=quoted(part.section or part.title, locale), page=page)


async def thread_files(search: FileSearch | None, request: SkillRequest) -> list[AttachedFile]:
    """The documents the person attached earlier in this thread, whatever they asked of
    them (a question, a tender screening, a survey analysis), most recent first, at most
    ``THREAD_FILES``, still kept and readable; the others are left out. The whole thread
    is looked through, not only the turns its memory keeps."""
    if search is None or request.files is None:
        return []
    if request.thread_files is not None:
        ids = list(await request.thread_files(_THREAD_FILES_SEEN))
    else:
        ids = list(dict.fromkeys(file_id for turn in reversed(request.history)
                                 if turn.role == "user" for file_id in turn.files))
    attachments = []
    for file_id in ids:
        attachment = await stored_attachment(request.files, file_id, request.message.user.id)
        if attachment is not None and readable(_named(attachment)):
            attachments.append(attachment)
        if len(attachments) == THREAD_FILES:
            break
    read = await attached_files(search, request, tuple(attachments)) if attachments else []
    return read if isinstance(read, list) else []


def _named(attachment: Attachment) -> str:
    """The attachment's name, with its kind as extension when it has none."""
    name = attachment.name
    return name if readable(name) or not attachment.kind else f"{name}.{attachment.kind}"


async def attached_files(search: FileSearch | None, request: SkillRequest,
                         attachments: Sequence[Attachment]) -> list[AttachedFile] | Reply:
    """The attachments as files to answer from, or a reply saying why they cannot be."""
    locale = request.locale
    if search is None:
        return Reply(NO_FILE_QUESTIONS(locale), kind="info", locale=locale)
    files = []
    for attachment in attachments:
        name = _named(attachment)  # (with an extension when named without one)
        if not readable(name):
            return Reply(NOT_A_DOCUMENT(locale, name=attachment.name), kind="info",
                         locale=locale)
        data = attachment.data
        if data is None and attachment.file_id is not None and request.files is not None:
            data = await request.files.read(attachment.file_id)
        if data is None:
            return Reply(UNREADABLE(locale, reason=quoted(attachment.name, locale)),
                         kind="error", locale=locale)
        files.append(AttachedFile(name, data, attachment.data_class or "internal"))
    return files

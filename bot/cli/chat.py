"""``almia chat``: a conversation in the terminal, through the same core as every channel.

Every final reply is printed once, rendered for the terminal (Markdown, then its
sources). A streamed reply shows as it comes and is then replaced by its final form.
Log records go to a file in the data dir, never between the lines of the conversation.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import importlib
import logging
import os
import re
import sys
import threading
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text as RichText

from bot.i18n import Text
from bot.messages import Channel, Citation, Delta, Message, Progress, Reply, ReplyEvent, Space, User

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.settings import Settings

LineReader = Callable[[], Awaitable[str | None]]  # the next line typed; None at the end of input

EXIT_WORDS = frozenset({"quit", "exit", "quitter", "/quit", "/exit", "/quitter"})
LOG_FILE = Path("logs") / "chat.log"  # inside the data dir

TEXTS: Mapping[str, Text] = {
    "banner": Text("**Almia** — tapez votre question ; « quitter » ou Ctrl-D pour sortir.",
                   "**Almia** — type your question; “quit” or Ctrl-D to leave."),
    "sources": Text("Sources :", "Sources:"),
    "logged": Text("Des avertissements ont été consignés dans {path}.",
                   "Warnings were written to {path}."),
}

# C0 and C1 control characters but tab and line feed: a model or a document must not be
# able to move the cursor, clear the screen or retitle the terminal
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without terminal control characters."""
    return _CONTROL.sub("", text)


class ChatMarkdown(Markdown):
    """Markdown as the web chat shows it: each line break kept, HTML shown as text."""

    def __init__(self, markup: str, *, style: str = "none") -> None:
        super().__init__("", style=style, hyperlinks=False, justify="default")
        self.markup = markup
        parser = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
        self.parsed = parser.parse(markup)
        for token in self.parsed:
            for child in token.children or ():
                if child.type == "softbreak":
                    child.type = "hardbreak"


def citation_label(citation: Citation) -> str:
    """``Title — section, p. 3 (file.md)``, without repeating the title in the section path."""
    section = citation.section
    if section and section.startswith(citation.title):
        section = section[len(citation.title):].lstrip(" >›/—-") or None
    details = [part for part in (section, f"p. {citation.page}" if citation.page else None)
               if part]
    label = citation.title + (f" — {', '.join(details)}" if details else "")
    return printable(f"{label} ({citation.document})")


def render_reply(reply: Reply) -> RenderableType:
    """A final reply for the terminal: its text as Markdown, then its numbered sources."""
    parts: list[RenderableType] = []
    text = printable(reply.text).strip()
    if text:
        parts.append(ChatMarkdown(text, style="red" if reply.kind == "error" else "none"))
    if reply.citations:
        sources = Table.grid(padding=(0, 1))
        sources.add_column(no_wrap=True, style="dim")
        sources.add_column(style="dim", overflow="fold")
        for citation in reply.citations:
            sources.add_row(f"[{citation.number}]", citation_label(citation))
        parts.extend((RichText(""), RichText(TEXTS["sources"](reply.locale), style="dim"),
                      sources))
    return Group(*parts)


class ReplyView:
    """One reply on the terminal: its progress and streamed text, then its final form.

    On a terminal the view is redrawn in place, so a streamed reply is printed once; on a
    pipe or a file only the final form is written.
    """

    def __init__(self, console: Console) -> None:
        self._status = ""
        self._streamed: list[str] = []
        self._final: RenderableType | None = None
        self.live = Live(console=console, get_renderable=self._renderable,
                         auto_refresh=console.is_terminal, refresh_per_second=8,
                         redirect_stdout=False, redirect_stderr=False)

    def show(self, event: ReplyEvent) -> None:
        """Take one event of :meth:`bot.assistant.Assistant.respond`."""
        if isinstance(event, Progress):
            self._status = event.text
        elif isinstance(event, Delta):
            self._streamed.append(event.text)
        else:
            self._final = render_reply(event)

    def _renderable(self) -> RenderableType:
        if self._final is not None:
            return self._final
        if self._streamed:
            return ChatMarkdown(printable("".join(self._streamed)))
        return RichText(printable(self._status), style="dim")


async def show_reply(events: AsyncIterable[ReplyEvent], console: Console) -> None:
    """Render a reply's events; returns once the assistant has finished with the message."""
    view = ReplyView(console)
    with view.live:
        async for event in events:
            view.show(event)
    if not console.is_terminal:
        console.line()  # a terminal's live view ends its own line


class StdinLines:
    """The lines typed on standard input, one per call (None at the end of input).

    A terminal gets ``input()`` (line editing, history); a pipe or a file is read from its
    file descriptor. Either way reading happens on a daemon thread that holds no lock of
    Python's I/O objects, so Ctrl-C ends the conversation at once and the process exits
    cleanly even while a read is pending.
    """

    def __init__(self, prompt: str = "> ") -> None:
        self._prompt = prompt
        self._piped: asyncio.Queue[str | None] | None = None

    async def __call__(self) -> str | None:
        loop = asyncio.get_running_loop()
        if _interactive():  # else input() would read through sys.stdin's buffer and its lock
            line: asyncio.Future[str | None] = loop.create_future()
            threading.Thread(target=self._read_terminal, args=(loop, line), daemon=True,
                             name="almia-chat-input").start()
            return await line
        if self._piped is None:
            self._piped = asyncio.Queue()
            threading.Thread(target=_read_descriptor, daemon=True, name="almia-chat-input",
                             args=(loop, self._piped, sys.stdin.fileno())).start()
        sys.stdout.write(self._prompt)
        sys.stdout.flush()
        return await self._piped.get()

    def _read_terminal(self, loop: asyncio.AbstractEventLoop,
                       line: asyncio.Future[str | None]) -> None:
        try:
            value: str | None = input(self._prompt)
        except (EOFError, OSError, ValueError):  # end of input, closed stream
            value = None

        def deliver() -> None:
            if not line.done():
                line.set_result(value)

        with contextlib.suppress(RuntimeError):  # the conversation already ended
            loop.call_soon_threadsafe(deliver)


def _interactive() -> bool:
    """Both ends on a terminal: ``input()`` then edits lines itself (GNU readline)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _read_descriptor(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None],
                     descriptor: int) -> None:
    """Queue each line read from ``descriptor``, then None (runs on a daemon thread)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""

    def put(line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the conversation already ended
            loop.call_soon_threadsafe(lines.put_nowait, line)

    with contextlib.suppress(OSError):
        while chunk := os.read(descriptor, 65536):
            *complete, pending = (pending + decoder.decode(chunk)).split("\n")
            for line in complete:
                put(line.removesuffix("\r"))
    pending += decoder.decode(b"", final=True)
    if pending:
        put(pending)
    put(None)


async def run_chat(runtime: Runtime, *, user: str, space: str, read_line: LineReader,
                   console: Console) -> None:
    """Answer each line typed until the end of input or « quitter »."""
    thread = uuid.uuid4().hex
    console.print(ChatMarkdown(TEXTS["banner"]("fr")))
    while (line := await read_line()) is not None:
        text = line.strip()
        if not text:
            continue
        if text.casefold() in EXIT_WORDS:
            break
        message = Message(text=text, user=User(id=f"cli:{user}"), space=Space(id=space),
                          channel=Channel.CLI, thread_id=thread)
        await show_reply(runtime.assistant.respond(message), console)
    else:
        if console.is_terminal:
            console.line()  # after Ctrl-D, the shell prompt gets a line of its own


def log_to_file(data_dir: Path) -> Path:
    """Send log records (warnings and above) to an owner-only file in the data dir, and
    nothing to the terminal; returns the file."""
    path = data_dir / LOG_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    path.parent.chmod(0o700)  # owner-only, even if created otherwise before
    path.chmod(0o600)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path


def chat_command(settings: Settings, *, user: str, space: str) -> None:
    """``almia chat``: the conversation, then a note on stderr if anything was logged."""
    from bot.app import build_runtime

    log_file = log_to_file(settings.data_dir)
    size_before = log_file.stat().st_size
    if _interactive():  # line editing and history for input()
        with contextlib.suppress(ImportError):
            importlib.import_module("readline")

    async def session() -> None:
        runtime = build_runtime(settings)
        await runtime.start()
        try:
            await run_chat(runtime, user=user, space=space, read_line=StdinLines(),
                           console=Console())
        finally:
            await runtime.close()

    try:
        asyncio.run(session())
    except KeyboardInterrupt:
        Console().line()  # the shell prompt starts on a line of its own
        raise
    finally:
        if log_file.stat().st_size > size_before:
            Console(stderr=True).print(TEXTS["logged"]("fr", path=log_file), style="dim",
                                       highlight=False, soft_wrap=True)


__all__ = ["chat_command", "render_reply", "run_chat", "show_reply"]

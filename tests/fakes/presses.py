"""A press guard that remembers which presses were released (over the real memory guard)."""

from __future__ import annotations

from bot.messages import Message
from bot.presses import MemoryPresses


class RecordingPresses(MemoryPresses):
    """:class:`MemoryPresses` that keeps each released press's message, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.released: list[Message] = []

    async def release(self, message: Message) -> None:
        """Release, and remember ``message``."""
        self.released.append(message)
        await super().release(message)

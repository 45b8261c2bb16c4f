"""A loopback TCP proxy in front of PostgreSQL that reads the frontend protocol it relays.

Each client connection is relayed byte for byte to the server; the client's side is
parsed into protocol messages (after the untyped start-up message: one type byte and a
length each). A round trip is a message the server answers with ReadyForQuery: a simple
``Query`` ('Q') or the ``Sync`` ('S') closing an extended-protocol batch (Parse, Bind,
Describe, Execute…). Counting those is deterministic, whatever the sockets' write sizes.

TLS is refused at the proxy (an ``SSLRequest`` is answered 'N', as a server without TLS
does) so that the stream stays readable.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field
from typing import Self

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
ROUND_TRIP_ENDS = (b"Q", b"S")


@dataclass
class PostgresProxy:
    """``async with PostgresProxy() as proxy: proxy.port``; ``proxy.messages`` in order."""

    upstream_host: str = "127.0.0.1"
    upstream_port: int = 5432
    messages: list[bytes] = field(default_factory=list)  # type bytes of frontend messages
    _server: asyncio.Server | None = None
    _relays: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def round_trips(self, since: int = 0) -> int:
        """Messages the server answers with ReadyForQuery, from ``messages[since]`` on."""
        return sum(kind in ROUND_TRIP_ENDS for kind in self.messages[since:])

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._relays):
            task.cancel()
        for task in list(self._relays):
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(self, client_reader: asyncio.StreamReader,
                          client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        server_writer: asyncio.StreamWriter | None = None
        try:
            startup = await self._startup(client_reader, client_writer)
            if startup is None:
                return
            server_reader, server_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port)
            server_writer.write(startup)
            await server_writer.drain()
            await asyncio.gather(self._frontend(client_reader, server_writer),
                                 _pipe(server_reader, client_writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._relays.discard(task)
            for writer in (client_writer, server_writer):
                if writer is not None:
                    writer.close()

    async def _startup(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> bytes | None:
        """The start-up message, after answering 'N' to any TLS or GSS encryption request."""
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            if code in (SSL_REQUEST, GSSENC_REQUEST) and length == 8:
                writer.write(b"N")
                await writer.drain()
                continue
            return head + await reader.readexactly(length - 8)

    async def _frontend(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
        """Relay typed frontend messages, recording each one's type."""
        try:
            while True:
                head = await reader.readexactly(5)
                (length,) = struct.unpack("!i", head[1:])
                body = await reader.readexactly(length - 4)
                self.messages.append(head[:1])
                writer.write(head + body)
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()

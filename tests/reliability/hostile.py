"""A scripted hostile HTTP server: a raw asyncio server on loopback that plays one scenario.

A scenario is a coroutine run once per accepted connection with a ``Peer``: it reads requests
(``await peer.request()``) and answers however it likes, byte by byte if it wants, well-formed
or not. The server records every request and counts connections. Plain TCP, or TLS with a
given ``ssl.SSLContext``. A new behaviour gets a test in a few lines::

    async def upgrade(peer: Peer) -> None:
        while await peer.request():
            await peer.send(b"HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: x\\r\\n\\r\\n")
            await peer.hold()
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["HostileServer", "Peer", "Received", "Scenario", "ok"]


def ok(body: bytes = b"ok", extra: str = "", status: str = "200 OK") -> bytes:
    """A well-formed answer with a Content-Length."""
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Peer:
    """One accepted connection, as a scenario sees it."""

    def __init__(
        self,
        server: HostileServer,
        number: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.number = number
        self.reader = reader
        self.writer = writer

    async def request(self) -> Received | None:
        """The next request (head and Content-Length body), or None when the client closed."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        try:
            body = await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        got = Received(self.number, method, path, headers, body)
        with self.server.lock:
            self.server.requests.append(got)
        return got

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    async def trickle(self, data: bytes, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart."""
        for i in range(len(data)):
            if self.writer.is_closing():
                return
            await self.send(data[i : i + 1])
            await asyncio.sleep(every)

    async def hold(self, seconds: float = 30.0) -> None:
        """Keep the connection open without sending, until the client closes it."""
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(self.reader.read(), seconds)


Scenario = Callable[[Peer], Awaitable[None]]


@dataclass
class HostileServer:
    """Plays ``scenario`` on every connection, on 127.0.0.1, in a thread of its own."""

    scenario: Scenario
    tls: ssl.SSLContext | None = None
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the hostile server did not start")
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hook"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.tls, limit=1 << 20)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self.lock:
            self.connections += 1
            number = self.connections
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.scenario(Peer(self, number, reader, writer))
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.transport.abort()

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.sleep(0)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

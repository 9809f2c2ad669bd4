"""An embedded loopback HTTP receiver for demos, notebooks, tests and benchmarks.

It runs an asyncio server on 127.0.0.1 in a background thread and parses requests with
httptools (the C parser behind uvicorn), so it answers far faster than any Python client can
send. It records what arrives and answers as told: a fixed status, or a function of the
request that returns a status or a ``Reply`` (status, body, headers, a delay, or a fault:
dropping the connection, resetting it, cutting the answer short, never answering).

Examples
--------
>>> import flux_magic
>>> with flux_magic.Receiver(status=204) as rx:
...     url = rx.url            # http://127.0.0.1:<free port>/
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import httptools
import pandas as pd

__all__ = ["Received", "Receiver", "Reply"]

Fault = Literal["drop", "reset", "cut", "hang"]
_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Reply:
    """How the receiver answers one request.

    Parameters
    ----------
    status : int
        HTTP status code.
    body : bytes
        Response body (default empty).
    headers : dict
        Extra response headers, e.g. ``{"Location": "/elsewhere"}`` for a redirect.
    delay : float
        Seconds to wait before answering.
    body_size : int
        Stream this many bytes of filler instead of ``body`` (for huge answers; never held in
        memory).
    fault : {"drop", "reset", "cut", "hang"} or None
        ``drop``: close the connection without answering; ``reset``: abort it (TCP RST);
        ``cut``: send the headers and half the body, then close; ``hang``: never answer.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body_size: int | None = None
    fault: Fault | None = None


@dataclass(frozen=True, slots=True)
class Received:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    time: float


Handler = Callable[[Received], "int | Reply | None"]
_Raw = tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes, float]


def _decode(raw: _Raw) -> Received:
    method, url, raw_headers, body, when = raw
    headers: dict[str, str] = {}
    for k, v in raw_headers:
        key = k.decode("latin-1")
        val = v.decode("utf-8", "replace")
        headers[key] = f"{headers[key]}, {val}" if key in headers else val
    return Received(
        method=method.decode("ascii", "replace"),
        path=url.decode("utf-8", "replace"),
        headers=headers,
        body=body,
        time=when,
    )


def _head(status: int, headers: dict[str, str], length: int | None, close: bool) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Status"
    lines = [f"HTTP/1.1 {status} {phrase}"]
    if length is not None and status not in (204, 304) and not 100 <= status < 200:
        lines.append(f"Content-Length: {length}")
    lines.extend(f"{k}: {v}" for k, v in headers.items())
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Connection(asyncio.Protocol):
    def __init__(self, receiver: Receiver) -> None:
        self.rx = receiver
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.pending: deque[tuple[Reply, bool]] = deque()
        self.busy = False
        self.closed = False
        self.can_write = asyncio.Event()
        self.can_write.set()

    # asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.rx._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.can_write.set()
        self.rx._connections.discard(self)

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._abort()
        except httptools.HttpParserError:
            if self.transport is not None and not self.closed:
                self.transport.write(_head(400, {}, 0, True))
                self.transport.close()

    # httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        raw = (
            self.parser.get_method(),
            self.url,
            self.headers,
            b"".join(self.body) if len(self.body) != 1 else self.body[0],
            time.time(),
        )
        reply = self.rx._reply_for(raw)
        keep_alive = self.parser.should_keep_alive()
        if self.busy or reply.delay or reply.fault or reply.body_size is not None:
            self.pending.append((reply, keep_alive))
            if not self.busy:
                self.busy = True
                asyncio.get_running_loop().create_task(self._drain_pending())
        else:
            self._write(reply, keep_alive)

    # answering -------------------------------------------------------------------------
    def _write(self, reply: Reply, keep_alive: bool) -> None:
        if self.transport is None or self.closed:
            return
        if reply is self.rx._default and keep_alive:
            self.transport.write(self.rx._default_bytes)
            return
        self.transport.write(
            _head(reply.status, reply.headers, len(reply.body), not keep_alive) + reply.body
        )
        if not keep_alive:
            self.transport.close()

    def _abort(self) -> None:
        if self.transport is not None and not self.closed:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()

    async def _drain_pending(self) -> None:
        try:
            while self.pending and not self.closed:
                reply, keep_alive = self.pending.popleft()
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if self.closed or self.transport is None:
                    return
                if reply.fault == "hang":
                    await self.rx._stopping.wait()
                    return
                if reply.fault == "drop":
                    self.transport.close()
                    return
                if reply.fault == "reset":
                    self._abort()
                    return
                if reply.body_size is not None or reply.fault == "cut":
                    size = reply.body_size if reply.body_size is not None else len(reply.body)
                    size = max(size, 2)
                    send = size // 2 if reply.fault == "cut" else size
                    self.transport.write(_head(reply.status, reply.headers, size, False))
                    filler = b"x" * min(_CHUNK, send) if send else b""
                    left = send
                    while left > 0 and not self.closed:
                        await self.can_write.wait()
                        piece = filler if left >= len(filler) else filler[:left]
                        self.transport.write(piece)
                        left -= len(piece)
                    if reply.fault == "cut":
                        self.transport.close()
                        return
                    continue
                self._write(reply, keep_alive)
        finally:
            self.busy = False


class Receiver:
    """A loopback HTTP server that records requests; use it as a context manager.

    Parameters
    ----------
    status : int or callable
        The status to answer with (default 200), or a function of the ``Received`` request
        returning a status, a ``Reply`` or ``None`` (for 200).
    delay : float
        Seconds to wait before every answer (for slow-endpoint demos and cancel tests).
    body : bytes
        Body of every answer (default empty).
    host, port :
        Where to listen; the default is 127.0.0.1 on a free port.
    record : bool
        Keep every request (default True); False only counts them (for benchmarks).

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>/``.
    requests : pandas.DataFrame
        What arrived, in arrival order: method, path, headers, body, time.
    count : int
        How many requests arrived.
    """

    def __init__(
        self,
        status: int | Handler = 200,
        *,
        delay: float = 0.0,
        body: bytes = b"",
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        self._handler: Handler | None = status if callable(status) else None
        self._default = Reply(status if isinstance(status, int) else 200, body=body, delay=delay)
        self._delay = delay
        self._default_bytes = _head(self._default.status, {}, len(body), False) + body
        self.host = host
        self.port = port
        self.record = record
        self._log: list[_Raw] = []  # decoded only when read: recording stays cheap
        self._count = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[_Connection] = set()
        self._stopping: asyncio.Event
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> Receiver:
        """Start listening (idempotent); returns self."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._serve, name="flux_magic-receiver", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            self._thread = None
            raise self._error
        return self

    def stop(self) -> None:
        """Stop listening and close every connection (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._shutdown)
        thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._open())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> None:
        self._stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, backlog=4096, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def _shutdown(self) -> None:
        assert self._loop is not None
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.abort()
        loop = self._loop

        async def finish() -> None:
            if self._server is not None:
                await self._server.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        loop.create_task(finish())

    # answering ---------------------------------------------------------------------------
    def _reply_for(self, raw: _Raw) -> Reply:
        self._count += 1
        if self.record:
            self._log.append(raw)
        if self._handler is None:
            return self._default
        try:
            answer = self._handler(_decode(raw))
        except Exception as exc:  # the handler is test code: answer 500 and say why
            return Reply(500, body=f"receiver handler failed: {exc!r}".encode())
        if answer is None:
            return self._default
        if isinstance(answer, Reply):
            if self._delay and not answer.delay:
                return Reply(
                    answer.status,
                    answer.body,
                    answer.headers,
                    self._delay,
                    answer.body_size,
                    answer.fault,
                )
            return answer
        return Reply(int(answer), body=self._default.body, delay=self._delay)

    # what arrived ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._thread is None:
            raise RuntimeError("the receiver is not running; use `with Receiver() as rx:`.")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def count(self) -> int:
        return self._count

    @property
    def requests(self) -> pd.DataFrame:
        log = self.received()
        return pd.DataFrame(
            {
                "method": [r.method for r in log],
                "path": [r.path for r in log],
                "headers": [r.headers for r in log],
                "body": [r.body for r in log],
                "time": pd.to_datetime([r.time for r in log], unit="s", utc=True),
            }
        )

    def received(self) -> list[Received]:
        """The recorded requests as ``Received`` objects, in arrival order."""
        return [_decode(raw) for raw in list(self._log)]

    def clear(self) -> None:
        """Forget what arrived so far."""
        self._log.clear()
        self._count = 0

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests arrived; False on time-out."""
        end = time.monotonic() + timeout
        while self._count < count:
            if time.monotonic() > end:
                return False
            time.sleep(0.005)
        return True

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self._thread else "stopped"
        return f"Receiver({where}, {self._count} request(s))"

    def _repr_html_(self) -> str:
        return f"<b>Receiver</b> at <code>{self.url if self._thread else 'stopped'}</code>: " + (
            f"{self._count} request(s)"
        )

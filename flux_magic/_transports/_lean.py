"""The lean HTTP/1.1 backend: keep-alive connections shared by the workers, answers parsed by
httptools.

Used for ``http://`` and ``https://`` targets without proxy, URL credentials or URL policy (see
``usable``), in sequential and concurrent mode. A connection is an ``asyncio.BufferedProtocol``
(one read buffer per connection, ``READ_BUFFER``) feeding ``httptools.HttpResponseParser``
(TLS through asyncio with the send's ``ssl.SSLContext``, SNI and ALPN ``http/1.1``) and
carries one request at a time, no pipelining. The request is the head (method, path,
``Host``, ``DEFAULT_HEADERS``, the mapping's headers, ``Content-Length``) and the body in one
write. The answer's body goes to the ``Sink``.

Idle connections wait in one pool per send (``LeanTarget.idle``), taken last-in first-out: a
worker takes the most recently used one and opens a new one only when none is idle, so the
pool grows to the number of requests actually in flight, not to the number of workers. With
``rate=`` that is a few warm connections, each idle about ``1 / rate`` seconds, rather than one
per worker idle ``concurrency / rate`` seconds (long enough for some servers to drop a request
written on it).

A connection goes back to the pool only when the answer was complete, the server allows
keep-alive, and nothing else arrived: bytes nobody asked for (an extra answer in the same
packet) or the server's close make it unusable, and an idle connection with anything to read
is replaced before a request is written (checked with ``poll``, which works at any descriptor
number). Answer heads are capped at ``MAX_HEAD`` bytes; an upgrade (``101``, ``Upgrade``) fails
the row.

A connection the server is about to drop is not reused: the server's ``Keep-Alive:
timeout=N, max=M`` (Apache, lighttpd) is honoured, idle no longer than N minus a margin
(``idle_limit``) and for at most M more requests; when the server says nothing, idle no longer
than ``IDLE_EXPIRY``.

For the driver's one resend on a fresh connection (``_retry.resend_fresh``) the backend reports
whether the connection was pooled, whether the answer's first byte arrived, and, on plain TCP,
whether the write failed at once (then no byte of the request left).

The lean backend serves only the send's own origin; other redirect targets and everything
after the server sets a cookie go to the fallback backend (aiohttp), chosen by the driver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING

import httptools
from yarl import URL

from ._failures import Kind, TransportFailure, from_os_error
from ._protocol import DEFAULT_HEADERS, IDLE_CHECK, IDLE_EXPIRY, Hop, Sink, readable

if TYPE_CHECKING:
    from ._protocol import Backend

__all__ = ["MAX_HEAD", "LeanBackend", "LeanTarget", "idle_limit", "keep_alive_hint", "usable_url"]

#: The largest answer head (status line and header fields) read, in bytes.
MAX_HEAD = 64 * 1024
#: Each connection reads into one buffer of this size, reused for every read. A plain
#: ``asyncio.Protocol`` gets a new bytes object per read, allocated at asyncio's 256 KiB
#: ``max_size`` and then shrunk: with ``MALLOC_TRIM_THRESHOLD_`` set (Dask's workers set
#: 65536) that is a fresh ``mmap`` and two page faults per read.
READ_BUFFER = 32 * 1024
#: Request headers that change how the exchange goes: such rows go to the fallback.
_FRAMING = frozenset({"Expect", "Upgrade", "Connection"})
_DEFAULT_NAMES = frozenset(DEFAULT_HEADERS)
#: Above this size the body is written on its own rather than copied into one buffer.
_JOIN_LIMIT = 64 * 1024


def usable_url(url: str) -> bool:
    """Whether ``url`` (credentials already removed) is one the lean backend can serve."""
    try:
        parsed = URL(url)
        host = parsed.raw_host
        parsed.port  # noqa: B018 (raises for a bad port)
    except (TypeError, ValueError):
        return False
    if host and host.replace(".", "").isdigit():  # dotted digits must be a real IPv4 literal
        try:
            ipaddress.IPv4Address(host)
        except ValueError:  # e.g. 127.000.000.001: the other backends refuse it; so does this
            return False
    return parsed.scheme in ("http", "https") and bool(host) and not parsed.raw_user


def keep_alive_hint(value: str) -> tuple[float | None, int | None]:
    """``timeout`` (seconds) and ``max`` (requests) of a ``Keep-Alive`` header; None where
    absent or malformed."""
    timeout: float | None = None
    most: int | None = None
    for part in value.split(","):
        name, _, number = part.partition("=")
        name, number = name.strip().lower(), number.strip()
        try:
            if name == "timeout":
                timeout = max(0.0, float(number))
            elif name == "max":
                most = max(0, int(number))
        except ValueError:
            continue
    return timeout, most


def idle_limit(timeout: float) -> float:
    """How long a connection may sit idle when the server keeps idle ones ``timeout`` s: a
    quarter of it less, at most a second less (the server counts from its write, the client
    from its read, and the request needs time to arrive)."""
    return max(0.0, timeout - min(1.0, timeout / 4))


class _Extra(Exception):
    """A second answer to one request: parsing stops and the connection is dropped."""


class _Conn(asyncio.BufferedProtocol):
    """One keep-alive connection and the state of the answer being read on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.buffer = memoryview(bytearray(READ_BUFFER))
        self.transport: asyncio.Transport | None = None
        self.tls = False
        self.fd = -1
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        #: reused only while idle no longer than this, and while requests_left (if known) > 0
        self.max_idle = IDLE_EXPIRY
        self.requests_left: int | None = None
        #: the answer's ``Keep-Alive`` header, if any
        self.hint: str | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.sink = Sink(0, 0)
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.framed = False
        self.head_size = 0
        self.failure: TransportFailure | None = None

    def begin(self, sink: Sink) -> asyncio.Future[None]:
        """Prepare for the next answer; the returned future is done when it is read."""
        self.sink = sink
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.framed = False
        self.head_size = 0
        self.failure = None
        self.hint = None
        waiter = self.waiter = self.loop.create_future()
        return waiter

    def reusable(self) -> bool:
        """After a complete answer: read its ``Keep-Alive`` hint; whether the server takes
        another request on this connection."""
        hint = self.hint
        timeout, most = keep_alive_hint(hint) if hint is not None else (None, None)
        if timeout is not None:
            self.max_idle = idle_limit(timeout)
        if most is not None:
            self.requests_left = most
        elif self.requests_left is not None:
            self.requests_left -= 1
        return self.max_idle > 0 and (self.requests_left is None or self.requests_left > 0)

    def expired(self, now: float) -> bool:
        """Whether the idle connection has been idle longer than the server keeps it."""
        return now - self.idle_since > self.max_idle

    def close(self, *, abort: bool = True) -> None:
        """Close at once (``abort``: unread bytes may follow) or after pending writes. A TLS
        connection is always closed at once: a close_notify exchange could outlive the send's
        event loop."""
        self.closed = True
        if self.transport is not None:
            if abort or self.tls:
                self.transport.abort()
            else:
                self.transport.close()

    def stale(self) -> bool:
        """Whether the idle connection has something to read: the server's close (or bytes
        nobody asked for) that the event loop has not processed yet."""
        if self.fd < 0:
            return self.transport is None
        return readable(self.fd)

    def _done(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self.idle_since = self.loop.time()

    def _fail(self, failure: TransportFailure) -> None:
        self.failure = failure
        self.close()
        self._done()

    # asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.tls = transport.get_extra_info("sslcontext") is not None
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None else -1

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self.buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done() or self.complete:
            # bytes nobody asked for: the connection cannot be trusted
            self.keep_alive = False
            self.close()
            return
        if not self.headers_done:
            self.sink.heard = True
            self.head_size += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(TransportFailure(Kind.UPGRADE, f"status {self.parser.get_status_code()}"))
            return
        except httptools.HttpParserInvalidStatusError:
            self._fail(TransportFailure(Kind.PROTOCOL, "invalid status line"))
            return
        except httptools.HttpParserError as exc:
            if self.complete:  # the answer was whole; something else followed it: drop it
                self.keep_alive = False
                self.close()
                self._done()
            else:
                self._fail(TransportFailure(Kind.PROTOCOL, _parser_detail(exc)))
            return
        if not self.headers_done and self.head_size > MAX_HEAD:
            self._fail(TransportFailure(Kind.HEAD_TOO_LARGE))
            return
        if self.complete or self.sink.over:
            self._done()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost reports the answer's state

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.headers_done and not self.framed and not self.complete:
            # no Content-Length and not chunked: the body ends where the connection does
            self.complete = True
        elif isinstance(exc, ssl.SSLError):
            self.failure = from_os_error(exc, connecting=False)
        else:
            self.failure = TransportFailure(Kind.CLOSED)
        waiter.set_result(None)

    # httptools callbacks ---------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.lower()
        sink = self.sink
        if key == b"content-length" or key == b"transfer-encoding":
            self.framed = True
        elif key == b"location":
            sink.location = value.decode("utf-8", "surrogateescape")
        elif key == b"retry-after":
            sink.retry_after = value.decode("latin-1")
        elif key == b"set-cookie":
            if sink.cookies is None:
                sink.cookies = []
            sink.cookies.append(value.decode("utf-8", "surrogateescape"))
        elif key == b"uri" and sink.location is None:
            sink.location = value.decode("utf-8", "surrogateescape")
        elif key == b"keep-alive":
            self.hint = value.decode("latin-1")

    def on_message_begin(self) -> None:
        if self.complete:
            raise _Extra  # a second answer to one request: stop parsing, drop the connection

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            return  # an interim answer (100 Continue, 103 Early Hints): skipped
        self.sink.status = status
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        sink = self.sink
        if not sink.over:
            sink.feed(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            sink = self.sink
            sink.location = sink.retry_after = None
            self.head_size = 0
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()


def _parser_detail(exc: BaseException) -> str:
    """httptools' parser errors carry llhttp's reason; shown as the detail."""
    return str(exc) or type(exc).__name__


def _lines(headers: dict[str, str]) -> bytes:
    return "".join([f"{k}: {v}\r\n" for k, v in headers.items()]).encode("utf-8")


class LeanTarget:
    """What the workers of one send share: the origin, its precomputed request head, TLS."""

    def __init__(self, url: str, context: Callable[[], ssl.SSLContext]) -> None:
        parsed = URL(url)
        self.url = url
        self.origin = parsed.origin()
        self.host = parsed.raw_host or ""
        self.port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.ssl = context() if parsed.scheme == "https" else None
        # the same Host and path aiohttp would send (both come from yarl)
        head = f"POST {parsed.raw_path_qs} HTTP/1.1\r\nHost: {parsed.host_port_subcomponent}\r\n"
        self.prefix = head.encode("utf-8")
        self.head = self.prefix + _lines(DEFAULT_HEADERS)
        #: Idle keep-alive connections, the most recently used last.
        self.idle: list[_Conn] = []

    def take(self, now: float) -> _Conn | None:
        """The most recently used idle connection still usable, or None. One the server has
        closed while idle (its close arrived before a request was written), or idle longer
        than the server keeps it, is dropped here."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if (
                conn.closed
                or conn.expired(now)
                or (now - conn.idle_since > IDLE_CHECK and conn.stale())
            ):
                conn.close()
                continue
            return conn
        return None

    def close(self) -> None:
        """Close every idle connection (the send is over)."""
        for conn in self.idle:
            conn.close(abort=False)
        self.idle.clear()

    def serves(self, hop: Hop) -> bool:
        """Whether this backend can send ``hop``: its own URL, a plain POST, usual headers."""
        return hop.url == self.url and hop.method == "POST" and _FRAMING.isdisjoint(hop.headers)

    def encode(self, hop: Hop) -> bytes:
        """The request's bytes."""
        headers = hop.headers
        body = hop.body
        if headers:
            if _DEFAULT_NAMES.isdisjoint(headers):
                head = self.head + _lines(headers)
            else:  # the mapping replaces a default header
                merged = {k: v for k, v in DEFAULT_HEADERS.items() if k not in headers}
                head = self.prefix + _lines(merged) + _lines(headers)
        else:
            head = self.head
        return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)


class LeanBackend:
    """One worker's way to the target, through its pool (implements ``Backend``); ``conn`` is
    the connection of the exchange in progress, if any."""

    def __init__(self, target: LeanTarget) -> None:
        self.target = target
        self.conn: _Conn | None = None
        self.loop = asyncio.get_running_loop()

    async def _connect(self) -> _Conn:
        target = self.target
        loop = self.loop
        try:
            _, conn = await loop.create_connection(
                lambda: _Conn(loop),
                target.host,
                target.port,
                ssl=target.ssl,
                server_hostname=target.host if target.ssl is not None else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise from_os_error(exc, connecting=True) from exc
        except UnicodeError as exc:
            raise TransportFailure(Kind.BAD_URL, "the host name is not valid IDNA") from exc
        return conn

    async def exchange(self, hop: Hop, sink: Sink, fresh: bool = False) -> None:
        target = self.target
        data = target.encode(hop)
        # A connection the server has closed while idle is noticed when it is taken (its close
        # arrived before this request was written) and replaced before anything is sent. A
        # failure after that is reported with its facts (pooled? written? answered?) and the
        # driver decides whether the request goes once more (``_retry.resend_fresh``).
        conn = None if fresh else target.take(self.loop.time())
        if conn is None:
            conn = await self._connect()
        else:
            sink.reused = True
        self.conn = conn
        waiter = conn.begin(sink)
        transport = conn.transport
        assert transport is not None
        sink.sending = True
        body = hop.body
        if len(data) > _JOIN_LIMIT and len(body) > _JOIN_LIMIT:
            transport.write(data[: len(data) - len(body)])
            first_failed = transport.is_closing()
            transport.write(body)
        else:
            transport.write(data)
            first_failed = transport.is_closing()
        # a plain socket transport that is closing right after the first write: the write
        # itself failed (a reset that arrived before it) and nothing was buffered, so no byte
        # left (a TLS transport writes through its own buffers: not known there)
        sink.unwritten = first_failed and not conn.tls
        try:
            await waiter
        except BaseException:  # cancelled (the deadline, a stop): mid-answer, never reusable
            conn.close()
            self.conn = None
            raise
        if conn.failure is not None:
            self.conn = None
            raise conn.failure
        if sink.over:
            conn.close()
            self.conn = None
        elif not conn.complete:
            conn.close()
            self.conn = None
            raise TransportFailure(Kind.CLOSED)
        elif not conn.keep_alive or not conn.reusable():
            conn.close(abort=False)
            self.conn = None
        else:
            self.conn = None
            target.idle.append(conn)

    async def aclose(self) -> None:
        if self.conn is not None:
            waiter = self.conn.waiter
            self.conn.close(abort=waiter is not None and not waiter.done())
            self.conn = None


if TYPE_CHECKING:
    _check: type[Backend] = LeanBackend

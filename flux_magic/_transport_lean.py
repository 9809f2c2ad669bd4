"""A lean HTTP/1.1 keep-alive path for the concurrent mode, on httptools' response parser.

Used by the concurrent worker pool instead of aiohttp's ``session.post`` when that is safe:
a plain ``http://`` URL without credentials, no proxy or netrc file in the environment (aiohttp
would consult them) and no URL policy (``block_private``, ``allow_hosts``). Everything else
keeps the aiohttp path (``_transport._main_async``).

Each worker owns one keep-alive connection (an ``asyncio.Protocol`` feeding
``httptools.HttpResponseParser``) and sends one request at a time on it: no pipelining. The
request is a precomputed head (``POST``, path, ``Host``, the same ``DEFAULT_HEADERS`` as the
other paths) plus the mapping's headers, ``Content-Length`` and the body, in one write. The
answer's body is counted and dropped as it arrives (the first ``keep_response`` bytes kept),
reading stops past ``max_response_bytes``, and the connection is replaced when the server
closes it or answers ``Connection: close``.

It behaves as the aiohttp path does, with the same wording and the same retry classification
(``Attempt`` kinds): one timeout per request covering connect, send and answer; a failure to
connect is "not sent", anything after the request was written is "maybe sent". A redirect
(301, 302, 303, 307, 308 with a Location, ``max_redirects > 0``) is sent again through aiohttp,
so redirects are followed exactly as on the general path; from then on the whole send uses
aiohttp (an endpoint that redirects once will likely redirect every row), so at most one
request per worker reaches the redirecting URL twice.

``ENABLED`` switches the path off for every send (the test suite runs with both settings).
"""

from __future__ import annotations

import asyncio
import select
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httptools
from yarl import URL

from ._request import Request
from ._retry import MAYBE_SENT, NOT_SENT, Attempt, Retrier
from ._secrets import secret_values
from ._transport import (
    DEFAULT_HEADERS,
    Ledger,
    _answered,
    _bytes,
    _env_can_matter,
    _failure,
    _late,
    _over_cap,
    _send_async,
    describe_exception,
)

if TYPE_CHECKING:
    import aiohttp

    from ._options import Options

__all__ = ["ENABLED", "run_lean", "usable"]

#: Whether the concurrent mode may use this path at all (tests switch it off to run the
#: same suite against the aiohttp path).
ENABLED = True

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Request headers that change the framing or the target: such rows go through aiohttp.
_FRAMING = frozenset({"Host", "Content-Length", "Transfer-Encoding", "Expect", "Upgrade"})
_DEFAULT_NAMES = frozenset(DEFAULT_HEADERS)
#: Above this size the body is written on its own rather than copied into one buffer.
_JOIN_LIMIT = 64 * 1024


def usable(url: str, options: Options) -> bool:
    """Whether a send to ``url`` (credentials already removed) may take the lean path."""
    if not ENABLED or options.policy.active:
        return False
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return False
    if parsed.scheme != "http" or not parsed.raw_host or parsed.raw_user or parsed.raw_password:
        return False
    # aiohttp with trust_env would use an environment proxy or a netrc file: keep its path
    return not _env_can_matter()


class _Closed(ConnectionError):
    """The server closed the connection before the answer was complete."""


class _Extra(Exception):
    """Bytes after a complete answer, before the next request was written."""


class _Conn(asyncio.Protocol):
    """One keep-alive connection and the state of the answer being read on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.fd = -1
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.waiter: asyncio.Future[None] | None = None
        self.cap = 0
        self.keep = 0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.framed = False
        self.location: str | None = None
        self.uri: str | None = None
        self.cookies: list[str] | None = None
        self.retry_after: str | None = None
        self.size = 0
        self.kept: bytearray | None = None
        self.over = False
        self.timed_out = False
        self.error: BaseException | None = None

    def begin(self, cap: int, keep: int) -> asyncio.Future[None]:
        """Prepare for the next answer; the returned future is done when it is read."""
        self._reset()
        self.cap = cap
        self.keep = keep
        if keep:
            self.kept = bytearray()
        waiter = self.waiter = self.loop.create_future()
        return waiter

    def close(self, *, abort: bool = True) -> None:
        """Close at once (``abort``: unread bytes may follow) or after pending writes."""
        self.closed = True
        if self.transport is not None:
            if abort:
                self.transport.abort()
            else:
                self.transport.close()

    def stale(self) -> bool:
        """Whether the idle connection has something to read: the server's close (or bytes
        nobody asked for) that the event loop has not processed yet, e.g. after a mapping
        function that ran long."""
        if self.fd < 0:
            return self.transport is None
        try:
            readable, _, _ = select.select((self.fd,), (), (), 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def time_out(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.timed_out = True
            waiter.set_result(None)
        self.close()

    def _done(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None else -1

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            # bytes nobody asked for (or after a stop): the connection cannot be trusted
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.complete:  # the answer was whole; something else followed it: _Extra
                self.keep_alive = False
            else:
                self.error = exc
            self.close()
            self._done()
            return
        if self.complete or self.over:
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
        else:
            self.error = exc or _Closed("peer closed connection before a complete answer")
        waiter.set_result(None)

    # httptools callbacks ---------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.lower()
        if key == b"content-length" or key == b"transfer-encoding":
            self.framed = True
        elif key == b"location":
            self.location = value.decode("utf-8", "surrogateescape")
        elif key == b"retry-after":
            self.retry_after = value.decode("latin-1")
        elif key == b"set-cookie":
            if self.cookies is None:
                self.cookies = []
            self.cookies.append(value.decode("utf-8", "surrogateescape"))
        elif key == b"uri":
            self.uri = value.decode("utf-8", "surrogateescape")

    def on_message_begin(self) -> None:
        if self.complete:
            raise _Extra  # a second answer to one request: stop parsing, drop the connection

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        if self.over:
            return
        self.size += len(body)
        kept = self.kept
        if kept is not None and len(kept) < self.keep:
            kept += body[: self.keep - len(kept)]
        if self.size > self.cap:
            self.over = True

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200 and self.status != 101:
            # an interim answer (100 Continue, 103 Early Hints): skipped, as aiohttp does
            self._reset()
            if self.keep:
                self.kept = bytearray()
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()


class _Lean:
    """What the workers of one send share: the target, the options, the fallback session."""

    def __init__(
        self,
        url: str,
        options: Options,
        make_session: Callable[[], aiohttp.ClientSession],
    ) -> None:
        parsed = URL(url)
        self.url = url
        self.options = options
        self.host = parsed.raw_host or ""
        self.port = parsed.port or 80
        # the same Host and path aiohttp would send (both come from yarl)
        head = f"POST {parsed.raw_path_qs} HTTP/1.1\r\nHost: {parsed.host_port_subcomponent}\r\n"
        self.prefix = head.encode("utf-8")
        self.head = self.prefix + _lines(DEFAULT_HEADERS)
        self.parsed = parsed
        self.make_session = make_session
        self.session: aiohttp.ClientSession | None = None
        #: Set after the first redirect, or once the server has set a cookie the aiohttp jar
        #: keeps: every later row goes through aiohttp.
        self.handed_over = False

    def encode(self, req: Request) -> bytes | None:
        """The request's bytes, or None when it should go through aiohttp."""
        headers = req.headers
        body = req.body
        if headers:
            if not _FRAMING.isdisjoint(headers):
                return None
            if _DEFAULT_NAMES.isdisjoint(headers):
                head = self.head + _lines(headers)
            else:  # the mapping replaces a default header
                merged = {k: v for k, v in DEFAULT_HEADERS.items() if k not in headers}
                head = self.prefix + _lines(merged) + _lines(headers)
        else:
            head = self.head
        return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)

    def aiohttp_session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = self.make_session()
        return self.session

    async def via_aiohttp(self, req: Request) -> Attempt:
        return await _send_async(
            self.aiohttp_session(), self.url, req, self.options.max_redirects, self.options
        )

    def store_cookies(self, cookies: list[str]) -> None:
        """Give the answer's Set-Cookie fields to the aiohttp session's jar, as aiohttp does
        with every answer; once the jar holds a cookie, later rows must carry it: aiohttp."""
        jar = self.aiohttp_session().cookie_jar
        jar.update_cookies_from_headers(cookies, self.parsed)
        if len(jar):
            self.handed_over = True

    async def follow(self, req: Request, status: int, location: str, left: float | None) -> Attempt:
        """Follow a redirect the lean path received, then let aiohttp follow any further
        ones: the same rules as aiohttp's own loop (``ClientSession._request``), which counts
        this first hop too."""
        import aiohttp

        options = self.options
        url = self.parsed
        method = "POST"
        headers = req.headers
        if status == 303 or status in (301, 302):
            method = "GET"
        try:
            target = URL(location, encoded=False)
        except ValueError as exc:
            problem = aiohttp.InvalidUrlRedirectClientError(location, "not a URL")
            problem.__cause__ = exc
            return _failure(problem, self.url, options)
        scheme = target.scheme
        if scheme not in ("http", "https", ""):
            return _failure(aiohttp.NonHttpUrlRedirectClientError(location), self.url, options)
        if not scheme or (scheme == url.scheme and _has_no_authority(location, scheme)):
            target = url.join(target)
        try:
            origin = target.origin()
        except ValueError as exc:
            problem = aiohttp.InvalidUrlRedirectClientError(target, "Invalid redirect URL origin")
            problem.__cause__ = exc
            return _failure(problem, self.url, options)
        if url.origin() != origin:
            headers = {
                k: v
                for k, v in headers.items()
                if k not in ("Authorization", "Cookie", "Proxy-Authorization")
            }
        timeout = None if left is None else aiohttp.ClientTimeout(total=max(left, 0.001))
        return await _send_async(
            self.aiohttp_session(),
            str(target),
            req._replace(headers=headers),
            options.max_redirects - 1,
            options,
            method=method,
            timeout=timeout,
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


def _has_no_authority(location: str, scheme: str) -> bool:
    """Whether ``location`` (with a scheme) has no "//" after it, as aiohttp tells."""
    location = location.strip("".join(map(chr, range(33)))).replace("\t", "")
    location = location.replace("\n", "").replace("\r", "")
    rest = location[len(scheme) + 1 : len(scheme) + 3]
    return rest[:1] not in ("/", "\\") or rest[1:] not in ("/", "\\")


def _lines(headers: dict[str, str]) -> bytes:
    return "".join([f"{k}: {v}\r\n" for k, v in headers.items()]).encode("utf-8")


class _Worker:
    """One worker coroutine's connection and its ``send``."""

    def __init__(self, lean: _Lean) -> None:
        self.lean = lean
        self.conn: _Conn | None = None
        self.loop = asyncio.get_running_loop()

    def close(self, *, abort: bool = True) -> None:
        if self.conn is not None:
            self.conn.close(abort=abort)
            self.conn = None

    async def _connect(self, deadline: float | None) -> _Conn:
        lean = self.lean
        loop = self.loop
        if deadline is None:
            _, conn = await loop.create_connection(lambda: _Conn(loop), lean.host, lean.port)
        else:
            async with asyncio.timeout_at(deadline):
                _, conn = await loop.create_connection(lambda: _Conn(loop), lean.host, lean.port)
        return conn

    async def send(self, req: Request) -> Attempt:
        lean = self.lean
        if lean.handed_over:
            return await lean.via_aiohttp(req)
        data = lean.encode(req)
        if data is None:
            return await lean.via_aiohttp(req)
        options = lean.options
        timeout = options.timeout
        loop = self.loop
        deadline = None if timeout is None else loop.time() + timeout
        conn = self.conn
        # A connection the server has closed while idle is noticed here (its close arrived
        # before this request was written) and replaced before anything is sent. A request is
        # never written twice: once written, a failure is reported as "maybe sent" and left to
        # the retry rules, because an empty read cannot tell an idle close racing with the
        # write from a server that took the request and then dropped the connection.
        if conn is not None and not conn.closed and conn.stale():
            conn.close()
        if conn is None or conn.closed:
            self.conn = None
            try:
                conn = await self._connect(deadline)
            except (OSError, TimeoutError) as exc:
                return _not_connected(exc, lean.url, options)
            self.conn = conn
        waiter = conn.begin(options.max_response_bytes, options.keep_response)
        transport = conn.transport
        assert transport is not None
        if len(data) > _JOIN_LIMIT and len(req.body) > _JOIN_LIMIT:
            transport.write(data[: len(data) - len(req.body)])
            transport.write(req.body)
        else:
            transport.write(data)
        if deadline is None:
            await waiter
        else:
            timer = loop.call_at(deadline, conn.time_out)
            try:
                await waiter
            finally:
                timer.cancel()
        attempt = self._outcome(conn)
        if attempt is not None:
            return attempt
        # a redirect to follow
        lean.handed_over = True
        location = conn.location or conn.uri or ""
        left = None if deadline is None else deadline - loop.time()
        return await lean.follow(req, conn.status, location, left)

    def _outcome(self, conn: _Conn) -> Attempt | None:
        """The attempt an answer makes, or None for a redirect to follow."""
        lean = self.lean
        options = lean.options
        status = conn.status
        kept = _bytes(conn.kept)
        if conn.timed_out:
            self.close()
            if conn.headers_done:
                # the status line arrived, then the answer took too long: keep the status
                return Attempt((status, _late(options.timeout or 0.0), kept), MAYBE_SENT)
            text = describe_exception(TimeoutError(), lean.url, options)
            return Attempt((0, text, None), MAYBE_SENT)
        if conn.error is not None:
            self.close()
            text = describe_exception(conn.error, lean.url, options)
            if conn.headers_done:
                return Attempt((status, text, kept), MAYBE_SENT)
            return Attempt((0, text, None), MAYBE_SENT)
        if conn.over:
            self.close()
            return Attempt((status, _over_cap(options.max_response_bytes), kept))
        if not conn.keep_alive:
            self.close(abort=False)
        if conn.cookies is not None:
            lean.store_cookies(conn.cookies)
        if status in _REDIRECTS and options.max_redirects > 0 and (conn.location or conn.uri):
            return None
        return _answered(status, "", kept, conn.retry_after)


def _not_connected(exc: BaseException, url: str, options: Options) -> Attempt:
    """A failure to connect: nothing was sent. Worded as on the aiohttp path."""
    text = describe_exception(exc, url, options)
    if text.startswith(f"{type(exc).__name__}:") or text == type(exc).__name__:
        text = f"could not connect: {exc or type(exc).__name__}"
    return Attempt((0, text, None), NOT_SENT)


async def run_lean(
    url: str,
    source: Iterator[tuple[int, Request]],
    ledger: Ledger,
    options: Options,
    make_session: Callable[[], aiohttp.ClientSession],
    start_workers: Callable[[Callable[[], Any]], Any],
) -> None:
    """Run the concurrent send on lean connections; ``start_workers`` spawns and awaits
    ``options.concurrency`` coroutines made by the given factory (cancel included)."""
    lean = _Lean(url, options, make_session)
    retrier = Retrier(options, ledger, secret_values(url))
    try:
        await start_workers(lambda: _work(lean, source, ledger, retrier))
    finally:
        await lean.close()


async def _work(
    lean: _Lean, source: Iterator[tuple[int, Request]], ledger: Ledger, retrier: Retrier
) -> None:
    worker = _Worker(lean)
    try:
        if not retrier.active:
            for position, req in source:  # one shared iterator: each row is taken once
                ledger.begin(position)
                attempt = await worker.send(req)
                ledger.finish(position, attempt.outcome)
                if ledger.stopping:
                    return
            return
        for position, req in source:
            done = await retrier.run_async(position, req, worker.send)
            if done is not None:
                ledger.finish(position, done[0], done[1])
            if ledger.stopping:
                return
    finally:
        # mid-answer (cancelled) the connection cannot be reused: abort; else a clean close
        waiter = worker.conn.waiter if worker.conn is not None else None
        worker.close(abort=waiter is not None and not waiter.done())

"""The one driver of every backend: the worker loop, the deadline, redirects and outcomes.

``drive`` runs ``options.concurrency`` worker coroutines on one shared row iterator (each row
is taken exactly once; one worker is the sequential mode). For each row a worker makes one
``Attempt`` (``Sender.send``; the ``Retrier`` repeats it when the retry rules say so):

* one deadline (``timeout``) covers the whole attempt: connect, TLS, send, the answer's head
  and body, and every redirect hop;
* each hop is one ``Backend.exchange``; a redirect is followed here (``next_hop``), at most
  ``max_redirects`` times, so every backend follows them the same way;
* the mapping's framing headers (``_request.FRAMING_HEADERS``) are not sent;
* the answer's body goes to a ``Sink`` (capped at ``max_response_bytes``);
* a failure is a ``TransportFailure`` of a ``Kind``, worded once (``_failures``); an exception
  a backend did not expect still becomes that row's ``_error``: in ``errors="collect"`` mode
  nothing a row's request raises escapes the send;
* a request that failed on a reused connection before any answer byte is sent once more on a
  fresh connection when ``_retry.resend_fresh`` allows it (at most once per row, within the
  same deadline); the backend only reports the facts, in the sink.

Rows are mapped off the event loop (``RowFeed``): the mapping runs in a thread of its own, a
batch at a time, so a slow or blocking mapping never stalls I/O. Connections keep being served
while it runs (a server's close of an idle connection is seen when it arrives) and no request
in flight is charged for the time the mapping took: a request's deadline starts when the
request is sent, and the loop keeps reading its answer meanwhile.

The ledger's ``abandon`` hook cancels the workers from another thread (Ctrl-C, Cancel).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, NamedTuple

from .._request import FRAMING_HEADERS
from ._failures import Kind, TransportFailure, attempt_for
from ._protocol import ANSWERED, Attempt, Hop, Sink
from ._redirects import REDIRECTS, next_hop
from ._retry import RETRY_STATUSES, Retrier, parse_retry_after, resend_fresh

if TYPE_CHECKING:
    from .._options import Options
    from .._request import Request
    from ._protocol import Backend, Ledger

__all__ = ["RowFeed", "SendState", "Sender", "drive", "over_cap"]

#: A batch of mapped rows ends after this many rows or this many seconds of mapping.
_BATCH_ROWS = 256
_BATCH_SECONDS = 0.002


def over_cap(cap: int) -> str:
    """The ``_error`` of an answer whose body passed ``max_response_bytes``."""
    return (
        f"the answer was larger than max_response_bytes ({cap:,} bytes); stopped reading it "
        "(the request itself was delivered)"
    )


class Sender:
    """One worker's way to send a row: its primary backend, and the shared fallback for what
    the primary does not serve (``serves``) or after it handed the send over."""

    def __init__(
        self,
        url: str,
        options: Options,
        primary: Backend,
        serves: Callable[[Hop], bool],
        fallback: Callable[[], Backend] | None,
        state: SendState,
        *,
        owns_primary: bool,
    ) -> None:
        self.url = url
        self.options = options
        self.primary = primary
        self.serves = serves
        self.fallback = fallback
        self.state = state
        self.owns_primary = owns_primary
        #: The hop being sent and its sink: what a timeout reports.
        self.last_sink: Sink | None = None
        self.last_hop = 0
        #: Requests the current attempt put on the wire, and whether it may still resend.
        self.tries = 1
        self.resend = True
        self.loop = asyncio.get_running_loop()

    async def close(self) -> None:
        """Close this worker's own connection (a shared backend is closed by its owner)."""
        if self.owns_primary:
            await self.primary.aclose()

    def backend_for(self, hop: Hop) -> Backend:
        if self.fallback is None or (not self.state.handed_over and self.serves(hop)):
            return self.primary
        return self.fallback()

    async def send(self, req: Request, resend: bool = True) -> Attempt:
        """One attempt for one row: every hop, under one deadline; ``resend`` allows the one
        resend on a fresh connection."""
        self.tries, self.resend = 1, resend
        attempt = await self._attempt(req)
        return attempt if self.tries == 1 else attempt._replace(tries=self.tries)

    async def _attempt(self, req: Request) -> Attempt:
        options = self.options
        timeout = options.timeout
        headers = req.headers
        if not FRAMING_HEADERS.isdisjoint(headers):
            headers = {k: v for k, v in headers.items() if k not in FRAMING_HEADERS}
        hop = Hop("POST", self.url, headers, req.body)
        count = 0
        sink = Sink(options.max_response_bytes, options.keep_response)
        if timeout is None:
            return await self._hops(hop, sink, count)
        # One deadline for the whole attempt: a timer that cancels this task (lighter than
        # asyncio.timeout, which matters at tens of thousands of rows a second).
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = self.loop.call_at(self.loop.time() + timeout, expire)
        try:
            return await self._hops(hop, sink, count)
        except asyncio.CancelledError:
            if not expired or task.uncancel() > 0:
                raise  # cancelled from outside (a stop): not a timeout
        finally:
            timer.cancel()
        sink = self.last_sink or sink
        kind = Kind.TIMEOUT if sink.sending else Kind.CONNECT_TIMEOUT
        return attempt_for(
            TransportFailure(kind),
            options,
            status=sink.status,
            kept=sink.kept_bytes(),
            hop=self.last_hop,
        )

    async def _hops(self, hop: Hop, sink: Sink, count: int) -> Attempt:
        options = self.options
        state = self.state
        fresh = False
        while True:
            self.last_sink, self.last_hop = sink, count
            backend = self.backend_for(hop)
            try:
                await backend.exchange(hop, sink, fresh)
            except TransportFailure as failure:
                if self.resend and resend_fresh(
                    failure.kind, sink, hop.headers, options.retry_unknown
                ):
                    self.tries, self.resend, fresh = self.tries + 1, False, True
                    sink = Sink(options.max_response_bytes, options.keep_response)
                    continue
                return attempt_for(
                    failure, options, status=sink.status, kept=sink.kept_bytes(), hop=count
                )
            except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # a backend's surprise is still only this row's failure
                surprise = TransportFailure(Kind.UNEXPECTED, f"{type(exc).__name__}: {exc}")
                return attempt_for(
                    surprise, options, status=sink.status, kept=sink.kept_bytes(), hop=count
                )
            fresh = False
            if sink.cookies and self.fallback is not None and backend is self.primary:
                state.keep_cookies(hop.url, sink.cookies)
            status = sink.status
            if status == 101:
                return attempt_for(TransportFailure(Kind.UPGRADE, "status 101"), options, hop=count)
            if not 100 <= status <= 999:
                invalid = TransportFailure(Kind.PROTOCOL, "invalid status line")
                return attempt_for(invalid, options, hop=count)
            if sink.over:
                return Attempt((status, over_cap(options.max_response_bytes), sink.kept_bytes()))
            if status in REDIRECTS and options.max_redirects > 0 and sink.location is not None:
                if count >= options.max_redirects:
                    return attempt_for(TransportFailure(Kind.TOO_MANY_REDIRECTS), options)
                try:
                    hop = next_hop(hop, status, sink.location)
                except TransportFailure as failure:
                    return attempt_for(failure, options)
                count += 1
                sink = Sink(options.max_response_bytes, options.keep_response)
                continue
            kept = sink.kept_bytes()
            if status in RETRY_STATUSES:
                return Attempt((status, "", kept), ANSWERED, parse_retry_after(sink.retry_after))
            return Attempt((status, "", kept))


class SendState:
    """What the workers of one send share beyond the backends."""

    def __init__(self, keep_cookies: Callable[[str, list[str]], bool] | None = None) -> None:
        #: Set once the fallback must take every later row (it holds cookies to send).
        self.handed_over = False
        self._keep_cookies = keep_cookies

    def keep_cookies(self, url: str, cookies: list[str]) -> None:
        if self._keep_cookies is not None and self._keep_cookies(url, cookies):
            self.handed_over = True


class _Batch(NamedTuple):
    rows: list[tuple[int, Request]]
    #: ``source`` ended (or raised ``error``)
    ended: bool
    error: BaseException | None
    #: the send began stopping while this batch was mapped (a mapping failure in strict
    #: mode): its rows come before the failure and go out, as they would have unread ahead
    owed: bool


def _take(source: Iterator[tuple[int, Request]], ledger: Ledger) -> _Batch:
    """Map the next rows (in the mapping thread)."""
    rows: list[tuple[int, Request]] = []
    end = time.monotonic() + _BATCH_SECONDS
    stopping = ledger.stopping
    try:
        for item in source:
            rows.append(item)
            if len(rows) >= _BATCH_ROWS or time.monotonic() >= end:
                return _Batch(rows, False, None, False)
    except BaseException as exc:  # the mapping's KeyboardInterrupt, the first-rows rule
        return _Batch(rows, True, exc, False)
    return _Batch(rows, True, None, not stopping and ledger.stopping)


class RowFeed:
    """The workers' shared supply of mapped rows: ``source`` is iterated in one thread of its
    own (the mapping runs there, never on the event loop), a batch at a time; each row is
    handed to exactly one worker. What the mapping raised is raised once the rows mapped before
    it are handed out."""

    def __init__(self, source: Iterator[tuple[int, Request]], ledger: Ledger) -> None:
        self.source = source
        self.ledger = ledger
        self.ready: collections.deque[tuple[int, Request]] = collections.deque()
        self.ended = False
        self.error: BaseException | None = None
        #: positions to send even though the send is stopping (see ``_Batch.owed``)
        self.owed: set[int] = set()
        self.lock = asyncio.Lock()
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="flux_magic-map")
        self.loop = asyncio.get_running_loop()

    async def next(self) -> tuple[int, Request] | None:
        """The next mapped row, or None when there are no more."""
        ready = self.ready
        if ready:
            return ready.popleft()
        async with self.lock:  # one batch is mapped at a time; the others wait for it
            while not ready and not self.ended:
                batch = await self.loop.run_in_executor(
                    self.thread, _take, self.source, self.ledger
                )
                self.ended, self.error = batch.ended, batch.error
                if batch.owed:
                    self.owed.update(position for position, _ in batch.rows)
                ready.extend(batch.rows)
            if ready:
                return ready.popleft()
            if self.error is not None:
                error, self.error = self.error, None
                raise error
            return None

    def goes(self, position: int) -> bool:
        """Whether a row taken from the feed is sent: not once the send is stopping, unless
        it was mapped before the mapping failure that stopped it."""
        return not self.ledger.stopping or position in self.owed

    def close(self) -> None:
        """Let the mapping thread go (a mapping still running ends on its own)."""
        self.thread.shutdown(wait=False, cancel_futures=True)


async def drive(
    source: Iterator[tuple[int, Request]],
    ledger: Ledger,
    options: Options,
    retrier: Retrier,
    make_sender: Callable[[], Sender],
) -> None:
    """Run ``options.concurrency`` workers over ``source`` until it ends or the send stops."""
    feed = RowFeed(source, ledger)
    try:
        await _drive(feed, ledger, options, retrier, make_sender)
    finally:
        feed.close()


async def _drive(
    feed: RowFeed,
    ledger: Ledger,
    options: Options,
    retrier: Retrier,
    make_sender: Callable[[], Sender],
) -> None:
    workers = [
        asyncio.create_task(_work(make_sender(), feed, ledger, retrier))
        for _ in range(options.concurrency)
    ]
    loop = asyncio.get_running_loop()

    def cancel_workers() -> None:
        for w in workers:
            w.cancel()

    def abandon() -> None:  # called from the caller's thread
        loop.call_soon_threadsafe(cancel_workers)

    ledger.abandon = abandon
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*workers, return_exceptions=True)


async def _work(sender: Sender, feed: RowFeed, ledger: Ledger, retrier: Retrier) -> None:
    try:
        if not retrier.active:
            while (row := await feed.next()) is not None:  # each row is taken once
                position, req = row
                if not feed.goes(position):  # mapped ahead of a stop: "not sent", truly
                    return
                ledger.begin(position)
                attempt = await sender.send(req)
                ledger.finish(position, attempt.outcome, attempt.tries)
                if ledger.stopping and not feed.owed:
                    return
            return
        while (row := await feed.next()) is not None:
            position, req = row
            if not feed.goes(position):
                return
            owed = position in feed.owed
            done = await retrier.run_async(position, req, sender.send, owed=owed)
            if done is not None:
                ledger.finish(position, done[0], done[1])
            if ledger.stopping and not feed.owed:
                return
    finally:
        await sender.close()

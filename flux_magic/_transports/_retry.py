"""Retries (through tenacity) and the rate limit, shared by every backend through the driver.

What is retried, with ``retries=N`` (N extra attempts per row at most):

* answers 429 (Too Many Requests) and 503 (Service Unavailable): the server says it did not
  handle the request; the wait honours ``Retry-After`` (seconds or an HTTP date) when it is at
  most ``MAX_RETRY_AFTER`` seconds, and a longer one ends the row's retries;
* failures before the request left: connection refused, DNS failure, connect timeout;
* only with ``retry_unknown=True``, failures after the request may have reached the server: a
  timeout waiting for the answer, a connection dropped or reset before or while answering.
  Retrying those can deliver a row twice; ``idempotency_key=True`` lets a server deduplicate.

Never retried: any other status (a 500 included), an answer larger than
``max_response_bytes``, a refusal by the URL policy, too many redirects, a TLS certificate
that does not verify (the same answer would come back).

**One resend on a fresh connection** (``resend_fresh``, decided by the driver for every
backend, with ``retries=0`` too, at most once per row, inside the attempt: the same deadline
and rate slot; it counts in ``_attempts``): a request
that failed on a pooled connection (one that had already carried a complete exchange) with the
connection closed or reset before any byte of an answer arrived is sent once more, on a new
connection, when one of these holds:

* no byte of it was written (known on the lean plain-TCP path: the write itself failed): the
  server cannot have it;
* it carries an ``Idempotency-Key`` (or ``X-Idempotency-Key``): ``idempotency_key=True``, a
  journal, or the mapping's own; the server can drop the duplicate. This is Go's net/http rule
  (``isReplayable``), and Flux's ``http.endpoint`` sends through Go's client;
* ``retry_unknown=True``: the user accepted that a row may arrive twice.

Otherwise the row fails as "maybe delivered" and is not sent twice: a server that read the
request and closed without answering would get it a second time. (A server's close of an idle
connection that arrived before the request was written is caught before writing, by each
backend's idle check, and never costs a row.)

Waits grow exponentially with random jitter: ``backoff * 2**(attempt-1)`` plus up to
``backoff`` more, at most ``MAX_WAIT`` seconds. Every attempt, first or retry, takes a slot
from the rate limit, and a cancel or Ctrl-C ends any wait at once.

The rate limit is one clock shared by all workers (``Pacer``): each request reserves the next
free slot, ``1 / rate`` seconds after the previous one. A wait that ends more than one interval
(and 50 ms) after its slot, because the process was held up, gives the slot up and takes a new
one, so a stall never turns into a burst. A Dask send shares one clock among its tasks
(``_dask.ClusterPacer``), handed in through the ledger's ``pacer``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

import tenacity

from ._failures import Kind
from ._protocol import MAYBE_SENT, Attempt

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._options import Options
    from .._request import Request
    from ._protocol import Ledger, Outcome, Sink

__all__ = [
    "MAX_RETRY_AFTER",
    "MAX_WAIT",
    "RETRY_STATUSES",
    "Pacer",
    "Pacing",
    "Retrier",
    "Stopped",
    "parse_retry_after",
    "replayable",
    "resend_fresh",
]

log = logging.getLogger("flux_magic")

#: Longest wait between two attempts of one row, in seconds.
MAX_WAIT = 30.0
#: A ``Retry-After`` longer than this ends the row's retries instead of stalling the send.
MAX_RETRY_AFTER = 60.0
RETRY_STATUSES = frozenset({429, 503})
_STEP = 0.05


class Stopped(Exception):
    """The send is stopping (cancel, Ctrl-C, strict): end waits and retries now."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


#: Request headers that let a server drop a duplicate (Go's net/http ``isReplayable``).
_KEY_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})


def replayable(headers: Mapping[str, str]) -> bool:
    """Whether a request carries an Idempotency-Key (any spelling of the name)."""
    return any(name.lower() in _KEY_HEADERS for name in headers)


def resend_fresh(kind: Kind, sink: Sink, headers: Mapping[str, str], retry_unknown: bool) -> bool:
    """Whether a failed request is sent once more on a fresh connection (module docstring):
    the pooled connection it went out on closed or reset before any answer byte arrived, and
    nothing of it was written, or it carries an Idempotency-Key, or ``retry_unknown``."""
    if kind is not Kind.CLOSED or not sink.reused or sink.heard or sink.status:
        return False
    return sink.unwritten or retry_unknown or replayable(headers)


class Pacing(Protocol):
    """A rate clock: ``reserve()`` takes the next slot and says how long to wait for it."""

    interval: float

    def reserve(self) -> float: ...


def _missed(due: float, interval: float) -> bool:
    """Whether a wait for a slot ended so late (a stalled process) that sending now could
    burst with the requests of later slots; such a slot is given up and a new one taken."""
    return time.monotonic() - due > max(interval, _STEP)


class Pacer:
    """At most ``rate`` request starts per second, across every worker and thread."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next free slot; return how many seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot - now


class Retrier:
    """Runs one row's attempts: pacing, retries, interruptible waits."""

    def __init__(self, options: Options, ledger: Ledger, secrets: list[str]) -> None:
        self.retries = options.retries
        self.retry_unknown = options.retry_unknown
        shared: Pacing | None = getattr(ledger, "pacer", None)  # e.g. a Dask cluster's clock
        self.pacer: Pacing | None = shared or (Pacer(options.rate) if options.rate else None)
        self.ledger = ledger
        self._secrets = secrets
        jitter = tenacity.wait_random(0, options.backoff)
        self._base_wait = (
            tenacity.wait_exponential(multiplier=options.backoff, max=MAX_WAIT) + jitter
        )
        #: Whether rows need more than one plain request (else the transports skip this).
        #: The Idempotency-Key is not a reason: it is in the request already (``_send``).
        self.active = bool(self.retries or self.pacer)

    # -- decisions ------------------------------------------------------------------------
    def should_retry(self, attempt: Attempt) -> bool:
        if attempt.kind is None or (attempt.kind == MAYBE_SENT and not self.retry_unknown):
            return False
        return attempt.retry_after is None or attempt.retry_after <= MAX_RETRY_AFTER

    def _wait(self, state: tenacity.RetryCallState) -> float:
        base = float(self._base_wait(state))
        attempt: Attempt = state.outcome.result() if state.outcome else Attempt((0, "", None))
        if attempt.retry_after is not None:
            return min(max(base, attempt.retry_after), MAX_RETRY_AFTER)
        return base

    def _log_retry(self, position: int, state: tenacity.RetryCallState) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        attempt: Attempt = state.outcome.result() if state.outcome else Attempt((0, "", None))
        status, error, _ = attempt.outcome
        why = error or f"status {status}"
        for s in self._secrets:
            why = why.replace(s, "***")
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info(
            "row at position %d: attempt %d failed (%s); retrying in %.2f s",
            position,
            state.attempt_number,
            why,
            wait,
        )

    def _tenacity_args(self, position: int) -> dict[str, object]:
        return dict(
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_result(self.should_retry),
            retry_error_callback=lambda state: state.outcome.result(),
            before_sleep=lambda state: self._log_retry(position, state),
            reraise=True,
        )

    # -- waits ----------------------------------------------------------------------------
    async def sleep_async(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            if self.ledger.stopping:
                raise Stopped
            left = end - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, _STEP))

    # -- one row --------------------------------------------------------------------------
    async def run_async(
        self,
        position: int,
        req: Request,
        send: Callable[[Request, bool], Awaitable[Attempt]],
        *,
        owed: bool = False,
    ) -> tuple[Outcome, int] | None:
        """Send one row with pacing and retries; None if the send stopped before it went.
        An ``owed`` row (mapped before the mapping failure that stopped the send) makes its
        first attempt even so. ``send(req, resend)``: ``resend`` allows the one resend on a
        fresh connection, until an attempt has used it."""
        tries: list[Attempt] = []

        async def once() -> Attempt:
            first_owed = owed and not tries
            while self.pacer is not None:
                due = time.monotonic() + (wait := self.pacer.reserve())
                await (asyncio.sleep(wait) if first_owed else self.sleep_async(wait))
                if not _missed(due, self.pacer.interval):
                    break
            if self.ledger.stopping and not first_owed:
                raise Stopped
            if not tries:
                self.ledger.begin(position)
            tries.append(await send(req, all(a.tries == 1 for a in tries)))
            return tries[-1]

        try:
            if self.retries:
                retrying = tenacity.AsyncRetrying(
                    sleep=self.sleep_async,
                    **self._tenacity_args(position),  # type: ignore[arg-type]
                )
                attempt: Attempt = await retrying(once)
            else:
                attempt = await once()
        except Stopped:
            return _stopped(tries)
        return attempt.outcome, sum(a.tries for a in tries)


def _stopped(tries: list[Attempt]) -> tuple[Outcome, int] | None:
    """The outcome of a row whose retries were cut short by a stop (None: never sent)."""
    if not tries:
        return None
    status, error, kept = tries[-1].outcome
    note = "not retried further: the send was stopped"
    return (status, f"{error}; {note}" if error else note, kept), sum(a.tries for a in tries)

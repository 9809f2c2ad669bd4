"""What every backend and the driver share: outcomes, the ledger, one exchange, the body sink.

A backend implements one operation, ``exchange``: send one prepared request (one hop) and read
the answer's head, feeding the body to a ``Sink``. Everything else (the worker loop, the
deadline, redirects, retries, failure wording) is the driver's, written once for every backend.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from .. import __version__

__all__ = [
    "ANSWERED",
    "DEFAULT_HEADERS",
    "IDLE_CHECK",
    "IDLE_EXPIRY",
    "MAYBE_SENT",
    "NOT_SENT",
    "Attempt",
    "Backend",
    "Hop",
    "Ledger",
    "Outcome",
    "Sink",
    "readable",
]

#: An idle pooled connection is checked for a close (or stray bytes) before reuse when it has
#: been idle longer than this (seconds); within it, the event loop has just read the socket.
IDLE_CHECK = 0.002

#: A pooled connection idle longer than this (seconds) is closed rather than reused, unless the
#: server said how long it keeps idle connections (``Keep-Alive: timeout=N``; lean backend).
#: Apache, lighttpd, Node.js and uvicorn close idle connections after 5 s by default; the
#: server counts from its last write, the client from its last read, so a client limit of 5 s
#: (httpx's) lands on the very moment the server closes. One second less never does. Reopening
#: costs a handshake per request only to a target sent to less than once every 4 s.
IDLE_EXPIRY = 4.0


def readable(fd: int) -> bool:
    """Whether the idle connection on ``fd`` has something to read: the server's close (its FIN
    already arrived) or bytes nobody asked for. Either way it must not carry a request.
    (``poll`` works at any descriptor number, unlike ``select``.)"""
    if fd < 0:
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


#: Sent with every request unless the mapping sets them. No Content-Type is added, as in Flux.
DEFAULT_HEADERS = {
    "User-Agent": f"flux_magic/{__version__}",
    "Accept": "*/*",
    "Accept-Encoding": "identity",
}

Outcome = tuple[int, str, bytes | None]
"""(status or 0 when there was no answer, error text or "", kept response prefix or None)."""

#: Attempt kinds: why a failed attempt may be retried.
ANSWERED = "answered"  # 429 / 503
NOT_SENT = "not sent"  # the request never left
MAYBE_SENT = "maybe sent"  # the server may have received it


class Attempt(NamedTuple):
    """One attempt's outcome, and what it means for retrying."""

    outcome: Outcome
    kind: str | None = None
    retry_after: float | None = None
    #: Requests this attempt put on the wire: 2 when it was sent once more on a fresh
    #: connection (``_retry.resend_fresh``).
    tries: int = 1


class Ledger(Protocol):
    """Where the driver reports; implemented by ``_send.Run``."""

    @property
    def stopping(self) -> bool: ...

    def begin(self, position: int) -> None: ...

    def finish(self, position: int, outcome: Outcome, attempts: int = 1) -> None: ...

    abandon: Callable[[], None] | None


class Hop(NamedTuple):
    """One request on the wire: the first one, or one redirect hop."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Sink:
    """The answer of one hop as it arrives: status, head fields, and the body, counted and
    dropped (the first ``keep`` bytes kept); past ``cap`` bytes it is ``over``.

    The one place that caps and drains response bodies: every backend feeds it.
    """

    cap: int
    keep: int
    status: int = 0
    location: str | None = None
    retry_after: str | None = None
    #: Set-Cookie fields (read by backends without a cookie jar of their own)
    cookies: list[str] | None = None
    #: The first bytes of the answer, for backends whose parser hides why a head failed.
    raw_head: bytes = b""
    #: True once the request's first byte may have left (connecting is over).
    sending: bool = False
    #: Facts for ``_retry.resend_fresh``, reported by the backend: the request went out on a
    #: pooled connection that had already carried a complete exchange (``reused``); the backend
    #: knows that no byte of it reached the wire (``unwritten``; False when it cannot tell);
    #: some byte of the answer arrived (``heard``).
    reused: bool = False
    unwritten: bool = False
    heard: bool = False
    size: int = 0
    kept: bytearray | None = field(default=None)
    over: bool = False

    def feed(self, chunk: bytes) -> bool:
        """Count (and maybe keep) ``chunk``; True once the body is over the cap."""
        self.size += len(chunk)
        if self.keep:
            kept = self.kept
            if kept is None:
                kept = self.kept = bytearray()
            if len(kept) < self.keep:
                kept += chunk[: self.keep - len(kept)]
        if self.size > self.cap:
            self.over = True
        return self.over

    def kept_bytes(self) -> bytes | None:
        if not self.keep:
            return None
        return bytes(self.kept or b"")


class Backend(Protocol):
    """An HTTP client that can do one exchange; see the module docstring.

    ``exchange`` raises ``TransportFailure`` (``_failures``) for anything that went wrong; the
    backend maps its own exception types to failure kinds. A redirect is not followed: the
    head's status and ``Location`` are in the sink, and the driver decides. ``fresh``: send on
    a new connection, never a pooled one (the driver's one resend, ``_retry.resend_fresh``).
    """

    async def exchange(self, hop: Hop, sink: Sink, fresh: bool = False) -> None: ...

    async def aclose(self) -> None: ...

"""The one resend on a fresh connection, and connections the server is about to drop (issue 17).

A request that fails on a reused connection before any answer byte is sent once more on a new
connection when nothing of it was written, when it carries an Idempotency-Key, or with
``retry_unknown=True``; otherwise it fails as "maybe delivered" and reaches the server once.
The server's ``Keep-Alive: timeout=N, max=M`` (lean backend) and the client's own idle expiry
keep requests off connections the server is about to drop. Scripted servers on loopback, every
backend path, concurrency 1 and 8, and ``rate=`` with concurrency 8.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from flux_magic._transports import _aiohttp, _httpx, _lean
from flux_magic._transports._failures import Kind
from flux_magic._transports._protocol import Sink
from flux_magic._transports._retry import replayable, resend_fresh

from .conftest import HostileTLS
from .hostile import HostileServer, Peer, Received, Scenario, ok
from .test_hostile import PATHS, path, send  # noqa: F401 (the path fixture)

CLOSED = "the server closed the connection before a complete answer"
ROWS = 16

#: concurrency and rate: sequential, 8 workers, 8 workers under a rate limit
SHAPES = {
    "c1": {"concurrency": 1},
    "c8": {"concurrency": 8},
    "c8-rate": {"concurrency": 8, "rate": 80},
}


def numbered(r: Any) -> dict[str, Any]:
    return {"headers": {"Content-Type": "text/plain"}, "data": str(r.n).encode()}


def reset_on_close(peer: Peer) -> None:
    """Make the server's close a TCP reset (RST) instead of an orderly FIN."""
    sock = peer.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def dropping_second(*, reset: bool) -> Scenario:
    """Answer the first request on each connection; read the second and close the connection
    without a byte of answer (a reset with ``reset``)."""

    async def play(peer: Peer) -> None:
        if await peer.request() is None:
            return
        await peer.send(ok())
        if await peer.request() is None:
            return
        if reset:
            reset_on_close(peer)
        # returning closes the connection (hostile.HostileServer)

    return play


def arrivals(server: HostileServer) -> dict[int, list[Received]]:
    got: dict[int, list[Received]] = defaultdict(list)
    for r in server.requests:
        got[int(r.body)].append(r)
    return got


def first_on_connection(server: HostileServer, request: Received) -> bool:
    return next(r for r in server.requests if r.connection == request.connection) is request


# ------------------------------------------------------------------ the rule itself
def test_the_rule_needs_a_reused_connection_and_no_answer_byte() -> None:
    def sink(**facts: bool) -> Sink:
        s = Sink(0, 0)
        for name, value in facts.items():
            setattr(s, name, value)
        return s

    key = {"Idempotency-Key": "k"}
    assert resend_fresh(Kind.CLOSED, sink(reused=True), key, False)
    assert resend_fresh(Kind.CLOSED, sink(reused=True), {"x-idempotency-key": "k"}, False)
    assert resend_fresh(Kind.CLOSED, sink(reused=True), {}, True)  # retry_unknown
    assert resend_fresh(Kind.CLOSED, sink(reused=True, unwritten=True), {}, False)
    assert not resend_fresh(Kind.CLOSED, sink(reused=True), {}, False)  # maybe delivered
    assert not resend_fresh(Kind.CLOSED, sink(), key, True)  # a fresh connection failed
    assert not resend_fresh(Kind.CLOSED, sink(reused=True, heard=True), key, True)
    assert not resend_fresh(Kind.TIMEOUT, sink(reused=True), key, True)  # may be working on it
    half = sink(reused=True)
    half.status = 200  # the head arrived, then the connection closed
    assert not resend_fresh(Kind.CLOSED, half, key, True)
    assert replayable({"IDEMPOTENCY-KEY": "k"})
    assert not replayable({"Key": "k"})


# ------------------------------------------------------------------ a dropped request
@pytest.mark.parametrize("reset", [False, True], ids=["eof", "reset"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_keyed_row_dropped_on_a_reused_connection_goes_once_more(
    path: str,  # noqa: F811
    shape: str,
    reset: bool,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
) -> None:
    server = hostile(dropping_second(reset=reset), tls=PATHS[path][1])
    df = pd.DataFrame({"n": range(ROWS)})
    out = send(server, path, hostile_tls, df, idempotency_key=True, timeout=5.0, **SHAPES[shape])
    assert list(out["_error"]) == [""] * ROWS
    assert list(out["_sent"]) == ["true"] * ROWS
    got = arrivals(server)
    assert sorted(got) == list(range(ROWS))
    twice = [n for n, rs in got.items() if len(rs) == 2]
    assert twice, "no request was dropped: the scenario did not bite"
    for n, rs in got.items():
        assert len(rs) <= 2, (n, rs)
        keys = {r.headers["idempotency-key"] for r in rs}
        assert len(keys) == 1, f"row {n}: the Idempotency-Key changed on the resend"
        if len(rs) == 2:  # dropped on a reused connection, resent on a new one
            assert not first_on_connection(server, rs[0]), (n, rs)
            assert first_on_connection(server, rs[1]), (n, rs)


@pytest.mark.parametrize("reset", [False, True], ids=["eof", "reset"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_keyless_row_dropped_after_writing_fails_and_arrives_once(
    path: str,  # noqa: F811
    shape: str,
    reset: bool,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
) -> None:
    server = hostile(dropping_second(reset=reset), tls=PATHS[path][1])
    df = pd.DataFrame({"n": range(ROWS)})
    out = send(server, path, hostile_tls, df, timeout=5.0, **SHAPES[shape])
    got = arrivals(server)
    assert sorted(got) == list(range(ROWS))
    assert all(len(rs) == 1 for rs in got.values()), "a row without a key was sent twice"
    failed = out[out["_sent"] == "false"]
    assert len(failed) > 0, "no request was dropped: the scenario did not bite"
    assert (failed["_status"] == "").all()
    assert (failed["_error"] == CLOSED).all(), list(failed["_error"])
    for n in failed["n"]:  # each failed row was the dropped second request of a connection
        assert not first_on_connection(server, got[n][0])
    assert (out[out["_sent"] == "true"]["_error"] == "").all()


def own_key(r: Any) -> dict[str, Any]:
    return {"headers": {"X-Idempotency-Key": f"row-{r.n}"}, "data": str(r.n).encode()}


@pytest.mark.parametrize(
    "why",
    [
        pytest.param({"retry_unknown": True}, id="retry_unknown"),
        pytest.param({"mapping": own_key}, id="the-mapping's-key"),
        pytest.param({"idempotency_key": True, "retries": 2}, id="key-with-retries"),
    ],
)
def test_each_reason_to_resend_counts_in_attempts(
    path: str,  # noqa: F811
    why: dict[str, Any],
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
) -> None:
    server = hostile(dropping_second(reset=False), tls=PATHS[path][1])
    df = pd.DataFrame({"n": range(ROWS)})
    out = send(server, path, hostile_tls, df, concurrency=4, timeout=5.0, **why)
    assert list(out["_sent"]) == ["true"] * ROWS, list(out["_error"])
    got = arrivals(server)
    assert sorted(len(rs) for rs in got.values())[-1] == 2
    assert all(len(rs) <= 2 for rs in got.values())
    if "_attempts" in out:  # the resend is not one of the retries: it is counted all the same
        assert list(out["_attempts"]) == [len(got[n]) for n in out["n"]]


def no_tls() -> ssl.SSLContext:
    raise AssertionError("a plain http:// target needs no TLS context")


def test_a_request_of_which_nothing_was_written_goes_once_more_without_a_key(
    hostile: Callable[..., HostileServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server answers and resets the connection at once. The event loop is blocked while
    # the reset arrives, and the idle check before writing is turned off, as when the reset
    # lands just as the request is written: the write itself fails, so no byte left (lean,
    # plain TCP) and the row goes again on a new connection, without a key.
    reset = threading.Event()

    async def answer_then_reset(peer: Peer) -> None:
        if await peer.request() is not None:
            await peer.send(ok())
            reset_on_close(peer)
            peer.writer.transport.abort()
            reset.set()

    server = hostile(answer_then_reset)
    monkeypatch.setattr(_lean, "IDLE_CHECK", 1e9)

    async def two_rows(resend: bool) -> list[tuple[int, str, int]]:
        from flux_magic._options import Options
        from flux_magic._request import Request
        from flux_magic._transports._driver import Sender, SendState

        target = _lean.LeanTarget(server.url, no_tls)
        sender = Sender(
            server.url,
            Options(timeout=5.0),
            _lean.LeanBackend(target),
            target.serves,
            None,
            SendState(),
            owns_primary=True,
        )
        done = []
        try:
            for n in range(2):
                attempt = await sender.send(Request({}, str(n).encode()), resend)
                done.append((attempt.outcome[0], attempt.outcome[1], attempt.tries))
                if n == 0:  # blocks the loop: the reset arrives unprocessed
                    assert reset.wait(5)
                    reset.clear()
                    time.sleep(0.05)
        finally:
            await sender.close()
            target.close()
        return done

    assert asyncio.run(two_rows(resend=True)) == [(200, "", 1), (200, "", 2)]
    assert [r.body for r in server.requests] == [b"0", b"1"]
    assert server.connections == 2
    # the same without the resend: the row fails, and the server never saw it
    assert asyncio.run(two_rows(resend=False)) == [(200, "", 1), (0, CLOSED, 1)]
    assert [r.body for r in server.requests] == [b"0", b"1", b"0"]


# ------------------------------------------------------------------ connections about to drop
def dropping_after_idle(after: float, head: Callable[[int], str] = lambda k: "") -> Scenario:
    """Like lighttpd after a CGI answer: a request arriving on a connection idle longer than
    ``after`` seconds is read and dropped (closed, no answer). ``head(k)``: extra header lines
    of the k-th answer on the connection."""

    async def play(peer: Peer) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        k = 0
        while await peer.request() is not None:
            if loop.time() - last > after:
                return
            k += 1
            await peer.send(ok(extra=head(k)))
            last = loop.time()

    return play


def pausing(rows: frozenset[int], seconds: float) -> Callable[[Any], dict[str, Any]]:
    """A mapping that blocks ``seconds`` on ``rows``: every connection sits idle meanwhile.
    Each row before a pause takes 5 ms, so the rows mapped before it go out in batches of their
    own (``_driver.RowFeed``) and are answered before the pause begins."""

    def fn(r: Any) -> dict[str, Any]:
        if r.n in rows:
            time.sleep(seconds)
        elif r.n < max(rows):
            time.sleep(0.005)
        return numbered(r)

    return fn


def exactly_once(out: pd.DataFrame, server: HostileServer) -> None:
    assert list(out["_error"]) == [""] * ROWS
    assert list(out["_sent"]) == ["true"] * ROWS
    assert Counter(int(r.body) for r in server.requests) == Counter(range(ROWS))


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("tls", [False, True], ids=["lean-http", "lean-https"])
def test_the_servers_keep_alive_timeout_is_honoured(
    tls: bool,
    shape: str,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
) -> None:
    # the server says timeout=1 and drops requests on connections idle over 1 s; the mapping
    # pauses 1.2 s once, leaving every connection idle past it: none of them may carry a row
    server = hostile(dropping_after_idle(1.0, lambda k: "Keep-Alive: timeout=1\r\n"), tls=tls)
    df = pd.DataFrame({"n": range(ROWS)})
    out = send(
        server,
        "lean-https" if tls else "lean-http",
        hostile_tls,
        df,
        timeout=5.0,
        mapping=pausing(frozenset({8}), 1.2),
        **SHAPES[shape],
    )
    exactly_once(out, server)
    assert server.connections >= 2  # the connections idle through the pause were not reused


def test_the_servers_keep_alive_max_is_honoured(
    hostile: Callable[..., HostileServer], hostile_tls: HostileTLS
) -> None:
    # like Apache: each answer says how many more requests the connection takes; one more
    # than that is dropped
    def head(k: int) -> str:
        return f"Keep-Alive: timeout=5, max={3 - k}\r\n"

    async def play(peer: Peer) -> None:
        k = 0
        while await peer.request() is not None:
            k += 1
            if k > 3:
                return
            await peer.send(ok(extra=head(k)))

    server = hostile(play)
    out = send(server, "lean-http", hostile_tls, pd.DataFrame({"n": range(ROWS)}), timeout=5.0)
    exactly_once(out, server)
    per_connection = Counter(r.connection for r in server.requests)
    assert max(per_connection.values()) == 3
    assert server.connections == -(-ROWS // 3)


@pytest.mark.parametrize(
    ("text", "hint", "limit"),
    [
        ("timeout=5, max=100", (5.0, 100), 4.0),
        ("timeout=1", (1.0, None), 0.75),
        ("max=3", (None, 3), None),
        (" Timeout = 75 ,MAX=0", (75.0, 0), 74.0),
        ("timeout=soon, max=-2", (None, 0), None),
        ("", (None, None), None),
    ],
)
def test_keep_alive_hints(
    text: str, hint: tuple[float | None, int | None], limit: float | None
) -> None:
    assert _lean.keep_alive_hint(text) == hint
    if limit is not None:
        assert hint[0] is not None
        assert _lean.idle_limit(hint[0]) == limit


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_connection_idle_past_the_clients_expiry_is_not_reused(
    path: str,  # noqa: F811
    concurrency: int,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the server says nothing and drops requests on connections idle over 0.8 s; with the
    # client's expiry at 0.4 s (4 s in use) a pause of 1 s leaves no connection to reuse
    for module in (_lean, _aiohttp, _httpx):
        monkeypatch.setattr(module, "IDLE_EXPIRY", 0.4)
    server = hostile(dropping_after_idle(0.8), tls=PATHS[path][1])
    df = pd.DataFrame({"n": range(ROWS)})
    out = send(
        server,
        path,
        hostile_tls,
        df,
        concurrency=concurrency,
        timeout=5.0,
        mapping=pausing(frozenset({8}), 1.0),
    )
    exactly_once(out, server)
    assert server.connections >= 2

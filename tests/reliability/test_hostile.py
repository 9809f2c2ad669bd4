"""Hostile servers, the same outcome on every path.

Each behaviour below is a scripted server (``hostile.HostileServer``) that misbehaves in one
way. Every one runs on every path — sequential (httpx), lean http, lean https, aiohttp — at
concurrency 1 and 32, and must give exactly the same ``_status``, ``_sent`` and ``_error``
(the numbers are those of issue 11's list).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import EndpointError, _transports

from .conftest import HostileTLS, make_self_signed
from .hostile import HostileServer, Peer, Scenario, ok

#: path -> (the backend forced, TLS)
PATHS = {
    "sequential": ("httpx", False),
    "lean-http": (None, False),
    "lean-https": (None, True),
    "aiohttp": ("aiohttp", False),
}

Outcome = tuple[str, str, str]
OK: Outcome = ("200", "true", "")


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain(r: Any) -> dict[str, Any]:
    return {"headers": {"Content-Type": "text/plain"}, "data": str(r.n).encode()}


@dataclass
class Case:
    """One hostile behaviour: the server's script and what every path must report."""

    scenario: Scenario
    expect: Outcome | Callable[[int], Outcome]
    rows: int = 3
    options: dict[str, Any] = field(default_factory=dict)
    mapping: Callable[[Any], dict[str, Any]] = plain
    #: extra checks on the result and on what the server received
    check: Callable[[pd.DataFrame, HostileServer, int], None] | None = None
    #: the send must end within this many seconds
    bound: float = 10.0
    around: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext


def answering(answer: bytes) -> Scenario:
    """Answer every request with ``answer``, keeping the connection open."""

    async def play(peer: Peer) -> None:
        while await peer.request():
            await peer.send(answer)

    return play


def answering_once(answer: bytes) -> Scenario:
    """Answer the first request with ``answer``, then hold the connection open."""

    async def play(peer: Peer) -> None:
        if await peer.request():
            await peer.send(answer)
            await peer.hold()

    return play


# 1. a trickle cannot hold a row past its timeout
async def trickle(peer: Peer) -> None:
    if await peer.request():
        await peer.trickle(ok(b"x" * 100), 0.25)


def within_timeout(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert (out["_elapsed"] < 1.9).all(), out["_elapsed"].tolist()


# 2. a malformed Location is that row's error; every row still goes
BAD_LOCATION = answering(
    b"HTTP/1.1 307 Temporary\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n"
)


# 3. header values with control characters are refused before anything is sent
def control_characters(r: Any) -> dict[str, Any]:
    return {"headers": {"X-A": "a\x01b" if r.n % 2 else "a\x7fb"}, "data": b"x"}


def control_expect(position: int) -> Outcome:
    char = "'\\x01'" if position % 2 else "'\\x7f'"
    return (
        "",
        "false",
        f'mapping error: header value "X-A" contains the control character {char} for row '
        f"{position}; header values may not contain control characters (they could inject "
        "extra headers), so it is refused. Remove or escape them.",
    )


def nothing_arrived(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert server.requests == []


# 4. framing comes from the body: a body can never become a second request
SMUGGLE = b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"


def framing(r: Any) -> dict[str, Any]:
    return {
        "headers": {
            "Transfer-Encoding": "chunked",
            "Content-Length": "5",
            "Trailer": "X",
            "Host": "evil.example",
        },
        "data": SMUGGLE,
    }


def one_request_per_row(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert server.paths() == ["/hook"] * len(out)
    for got in server.requests:
        assert got.body == SMUGGLE
        assert "transfer-encoding" not in got.headers
        assert "trailer" not in got.headers
        assert got.headers["content-length"] == str(len(SMUGGLE))
        assert got.headers["host"].startswith("127.0.0.1:")


# 5. a failure on a redirect hop after the first request was answered: "maybe sent"
def see_other_to_refused() -> Scenario:
    port = refused_port()
    return answering(
        f"HTTP/1.1 303 See Other\r\nLocation: http://127.0.0.1:{port}/gone\r\n"
        "Content-Length: 0\r\n\r\n".encode()
    )


def posted_once(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert sorted(r.body for r in server.requests) == [b"0", b"1", b"2"]
    assert out["_attempts"].tolist() == [1, 1, 1]


# 6. an endless header line fails the row at once
async def endless_header(peer: Peer) -> None:
    if await peer.request():
        await peer.send(b"HTTP/1.1 200 OK\r\nX-Long: ")
        for _ in range(64):
            await peer.send(b"a" * 16384)
        await peer.hold()


def fast(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert (out["_elapsed"] < 3.0).all(), out["_elapsed"].tolist()


# 7. 101 Switching Protocols fails the row quietly
UPGRADE = answering_once(
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
)

# 8. an invalid status line has a reason
STATUS_000 = answering(b"HTTP/1.1 000 Nope\r\nContent-Length: 0\r\n\r\n")


# 9. keep-alive works at any file descriptor number
@contextlib.contextmanager
def many_open_files() -> Iterator[None]:
    fds: list[int] = []
    try:
        base = os.open(os.devnull, os.O_RDONLY)
        fds.append(base)
        while fds[-1] < 1100:
            fds.append(os.dup(base))
        yield
    finally:
        for fd in fds:
            os.close(fd)


def kept_alive(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert server.connections <= min(concurrency, len(out))


# 10. an answer nobody asked for is never attributed to the next row
EXTRA = answering(ok(b"one") + ok(b"two"))


def never_the_extra(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert out["_response"].tolist() == [b"one"] * len(out)
    assert server.connections == len(out)  # a connection with unread bytes is not reused


# 11. redirect errors say their cause
FTP = answering(b"HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/x\r\nContent-Length: 0\r\n\r\n")
LOOP = answering(b"HTTP/1.1 307 Again\r\nLocation: /hook\r\nContent-Length: 0\r\n\r\n")


def three_hops_each(out: pd.DataFrame, server: HostileServer, concurrency: int) -> None:
    assert len(server.requests) == 3 * len(out)


CASES: dict[str, Case] = {
    "01-trickle": Case(
        trickle,
        ("", "false", "timed out after 1 s"),
        rows=2,
        options={"timeout": 1.0},
        check=within_timeout,
        bound=4.5,
    ),
    "02-malformed-location": Case(
        BAD_LOCATION,
        ("", "false", "redirected to a malformed Location ('http://[::1'); not followed"),
    ),
    "03-control-characters": Case(
        answering(ok()), control_expect, mapping=control_characters, check=nothing_arrived
    ),
    "04-framing": Case(answering(ok()), OK, mapping=framing, check=one_request_per_row),
    "05-redirect-hop-refused": Case(
        see_other_to_refused(),
        (
            "",
            "false",
            "redirect hop 1: connection refused: nothing is listening at that host and port",
        ),
        options={"retries": 3, "backoff": 0.01},
        check=posted_once,
    ),
    "06-endless-header": Case(
        endless_header,
        (
            "",
            "false",
            "the answer's head (status line and header fields) was too large; stopped reading it",
        ),
        check=fast,
    ),
    "07-upgrade": Case(
        UPGRADE,
        (
            "",
            "false",
            "the server switched protocols (status 101); flux_magic speaks HTTP/1.1 only, so "
            "this row has no answer",
        ),
        check=fast,
    ),
    "08-status-000": Case(
        STATUS_000, ("", "false", "invalid answer from the server: invalid status line")
    ),
    "09-many-file-descriptors": Case(
        answering(ok()), OK, rows=20, check=kept_alive, around=many_open_files
    ),
    "10-extra-answer": Case(
        EXTRA, OK, rows=4, options={"keep_response": 10}, check=never_the_extra
    ),
    "11-redirect-to-ftp": Case(
        FTP,
        ("", "false", "redirected to a URL that is not http:// or https:// (ftp:); not followed"),
    ),
    "11-too-many-redirects": Case(
        LOOP,
        ("", "false", "too many redirects (more than 2); a redirect loop?"),
        options={"max_redirects": 2},
        check=three_hops_each,
    ),
}


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    backend, _tls = PATHS[request.param]
    monkeypatch.setattr(_transports, "BACKEND", backend)
    return str(request.param)


def send(
    server: HostileServer, path: str, tls: HostileTLS, df: pd.DataFrame, **options: Any
) -> pd.DataFrame:
    if PATHS[path][1]:
        options["verify"] = tls.ca_bundle
    mapping = options.pop("mapping", plain)
    return flux_magic.endpoint(server.url, **options)(mapping)(df)


@pytest.mark.parametrize("concurrency", [1, 32])
@pytest.mark.parametrize("name", list(CASES))
def test_the_same_outcome_on_every_path(
    name: str,
    path: str,
    concurrency: int,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
    caplog: pytest.LogCaptureFixture,
) -> None:
    case = CASES[name]
    server = hostile(case.scenario, tls=PATHS[path][1])
    df = pd.DataFrame({"n": range(case.rows)})
    options = {"concurrency": concurrency, "timeout": 3.0, "mapping": case.mapping}
    started = time.monotonic()
    with case.around():
        out = send(server, path, hostile_tls, df, **{**options, **case.options})
    took = time.monotonic() - started
    expect = case.expect
    wanted = [expect(i) if callable(expect) else expect for i in range(case.rows)]
    assert list(zip(out["_status"], out["_sent"], out["_error"], strict=True)) == wanted
    assert took < case.bound
    if case.check is not None:
        case.check(out, server, concurrency)
    assert not [r for r in caplog.records if "Fatal error" in r.getMessage()]


# 12. strict mode results carry _error too, replacing the input's _error column
@pytest.mark.parametrize("concurrency", [1, 32])
def test_strict_results_carry_error(
    path: str, concurrency: int, hostile: Callable[..., HostileServer], hostile_tls: HostileTLS
) -> None:
    async def play(peer: Peer) -> None:
        while got := await peer.request():
            await asyncio.sleep(0.05)
            await peer.send(
                ok() if got.body != b"1" else b"HTTP/1.1 000 Nope\r\nContent-Length: 0\r\n\r\n"
            )

    server = hostile(play, tls=PATHS[path][1])
    df = pd.DataFrame({"n": range(3), "_error": ["stale"] * 3})
    with pytest.raises(EndpointError) as caught:
        send(server, path, hostile_tls, df, concurrency=concurrency, timeout=2.0, errors="raise")
    exc = caught.value
    assert exc.reason == "invalid answer from the server: invalid status line"
    assert exc.position == 1
    result = exc.result
    assert result is not None
    assert 0 in result.index
    for row in result[["_status", "_sent", "_error"]].itertuples(index=False):
        assert tuple(row) == OK


# issue 13 item 10: the common TLS failures say their likely cause, the same on every path
def other_name_cert(directory: Path) -> tuple[str, str]:
    """A self-signed certificate for ``other.example`` only: a mismatch for 127.0.0.1."""
    files = make_self_signed(directory, ("other.example",), stem="other")
    return str(files.cert), str(files.key)


async def plain_http_answering_garbage(peer: Peer) -> None:
    """A plain HTTP server that gets a TLS hello: it answers 400, as real servers do."""
    await peer.reader.read(1)
    await peer.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


TLS_FAILURES = {
    "plain-port": "TLS error: the server does not speak TLS here; did you mean http://?",
    "unknown-ca": "TLS certificate verification failed (self-signed certificate; pass verify= a "
    "CA bundle path that contains it, or verify=False only if you trust this server)",
    "hostname-mismatch": "TLS certificate verification failed (the certificate is not for "
    "this IP address (hostname mismatch); use the name the certificate was issued for)",
}


@pytest.mark.parametrize("concurrency", [1, 32])
@pytest.mark.parametrize("failure", list(TLS_FAILURES))
def test_tls_failures_say_their_cause(
    failure: str,
    path: str,
    concurrency: int,
    hostile: Callable[..., HostileServer],
    tmp_path: Path,
) -> None:
    options: dict[str, Any] = {"concurrency": concurrency, "timeout": 5.0}
    if failure == "hostname-mismatch":
        cert, key = other_name_cert(tmp_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = HostileServer(answering(ok()), context)
        options["verify"] = cert  # trusted, but for another name
    elif failure == "plain-port":
        server = hostile(plain_http_answering_garbage)
    else:
        server = hostile(answering(ok()), tls=True)
    try:
        url = server.url.replace("http://", "https://")
        out = flux_magic.endpoint(url, **options)(plain)(pd.DataFrame({"n": range(2)}))
    finally:
        if failure == "hostname-mismatch":
            server.close()
    assert out["_status"].tolist() == ["", ""]
    assert out["_error"].tolist() == [TLS_FAILURES[failure]] * 2
    assert server.requests == []


# 2. if flux_magic itself fails mid-send, the exception carries every row
def test_a_failure_of_flux_magic_keeps_the_rows_already_sent(
    path: str,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flux_magic import _send

    real = _send.Run.begin

    def begin(self: Any, position: int) -> None:
        if position == 2:
            raise RuntimeError("a bug in the ledger")
        real(self, position)

    monkeypatch.setattr(_send.Run, "begin", begin)
    server = hostile(answering(ok()), tls=PATHS[path][1])
    options: dict[str, Any] = {"timeout": 3.0}
    if PATHS[path][1]:
        options["verify"] = hostile_tls.ca_bundle
    sender = flux_magic.endpoint(server.url, **options)(plain)
    with pytest.raises(RuntimeError, match="a bug in the ledger") as caught:
        sender(pd.DataFrame({"n": range(4)}))
    result = caught.value.result  # type: ignore[attr-defined]
    assert sender.result is result
    assert result["_status"].tolist()[:2] == ["200", "200"]
    assert result["_sent"].tolist() == ["true", "true", "false", "false"]
    assert result["_error"].str.startswith("not sent").tolist() == [False, False, True, True]
    assert sorted(r.body for r in server.requests) == [b"0", b"1"]


# 2. a URL that only fails when it is sent is that row's error, not an exception
@pytest.mark.parametrize("concurrency", [1, 32])
def test_a_url_that_fails_only_when_sent(path: str, concurrency: int) -> None:
    if PATHS[path][1]:
        pytest.skip("an http:// URL: the lean https path is the lean http path here")
    # leading zeros: the up-front check lets it through; what it means is decided when sent
    sender = flux_magic.endpoint("http://127.000.000.001:1/", concurrency=concurrency)(plain)
    out = sender(pd.DataFrame({"n": range(3)}))
    assert out["_status"].tolist() == ["", "", ""]
    assert out["_error"].tolist() == ["the URL cannot be sent: not a valid http(s) URL"] * 3


# 1. a cancel during a trickle leaves no thread or socket behind
@pytest.mark.parametrize("concurrency", [1, 32])
def test_a_cancel_during_a_trickle_leaves_nothing_behind(
    path: str,
    concurrency: int,
    hostile: Callable[..., HostileServer],
    hostile_tls: HostileTLS,
) -> None:
    closed: list[float] = []

    async def trickle_and_watch(peer: Peer) -> None:
        if await peer.request():
            for byte in ok(b"x" * 100):
                if peer.reader.at_eof():
                    break
                await peer.send(bytes([byte]))
                with contextlib.suppress(asyncio.TimeoutError):
                    if not await asyncio.wait_for(peer.reader.read(1), 0.25):
                        break
            closed.append(time.monotonic())

    server = hostile(trickle_and_watch, tls=PATHS[path][1])
    options: dict[str, Any] = {"concurrency": concurrency, "timeout": None}
    if PATHS[path][1]:
        options["verify"] = hostile_tls.ca_bundle
    cancel = threading.Event()
    timer = threading.Timer(0.6, cancel.set)
    timer.start()
    started = time.monotonic()
    out = flux_magic.endpoint(server.url, **options)(plain)(
        pd.DataFrame({"n": range(2)}), cancel=cancel
    )
    assert time.monotonic() - started < 3.0
    assert out["_error"].str.startswith(("outcome unknown", "not sent")).all()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and (
        len(closed) < server.connections
        or any(t.name == "flux_magic-send" for t in threading.enumerate())
    ):
        time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "flux_magic-send"]
    assert len(closed) == server.connections  # the server saw every connection closed

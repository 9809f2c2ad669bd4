"""The lean HTTP/1.1 path of the concurrent mode, against a scripted loopback server."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import _transports
from flux_magic._options import Options
from flux_magic._transports import _aiohttp

#: (path, body) -> (raw answer bytes, close the connection after writing it)
Script = Callable[[str, bytes], tuple[bytes, bool]]


def ok(body: bytes = b"ok", extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


@dataclass
class ScriptServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that answers as ``script`` says and records
    every request per connection. ``idle_close`` closes a connection idle that long."""

    script: Script
    idle_close: float | None = None
    requests: list[tuple[int, str, bytes]] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    pipelined: int = 0
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.stopping = True
        self.sock.close()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with contextlib.suppress(OSError):  # a client that resets: nothing more to serve
            self._serve_one(conn, number)

    def _serve_one(self, conn: socket.socket, number: int) -> None:
        buf = b""
        wait = 5.0  # for the first request; then the idle timeout, as servers do
        with conn:
            while not self.stopping:
                while b"\r\n\r\n" not in buf:
                    ready, _, _ = select.select([conn], [], [], wait)
                    if not ready:
                        return  # idle for too long: close, as servers do
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next(
                    (
                        int(v)
                        for k, _, v in (x.partition(": ") for x in lines[1:])
                        if k.lower() == "content-length"
                    ),
                    0,
                )
                method = lines[0].split(" ")[0]
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                # a client that pipelines has sent its next request by now
                ready, _, _ = select.select([conn], [], [], 0.01)
                if buf or (ready and conn.recv(1, socket.MSG_PEEK)):
                    with self.lock:
                        self.pipelined += 1
                with self.lock:
                    self.requests.append((number, path, body))
                    self.methods.append(method)
                    self.cookies.append(
                        next((x[8:] for x in lines[1:] if x.lower().startswith("cookie: ")), "")
                    )
                answer, close = self.script(path, body)
                conn.sendall(answer)
                wait = self.idle_close or 5.0
                if close:
                    return

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.requests]


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptServer]]:
    servers: list[ScriptServer] = []

    def make(script: Script, **kwargs: Any) -> ScriptServer:
        servers.append(ScriptServer(script, **kwargs))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many aiohttp sessions the sends opened (0: every request went the lean way)."""
    calls: list[int] = []
    real = _aiohttp.AiohttpBackend.__init__

    def counted(self: Any, *args: Any) -> None:
        calls.append(1)
        real(self, *args)

    monkeypatch.setattr(_aiohttp.AiohttpBackend, "__init__", counted)
    return calls


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"n": range(n)})


def by_n(r: Any) -> dict[str, Any]:
    return {"headers": {"X-Row": str(r.n)}, "data": f"row {r.n}".encode()}


def test_keep_alive_one_connection_per_worker(
    serve: Callable[..., ScriptServer], sessions: list[int]
) -> None:
    srv = serve(lambda path, body: (ok(), False))
    out = flux_magic.endpoint(srv.url + "/in?x=1", concurrency=4)(by_n)(frame(60))
    assert out["_sent"].eq("true").all()
    assert sorted(b for _, _, b in srv.requests) == sorted(f"row {i}".encode() for i in range(60))
    assert set(srv.paths()) == {"/in?x=1"}
    assert srv.connections <= 4
    assert srv.pipelined == 0
    assert sessions == []  # aiohttp was never needed


def test_chunked_answers_are_read_and_kept(serve: Callable[..., ScriptServer]) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    srv = serve(lambda path, body: (chunked, False))
    out = flux_magic.endpoint(srv.url, concurrency=2, keep_response=8)(by_n)(frame(10))
    assert out["_sent"].eq("true").all()
    assert out["_response"].tolist() == [b"hello wo"] * 10
    assert srv.connections <= 2  # the chunked answers were drained: connections reused


def test_chunked_answer_over_the_cap(serve: Callable[..., ScriptServer]) -> None:
    piece = b"x" * 1000
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"3e8\r\n" + piece + b"\r\n") * 5
        + b"0\r\n\r\n"
    )
    srv = serve(lambda path, body: (chunked, False))
    out = flux_magic.endpoint(srv.url, concurrency=2, max_response_bytes=2500)(by_n)(frame(4))
    assert out["_status"].tolist() == ["200"] * 4
    assert out["_error"].str.contains("larger than max_response_bytes").all()


def test_connection_close_opens_a_new_connection(serve: Callable[..., ScriptServer]) -> None:
    srv = serve(lambda path, body: (ok(extra="Connection: close\r\n"), True))
    out = flux_magic.endpoint(srv.url, concurrency=3)(by_n)(frame(12))
    assert out["_sent"].eq("true").all()
    assert out["_error"].eq("").all()
    assert srv.connections == 12
    assert len(srv.requests) == 12


def test_body_until_close_without_length(serve: Callable[..., ScriptServer]) -> None:
    srv = serve(lambda path, body: (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", True))
    out = flux_magic.endpoint(srv.url, concurrency=2, keep_response=100)(by_n)(frame(4))
    assert out["_sent"].eq("true").all()
    assert out["_response"].tolist() == [b"all of it"] * 4


def test_server_closing_idle_connections(serve: Callable[..., ScriptServer]) -> None:
    srv = serve(lambda path, body: (ok(), False), idle_close=0.05)

    def slow(r: Any) -> dict[str, Any]:
        time.sleep(0.15)  # longer than the server keeps an idle connection
        return by_n(r)

    out = flux_magic.endpoint(srv.url, concurrency=2)(slow)(frame(6))
    assert out["_error"].eq("").all(), out["_error"].tolist()
    assert out["_sent"].eq("true").all()
    assert len(srv.requests) == 6  # each row once: nothing was written twice
    assert srv.connections == 6


def test_no_pipelining_even_with_slow_answers(serve: Callable[..., ScriptServer]) -> None:
    def slow(path: str, body: bytes) -> tuple[bytes, bool]:
        time.sleep(0.02)
        return ok(), False

    srv = serve(slow)
    out = flux_magic.endpoint(srv.url, concurrency=2)(by_n)(frame(10))
    assert out["_sent"].eq("true").all()
    assert srv.pipelined == 0


def test_a_redirect_is_handed_to_aiohttp(
    serve: Callable[..., ScriptServer], sessions: list[int]
) -> None:
    def script(path: str, body: bytes) -> tuple[bytes, bool]:
        if path == "/old":
            return (
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n",
                False,
            )
        return ok(), False

    srv = serve(script)
    out = flux_magic.endpoint(srv.url + "/old", concurrency=2)(by_n)(frame(8))
    assert out["_status"].tolist() == ["200"] * 8
    assert sessions == [1]
    paths = srv.paths()
    assert paths.count("/new") == 8
    assert paths.count("/old") == 8  # each row once: the redirect is followed, not resent
    # with redirects off, the 307 is the answer (as on the aiohttp path)
    off = flux_magic.endpoint(srv.url + "/old", concurrency=2, max_redirects=0)(by_n)(frame(2))
    assert off["_status"].tolist() == ["307", "307"]
    assert sessions == [1]


def test_mapping_headers_replace_defaults_and_odd_headers_go_via_aiohttp(
    serve: Callable[..., ScriptServer], sessions: list[int]
) -> None:
    seen: list[bytes] = []

    def script(path: str, body: bytes) -> tuple[bytes, bool]:
        seen.append(body)
        return ok(), False

    srv = serve(script)
    out = flux_magic.endpoint(srv.url, concurrency=2)(
        lambda r: {"headers": {"user-agent": "mine", "X-Name": "Zoë"}, "data": b"a"}
    )(frame(3))
    assert out["_sent"].eq("true").all()
    assert sessions == []
    out = flux_magic.endpoint(srv.url, concurrency=2)(
        lambda r: {"headers": {"Host": "example.test"}, "data": b"b"}
    )(frame(2))
    assert out["_sent"].eq("true").all()
    assert sessions == []  # a mapping's Host is not sent (as in Go): nothing odd is left
    out = flux_magic.endpoint(srv.url, concurrency=2)(
        lambda r: {"headers": {"Connection": "close"}, "data": b"c"}
    )(frame(2))
    assert out["_sent"].eq("true").all()
    assert sessions == [1]


def test_the_same_request_on_the_wire_as_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[bool, list[dict[str, str]]] = {}
    for enabled in (True, False):
        monkeypatch.setattr(_transports, "BACKEND", None if enabled else "aiohttp")
        with flux_magic.Receiver() as rx:
            flux_magic.endpoint(rx.url + "a%20b/./c?q=1+2&r=%zz&s=é", concurrency=2)(
                lambda r: {"headers": {"user-agent": "mine", "X-Name": "Zoë"}, "data": b"abc"}
            )(frame(2))
            got = rx.received()
            host = rx.url.split("/")[2]
        assert [g.body for g in got] == [b"abc", b"abc"]
        assert {g.headers["Host"] for g in got} == {host}
        seen[enabled] = [
            {**{k: v for k, v in g.headers.items() if k != "Host"}, "path": g.path} for g in got
        ]
    assert seen[True] == seen[False]
    first = seen[True][0]
    assert first["User-Agent"] == "mine"
    assert first["Accept"] == "*/*"
    assert first["Content-Length"] == "3"


@pytest.mark.parametrize(
    ("url", "options", "lean"),
    [
        ("http://127.0.0.1:8080/x", {}, True),
        ("https://127.0.0.1:8080/x", {}, True),
        ("http://127.0.0.1:8080/x", {"allow_hosts": ["127.0.0.1"]}, False),
        ("http://127.0.0.1:8080/x", {"block_private": True}, False),
    ],
)
def test_when_the_lean_path_is_used(url: str, options: dict[str, Any], lean: bool) -> None:
    assert (_transports.backend_name(url, Options(concurrency=4, **options)) == "lean") is lean


def test_a_proxy_in_the_environment_keeps_aiohttp(
    monkeypatch: pytest.MonkeyPatch, sessions: list[int]
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _transports.backend_name("http://127.0.0.1:8080/", Options(concurrency=4)) == "aiohttp"
    with flux_magic.Receiver() as rx:
        out = flux_magic.endpoint(rx.url, concurrency=2)(by_n)(frame(2))
    assert out["_sent"].eq("true").all()  # NO_PROXY honoured by aiohttp
    assert sessions == [1]


def test_credentials_in_the_url_keep_aiohttp(sessions: list[int]) -> None:
    with flux_magic.Receiver() as rx:
        url = rx.url.replace("http://", "http://user:pw@")
        out = flux_magic.endpoint(url, concurrency=2)(by_n)(frame(2))
        auth = {g.headers.get("Authorization") for g in rx.received()}
    assert out["_sent"].eq("true").all()
    assert sessions == [1]
    assert auth == {"Basic dXNlcjpwdw=="}


def test_abandon_closes_the_sockets(serve: Callable[..., ScriptServer]) -> None:
    hang = threading.Event()

    def script(path: str, body: bytes) -> tuple[bytes, bool]:
        hang.wait(5)
        return ok(), False

    srv = serve(script)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    out = flux_magic.endpoint(srv.url, concurrency=3, timeout=None)(by_n)(frame(10), cancel=cancel)
    assert time.monotonic() - started < 2.5
    assert out["_error"].str.startswith("outcome unknown").sum() == 3
    hang.set()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(("hops", "max_redirects"), [(1, 1), (1, 2), (2, 2), (2, 3), (3, 10)])
def test_redirect_chains_end_as_on_aiohttp(
    serve: Callable[..., ScriptServer],
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    hops: int,
    max_redirects: int,
) -> None:
    def script(path: str, body: bytes) -> tuple[bytes, bool]:
        k = int(path.rsplit("/r", 1)[1])
        if k == 0:
            return ok(), False
        where = f"/r{k - 1}" if k % 2 else f"{srv.url}/r{k - 1}"  # relative and absolute
        head = f"HTTP/1.1 {status} Moved\r\nLocation: {where}\r\nContent-Length: 0\r\n\r\n"
        return head.encode(), False

    results = {}
    for enabled in (True, False):
        monkeypatch.setattr(_transports, "BACKEND", None if enabled else "aiohttp")
        srv = serve(script)
        out = flux_magic.endpoint(f"{srv.url}/r{hops}", concurrency=2, max_redirects=max_redirects)(
            by_n
        )(frame(3))
        wire = sorted(zip(srv.methods, srv.paths(), (b for _, _, b in srv.requests), strict=True))
        results[enabled] = (out.drop(columns="_elapsed").to_dict("list"), wire)
    assert results[True] == results[False]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_cookies_the_server_sets_are_sent_back_as_on_aiohttp(
    serve: Callable[..., ScriptServer], monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """Cookies the server sets (for host names and IP addresses, as httpx keeps them) are sent
    on later requests; once the jar holds one, the lean path hands the send over to aiohttp."""
    sent: dict[bool, list[str]] = {}
    for enabled in (True, False):
        monkeypatch.setattr(_transports, "BACKEND", None if enabled else "aiohttp")
        srv = serve(lambda path, body: (ok(extra="Set-Cookie: sid=abc; Path=/\r\n"), False))
        url = srv.url.replace("127.0.0.1", host)
        flux_magic.endpoint(url, concurrency=2)(by_n)(frame(20))
        sent[enabled] = srv.cookies
    for cookies in sent.values():
        assert len(cookies) == 20
        assert cookies[-10:] == ["sid=abc"] * 10


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"after 100"),
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + ok(b"after 103"),
        ok(b"one") + ok(b"two"),  # a second answer nobody asked for
    ],
    ids=["100", "103", "extra"],
)
def test_interim_and_extra_answers_as_on_aiohttp(
    serve: Callable[..., ScriptServer], monkeypatch: pytest.MonkeyPatch, answer: bytes
) -> None:
    results = {}
    for enabled in (True, False):
        monkeypatch.setattr(_transports, "BACKEND", None if enabled else "aiohttp")
        srv = serve(lambda path, body: (answer, False))
        out = flux_magic.endpoint(srv.url, concurrency=2, keep_response=20)(by_n)(frame(6))
        results[enabled] = out.drop(columns="_elapsed").to_dict("list")
        assert len(srv.requests) == 6
    assert results[True] == results[False]
    assert set(results[True]["_status"]) == {"200"}

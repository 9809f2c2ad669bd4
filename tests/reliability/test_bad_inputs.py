"""Bad input, table-driven: each case expects a clear error (what, where, the fix) or a
documented per-row outcome, and never a hang (each case runs under a time limit).

Network cases use only loopback servers. The unresolvable host is ``-unresolvable.invalid``:
the C resolver rejects a label starting with a hyphen before asking any DNS server, so the
case fails the same way as a real unknown name without traffic leaving the machine.
"""

from __future__ import annotations

import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

import flux_magic
from flux_magic import Receiver, Reply, UsageError

Mapping = Callable[[Any], Any]


def text(r: Any) -> dict[str, Any]:
    return {"headers": {}, "data": f"v={r['v']}".encode()}


def one_row() -> pd.DataFrame:
    return pd.DataFrame({"v": [1]})


@dataclass(frozen=True)
class Case:
    """One bad input.

    ``raises``/``match``: the call must raise that error with that message. Otherwise the send
    must finish and ``row`` gives the expected (``_status``, ``_sent``, fragment of ``_error``)
    of every row; ``arrived`` how many requests the target server must have received.
    """

    name: str
    df: Callable[[], Any] = one_row
    map_fn: Mapping = text
    server: str = "ok"
    options: dict[str, Any] = field(default_factory=dict)
    raises: type[BaseException] | None = None
    match: str = ""
    row: tuple[str, str, str] | None = None
    arrived: int | None = None
    check: Callable[[pd.DataFrame, list[bytes]], None] | None = None


def _bodies_are(expected: list[bytes]) -> Callable[[pd.DataFrame, list[bytes]], None]:
    def check(out: pd.DataFrame, bodies: list[bytes]) -> None:
        assert sorted(bodies) == sorted(expected)

    return check


def _check_nulls(out: pd.DataFrame, bodies: list[bytes]) -> None:
    assert sorted(bodies) == [b"None None None None"] * 4 or sorted(bodies) == sorted(
        [b"1.0 x 2021-01-01 00:00:00 1", b"None None None None"] * 2
    )


def _check_big_body(out: pd.DataFrame, bodies: list[bytes]) -> None:
    assert len(bodies) == 1
    assert len(bodies[0]) == 10 * 1024 * 1024


MB = 1024 * 1024
SERIES = pd.Series([1, 2])
NULLS = pd.DataFrame(
    {
        "f": [np.nan, 1.0],
        "s": [None, "x"],
        "t": [pd.NaT, pd.Timestamp("2021-01-01")],
        "i": pd.array([pd.NA, 1], dtype="Int64"),
    }
)

CASES = [
    # --- not a DataFrame, or one rows cannot be built from
    Case("series", df=lambda: SERIES, raises=UsageError, match="pandas Series; use series"),
    Case("dict", df=lambda: {"v": [1]}, raises=UsageError, match=r"got dict \(pd.DataFrame"),
    Case("none", df=lambda: None, raises=UsageError, match="expected a pandas DataFrame, got None"),
    Case(
        "duplicate-columns",
        df=lambda: pd.DataFrame([[1, 2]], columns=["v", "v"]),
        raises=UsageError,
        match="duplicate column names 'v'; .*Rename them",
    ),
    Case(
        "multiindex-columns",
        df=lambda: pd.DataFrame(
            [[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
        ),
        raises=UsageError,
        match="MultiIndex columns; flatten them",
    ),
    # --- unusual but valid frames: a documented per-row outcome
    Case(
        "non-string-column-names",
        df=lambda: pd.DataFrame({0: [7], 1.5: ["x"]}),
        map_fn=lambda r: {"headers": {}, "data": f"{r[0]}-{r[1.5]}".encode()},
        row=("200", "true", ""),
        check=_bodies_are([b"7-x"]),
    ),
    Case(
        "nan-nat-none-na-arrive-as-None",
        df=lambda: NULLS,
        map_fn=lambda r: {"headers": {}, "data": f"{r.f} {r.s} {r.t} {r.i}".encode()},
        row=("200", "true", ""),
        check=_bodies_are([b"None None None None", b"1.0 x 2021-01-01 00:00:00 1"]),
    ),
    Case(
        "categorical",
        df=lambda: pd.DataFrame({"c": pd.Categorical(["lo", "hi"])}),
        map_fn=lambda r: {"headers": {}, "data": r.c.encode()},
        row=("200", "true", ""),
        check=_bodies_are([b"lo", b"hi"]),
    ),
    Case(
        "tz-aware",
        df=lambda: pd.DataFrame(
            {"t": pd.to_datetime(["2021-01-01T00:00:00Z"]).tz_convert("Europe/Paris")}
        ),
        map_fn=lambda r: {"headers": {}, "data": r.t.isoformat().encode()},
        row=("200", "true", ""),
        check=_bodies_are([b"2021-01-01T01:00:00+01:00"]),
    ),
    Case(
        "bytes-column",
        df=lambda: pd.DataFrame({"b": [b"\x00\xffraw"]}),
        map_fn=lambda r: {"headers": {}, "data": r.b},
        row=("200", "true", ""),
        check=_bodies_are([b"\x00\xffraw"]),
    ),
    Case(
        "10-MB-body",
        map_fn=lambda r: {"headers": {}, "data": b"x" * (10 * MB)},
        row=("200", "true", ""),
        check=_check_big_body,
    ),
    # --- headers
    Case(
        "header-injection-newline",
        map_fn=lambda r: {"headers": {"X-A": "ok\r\nX-Injected: 1"}, "data": b""},
        row=("", "false", 'header value "X-A" contains a line break or NUL for row 0'),
        arrived=0,
    ),
    Case(
        "non-ascii-header-value-sent-as-utf8",
        map_fn=lambda r: {"headers": {"X-Name": "café ☕"}, "data": b""},
        row=("200", "true", ""),
    ),
    Case(
        "invalid-header-name",
        map_fn=lambda r: {"headers": {"Bad Name:": "x"}, "data": b""},
        row=("", "false", "invalid header name 'Bad Name:' for row 0"),
        arrived=0,
    ),
    Case(
        "header-value-not-a-string",
        map_fn=lambda r: {"headers": {"X-N": 5}, "data": b""},
        row=("", "false", 'header value "X-N" must be a string, got int for row 0'),
        arrived=0,
    ),
    # --- data of the wrong type
    Case(
        "data-dict",
        map_fn=lambda r: {"headers": {}, "data": {"a": 1}},
        row=("", "false", "\"data\" must be bytes (or str, sent as UTF-8) but is {'a': 1} (dict)"),
        arrived=0,
    ),
    Case(
        "data-list",
        map_fn=lambda r: {"headers": {}, "data": [1]},
        row=("", "false", "use json.dumps(...).encode() for JSON"),
        arrived=0,
    ),
    Case(
        "data-int",
        map_fn=lambda r: {"headers": {}, "data": 5},
        row=("", "false", "use str(...).encode() for text"),
        arrived=0,
    ),
    Case(
        "data-none",
        map_fn=lambda r: {"headers": {}, "data": None},
        row=("", "false", 'use b"" for an empty body, or leave "data" out'),
        arrived=0,
    ),
    # --- the mapping returns something that is not a request
    Case(
        "mapping-returns-none",
        map_fn=lambda r: None,
        row=("", "false", "the mapping function returned None (NoneType) for row 0; it must"),
        arrived=0,
    ),
    Case(
        "mapping-returns-list",
        map_fn=lambda r: [1],
        row=("", "false", "returned [1] (list) for row 0"),
        arrived=0,
    ),
    Case(
        "mapping-returns-str",
        map_fn=lambda r: "hello",
        row=("", "false", "returned 'hello' (str) for row 0"),
        arrived=0,
    ),
    Case(
        "mapping-raises-names-the-columns",
        map_fn=lambda r: {"headers": {}, "data": r.missing},
        row=("", "false", "raised AttributeError: the row has no column 'missing'"),
        arrived=0,
    ),
    # --- URLs
    Case(
        "url-without-scheme",
        server="127.0.0.1:9/x",
        raises=UsageError,
        match="has no scheme; write it as 'http://",
    ),
    Case(
        "file-url",
        server="file:///etc/passwd",
        raises=UsageError,
        match="uses file://; .* only http:// and https://",
    ),
    Case("ftp-url", server="ftp://127.0.0.1/x", raises=UsageError, match="uses ftp://"),
    Case(
        "url-with-spaces",
        server="http://127.0.0.1/a b",
        raises=UsageError,
        match="contains white space; .*%20",
    ),
    Case("url-not-a-string", server="<int>", raises=UsageError, match="the URL must be a string"),
    # --- servers that misbehave
    Case(
        "unresolvable-host",
        server="unresolvable",
        row=("", "false", "cannot resolve the host name (DNS)"),
    ),
    Case(
        "connection-refused",
        server="refused",
        row=("", "false", "connection refused: nothing is listening"),
    ),
    Case("self-signed-tls", server="tls", row=("", "false", "TLS certificate verification failed")),
    Case("redirect-loop", server="loop", row=("", "false", "too many redirects (more than 10)")),
    Case(
        "redirect-to-another-host-is-followed",
        server="elsewhere",
        row=("200", "true", ""),
        arrived=0,
    ),
    Case(
        "200-MB-response-capped",
        server="huge",
        options={"max_response_bytes": 20 * MB},
        row=("200", "false", "larger than max_response_bytes (20,971,520 bytes); stopped reading"),
    ),
    Case(
        "never-answers",
        server="hang",
        options={"timeout": 0.3},
        row=("", "false", "timed out after 0.3 s"),
    ),
    Case(
        "closes-mid-response",
        server="cut",
        row=("200", "false", "the server closed the connection before a complete answer"),
    ),
    Case(
        "strict-mode-bad-mapping-raises-before-sending",
        map_fn=lambda r: {"headers": {}, "data": 5},
        options={"errors": "raise"},
        raises=flux_magic.EndpointError,
        match=r"row 0 failed, so the send stopped there \(strict mode, as Flux\)",
    ),
]


@dataclass
class Servers:
    ok: Receiver
    other: Receiver
    tls: HTTPServer
    refused_port: int

    def url(self, kind: str) -> Any:
        base = self.ok.url
        return {
            "ok": base,
            "unresolvable": "http://-unresolvable.invalid:8080/",
            "refused": f"http://127.0.0.1:{self.refused_port}/",
            "tls": self.tls.url_for("/hook"),
            "loop": base + "loop",
            "elsewhere": base + "elsewhere",
            "huge": base + "huge",
            "hang": base + "hang",
            "cut": base + "cut",
            "<int>": 8080,
        }.get(kind, kind)


@pytest.fixture(scope="module")
def servers(tls_server: HTTPServer) -> Iterator[Servers]:
    with Receiver() as other:
        other_url = other.url.replace("127.0.0.1", "localhost")  # another host name

        def answer(req: flux_magic.Received) -> Reply | None:
            path = req.path
            if path.startswith("/loop"):
                return Reply(307, headers={"Location": "/loop"})
            if path.startswith("/elsewhere"):
                return Reply(307, headers={"Location": other_url})
            if path.startswith("/huge"):
                return Reply(200, body_size=200 * MB)
            if path.startswith("/hang"):
                return Reply(200, fault="hang")
            if path.startswith("/cut"):
                return Reply(200, body_size=64 * 1024, fault="cut")
            return None

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with Receiver(answer) as ok:
            tls_server.clear()
            tls_server.expect_request("/hook").respond_with_data("ok")
            yield Servers(ok, other, tls_server, port)


COVERED = len(CASES)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, concurrency: int, servers: Servers) -> None:
    servers.ok.clear()
    servers.other.clear()
    url = servers.url(case.server)
    options = {"concurrency": concurrency, **case.options}
    started = time.monotonic()
    if case.raises is not None:
        with pytest.raises(case.raises, match=case.match):
            flux_magic.endpoint(url, **options)(case.map_fn)(case.df())
        assert servers.ok.count == 0
        return
    tracemalloc.start()
    try:
        out = flux_magic.endpoint(url, **options)(case.map_fn)(case.df())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 10
    assert case.row is not None
    status, sent, error = case.row
    assert out["_status"].tolist() == [status] * len(out), out["_error"].tolist()
    assert out["_sent"].tolist() == [sent] * len(out)
    for got in out["_error"]:
        assert (error in got) if error else got == "", got
    target = servers.other if case.server == "elsewhere" else servers.ok
    if case.server == "elsewhere":
        assert servers.other.count == len(out)  # followed to the other host, as in Flux
    if case.arrived is not None and case.server != "elsewhere":
        assert target.count == case.arrived
    if case.check is not None:
        case.check(out, [q.body for q in target.received()])
    if case.server == "huge":
        assert peak < 40 * MB  # drained in chunks up to the cap, never held in memory


def test_non_ascii_header_arrives_as_utf8(receiver: Receiver) -> None:
    flux_magic.endpoint(receiver.url)(lambda r: {"headers": {"X-Name": "café ☕"}, "data": b""})(
        one_row()
    )
    assert receiver.received()[0].headers["X-Name"] == "café ☕"


def test_at_least_25_bad_inputs_are_covered() -> None:
    assert COVERED >= 25
    print(f"\nbad inputs covered: {COVERED} cases x 2 concurrencies")


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_large_body_is_replayed_on_a_307_redirect(concurrency: int) -> None:
    """Bodies over 1 MB go to aiohttp as a stream; a 307 must still resend all of it."""
    big = b"y" * (3 * MB)

    def answer(req: flux_magic.Received) -> Reply | None:
        return Reply(307, headers={"Location": "/final"}) if req.path == "/r" else None

    with Receiver(answer) as rx:
        out = flux_magic.endpoint(rx.url + "r", concurrency=concurrency)(
            lambda r: {"headers": {}, "data": big}
        )(one_row())
        got = [(q.path, q.body == big, q.headers.get("Content-Length")) for q in rx.received()]
    assert out["_sent"].tolist() == ["true"]
    assert got == [("/r", True, str(3 * MB)), ("/final", True, str(3 * MB))]

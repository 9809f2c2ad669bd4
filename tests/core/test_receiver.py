from __future__ import annotations

import socket

import httpx
import pytest

import flux_magic
from flux_magic import Received, Receiver, Reply


def test_records_requests_in_arrival_order() -> None:
    with Receiver(status=201) as rx:
        assert rx.url.startswith("http://127.0.0.1:")
        with httpx.Client() as c:
            r1 = c.post(rx.url + "a?x=1", content=b"one", headers={"X-Test": "1"})
            r2 = c.post(rx.url + "b", content=b"two")
        assert (r1.status_code, r2.status_code) == (201, 201)
        req = rx.requests
        assert req["path"].tolist() == ["/a?x=1", "/b"]
        assert req["body"].tolist() == [b"one", b"two"]
        assert req["method"].tolist() == ["POST", "POST"]
        assert req["headers"].iloc[0]["X-Test"] == "1"
        assert str(req["time"].dtype) == "datetime64[ns, UTC]"
        rx.clear()
        assert rx.count == 0
        assert rx.requests.empty


def test_handler_chooses_status_headers_and_body() -> None:
    def handler(req: Received) -> int | Reply | None:
        if req.path == "/redirect":
            return Reply(307, headers={"Location": "/final"})
        if req.path == "/final":
            return Reply(202, body=b"done")
        return None

    with Receiver(handler) as rx, httpx.Client(follow_redirects=True) as c:
        r = c.post(rx.url + "redirect", content=b"x")
        assert (r.status_code, r.content) == (202, b"done")
        assert c.post(rx.url + "other").status_code == 200


@pytest.mark.parametrize("fault", ["drop", "reset", "cut"])
def test_faults_break_the_connection(fault: str) -> None:
    with Receiver(lambda req: Reply(200, body=b"0123456789", fault=fault)) as rx:  # type: ignore[arg-type]
        with httpx.Client() as c, pytest.raises(httpx.TransportError):
            c.post(rx.url, content=b"x")
        assert rx.count == 1


def test_hang_never_answers_and_stop_still_returns() -> None:
    rx = Receiver(lambda req: Reply(fault="hang")).start()
    with httpx.Client(timeout=0.3) as c, pytest.raises(httpx.ReadTimeout):
        c.post(rx.url, content=b"x")
    rx.stop()
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", rx.port))


def test_url_before_start_explains() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = Receiver().url


def test_record_false_only_counts() -> None:
    with Receiver(record=False) as rx, httpx.Client() as c:
        for _ in range(5):
            c.post(rx.url, content=b"x")
        assert rx.count == 5
        assert rx.requests.empty


def test_pipelined_requests_get_answers_in_order() -> None:
    with Receiver(lambda req: Reply(200, body=req.path.encode())) as rx:
        with socket.create_connection(("127.0.0.1", rx.port), timeout=5) as s:
            s.sendall(
                b"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
            )
            data = b""
            while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"/2"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        assert data.index(b"/1") < data.index(b"/2")
    assert flux_magic.Receiver is Receiver

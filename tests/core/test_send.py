"""Sending against real loopback servers, through both transports."""

from __future__ import annotations

import _thread
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

import flux_magic
from flux_magic import Received, Receiver, Reply

#: Every test runs twice: concurrent mode on the lean HTTP/1.1 path, then on aiohttp.
pytestmark = pytest.mark.usefixtures("concurrent_path")

CONCURRENCY = [1, 4]


def text_map(r: Any) -> dict[str, Any]:
    return {"headers": {"Content-Type": "text/plain"}, "data": f"The value is {r._value}".encode()}


def frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"_value": range(n), "tag": ["t1"] * n})


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize(
    ("status", "sent_200", "sent_2xx"),
    [
        (200, "true", "true"),
        (201, "false", "true"),
        (204, "false", "true"),
        (500, "false", "false"),
    ],
)
def test_status_and_sent_follow_flux(
    concurrency: int, status: int, sent_200: str, sent_2xx: str
) -> None:
    df = frame(3)
    with Receiver(status=status) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency)(text_map)(df)
        out2 = flux_magic.endpoint(rx.url, concurrency=concurrency, sent_when="2xx")(text_map)(df)
    assert out["_status"].tolist() == [str(status)] * 3
    assert out["_sent"].tolist() == [sent_200] * 3
    assert out2["_sent"].tolist() == [sent_2xx] * 3
    assert out["_error"].tolist() == [""] * 3


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_requests_arrive_as_mapped(receiver: Receiver, concurrency: int) -> None:
    df = frame(20)
    out = flux_magic.endpoint(receiver.url, concurrency=concurrency)(
        lambda r: {
            "headers": {"header1": "example1", "x-row": str(r._value)},
            "data": f"The value is {r._value}".encode(),
        }
    )(df)
    got = receiver.received()
    assert len(got) == 20
    assert sorted(g.body for g in got) == sorted(f"The value is {i}".encode() for i in range(20))
    for g in got:
        assert g.method == "POST"
        assert g.headers["Header1"] == "example1"
        assert g.body == f"The value is {g.headers['X-Row']}".encode()
        assert "Content-Type" not in g.headers  # Flux adds no Content-Type
        assert g.headers["User-Agent"].startswith("flux_magic/")
    assert out["_sent"].eq("true").all()


def test_sequential_sends_in_row_order_over_one_connection(receiver: Receiver) -> None:
    df = frame(30)
    flux_magic.endpoint(receiver.url)(text_map)(df)
    assert [g.body for g in receiver.received()] == [
        f"The value is {i}".encode() for i in range(30)
    ]


def test_connection_refused_is_recorded_per_row(closed_port_url: str) -> None:
    for concurrency in CONCURRENCY:
        out = flux_magic.endpoint(closed_port_url, concurrency=concurrency)(text_map)(frame(3))
        assert out["_status"].tolist() == ["", "", ""]
        assert out["_sent"].tolist() == ["false"] * 3
        assert out["_error"].str.contains("connection refused").all()


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_timeout_on_a_slow_answer(concurrency: int) -> None:
    def slow_first(req: Received) -> Reply:
        return Reply(200, delay=3.0) if req.body.endswith(b"0") else Reply(200)

    # a timeout with room to spare for the fast rows on a loaded machine
    with Receiver(slow_first) as rx:
        started = time.monotonic()
        out = flux_magic.endpoint(rx.url, timeout=1.0, concurrency=concurrency)(text_map)(frame(3))
    assert time.monotonic() - started < 3.0
    assert out["_error"].iloc[0] == "timed out after 1 s"
    assert out["_sent"].tolist() == ["false", "true", "true"]


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_redirect_307_keeps_method_and_body(httpserver: HTTPServer, concurrency: int) -> None:
    httpserver.expect_request("/old", method="POST").respond_with_data(
        "", status=307, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new", method="POST", data=b"The value is 0").respond_with_data(
        "ok", status=200
    )
    out = flux_magic.endpoint(httpserver.url_for("/old"), concurrency=concurrency)(text_map)(
        frame(1)
    )
    assert out["_status"].tolist() == ["200"]
    assert out["_sent"].tolist() == ["true"]


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_redirect_loop_is_an_error(httpserver: HTTPServer, concurrency: int) -> None:
    httpserver.expect_request("/loop").respond_with_data("", 307, headers={"Location": "/loop"})
    out = flux_magic.endpoint(httpserver.url_for("/loop"), concurrency=concurrency)(text_map)(
        frame(1)
    )
    assert "too many redirects" in out["_error"].iloc[0]
    assert out["_sent"].iloc[0] == "false"


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_mapping_errors_are_per_row_and_other_rows_go(receiver: Receiver, concurrency: int) -> None:
    def mapper(r: Any) -> dict[str, Any]:
        if r._value == 1:
            raise ValueError("bad row")
        if r._value == 2:
            return {"headers": {"n": 2}, "data": b""}
        return {"headers": {}, "data": f"v{r._value}"}  # str is sent as UTF-8

    out = flux_magic.endpoint(receiver.url, concurrency=concurrency)(mapper)(frame(4))
    assert out["_sent"].tolist() == ["true", "false", "false", "true"]
    assert out["_error"].iloc[1].startswith("mapping error: the mapping function raised ValueError")
    assert 'header value "n" must be a string' in out["_error"].iloc[2]
    assert sorted(g.body for g in receiver.received()) == [b"v0", b"v3"]


def test_zero_rows_sends_nothing(receiver: Receiver) -> None:
    empty = frame(0)
    out = flux_magic.endpoint(receiver.url)(text_map)(empty)
    assert list(out.columns) == ["_value", "tag", "_status", "_sent", "_error", "_elapsed"]
    assert len(out) == 0
    assert receiver.count == 0


def test_missing_values_and_awkward_column_names(receiver: Receiver) -> None:
    df = pd.DataFrame(
        {
            "_value": [1.5, np.nan],
            "_time": pd.to_datetime(["2021-01-01T00:00:00Z", None]),
            "my col": ["a", None],
            "_start": pd.array([1, pd.NA], dtype="Int64"),
        }
    )
    out = flux_magic.endpoint(receiver.url)(
        lambda r: {"headers": {}, "data": f"{r._value}|{r._time}|{r['my col']}|{r._start}".encode()}
    )(df)
    assert out["_sent"].tolist() == ["true", "true"]
    assert [g.body for g in receiver.received()] == [
        b"1.5|2021-01-01 00:00:00+00:00|a|1",
        b"None|None|None|None",
    ]


def test_input_not_mutated_and_index_kept(receiver: Receiver) -> None:
    df = pd.DataFrame({"_value": [1, 2, 3], "_sent": ["x", "y", "z"]}, index=["b", "a", "b"])
    before = df.copy()
    out = flux_magic.endpoint(receiver.url)(lambda r: {"headers": {}, "data": b"x"})(df)
    pd.testing.assert_frame_equal(df, before)
    assert out.index.tolist() == ["b", "a", "b"]
    # an input column named _sent is replaced, as Flux's {r with _sent: ...}
    assert out["_sent"].tolist() == ["true"] * 3
    assert list(out.columns) == ["_value", "_sent", "_status", "_error", "_elapsed"]


def test_concurrency_1_and_16_give_identical_results() -> None:
    def status_of(req: Received) -> int:
        v = int(req.body.rsplit(b" ", 1)[1])
        return (200, 204, 500)[v % 3]

    df = frame(200)
    with Receiver(status_of) as rx:
        seq = flux_magic.endpoint(rx.url)(text_map)(df)
        par = flux_magic.endpoint(rx.url, concurrency=16)(text_map)(df)
    assert seq["_elapsed"].gt(0).all()
    assert par["_elapsed"].gt(0).all()
    pd.testing.assert_frame_equal(seq.drop(columns="_elapsed"), par.drop(columns="_elapsed"))
    assert seq["_status"].tolist()[:3] == ["200", "204", "500"]


def test_df_pipe_works(receiver: Receiver) -> None:
    out = frame(2).pipe(flux_magic.endpoint(receiver.url)(text_map))
    assert out["_sent"].tolist() == ["true", "true"]


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_strict_mode_raises_with_partial_result(closed_port_url: str, concurrency: int) -> None:
    def fail_at_3(req: Received) -> Reply:
        return Reply(200, fault="reset") if req.body == b"The value is 3" else Reply(200)

    with Receiver(fail_at_3) as rx:
        sender = flux_magic.endpoint(rx.url, errors="raise")(text_map)
        with pytest.raises(flux_magic.EndpointError) as info:
            sender(frame(10))
        got = rx.count
    err = info.value
    assert err.position == 3
    assert err.row == 3
    assert "closed the connection" in err.reason
    assert list(err.result.columns) == ["_value", "tag", "_status", "_sent", "_error", "_elapsed"]
    assert err.result["_value"].tolist() == [0, 1, 2]
    assert err.result["_sent"].tolist() == ["true"] * 3
    assert got == 4  # nothing after the failing row was sent
    assert sender.result is err.result


def test_strict_mode_stops_at_a_mapping_error(receiver: Receiver) -> None:
    sender = flux_magic.endpoint(receiver.url, errors="raise")(
        lambda r: {"headers": {}, "data": 1 if r._value == 2 else b"ok"}
    )
    with pytest.raises(flux_magic.EndpointError, match=r"row 2 failed.*\"data\" must be bytes"):
        sender(frame(5))
    assert receiver.count == 2


def test_strict_mode_500_is_not_an_error() -> None:
    with Receiver(status=500) as rx:
        out = flux_magic.endpoint(rx.url, errors="raise")(text_map)(frame(2))
    assert out["_sent"].tolist() == ["false", "false"]
    assert out["_error"].tolist() == ["", ""]  # a 500 is an answer, not an error


def _interrupt_when(rx: Receiver, count: int, at: list[float]) -> None:
    """Ctrl-C (in the main thread) once ``count`` requests have arrived; the time goes to ``at``."""

    def fire() -> None:
        assert rx.wait_for(count, timeout=30)
        at.append(time.monotonic())
        _thread.interrupt_main()

    threading.Thread(target=fire, daemon=True).start()


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_interrupt_accounts_for_every_row(concurrency: int) -> None:
    df = frame(200)
    with Receiver(delay=0.02) as rx:
        sender = flux_magic.endpoint(rx.url, concurrency=concurrency)(text_map)
        interrupted_at: list[float] = []
        _interrupt_when(rx, 5, interrupted_at)
        with pytest.raises(flux_magic.SendInterrupted) as info:
            sender(df)
        elapsed = time.monotonic() - interrupted_at[0]
        arrived = rx.count
    result = info.value.result
    assert elapsed < 1.5  # prompt: within the grace period after the interrupt
    assert sender.result is result
    assert len(result) == 200
    errors = result["_error"]
    answered = result["_status"] != ""
    not_sent = errors.str.startswith("not sent: the send was interrupted")
    unknown = errors.str.startswith("outcome unknown")
    assert 0 < answered.sum() < 200
    assert (answered | not_sent | unknown).all()
    assert (result.loc[answered, "_sent"] == "true").all()
    assert (result.loc[~answered, "_sent"] == "false").all()
    # no row is claimed as sent that the receiver did not get
    assert answered.sum() <= arrived
    assert "exc.result" in str(info.value)


def test_keyboard_interrupt_from_the_mapping_function(receiver: Receiver) -> None:
    def mapper(r: Any) -> dict[str, Any]:
        if r._value == 7:
            raise KeyboardInterrupt
        return {"headers": {}, "data": b"x"}

    with pytest.raises(flux_magic.SendInterrupted) as info:
        flux_magic.endpoint(receiver.url)(mapper)(frame(10))
    res = info.value.result
    assert res["_sent"].tolist()[:7] == ["true"] * 7
    assert res["_error"].iloc[8].startswith("not sent")
    assert receiver.count == 7


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_cancel_and_progress(concurrency: int) -> None:
    calls: list[tuple[int, int, int, int]] = []
    cancel = threading.Event()

    def progress(done: int, total: int, sent: int, failed: int) -> None:
        calls.append((done, total, sent, failed))
        if done >= 10:
            cancel.set()

    with Receiver(delay=0.01) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency)(text_map)(
            frame(500), progress=progress, cancel=cancel
        )
    assert len(out) == 500
    assert calls[-1][1] == 500
    assert calls[-1][0] == (out["_status"] != "").sum()
    cancelled = out["_error"].str.startswith("not sent: the send was cancelled")
    assert cancelled.sum() > 0
    assert ((out["_status"] != "") | cancelled | out["_error"].str.startswith("outcome")).all()


def test_response_bodies_are_capped_and_optionally_kept() -> None:
    with Receiver(lambda req: Reply(200, body_size=3_000_000)) as rx:
        for concurrency in CONCURRENCY:
            out = flux_magic.endpoint(
                rx.url, concurrency=concurrency, max_response_bytes=1_000_000, keep_response=4
            )(text_map)(frame(2))
            assert out["_status"].tolist() == ["200", "200"]
            assert out["_error"].str.contains("larger than max_response_bytes").all()
            assert out["_response"].tolist() == [b"xxxx", b"xxxx"]


def test_unknown_option_and_bad_values_are_named() -> None:
    with pytest.raises(flux_magic.UsageError, match="unknown option concurency"):
        flux_magic.endpoint("http://127.0.0.1/", concurency=2)
    with pytest.raises(flux_magic.UsageError, match="concurrency must be a whole number >= 1"):
        flux_magic.endpoint("http://127.0.0.1/", concurrency=0)
    with pytest.raises(flux_magic.UsageError, match="timeout must be a positive number"):
        flux_magic.endpoint("http://127.0.0.1/", timeout=-1)
    with pytest.raises(flux_magic.UsageError, match='sent_when must be "200"'):
        flux_magic.endpoint("http://127.0.0.1/", sent_when="3xx")
    assert flux_magic.endpoint("http://127.0.0.1/", timeout=None).options.timeout is None


def test_mapping_function_forms() -> None:
    ep = flux_magic.endpoint("http://127.0.0.1/")
    assert ep(text_map).map_fn is text_map
    assert ep(mapFn=text_map).map_fn is text_map
    assert ep(map_fn=text_map).map_fn is text_map
    with pytest.warns(UserWarning, match="mapFn"):
        assert ep(mapfn=text_map).map_fn is text_map
    with pytest.raises(flux_magic.UsageError, match="exactly one mapping function"):
        ep()
    with pytest.raises(flux_magic.UsageError, match="must be callable"):
        ep("not a function")  # type: ignore[arg-type]


def test_group_key_gains_sent(receiver: Receiver) -> None:
    df = frame(2)
    df.attrs["flux_group_key"] = ["tag"]
    out = flux_magic.endpoint(receiver.url)(text_map)(df)
    assert out.attrs["flux_group_key"] == ["tag", "_sent"]
    assert df.attrs["flux_group_key"] == ["tag"]


def _send_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "flux_magic-send" and t.is_alive()]


def test_interrupt_with_hanging_requests_and_no_timeout() -> None:
    with Receiver(lambda req: Reply(fault="hang")) as rx:
        sender = flux_magic.endpoint(rx.url, concurrency=3, timeout=None)(text_map)
        interrupted_at: list[float] = []
        _interrupt_when(rx, 3, interrupted_at)  # all three workers hang in flight
        with pytest.raises(flux_magic.SendInterrupted) as info:
            sender(frame(10))
        assert time.monotonic() - interrupted_at[0] < 1.5
        result = info.value.result
        errors = result["_error"].tolist()
        assert errors[:3] == [errors[0]] * 3
        assert errors[0].startswith("outcome unknown")
        assert all(e.startswith("not sent") for e in errors[3:])
        # the abandoned workers are cancelled, not left hanging
        deadline = time.monotonic() + 5
        while _send_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _send_threads()


def test_a_failing_progress_callback_stops_the_send(receiver: Receiver) -> None:
    def progress(done: int, total: int, sent: int, failed: int) -> None:
        raise RuntimeError("progress display broke")

    with Receiver(delay=0.01) as rx:
        with pytest.raises(RuntimeError, match="progress display broke"):
            flux_magic.endpoint(rx.url)(text_map)(frame(1000), progress=progress)
        count = rx.count
        time.sleep(0.3)
        assert rx.count == count  # nothing more was sent after the error
    assert count < 1000


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize(("hops", "limit", "follows"), [(1, 1, True), (2, 2, True), (3, 2, False)])
def test_max_redirects_means_the_same_in_every_mode(
    concurrency: int, hops: int, limit: int, follows: bool
) -> None:
    def chain(req: Received) -> Reply:
        step = int(req.path.strip("/") or 0)
        if step < hops:
            return Reply(307, headers={"Location": f"/{step + 1}"})
        return Reply(200)

    with Receiver(chain) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, max_redirects=limit)(text_map)(
            frame(2)
        )
    if follows:
        assert out["_status"].tolist() == ["200", "200"]
        assert out["_error"].tolist() == ["", ""]
    else:
        assert out["_error"].str.startswith(f"too many redirects (more than {limit})").all()


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_max_redirects_zero_returns_the_redirect(concurrency: int) -> None:
    with Receiver(lambda req: Reply(307, headers={"Location": "/x"})) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, max_redirects=0)(text_map)(
            frame(2)
        )
        assert rx.count == 2
    assert out["_status"].tolist() == ["307", "307"]
    assert out["_sent"].tolist() == ["false", "false"]


def test_a_cancel_already_set_sends_nothing(receiver: Receiver) -> None:
    cancel = threading.Event()
    cancel.set()
    out = flux_magic.endpoint(receiver.url, concurrency=4)(text_map)(frame(5), cancel=cancel)
    assert receiver.count == 0
    assert out["_sent"].tolist() == ["false"] * 5
    assert out["_error"].str.startswith("not sent: the send was cancelled").all()
    assert out["_elapsed"].isna().all(), "rows never attempted have no elapsed time"


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_elapsed_is_the_time_of_each_row(concurrency: int) -> None:
    def slow_second(req: Received) -> Reply:
        return Reply(200, delay=0.3 if req.body.endswith(b" 1") else 0)

    with Receiver(slow_second) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency)(
            lambda r: {"headers": {}, "data": f"v {r._value}".encode() if r._value != 2 else 3}
        )(frame(3))
    assert out["_elapsed"].dtype == "float64"
    assert 0 < out["_elapsed"].iloc[0] < 0.3
    assert out["_elapsed"].iloc[1] >= 0.3
    assert np.isnan(out["_elapsed"].iloc[2]), "a row whose mapping failed was never attempted"

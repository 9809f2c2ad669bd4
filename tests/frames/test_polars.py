"""Polars frames in and out: types survive the boundary, sends go to a real loopback Receiver."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import flux_magic
from flux_magic import Receiver

pl = pytest.importorskip("polars")


@pytest.fixture(scope="module")
def rx() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def _clear(rx: Receiver) -> None:
    rx.clear()


def as_json(r: Any) -> dict[str, Any]:
    """The row as JSON text: every value formatted by Python's str()."""
    return {"headers": {}, "data": json.dumps({k: str(v) for k, v in r.items()}).encode()}


def typed_frame() -> Any:
    berlin = pl.Datetime("ns", "Europe/Berlin")
    return pl.DataFrame(
        {
            "n": pl.Series([1, None, 3], dtype=pl.Int64),
            "u": pl.Series([2**63, 1, 2], dtype=pl.UInt64),
            "s": ["x", None, "z"],
            "d": pl.Series(["1.10", "2.00", "3.25"]).cast(pl.Decimal(10, 2)),
            "t": pl.Series(
                [dt.datetime(2024, 1, 1, 12, 0, 0, 123456), None, dt.datetime(2024, 6, 1)]
            )
            .cast(pl.Datetime("ns"))
            .dt.replace_time_zone("Europe/Berlin")
            .cast(berlin),
            "l": [[1, 2], [], None],
        }
    ).with_columns(tn=pl.col("t") + pl.duration(nanoseconds=7))


def test_types_survive_into_the_mapping_and_back(rx: Receiver) -> None:
    df = typed_frame()
    out = flux_magic.endpoint(rx.url)(as_json)(df)
    assert isinstance(out, pl.DataFrame)
    bodies = [json.loads(b) for b in rx.requests["body"]]
    assert [b["n"] for b in bodies] == ["1", "None", "3"]  # integer with nulls: 1, not 1.0
    assert bodies[0]["u"] == str(2**63)  # uint64 beyond int64
    assert bodies[0]["d"] == "1.10"  # decimal keeps its scale
    assert bodies[0]["t"] == "2024-01-01 12:00:00.123456+01:00"  # zone kept
    assert bodies[0]["tn"] == "2024-01-01 12:00:00.123456007+01:00"  # nanoseconds kept
    assert bodies[2]["t"] == "2024-06-01 00:00:00+02:00"  # the zone's summer offset
    assert bodies[0]["l"] == "[1, 2]"
    assert bodies[1]["s"] == "None"
    # the input columns come back with their Polars types, the result columns as strings
    assert out.schema["n"] == pl.Int64
    assert out.schema["u"] == pl.UInt64
    assert out.schema["d"] == pl.Decimal(10, 2)
    assert out.schema["t"] == pl.Datetime("ns", "Europe/Berlin")
    assert out.schema["l"] == pl.List(pl.Int64)
    assert out.schema["_status"] == pl.String
    assert out.schema["_sent"] == pl.String
    assert out.schema["_elapsed"] == pl.Float64
    assert out["n"].to_list() == [1, None, 3]
    assert out["d"].to_list() == [Decimal("1.10"), Decimal("2.00"), Decimal("3.25")]
    assert out["t"].to_list() == df["t"].to_list()
    assert out["_sent"].to_list() == ["true"] * 3
    assert out["_status"].to_list() == ["200"] * 3


def test_lazyframe_is_collected_once(rx: Receiver) -> None:
    collected: list[int] = []

    def count(batch: Any) -> Any:
        collected.append(len(batch))
        return batch

    lazy = pl.LazyFrame({"v": [1, 2, 3]}).map_batches(count)
    out = flux_magic.endpoint(rx.url)(lambda r: {"headers": {}, "data": f"{r.v}".encode()})(lazy)
    assert isinstance(out, pl.DataFrame)
    assert collected == [3]
    assert rx.requests["body"].tolist() == [b"1", b"2", b"3"]
    assert out["v"].to_list() == [1, 2, 3]


def test_preview_of_polars_is_polars_and_reads_only_the_head(rx: Receiver) -> None:
    seen: list[int] = []

    def count(batch: Any) -> Any:
        seen.append(len(batch))
        return batch

    df = pl.DataFrame({"n": pl.Series([1, None] * 50, dtype=pl.Int64)})
    send = flux_magic.endpoint(rx.url)(lambda r: {"headers": {"X-N": str(r.n)}, "data": b""})
    table = send.preview(df, n=2)
    assert isinstance(table, pl.DataFrame)
    assert table["row"].to_list() == [0, 1]
    assert table["curl"][0].count("X-N: 1'") == 1
    lazy_table = send.preview(pl.LazyFrame({"v": range(1000)}).map_batches(count), n=3)
    assert lazy_table.height == 3
    assert sum(seen) <= 1000  # collected once, at most
    assert rx.count == 0


def test_cancelled_send_returns_polars_with_every_row() -> None:
    cancel = threading.Event()
    cancel.set()
    with Receiver() as rx:
        out = flux_magic.endpoint(rx.url)(lambda r: {"headers": {}, "data": b""})(
            pl.DataFrame({"v": [1, 2]}), cancel=cancel
        )
    assert isinstance(out, pl.DataFrame)
    assert out["_sent"].to_list() == ["false", "false"]
    assert all(e.startswith("not sent: the send was cancelled") for e in out["_error"])
    assert rx.count == 0


def test_strict_failure_carries_a_polars_result(closed_port_url: str) -> None:
    send = flux_magic.endpoint(closed_port_url, errors="raise")(
        lambda r: {"headers": {}, "data": b""}
    )
    with pytest.raises(flux_magic.EndpointError) as info:
        send(pl.DataFrame({"v": [1, 2]}))
    assert isinstance(info.value.result, pl.DataFrame)
    assert send.result is info.value.result


def test_idempotency_keys_are_the_same_in_a_second_run(rx: Receiver) -> None:
    send = flux_magic.endpoint(rx.url, idempotency_key=True)(lambda r: {"headers": {}, "data": b""})
    df = pl.DataFrame({"v": [1, 1, 2]})
    send(df)
    send(df)
    keys = [h["Idempotency-Key"] for h in rx.requests["headers"]]
    assert keys[:3] == keys[3:]
    assert len(set(keys[:3])) == 3  # equal rows still get their own key


def test_a_notification_endpoint_sends_polars_rows(rx: Receiver) -> None:
    from flux_magic.endpoints import slack

    send = slack.endpoint(url=rx.url, token="xoxb-secret-1")(
        lambda r: {"channel": "#alerts", "text": f"n={r.n}", "color": "good"}
    )
    out = send(pl.DataFrame({"n": pl.Series([1, None], dtype=pl.Int64)}))
    assert isinstance(out, pl.DataFrame)
    assert out["_sent"].to_list() == ["true", "true"]
    texts = [json.loads(b)["attachments"][0]["text"] for b in rx.requests["body"]]
    assert texts == ["n=1", "n=None"]
    assert "xoxb-secret-1" not in str(send.preview(pl.DataFrame({"n": [1]})))


def test_resend_failed_takes_and_returns_polars() -> None:
    answers = iter([500, 200, 503, 200, 200])  # rows 0 and 2 fail first, then succeed
    with Receiver(lambda req: flux_magic.Reply(next(answers))) as flaky:
        send = flux_magic.endpoint(flaky.url)(lambda r: {"headers": {}, "data": str(r.n).encode()})
        df = pl.DataFrame({"n": pl.Series([1, None, 3], dtype=pl.Int64), "s": ["a", "b", "c"]})
        first = send(df)
        assert first["_sent"].to_list() == ["false", "true", "false"]
        again = send.resend_failed(first)
        bodies = [b.decode() for b in flaky.requests["body"]]
    assert isinstance(again, pl.DataFrame)
    assert again["_sent"].to_list() == ["true"] * 3
    assert again["_status"].to_list() == ["200"] * 3
    assert again["n"].dtype == pl.Int64  # the input columns keep their types
    assert again["n"].to_list() == [1, None, 3]
    assert again["s"].to_list() == ["a", "b", "c"]
    assert bodies == ["1", "None", "3", "1", "3"]


def test_resend_failed_of_a_lazy_dask_result_says_to_compute_it(rx: Receiver) -> None:
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    send = flux_magic.endpoint(rx.url)(lambda r: {"headers": {}, "data": b""})
    lazy = send(dd.from_pandas(pd.DataFrame({"n": [1, 2]}), npartitions=1))
    with pytest.raises(flux_magic.UsageError, match=r"compute\(\)"):
        send.resend_failed(lazy)
    assert len(rx.requests) == 0  # building and refusing sent nothing

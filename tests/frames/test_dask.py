"""Dask DataFrames on a real 2-worker LocalCluster (separate processes) against the Receiver."""

from __future__ import annotations

import _thread
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import Receiver

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One cluster for the module: 2 worker processes, 2 threads each."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def rx() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def _clear(rx: Receiver) -> None:
    rx.clear()


def by_value(r: Any) -> dict[str, Any]:
    return {"headers": {"X-Row": str(r.v)}, "data": f"v={r.v}".encode()}


def frame(n: int, npartitions: int = 4) -> Any:
    pdf = pd.DataFrame({"v": range(n), "name": [f"n{i}" for i in range(n)]})
    pdf.index = pd.Index([f"r{i}" for i in range(n)])
    return dd.from_pandas(pdf, npartitions=npartitions, sort=False)


def test_building_sends_nothing_and_never_maps_fake_rows(client: Any, rx: Receiver) -> None:
    calls: list[Any] = []

    def mapping(r: Any) -> dict[str, Any]:
        calls.append(dict(r))  # in this process only if Dask ran it here (on fake rows)
        return by_value(r)

    send = flux_magic.endpoint(rx.url, retries=1, keep_response=8)(mapping)
    ddf = frame(40)
    lazy = send(ddf)
    time.sleep(0.3)
    assert rx.count == 0
    assert calls == []
    # the columns and dtypes are declared up front, as a pandas send gives them
    expected = flux_magic.endpoint(rx.url, retries=1, keep_response=8)(by_value)(
        pd.DataFrame({"v": [1], "name": ["a"]}, index=["r0"])
    )
    rx.clear()
    assert list(lazy.columns) == list(expected.columns)
    added = [c for c in expected.columns if c.startswith("_")]
    assert lazy.dtypes[added].to_dict() == expected.dtypes[added].to_dict()
    assert lazy.dtypes[["v", "name"]].to_dict() == ddf.dtypes.to_dict()  # input as Dask has it
    assert list(lazy.columns[-6:]) == [
        "_status",
        "_sent",
        "_error",
        "_elapsed",
        "_response",
        "_attempts",
    ]


def test_compute_sends_every_row_once_in_order(client: Any, rx: Receiver) -> None:
    send = flux_magic.endpoint(rx.url, concurrency=4)(by_value)
    ddf = frame(400, npartitions=7)
    lazy = send(ddf)
    out = lazy.compute()
    assert isinstance(out, pd.DataFrame)
    assert out.dtypes.to_dict() == lazy.dtypes.to_dict()  # the declared meta was true
    assert out.index.tolist() == [f"r{i}" for i in range(400)]
    assert out["v"].tolist() == list(range(400))
    assert out["_sent"].eq("true").all()
    assert out["_status"].eq("200").all()
    assert out["_elapsed"].gt(0).all()
    rows = sorted(int(h["X-Row"]) for h in rx.requests["headers"])
    assert rows == list(range(400))  # every row exactly once


def equal_rows(i: int) -> pd.DataFrame:
    return pd.DataFrame({"v": [7, 7]}, index=[0, 0])  # the same two rows in every partition


def test_idempotency_keys_are_stable_across_runs_and_apart_across_partitions(
    client: Any, rx: Receiver
) -> None:
    ddf = dd.from_map(equal_rows, [0, 1])
    send = flux_magic.endpoint(rx.url, idempotency_key=True)(by_value)
    send(ddf).compute()
    first = [h["Idempotency-Key"] for h in rx.requests["headers"]]
    send(ddf).compute()  # a second build and run: as when Dask runs a lost task again
    second = [h["Idempotency-Key"] for h in rx.requests["headers"]][4:]
    assert len(first) == len(second) == 4
    assert len(set(first)) == 4  # same label and content: other occurrence or partition
    assert sorted(first) == sorted(second)


def test_persist_sends_once(client: Any, rx: Receiver) -> None:
    kept = flux_magic.endpoint(rx.url)(by_value)(frame(20)).persist()
    distributed.wait(kept)
    assert kept["_sent"].eq("true").all().compute()
    assert len(kept.compute()) == 20
    assert rx.count == 20


def test_rate_holds_for_the_whole_cluster(client: Any, rx: Receiver) -> None:
    rate = 20
    send = flux_magic.endpoint(rx.url, rate=rate, concurrency=4)(by_value)
    started = time.monotonic()
    out = send(frame(60, npartitions=4)).compute()
    elapsed = time.monotonic() - started
    assert out["_sent"].eq("true").all()
    times = sorted(t.timestamp() for t in rx.requests["time"])
    assert len(times) == 60
    # 4 partitions on 2 workers at once, yet at most ~rate starts in any one-second window
    worst = max(sum(1 for u in times[i:] if u - t < 1.0) for i, t in enumerate(times))
    assert worst <= rate + 2  # + slot edges and arrival jitter on this loaded machine
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    assert gaps[len(gaps) // 2] >= 0.8 / rate  # spaced out, not in bursts
    assert elapsed >= 59 / rate - 0.2
    overall = (len(times) - 1) / (times[-1] - times[0])
    assert overall <= rate * 1.1


def test_preview_reads_the_first_partition_only(client: Any, rx: Receiver) -> None:
    def load(i: int) -> pd.DataFrame:
        if i > 0:
            raise RuntimeError(f"partition {i} was computed")
        return pd.DataFrame({"v": [1, 2, 3]})

    ddf = dd.from_map(load, [0, 1, 2], meta=pd.DataFrame({"v": pd.Series([], dtype="int64")}))
    table = flux_magic.endpoint(rx.url)(by_value).preview(ddf, n=2)
    assert table["body"].tolist() == ["v=1", "v=2"]
    assert rx.count == 0


def test_cancel_with_a_distributed_event_accounts_per_partition(client: Any) -> None:
    stop = distributed.Event("flux-magic-test-stop", client=client)
    stop.clear()
    with Receiver(delay=0.05) as slow:
        lazy = flux_magic.endpoint(slow.url)(by_value)(frame(200, npartitions=4), cancel=stop)
        future = client.compute(lazy)
        assert slow.wait_for(8, timeout=30)
        stop.set()
        out = future.result(timeout=30)
        arrived = slow.count
    stop.clear()
    assert len(out) == 200
    errors = out["_error"]
    answered = out["_status"] != ""
    not_sent = errors.str.startswith("not sent: the send was cancelled")
    unknown = errors.str.startswith("outcome unknown")
    assert (answered | not_sent | unknown).all()
    assert 0 < answered.sum() < 100
    assert answered.sum() <= arrived <= answered.sum() + unknown.sum()
    # each partition stopped: every one of the 4 has rows never attempted
    positions = pd.Series(range(200), index=out.index)
    assert positions[not_sent.to_numpy()].floordiv(50).nunique() == 4


def test_send_now_with_cancel_and_progress(client: Any) -> None:
    cancel = threading.Event()
    reports: list[tuple[int, int, int, int]] = []
    with Receiver(delay=0.05) as slow:
        send = flux_magic.endpoint(slow.url)(by_value)
        threading.Timer(0.01, lambda: slow.wait_for(6, 30) and cancel.set()).start()
        out = send.send(
            frame(200, npartitions=4), progress=lambda *a: reports.append(a), cancel=cancel
        )
        arrived = slow.count
    assert isinstance(out, pd.DataFrame)
    assert len(out) == 200
    assert send.result is out
    answered = out["_status"] != ""
    assert 0 < answered.sum() <= arrived
    assert out["_error"][~answered].str.match("not sent|outcome unknown").all()
    assert reports[-1] == (int(answered.sum()), 200, int(answered.sum()), 0)
    assert {r[1] for r in reports} == {200}


def test_ctrl_c_during_send_now_returns_every_row(client: Any) -> None:
    with Receiver(delay=0.05) as slow:
        send = flux_magic.endpoint(slow.url)(by_value)

        def fire() -> None:
            assert slow.wait_for(6, timeout=30)
            _thread.interrupt_main()

        threading.Thread(target=fire, daemon=True).start()
        with pytest.raises(flux_magic.SendInterrupted) as info:
            send.send(frame(200, npartitions=4))
        arrived = slow.count
    out = info.value.result
    assert send.result is out
    assert len(out) == 200
    answered = out["_status"] != ""
    assert 0 < answered.sum() <= arrived
    assert out["_error"][~answered].str.match("not sent|outcome unknown").all()
    assert "every row is in the result" in str(info.value)


def test_strict_mode_is_refused_for_dask(client: Any, rx: Receiver) -> None:
    with pytest.raises(flux_magic.UsageError, match='errors="collect"'):
        flux_magic.endpoint(rx.url, errors="raise")(by_value)(frame(4))
    assert rx.count == 0


def test_progress_asks_for_send_not_the_lazy_call(client: Any, rx: Receiver) -> None:
    with pytest.raises(flux_magic.UsageError, match=r"sender.send\(ddf"):
        flux_magic.endpoint(rx.url)(by_value)(frame(4), progress=print)
    with pytest.raises(flux_magic.UsageError, match=r"distributed\.Event"):
        flux_magic.endpoint(rx.url)(by_value)(frame(4), cancel=threading.Event())


def test_rate_without_a_cluster_is_one_clock_per_process(rx: Receiver) -> None:
    send = flux_magic.endpoint(rx.url, rate=20, concurrency=2)(by_value)
    out = send(frame(30, npartitions=3)).compute(scheduler="threads")  # 3 tasks at once
    assert out["_sent"].eq("true").all()
    times = sorted(t.timestamp() for t in rx.requests["time"])
    worst = max(sum(1 for u in times[i:] if u - t < 1.0) for i, t in enumerate(times))
    assert worst <= 22  # R + 2: the bound the README documents (a late slot never bursts)


def test_an_endpoint_with_hooks_refuses_dask_with_the_fix(client: Any, rx: Receiver) -> None:
    from flux_magic.endpoints import slack

    send = slack.endpoint(url=rx.url, token="xoxb-1")(
        lambda r: {"channel": "#a", "text": "x", "color": "good"}
    )
    with pytest.raises(flux_magic.UsageError, match=r"compute it into pandas first"):
        send(frame(4))
    with pytest.raises(flux_magic.UsageError, match=r"compute it into pandas first"):
        send.send(frame(4))
    assert rx.count == 0


def test_a_task_run_again_after_its_worker_died_sends_the_same_keys() -> None:
    """Kill the worker while it sends: Dask runs the task again on the restarted worker."""
    import os
    import signal

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
        Receiver(delay=0.01) as slow,
    ):
        send = flux_magic.endpoint(slow.url, idempotency_key=True)(by_value)
        future = c.compute(send(frame(120, npartitions=2)))
        assert slow.wait_for(10, timeout=30)
        (pid,) = c.run(os.getpid).values()
        os.kill(pid, signal.SIGKILL)  # the worker process this test's cluster started
        out = future.result(timeout=120)
        keys = [h["Idempotency-Key"] for h in slow.requests["headers"]]
        rows = [int(h["X-Row"]) for h in slow.requests["headers"]]
    assert out["_sent"].eq("true").all()
    assert len(keys) > 120  # some rows went twice: before the kill and in the re-run
    first_key = {}
    for row, key in zip(rows, keys, strict=True):
        assert first_key.setdefault(row, key) == key  # a row sent twice had the same key
    assert len(set(keys)) == 120


def test_send_now_cancelled_before_it_began_sends_nothing(client: Any, rx: Receiver) -> None:
    cancel = threading.Event()
    cancel.set()
    out = flux_magic.endpoint(rx.url)(by_value).send(frame(40), cancel=cancel)
    assert len(out) == 40
    assert out["_error"].str.startswith("not sent: the send was cancelled").all()
    assert rx.count == 0


def test_concurrency_counts_per_worker(client: Any) -> None:
    """2 workers with 2 threads each and concurrency=4: at most 2 x 4 requests in flight."""
    delay = 0.3
    with Receiver(delay=delay) as slow:
        out = flux_magic.endpoint(slow.url, concurrency=4)(by_value)(frame(96, 8)).compute()
        times = sorted(t.timestamp() for t in slow.requests["time"])
    assert out["_sent"].eq("true").all()
    # a request arrives only after the one before it on the same connection was answered
    most = max(sum(1 for u in times[i:] if u - t < delay * 0.9) for i, t in enumerate(times))
    assert 4 <= most <= 8


def test_a_journal_shared_by_partitions_on_threaded_workers(
    client: Any, rx: Receiver, tmp_path: Any
) -> None:
    """Partitions of one send write one journal from 2 processes x 2 threads at once; a second
    send resumes from it and sends nothing. (Checking a journal by opening its file beside
    SQLite dropped the SQLite locks of the other thread's send: another process then folded
    the WAL away under it, and runs were lost.)"""
    journal = tmp_path / "sends.sqlite"
    send = flux_magic.endpoint(rx.url, concurrency=8, journal=str(journal))(by_value)
    first = send(frame(4000, npartitions=8)).compute()
    assert first["_sent"].eq("true").all()
    assert rx.count == 4000
    for _ in range(2):  # everything is on record: nothing goes again
        again = send(frame(4000, npartitions=8)).compute()
        assert again["_sent"].eq("true").all()
        assert rx.count == 4000
    recorded = flux_magic.read_journal(journal)
    assert len(recorded) == 4000
    assert recorded["outcome"].eq("sent").all()
    assert recorded["run"].nunique() == 8  # one run per partition sent them
    assert list(tmp_path.glob("sends.sqlite-run*")) == []

"""Retries (429, 503, Retry-After, connect failures, the safety rule), Idempotency-Key and the
rate limit, identical through the httpx (concurrency 1) and aiohttp (concurrency > 1) paths."""

from __future__ import annotations

import email.utils
import itertools
import logging
import socket
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import Received, Receiver, Reply, UsageError
from flux_magic._transports._retry import MAX_RETRY_AFTER, parse_retry_after

#: Every test runs twice: concurrent mode on the lean HTTP/1.1 path, then on aiohttp.
pytestmark = pytest.mark.usefixtures("concurrent_path")

CONCURRENCY = [1, 4]


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)]})


def by_id(r: Any) -> dict[str, Any]:
    return {"headers": {}, "data": r.id.encode()}


class Flaky:
    """Answers ``first`` for the first ``times`` requests of each row, then 200."""

    def __init__(self, first: Reply, times: int = 1) -> None:
        self.first = first
        self.times = times
        self.seen: Counter[str] = Counter()
        self.keys: dict[str, list[str | None]] = defaultdict(list)
        self.at: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()

    def __call__(self, req: Received) -> Reply:
        rid = req.body.decode()
        with self.lock:
            self.seen[rid] += 1
            self.keys[rid].append(req.headers.get("Idempotency-Key"))
            self.at[rid].append(time.monotonic())
            n = self.seen[rid]
        return self.first if n <= self.times else Reply(200)


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_with_backoff(concurrency: int, status: int) -> None:
    flaky = Flaky(Reply(status), times=2)
    with Receiver(flaky) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, retries=3, backoff=0.05)(by_id)(
            frame(6)
        )
    assert out["_sent"].tolist() == ["true"] * 6
    assert out["_attempts"].tolist() == [3] * 6
    assert set(flaky.seen.values()) == {3}
    for times in flaky.at.values():
        first, second = times[1] - times[0], times[2] - times[1]
        assert first >= 0.05  # backoff * 2**0, plus jitter
        assert second >= 0.1  # backoff * 2**1, plus jitter


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_retries_give_up_and_report_the_last_answer(concurrency: int) -> None:
    flaky = Flaky(Reply(503), times=99)
    with Receiver(flaky) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, retries=2, backoff=0.01)(by_id)(
            frame(3)
        )
    assert out["_status"].tolist() == ["503"] * 3
    assert out["_sent"].tolist() == ["false"] * 3
    assert out["_attempts"].tolist() == [3] * 3
    assert set(flaky.seen.values()) == {3}


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_500_is_never_retried(concurrency: int) -> None:
    flaky = Flaky(Reply(500), times=99)
    with Receiver(flaky) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, retries=3, backoff=0.01)(by_id)(
            frame(3)
        )
    assert out["_attempts"].tolist() == [1] * 3
    assert out["_status"].tolist() == ["500"] * 3


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured(concurrency: int, form: str) -> None:
    def retry_after() -> str:
        if form == "seconds":
            return "1"
        return email.utils.formatdate(time.time() + 1.5, usegmt=True)

    seen: dict[str, list[float]] = defaultdict(list)

    def handler(req: Received) -> Reply:
        rid = req.body.decode()
        seen[rid].append(time.monotonic())
        if len(seen[rid]) == 1:
            return Reply(429, headers={"Retry-After": retry_after()})
        return Reply(200)

    with Receiver(handler) as rx:
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, retries=1, backoff=0.01)(by_id)(
            frame(2)
        )
    assert out["_sent"].tolist() == ["true", "true"]
    for times in seen.values():
        # an HTTP date has whole-second resolution: at least ~0.5 s of the 1.5 s remain
        assert times[1] - times[0] >= (0.95 if form == "seconds" else 0.45)


def test_a_retry_after_too_long_ends_the_rows_retries() -> None:
    flaky = Flaky(Reply(503, headers={"Retry-After": str(int(MAX_RETRY_AFTER) + 1)}), times=9)
    with Receiver(flaky) as rx:
        started = time.monotonic()
        out = flux_magic.endpoint(rx.url, retries=3)(by_id)(frame(1))
    assert time.monotonic() - started < 2
    assert out["_attempts"].tolist() == [1]
    assert out["_status"].tolist() == ["503"]


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert parse_retry_after(past) == 0.0


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_connection_refused_is_retried_as_safe(concurrency: int) -> None:
    """Nothing listens at first; a server appears on that port during the backoff."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rx = Receiver(port=port)
    threading.Timer(0.4, rx.start).start()
    try:
        out = flux_magic.endpoint(
            f"http://127.0.0.1:{port}/", concurrency=concurrency, retries=6, backoff=0.1
        )(by_id)(frame(2))
        assert out["_sent"].tolist() == ["true", "true"]
        assert out["_attempts"].iloc[0] > 1  # the first row met the refusals
        assert rx.count == 2  # a refused connection never delivered anything
    finally:
        time.sleep(0.05)
        rx.stop()


@pytest.mark.parametrize("concurrency", CONCURRENCY)
@pytest.mark.parametrize("fault", ["reset", "drop", "cut", "slow"])
def test_maybe_delivered_failures_are_retried_only_on_request(concurrency: int, fault: str) -> None:
    first = Reply(200, delay=2.5) if fault == "slow" else Reply(200, body_size=100, fault=fault)  # type: ignore[arg-type]
    for retry_unknown in (False, True):
        flaky = Flaky(first)
        with Receiver(flaky) as rx:
            out = flux_magic.endpoint(
                rx.url,
                concurrency=concurrency,
                retries=2,
                backoff=0.01,
                timeout=1.0,  # room for the second attempt on a loaded machine
                retry_unknown=retry_unknown,
                idempotency_key=True,
            )(by_id)(frame(3))
        if retry_unknown:
            assert out["_sent"].tolist() == ["true"] * 3
            assert out["_attempts"].tolist() == [2] * 3
            # both deliveries of a row carry the same key; rows have different keys
            for keys in flaky.keys.values():
                assert len(keys) == 2
                assert keys[0] == keys[1]
                assert keys[0]
            assert len({k[0] for k in flaky.keys.values()}) == 3
        else:
            assert out["_sent"].tolist() == ["false"] * 3
            assert out["_attempts"].tolist() == [1] * 3
            assert set(flaky.seen.values()) == {1}  # delivered at most once
            assert out["_error"].str.len().gt(0).all()


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_idempotency_key_without_retries_and_a_mapping_key_wins(concurrency: int) -> None:
    with Receiver() as rx:
        flux_magic.endpoint(rx.url, concurrency=concurrency, idempotency_key=True)(
            lambda r: {
                "headers": {"Idempotency-Key": "mine"} if r.id == "r0" else {},
                "data": r.id.encode(),
            }
        )(frame(3))
        keys = {q.body.decode(): q.headers.get("Idempotency-Key") for q in rx.received()}
    assert keys["r0"] == "mine"
    assert keys["r1"] != keys["r2"]
    assert len(keys["r1"] or "") == 36  # a UUID


def test_no_attempts_column_without_retries(receiver: Receiver) -> None:
    out = flux_magic.endpoint(receiver.url)(by_id)(frame(2))
    assert "_attempts" not in out.columns


def test_retries_are_logged_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    flaky = Flaky(Reply(503), times=1)
    with Receiver(flaky) as rx, caplog.at_level(logging.INFO, logger="flux_magic"):
        url = rx.url.replace("127.0.0.1", "user:hunter2-log@127.0.0.1")
        flux_magic.endpoint(url, retries=1, backoff=0.01)(by_id)(frame(1))
    assert "attempt 1 failed (status 503); retrying" in caplog.text
    assert "hunter2-log" not in caplog.text


# ------------------------------------------------------------------ rate
@pytest.mark.parametrize("concurrency", [1, 8])
def test_rate_limits_requests_per_second_across_workers(concurrency: int) -> None:
    rate = 25.0
    with Receiver() as rx:
        started = time.monotonic()
        flux_magic.endpoint(rx.url, concurrency=concurrency, rate=rate)(by_id)(frame(26))
        elapsed = time.monotonic() - started
        times = sorted(q.time for q in rx.received())
    assert elapsed >= 25 / rate - 0.05  # 26 requests need 25 intervals
    # in any window of one second, at most `rate` requests (+1 for the closed window edge)
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u - t < 1.0) <= rate + 1
    gaps = [b - a for a, b in itertools.pairwise(times)]
    gaps.sort()
    assert gaps[len(gaps) // 2] >= 0.8 / rate  # spaced, not bursty (arrival jitter allowed)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_retries_take_slots_from_the_rate_limit(concurrency: int) -> None:
    flaky = Flaky(Reply(503), times=1)
    with Receiver(flaky) as rx:
        started = time.monotonic()
        out = flux_magic.endpoint(rx.url, concurrency=concurrency, rate=20, retries=1, backoff=0.0)(
            by_id
        )(frame(5))
        elapsed = time.monotonic() - started
    assert out["_attempts"].tolist() == [2] * 5
    assert elapsed >= 9 / 20 - 0.05  # 10 requests in all, 1/20 s apart


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("retries", -1, "retries must be a whole number >= 0"),
        ("retries", 1.5, "retries must be a whole number >= 0"),
        ("retries", 100, "retries must be at most 20"),
        ("backoff", -0.1, "backoff must be a number of seconds >= 0"),
        ("backoff", float("nan"), "backoff must be a number of seconds >= 0"),
        ("rate", 0, "rate must be a number of requests per second > 0 (or None"),
        ("rate", "fast", "rate must be a number of requests per second > 0"),
        ("retry_unknown", "yes", "retry_unknown must be True or False"),
        ("idempotency_key", 1, "idempotency_key must be True or False"),
        ("block_private", None, "block_private must be True or False"),
        ("allow_hosts", 3, "allow_hosts must be a list of host names"),
        ("allow_hosts", ["http://x.com/"], "is not a host name; give the host only"),
        ("allow_hosts", [""], "allow_hosts entries must be non-empty host names"),
    ],
)
def test_bad_option_values_are_named(option: str, value: object, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        flux_magic.endpoint("http://127.0.0.1:9/", **{option: value})


def test_new_options_are_documented_in_one_place() -> None:
    for name in (
        "retries",
        "retry_unknown",
        "backoff",
        "idempotency_key",
        "rate",
        "block_private",
        "allow_hosts",
    ):
        assert name in flux_magic.OPTION_DOCS
        assert hasattr(flux_magic.Options(), name)


def test_idempotency_keys_are_stable_across_runs_and_distinct_per_row(receiver: Receiver) -> None:
    df = pd.DataFrame({"id": ["a", "a", "b"]}, index=[0, 0, 1])  # two identical rows
    send = flux_magic.endpoint(receiver.url, idempotency_key=True)(by_id)
    runs = []
    for _ in range(2):
        receiver.clear()
        send(df)
        runs.append([q.headers.get("Idempotency-Key") for q in receiver.received()])
    assert runs[0] == runs[1], "a second run of the same send must send the same keys"
    assert len(set(runs[0])) == 3, "identical rows still get keys of their own"
    changed = df.assign(id=["a", "a", "c"])
    receiver.clear()
    send(changed)
    keys = [q.headers.get("Idempotency-Key") for q in receiver.received()]
    assert keys[:2] == runs[0][:2], "unchanged rows keep their keys"
    assert keys[2] != runs[0][2], "a changed row is a new row"

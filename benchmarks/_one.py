"""One measurement in one process; prints one JSON line. Run by ``bench.py``.

    python benchmarks/_one.py --task send --client flux --conc 8 --url http://127.0.0.1:P/ --n 5000
    python benchmarks/_one.py --task rows --method flux --n 1000000
    python benchmarks/_one.py --task preview --n 1000000
    python benchmarks/_one.py --task big --url http://127.0.0.1:P/ --n 1000000 --conc 32

Imports and the DataFrame are built before the timed block; client creation and teardown are
inside it (flux_magic's whole call is timed: row view, mapping, sending, result assembly).
Every sending variant calls the same mapping function on the same rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
from _common import Timer, build_df, mapfn, mapfn_key, peak_rss_mib, rss_now_mib

TIMEOUT = 30.0
#: The CA bundle an HTTPS receiver's certificate verifies with (``--ca``); every client
#: verifies with it.
CA: str | None = None


def _ssl_context() -> Any:
    import ssl

    return ssl.create_default_context(cafile=CA) if CA else None


def _requests(df: pd.DataFrame) -> Iterator[dict[str, Any]]:
    return (mapfn(r) for r in df.itertuples(index=False))


# ------------------------------------------------------------------ sending variants
def naive_requests(df: pd.DataFrame, url: str, conc: int) -> int:
    """The textbook loop: ``requests.post`` per row, no Session (a connection per row)."""
    import requests

    ok = 0
    for row in df.itertuples(index=False):
        req = mapfn(row)
        r = requests.post(
            url, data=req["data"], headers=req["headers"], timeout=TIMEOUT, verify=CA or True
        )
        ok += r.status_code == 200
    return ok


def httpx_sync(df: pd.DataFrame, url: str, conc: int) -> int:
    """One ``httpx.Client``, one request at a time."""
    import httpx

    ok = 0
    with httpx.Client(timeout=TIMEOUT, verify=_ssl_context() or True) as c:
        for req in _requests(df):
            r = c.post(url, content=req["data"], headers=req["headers"])
            ok += r.status_code == 200
    return ok


def aiohttp_pool(df: pd.DataFrame, url: str, conc: int) -> int:
    """Raw aiohttp: ``conc`` worker coroutines pulling from one shared row iterator."""
    import asyncio

    import aiohttp

    async def main() -> int:
        conn = aiohttp.TCPConnector(limit=conc, ssl=_ssl_context() or True)
        it = _requests(df)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with aiohttp.ClientSession(connector=conn, timeout=timeout) as s:

            async def worker() -> int:
                ok = 0
                for req in it:
                    async with s.post(url, data=req["data"], headers=req["headers"]) as r:
                        await r.read()
                        ok += r.status == 200
                return ok

            return sum(await asyncio.gather(*(worker() for _ in range(conc))))

    return asyncio.run(main())


def flux(df: pd.DataFrame, url: str, conc: int) -> int:
    """flux_magic: ``endpoint(url, concurrency=conc)(mapfn)(df)``."""
    import flux_magic

    out = flux_magic.endpoint(url, concurrency=conc, verify=CA or True)(mapfn)(df)
    return int((out["_sent"] == "true").sum())


CLIENTS: dict[str, Callable[[pd.DataFrame, str, int], int]] = {
    "naive_requests": naive_requests,
    "httpx_sync": httpx_sync,
    "aiohttp_pool": aiohttp_pool,
    "flux": flux,
}
_IMPORTS = {
    "naive_requests": "requests",
    "httpx_sync": "httpx",
    "aiohttp_pool": "aiohttp",
    "flux": "flux_magic",
}


def task_send(a: argparse.Namespace) -> dict[str, Any]:
    fn = CLIENTS[a.client]
    df = build_df(a.n)
    __import__(_IMPORTS[a.client])
    if a.client == "flux":
        __import__("aiohttp")  # imported lazily by the engine; import cost is not per-row cost
    rss0 = rss_now_mib()
    err = None
    with Timer() as t:
        try:
            ok = fn(df, a.url, a.conc)
        except Exception as e:  # report, don't hide
            ok, err = 0, f"{type(e).__name__}: {e}"[:300]
    return {
        "rows": a.n,
        "ok": ok,
        "errors": a.n - ok,
        "wall_s": t.wall,
        "rows_per_s": a.n / t.wall if not err else 0.0,
        "cpu_s": t.cpu,
        "cpu_us_per_row": 1e6 * t.cpu / a.n,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": rss0,
        "exception": err,
    }


# ------------------------------------------------------------------ row path, no network
def rows_flux(df: pd.DataFrame) -> Any:
    """flux_magic's row path: row view + mapping, as the issue's target defines it."""
    from flux_magic._rows import iter_rows

    last = None
    for row in iter_rows(df):
        last = mapfn(row)["data"]
    return last


def rows_flux_checked(df: pd.DataFrame) -> Any:
    """The row path plus the request checks (what a send does per row before the network)."""
    from flux_magic._request import build_request
    from flux_magic._rows import iter_rows

    labels = df.index
    last = None
    for position, row in enumerate(iter_rows(df)):
        last = build_request(mapfn, row, labels, position).body
    return last


def rows_itertuples(df: pd.DataFrame) -> Any:
    last = None
    for r in df.itertuples(index=False):
        last = mapfn(r)["data"]
    return last


def rows_iterrows(df: pd.DataFrame) -> Any:
    last = None
    for _, r in df.iterrows():
        last = mapfn_key(r)["data"]
    return last


ROWS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "flux": rows_flux,
    "flux_checked": rows_flux_checked,
    "itertuples": rows_itertuples,
    "iterrows": rows_iterrows,
}


def task_rows(a: argparse.Namespace) -> dict[str, Any]:
    df = build_df(a.n)
    import flux_magic  # noqa: F401  (import cost is not per-row cost)

    rss0 = rss_now_mib()
    with Timer() as t:
        last = ROWS[a.method](df)
    if not str(last).startswith("b'The value is "):
        raise SystemExit(f"unexpected body {last!r}")
    return {
        "rows": a.n,
        "wall_s": t.wall,
        "cpu_s": t.cpu,
        "rows_per_s": a.n / t.wall,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": rss0,
    }


# ------------------------------------------------------------------ preview
def task_preview(a: argparse.Namespace) -> dict[str, Any]:
    import flux_magic

    df = build_df(a.n)
    sender = flux_magic.endpoint("http://127.0.0.1:9/")(mapfn)
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        out = sender.preview(df, n=10)
        times.append(time.perf_counter() - t0)
    if len(out) != 10 or (out["error"] != "").any():
        raise SystemExit(f"unexpected preview:\n{out}")
    return {"rows": a.n, "first_ms": 1e3 * times[0], "median_ms": 1e3 * statistics.median(times)}


# ------------------------------------------------------------------ a very large send
def task_big(a: argparse.Namespace) -> dict[str, Any]:
    """Send ``n`` rows; sample RSS from the progress callback to see whether it grows."""
    import flux_magic

    df = build_df(a.n)
    __import__("aiohttp")
    sender = flux_magic.endpoint(a.url, concurrency=a.conc)(mapfn)
    rss0 = rss_now_mib()
    samples: list[tuple[int, float]] = []

    def progress(done: int, total: int, sent: int, failed: int) -> None:
        samples.append((done, rss_now_mib()))

    with Timer() as t:
        out = sender(df, progress=progress)
    peak = peak_rss_mib()
    ok = int((out["_sent"] == "true").sum())
    result_cols = [c for c in ("_status", "_sent", "_error") if c in out.columns]
    result_mib = float(out[result_cols].memory_usage(index=False, deep=False).sum()) / 2**20
    # RSS while sending: from the first sample past 10 % of the rows to the last sample
    # before the result is assembled.
    sending = [m for d, m in samples if d >= a.n // 10 and d < a.n]
    early, late = (sending[0], sending[-1]) if len(sending) >= 2 else (float("nan"),) * 2
    return {
        "rows": a.n,
        "ok": ok,
        "errors": a.n - ok,
        "wall_s": t.wall,
        "rows_per_s": a.n / t.wall,
        "cpu_us_per_row": 1e6 * t.cpu / a.n,
        "rss_before_mib": rss0,
        "rss_at_10pct_mib": early,
        "rss_at_end_of_sending_mib": late,
        "peak_rss_mib": peak,
        "result_columns_mib": result_mib,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True, choices=["send", "rows", "preview", "big"])
    ap.add_argument("--client", choices=sorted(CLIENTS), default="flux")
    ap.add_argument("--method", choices=sorted(ROWS), default="flux")
    ap.add_argument("--url", default="")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--conc", type=int, default=1)
    ap.add_argument("--ca", default="", help="CA bundle of an https:// receiver")
    a = ap.parse_args()
    if a.url and not a.url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        sys.exit("loopback URLs (http(s)://127.0.0.1:PORT/) only")
    global CA
    CA = a.ca or None
    task = {"send": task_send, "rows": task_rows, "preview": task_preview, "big": task_big}
    print(json.dumps(task[a.task](a)), flush=True)


if __name__ == "__main__":
    main()

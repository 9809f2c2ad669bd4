"""flux_magic's loopback benchmark: one command, every figure side by side in one run.

    python benchmarks/bench.py                      # everything (~10 min on 2 cores)
    python benchmarks/bench.py --n 5000 --reps 5 --skip-big
    python benchmarks/bench.py --receiver embedded  # no nginx: flux_magic's own Receiver
    python benchmarks/bench.py --https --skip-mem --skip-rows --skip-preview --skip-big

It starts a loopback receiver (nginx when installed, else ``flux_magic.Receiver`` in a process
of its own), then sends the same N rows with each variant, every variant in its own process,
interleaved A B C ... A B C ... over ``--reps`` repetitions, and prints medians and *paired*
ratios (each repetition's rate over the same repetition's reference, then the median), which
survive a noisy shared machine far better than lone absolute numbers.

Also measured: peak RSS at 5k vs 50k rows, a 1,000,000-row send to the embedded Receiver (RSS
sampled while sending), the row path (row view + mapping) against ``iterrows``, and a 10-row
preview of a 1,000,000-row DataFrame. Progress goes to stderr, tables to stdout. Traffic goes to
127.0.0.1 only; every process started here is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import _receivers  # noqa: E402

NAIVE = "naive_requests"
AIOHTTP = "aiohttp_pool8"


@dataclass(frozen=True)
class Variant:
    name: str
    client: str
    conc: int
    note: str


VARIANTS = [
    Variant(NAIVE, "naive_requests", 1, "requests.post per row, no Session"),
    Variant("httpx_sync", "httpx_sync", 1, "one httpx.Client, sequential"),
    Variant(AIOHTTP, "aiohttp_pool", 8, "raw aiohttp, 8 worker coroutines on one row iterator"),
    Variant("flux_seq", "flux", 1, "flux_magic, concurrency=1 (default)"),
    Variant("flux_c8", "flux", 8, "flux_magic, concurrency=8"),
    Variant("flux_c32", "flux", 32, "flux_magic, concurrency=32"),
]
#: The HTTPS variants (``--https``): the same clients against nginx over TLS, verifying its
#: self-signed certificate with it as the CA bundle.
TLS_VARIANTS = [
    Variant("httpx_sync", "httpx_sync", 1, "one httpx.Client, sequential"),
    Variant(AIOHTTP, "aiohttp_pool", 8, "raw aiohttp, 8 worker coroutines"),
    Variant("flux_seq", "flux", 1, "flux_magic, concurrency=1 (default)"),
    Variant("flux_c8", "flux", 8, "flux_magic, concurrency=8"),
    Variant("flux_c32", "flux", 32, "flux_magic, concurrency=32"),
]
TLS = "tls:"

ROW_METHODS = [
    ("flux", "flux_magic row view + mapping"),
    ("flux_checked", "the same + the request checks a send does (headers, body)"),
    ("itertuples", ""),
    ("iterrows", ""),
]

WRK_LUA = """\
wrk.method = "POST"
wrk.body   = "The value is 42"
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["X-Host"] = "server-01"
"""

Result = dict[str, Any]


def med(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def child_env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


def run_one(args: list[str], timeout: float, rec: _receivers.RunningReceiver | None) -> Result:
    """Run ``_one.py`` in a fresh process; add the receiver's CPU use over the run."""
    srv0 = rec.cpu_s() if rec else 0.0
    p = subprocess.run(
        [sys.executable, os.path.join(HERE, "_one.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        check=False,
    )
    srv = (rec.cpu_s() - srv0) if rec else 0.0
    try:
        d: Result = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"rows_per_s": 0.0, "errors": -1, "exception": (p.stderr or p.stdout)[-400:]}
    if rec and d.get("rows"):
        d["srv_us_per_row"] = 1e6 * srv / d["rows"]
    return d


def run_wrk(rec: _receivers.RunningReceiver, conns: int, duration: int, lua: str) -> Result:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0 = ru.ru_utime + ru.ru_stime
    srv0 = rec.cpu_s()
    p = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "-s", lua, rec.url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cli = ru.ru_utime + ru.ru_stime - c0
    srv = rec.cpu_s() - srv0
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    tot = re.search(r"(\d+) requests in", p.stdout)
    n = int(tot.group(1)) if tot else 0
    return {
        "rows_per_s": float(m.group(1)) if m else 0.0,
        "rows": n,
        "errors": 0 if m else -1,
        "cpu_us_per_row": 1e6 * cli / max(n, 1),
        "srv_us_per_row": 1e6 * srv / max(n, 1),
        "exception": None if m else (p.stderr or p.stdout)[-300:],
    }


def paired(results: dict[str, list[Result]], name: str, ref: str) -> float | None:
    a, b = results.get(name, []), results.get(ref, [])
    xs = [
        x["rows_per_s"] / y["rows_per_s"]
        for x, y in zip(a, b, strict=False)
        if x.get("rows_per_s") and y.get("rows_per_s")
    ]
    return statistics.median(xs) if xs else None


def send_table(names: list[str], notes: dict[str, str], results: dict[str, list[Result]]) -> str:
    out = [
        "| variant | rows/s median | min–max | × naive | % of aiohttp-8 | client CPU µs/row "
        "| receiver CPU µs/row | peak RSS MiB (growth) | errors | what |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name in names:
        rs = results.get(name, [])
        if not rs:
            continue
        rates = [r.get("rows_per_s") or 0.0 for r in rs]
        x_naive = paired(results, name, NAIVE)
        x_aio = paired(results, name, AIOHTTP)
        peak = med([r.get("peak_rss_mib") for r in rs])
        growth = med(
            [
                r["peak_rss_mib"] - r["rss_before_mib"]
                for r in rs
                if r.get("peak_rss_mib") is not None and r.get("rss_before_mib") is not None
            ]
        )
        errors = sum(max(r.get("errors", 0), 0) for r in rs)
        failed = sum(1 for r in rs if r.get("exception") or r.get("errors", 0) < 0)
        err = f"{errors}" + (f" ({failed} failed runs)" if failed else "")
        rss = fmt(peak, ".0f") + (f" ({growth:+.1f})" if growth is not None else "")
        out.append(
            f"| {name} | {fmt(med(rates), ',.0f')} | {min(rates):,.0f}–{max(rates):,.0f} "
            f"| {fmt(x_naive, '.2f')} | {fmt(x_aio and 100 * x_aio, '.0f')} "
            f"| {fmt(med([r.get('cpu_us_per_row') for r in rs]), '.1f')} "
            f"| {fmt(med([r.get('srv_us_per_row') for r in rs]), '.1f')} "
            f"| {rss} | {err} | {notes.get(name, '')} |"
        )
    return "\n".join(out)


def machine() -> str:
    cpu = "-"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "-"
            )
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    def ver(mod: str) -> str:
        try:
            return version(mod)
        except PackageNotFoundError:
            return "-"

    pkgs = ", ".join(
        f"{m} {ver(m)}" for m in ("pandas", "numpy", "httpx", "aiohttp", "requests", "httptools")
    )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPU ({cpu}), {mem:.1f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; {pkgs}; "
        f"nginx {_receivers.nginx_version() or '-'}"
    )


class Bench:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.rec: _receivers.RunningReceiver | None = None
        self.tls_rec: _receivers.RunningReceiver | None = None
        self.targets: list[tuple[str, str, bool | None]] = []
        self.record: dict[str, Any] = {}

    def log(self, text: str) -> None:
        print(f"# {text}", file=sys.stderr, flush=True)

    def target(self, what: str, measured: str, ok: bool | None) -> None:
        self.targets.append((what, measured, ok))

    # -- sections --------------------------------------------------------------------------
    def sending(self) -> str:
        a, rec = self.a, self.rec
        assert rec is not None
        variants = [v for v in VARIANTS if not a.only or any(k in v.name for k in a.only)]
        for must in (NAIVE, AIOHTTP):  # the references of the ratios always run
            if all(v.name != must for v in variants):
                variants.insert(0, next(v for v in VARIANTS if v.name == must))
        use_wrk = a.wrk_duration > 0 and shutil.which("wrk") is not None
        lua = os.path.join(tempfile.mkdtemp(prefix="flux-magic-bench-"), "post.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)
        results: dict[str, list[Result]] = {}
        for rep in range(a.reps):
            if use_wrk:
                r = run_wrk(rec, 16, a.wrk_duration, lua)
                results.setdefault("wrk_c16", []).append(r)
                self.log(f"rep {rep + 1}/{a.reps} {'wrk_c16':16} {r['rows_per_s']:>10,.0f} rows/s")
            runs = [(v, rec, v.name) for v in variants]
            if self.tls_rec is not None:
                runs += [(v, self.tls_rec, TLS + v.name) for v in TLS_VARIANTS]
            for v, target, key in runs:
                args = ["--task", "send", "--client", v.client, "--conc", str(v.conc)]
                if target.ca:
                    args += ["--ca", target.ca]
                r = run_one([*args, "--url", target.url, "--n", str(a.n)], a.timeout, target)
                results.setdefault(key, []).append(r)
                bad = r.get("errors") or r.get("exception")
                flag = f"  ERR {r.get('errors')} {r.get('exception') or ''}" if bad else ""
                self.log(
                    f"rep {rep + 1}/{a.reps} {key:20} {r.get('rows_per_s', 0):>10,.0f} rows/s{flag}"
                )
        self.record["send"] = results
        names = ["wrk_c16", *(v.name for v in variants)] if use_wrk else [v.name for v in variants]
        notes = {v.name: v.note for v in variants}
        notes["wrk_c16"] = "ceiling: wrk -t1 -c16 (not Python)"
        for name, conc in (("flux_c8", 8), ("flux_c32", 32)):
            if name in results:
                xn, xa = paired(results, name, NAIVE), paired(results, name, AIOHTTP)
                self.target(f"concurrent {conc}: ≥ 8× naive", fmt(xn, ".2f") + "×", xn and xn >= 8)
                self.target(
                    f"concurrent {conc}: ≥ 85 % of raw aiohttp-8",
                    fmt(xa and 100 * xa, ".1f") + " %",
                    xa and xa >= 0.85,
                )
        if "flux_seq" in results:
            xs = paired(results, "flux_seq", NAIVE)
            self.target("sequential: ≥ 2× naive", fmt(xs, ".2f") + "×", xs and xs >= 2)
        head = (
            f"### Sending {a.n:,} rows, {a.reps} interleaved repetitions, receiver "
            f"{rec.kind}\n\n× naive and % of aiohttp-8 are paired ratios (per repetition, then "
            "the median).\n"
        )
        text = head + "\n" + send_table(names, notes, results)
        if self.tls_rec is not None:
            text += "\n\n" + self.tls_table(results)
        return text

    def tls_table(self, results: dict[str, list[Result]]) -> str:
        """The HTTPS variants, run in the same repetitions as the plain ones."""
        assert self.tls_rec is not None
        out = [
            f"### The same over HTTPS ({self.tls_rec.kind}, interleaved with the runs above)\n",
            "× httpx.Client and % of aiohttp-8 are paired ratios against the HTTPS references.\n",
            "| variant | rows/s median | min–max | × httpx.Client | % of aiohttp-8 "
            "| client CPU µs/row | errors | what |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for v in TLS_VARIANTS:
            rs = results.get(TLS + v.name, [])
            if not rs:
                continue
            rates = [r.get("rows_per_s") or 0.0 for r in rs]
            xh = paired(results, TLS + v.name, TLS + "httpx_sync")
            xa = paired(results, TLS + v.name, TLS + AIOHTTP)
            errors = sum(max(r.get("errors", 0), 0) for r in rs)
            out.append(
                f"| {v.name} | {fmt(med(rates), ',.0f')} | {min(rates):,.0f}–{max(rates):,.0f} "
                f"| {fmt(xh, '.2f')} | {fmt(xa and 100 * xa, '.0f')} "
                f"| {fmt(med([r.get('cpu_us_per_row') for r in rs]), '.1f')} | {errors} "
                f"| {v.note} |"
            )
        xs = paired(results, TLS + "flux_seq", TLS + "httpx_sync")
        self.target(
            "HTTPS sequential: ≥ 1.5× httpx.Client",
            fmt(xs, ".2f") + "×",
            xs is not None and xs >= 1.5,
        )
        for conc in (8, 32):
            xa = paired(results, TLS + f"flux_c{conc}", TLS + AIOHTTP)
            self.target(
                f"HTTPS concurrent {conc}: ≥ 2× raw aiohttp-8",
                fmt(xa, ".2f") + "×",
                xa is not None and xa >= 2,
            )
        return "\n".join(out)

    def memory(self) -> str:
        a, rec = self.a, self.rec
        assert rec is not None
        small, large = a.mem_n
        names = ["flux_seq", "flux_c32"]
        conc = {"flux_seq": 1, "flux_c32": 32}
        peaks: dict[tuple[str, int], list[float]] = {}
        for _ in range(a.mem_reps):
            for name in names:
                for n in (small, large):
                    args = ["--task", "send", "--client", "flux", "--conc", str(conc[name])]
                    r = run_one([*args, "--url", rec.url, "--n", str(n)], a.timeout, rec)
                    if r.get("exception") or r.get("errors"):
                        self.log(f"memory {name} n={n}: {r.get('errors')} {r.get('exception')}")
                    peaks.setdefault((name, n), []).append(r.get("peak_rss_mib") or float("nan"))
                    self.log(f"memory {name:10} n={n:>7,} peak RSS {r.get('peak_rss_mib', 0):.1f}")
        out = [
            f"### Memory: peak RSS, {small:,} vs {large:,} rows ({a.mem_reps} run(s) each)\n",
            f"| variant | peak RSS MiB at {small:,} | at {large:,} | difference MiB |",
            "|---|---:|---:|---:|",
        ]
        for name in names:
            p1, p2 = (
                statistics.median(peaks[(name, small)]),
                statistics.median(peaks[(name, large)]),
            )
            out.append(f"| {name} | {p1:.1f} | {p2:.1f} | {p2 - p1:+.1f} |")
            self.target(
                f"memory ({name}): peak RSS at {large:,} ≤ 25 MiB above {small:,}",
                f"{p2 - p1:+.1f} MiB",
                p2 - p1 <= 25,
            )
        self.record["memory"] = {f"{k[0]}@{k[1]}": v for k, v in peaks.items()}
        return "\n".join(out)

    def rows(self) -> str:
        a = self.a
        results: dict[str, list[Result]] = {}
        for rep in range(a.reps):
            for method, _ in ROW_METHODS:
                r = run_one(
                    ["--task", "rows", "--method", method, "--n", str(a.row_n)], a.timeout, None
                )
                results.setdefault(method, []).append(r)
                self.log(
                    f"rep {rep + 1}/{a.reps} rows {method:10} {r.get('rows_per_s', 0):>12,.0f}"
                )
        out = [
            f"### Row path, no network: {a.row_n:,} rows → row → mapping ({a.reps} reps)\n",
            "| row path | rows/s median | µs/row | × iterrows (paired) | what |",
            "|---|---:|---:|---:|---|",
        ]
        for method, note in ROW_METHODS:
            m = med([r.get("rows_per_s") for r in results[method]])
            x = paired(results, method, "iterrows")
            out.append(
                f"| {method} | {fmt(m, ',.0f')} | {fmt(m and 1e6 / m, '.2f')} "
                f"| {fmt(x, '.1f')} | {note} |"
            )
        x = paired(results, "flux", "iterrows")
        self.target(
            "row path (row view + mapping): ≥ 10× iterrows", fmt(x, ".1f") + "×", x and x >= 10
        )
        x = paired(results, "flux_checked", "iterrows")
        self.target("  with the request checks too", fmt(x, ".1f") + "×", x and x >= 10)
        self.record["rows"] = results
        return "\n".join(out)

    def preview(self) -> str:
        a = self.a
        r = run_one(["--task", "preview", "--n", str(a.big_n)], a.timeout, None)
        self.record["preview"] = r
        if "median_ms" not in r:
            self.log(f"preview failed: {r.get('exception')}")
            self.target(f"preview of 10 rows from {a.big_n:,}: well under 100 ms", "failed", False)
            return "### Preview: failed"
        self.target(
            f"preview of 10 rows from {a.big_n:,} rows: well under 100 ms",
            f"{r['median_ms']:.1f} ms (first call {r['first_ms']:.1f} ms)",
            r["first_ms"] < 50,
        )
        return (
            f"### Preview of 10 rows from a {a.big_n:,}-row DataFrame\n\n"
            f"first call {r['first_ms']:.1f} ms, median of 7 calls {r['median_ms']:.1f} ms"
        )

    def big(self) -> str:
        a = self.a
        rec = _receivers.start_embedded()
        self.log(f"big send: {a.big_n:,} rows to the embedded Receiver on {rec.url}")
        try:
            r = run_one(
                ["--task", "big", "--url", rec.url, "--n", str(a.big_n), "--conc", str(a.big_conc)],
                a.timeout * 10,
                rec,
            )
        finally:
            rec.stop()
        self.record["big"] = r
        if "result_columns_mib" not in r:
            self.target(f"{a.big_n:,} rows sendable", f"failed: {r.get('exception')}", False)
            return "### Large send: failed"
        during = r["rss_at_end_of_sending_mib"] - r["rss_at_10pct_mib"]
        total = r["peak_rss_mib"] - r["rss_before_mib"]
        self.target(
            f"{a.big_n:,} rows sent, memory flat while sending",
            f"{r['ok']:,} sent, {r['errors']} failed; RSS {during:+.1f} MiB from 10 % to 100 % "
            f"sent",
            r["errors"] == 0 and during <= 10,
        )
        return (
            f"### Sending {a.big_n:,} rows to the embedded Receiver (concurrency {a.big_conc})\n\n"
            "| rows/s | sent | failed | RSS before MiB | at 10 % sent | at 100 % sent "
            "| peak (with result) | result columns MiB |\n"
            "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
            f"| {r['rows_per_s']:,.0f} | {r['ok']:,} | {r['errors']:,} | {r['rss_before_mib']:.0f} "
            f"| {r['rss_at_10pct_mib']:.0f} | {r['rss_at_end_of_sending_mib']:.0f} "
            f"| {r['peak_rss_mib']:.0f} ({total:+.0f}) | {r['result_columns_mib']:.0f} |\n\n"
            f"RSS while sending (10 % → 100 % of rows): {during:+.1f} MiB; peak growth "
            f"{total:+.0f} MiB = the ledger and the result columns (_status, _sent, _error)."
        )

    def targets_table(self) -> str:
        out = ["### Targets\n", "| target | measured | met |", "|---|---|:---:|"]
        for what, measured, ok in self.targets:
            out.append(f"| {what} | {measured} | {'yes' if ok else 'no'} |")
        return "\n".join(out)

    def run(self) -> str:
        a = self.a
        sections: list[str] = []
        steps: list[tuple[bool, Callable[[], str]]] = [
            (not a.skip_send, self.sending),
            (not a.skip_mem, self.memory),
        ]
        if any(on for on, _ in steps):
            self.rec = _receivers.start(a.receiver)
            self.log(f"receiver {self.rec.kind} on {self.rec.url} (pids {self.rec.pids()})")
            if a.https and not a.skip_send:
                self.tls_rec = _receivers.start("nginx", tls=True)
                self.log(f"receiver {self.tls_rec.kind} on {self.tls_rec.url}")
        try:
            for on, step in steps:
                if on:
                    sections.append(step())
        finally:
            for running in (self.rec, self.tls_rec):
                if running is not None:
                    running.stop()
            self.rec = self.tls_rec = None
        if not a.skip_rows:
            sections.append(self.rows())
        if not a.skip_preview:
            sections.append(self.preview())
        if not a.skip_big:
            sections.append(self.big())
        sections.append(self.targets_table())
        sections.append(f"Machine: {machine()}")
        return "\n\n".join(sections)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=5000, help="rows (= POSTs) per sending run")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    ap.add_argument("--receiver", default="auto", choices=["auto", "nginx", "embedded"])
    ap.add_argument(
        "--https",
        action="store_true",
        help="also send to nginx over TLS (a self-signed certificate made at start), "
        "interleaved with the plain-http runs",
    )
    ap.add_argument("--only", default="", help="comma-separated substrings of variant names")
    ap.add_argument("--wrk-duration", type=int, default=3, help="seconds of wrk (0: skip)")
    ap.add_argument("--mem-n", default="5000,50000", help="the two row counts of the memory check")
    ap.add_argument("--mem-reps", type=int, default=1)
    ap.add_argument("--row-n", type=int, default=200_000, help="rows of the row-path runs")
    ap.add_argument("--big-n", type=int, default=1_000_000, help="rows of the large send/preview")
    ap.add_argument("--big-conc", type=int, default=32, help="concurrency of the large send")
    for part in ("send", "mem", "rows", "preview", "big"):
        ap.add_argument(f"--skip-{part}", action="store_true")
    ap.add_argument("--json", default="", help="write the raw per-run results here")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per process")
    a = ap.parse_args()
    a.only = [k.strip() for k in a.only.split(",") if k.strip()]
    small, large = (int(x) for x in a.mem_n.split(","))
    a.mem_n = (small, large)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally: blocks
    bench = Bench(a)
    t0 = time.time()
    load0 = os.getloadavg()[0]
    text = bench.run()
    head = (
        f"## flux_magic benchmark\n\n`python benchmarks/bench.py {' '.join(sys.argv[1:])}`".rstrip()
        + f" — elapsed {time.time() - t0:.0f} s, load average {load0:.2f} → "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(head + "\n\n" + text, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": sys.argv[1:], "results": bench.record}, f, indent=1)


if __name__ == "__main__":
    main()

"""The journal's cost: the same send with and without ``journal=``, interleaved in one run.

    python benchmarks/journal_bench.py                    # nginx on loopback, 20,000 rows, 7 reps
    python benchmarks/journal_bench.py --n 5000 --reps 3 --receiver embedded

Three variants, each run in a process of its own, interleaved (the order rotates so none
always runs first): ``concurrency=32`` without a journal; the same with
``idempotency_key=True`` (every request carries its key, as with a journal); and the same with
a journal (a new SQLite file per repetition, in a temporary folder under the system's temp
dir). The whole call is timed: identities and keys, the journal's writes. The figures are
medians of paired ratios (each repetition's rate over that repetition's rate of a baseline):
the journal against the send without a journal (the target) and against the keyed send.
Traffic goes to 127.0.0.1 only; every process is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

VARIANTS = {
    "plain": "no journal",
    "keyed": "idempotency_key=True, no journal",
    "journal": "journal=<new file> (requests carry the Idempotency-Key)",
}


def one(variant: str, url: str, n: int, conc: int, journal_dir: str) -> dict[str, float]:
    """Send ``n`` rows once with ``variant``; the whole call is timed."""
    sys.path.insert(0, ROOT)
    import _common
    from _common import build_df, mapfn

    import flux_magic

    df = build_df(n)
    options: dict[str, object] = {"concurrency": conc}
    if variant == "keyed":
        options["idempotency_key"] = True
    if variant == "journal":
        options["journal"] = os.path.join(journal_dir, f"j-{os.getpid()}-{time.time_ns()}.sqlite")
    send = flux_magic.endpoint(url, **options)(mapfn)
    cpu0 = _common.cpu_s()
    t0 = time.perf_counter()
    result = send(df)
    wall = time.perf_counter() - t0
    ok = int((result["_sent"] == "true").sum())
    if ok != n:
        raise SystemExit(f"{variant}: only {ok} of {n} rows were sent")
    return {"rate": n / wall, "wall": wall, "cpu": _common.cpu_s() - cpu0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--conc", type=int, default=32)
    ap.add_argument("--receiver", choices=["auto", "nginx", "embedded"], default="auto")
    ap.add_argument("--one", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--journal-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.url, args.n, args.conc, args.journal_dir)))
        return

    import _receivers

    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))
    )
    rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
    cpus: dict[str, list[float]] = {v: [] for v in VARIANTS}
    names = list(VARIANTS)
    load_before = os.getloadavg()
    rec = _receivers.start(args.receiver)
    try:
        with tempfile.TemporaryDirectory(prefix="flux-magic-journal-bench-") as jdir:
            for rep in range(args.reps):
                order = names[rep % len(names) :] + names[: rep % len(names)]
                for variant in order:
                    cmd = [sys.executable, os.path.abspath(__file__), "--one", variant]
                    cmd += ["--url", rec.url, "--n", str(args.n), "--conc", str(args.conc)]
                    cmd += ["--journal-dir", jdir]
                    proc = subprocess.run(
                        cmd, capture_output=True, text=True, env=env, timeout=600, check=False
                    )
                    if proc.returncode != 0:
                        raise SystemExit(proc.stderr[-2000:])
                    measured = json.loads(proc.stdout.strip().splitlines()[-1])
                    rate = measured["rate"]
                    rates[variant].append(rate)
                    cpus[variant].append(measured["cpu"] / args.n * 1e6)
                    print(f"rep {rep + 1}: {variant:8s} {rate:9,.0f} rows/s", file=sys.stderr)
    finally:
        rec.stop()

    base = rates["plain"]
    print(f"### Journal overhead: {args.n:,} rows, concurrency={args.conc}, {rec.kind} on loopback")
    print(f"{args.reps} interleaved repetitions; paired ratios over the same repetition's send")
    print("without a journal, median (min-max). Load average (1 min) before and after: ", end="")
    print(f"{load_before[0]:.1f}, {os.getloadavg()[0]:.1f}.\n")
    print("| variant | median rows/s | × no journal (paired) | sender CPU µs/row |")
    print("|---|---:|---:|---:|")
    for variant, label in VARIANTS.items():
        ratios = [r / b for r, b in zip(rates[variant], base, strict=True)]
        print(
            f"| {label} | {statistics.median(rates[variant]):,.0f} | "
            f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) | "
            f"{statistics.median(cpus[variant]):.1f} |"
        )
    paired = [j / b for j, b in zip(rates["journal"], base, strict=True)]
    cost = 1 - statistics.median(paired)
    keyed = [j / k for j, k in zip(rates["journal"], rates["keyed"], strict=True)]
    print(f"\nJournal cost: {cost * 100:.1f} % of throughput (target: at most 10 %).")
    print(
        f"Against the keyed send without a journal: {(1 - statistics.median(keyed)) * 100:.1f} %"
        f" (paired, {min(keyed):.3f}-{max(keyed):.3f} of its rate)."
    )


if __name__ == "__main__":
    main()

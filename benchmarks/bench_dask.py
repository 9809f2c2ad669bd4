"""Dask benchmark: one process against a LocalCluster of 1, 2, ... worker processes, one run.

Every variant sends the same N rows (``_common.build_df``, ``_common.mapfn``) to the same
loopback receiver (nginx when installed), with the same ``concurrency`` per process:

* ``one process``: ``sender(df)`` on the pandas DataFrame, in this process, no Dask;
* ``LocalCluster, k workers``: ``sender(ddf).compute()`` on a ``LocalCluster(n_workers=k,
  threads_per_worker=1, processes=True)``, the rows already on the workers (``persist``), as
  when they were read there; cluster start-up is not timed, the result's trip back is.

Variants are interleaved over ``--reps`` repetitions and the ratio to ``one process`` is taken
per repetition (the median is reported), so a load change on the shared machine hits every
variant alike. The machine's load average before and after is printed with the table, and the
CPU the sending processes used (this process; for a cluster the workers plus this process,
which holds the scheduler): CPU per row says what a row costs, CPU ÷ wall time how many
cores the send actually got.

    python benchmarks/bench_dask.py                     # 200,000 rows, workers 1,2,3, 3 reps
    python benchmarks/bench_dask.py --n 2000 --reps 1 --workers 1,2 --receiver embedded
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import _receivers  # noqa: E402
from _common import build_df, mapfn  # noqa: E402

import flux_magic  # noqa: E402


def process_cpu_s() -> float:
    """CPU seconds (user + system) of the calling process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_process(
    df: Any, receiver: _receivers.RunningReceiver, concurrency: int
) -> tuple[float, int, float, float]:
    """Wall time, rows sent, this process's CPU and the receiver's CPU for one send."""
    send = flux_magic.endpoint(receiver.url, concurrency=concurrency)(mapfn)
    cpu = process_cpu_s()
    served = receiver.cpu_s()
    started = time.perf_counter()
    out = send(df)
    elapsed = time.perf_counter() - started
    sent = int((out["_sent"] == "true").sum())
    return elapsed, sent, process_cpu_s() - cpu, receiver.cpu_s() - served


def on_cluster(
    df: Any, url: str, concurrency: int, workers: int, partitions: int
) -> tuple[float, int, float]:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        ddf = dd.from_pandas(df, npartitions=partitions).persist()
        wait(ddf)
        client.run(lambda: None)  # every worker up and idle
        send = flux_magic.endpoint(url, concurrency=concurrency)(mapfn)
        before = sum(client.run(process_cpu_s).values()) + process_cpu_s()
        started = time.perf_counter()
        out = send(ddf).compute()
        elapsed = time.perf_counter() - started
        cpu = sum(client.run(process_cpu_s).values()) + process_cpu_s() - before
    return elapsed, int((out["_sent"] == "true").sum()), cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="rows per send")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    ap.add_argument("--workers", default="1,2,3", help="LocalCluster sizes to measure")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight per process")
    ap.add_argument("--partitions", type=int, default=12, help="Dask partitions")
    ap.add_argument("--receiver", default="auto", choices=["auto", "nginx", "embedded"])
    args = ap.parse_args()
    sizes = [int(w) for w in args.workers.split(",") if w]

    df = build_df(args.n)
    receiver = _receivers.start(args.receiver)
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    served: list[float] = []
    try:
        for _ in range(args.reps):
            elapsed, sent, cpu, receiver_cpu = one_process(df, receiver, args.concurrency)
            assert sent == args.n, f"one process sent {sent} of {args.n}"
            served.append(receiver_cpu)
            times.setdefault("one process", []).append(elapsed)
            cpus.setdefault("one process", []).append(cpu)
            for k in sizes:
                elapsed, sent, cpu = on_cluster(
                    df, receiver.url, args.concurrency, k, args.partitions
                )
                assert sent == args.n, f"{k} workers sent {sent} of {args.n}"
                name = f"LocalCluster, {k} worker{'s' if k > 1 else ''}"
                times.setdefault(name, []).append(elapsed)
                cpus.setdefault(name, []).append(cpu)
    finally:
        load_after = os.getloadavg()
        receiver.stop()

    base = times["one process"]
    print(
        f"### Sending {args.n:,} rows to {receiver.kind} on loopback, concurrency "
        f"{args.concurrency} per process, {args.partitions} partitions, {args.reps} "
        "interleaved repetitions\n"
    )
    print(
        "| variant | median s | rows/s | × one process (median of paired ratios) "
        "| CPU µs per row (senders) | CPU used ÷ wall time |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, ts in times.items():
        ratio = statistics.median(b / t for b, t in zip(base, ts, strict=True))
        med = statistics.median(ts)
        cpu = statistics.median(cpus[name])
        busy = statistics.median(c / t for c, t in zip(cpus[name], ts, strict=True))
        print(
            f"| {name} | {med:.2f} | {args.n / med:,.0f} | {ratio:.2f} "
            f"| {cpu / args.n * 1e6:.0f} | {busy:.2f} |"
        )
    client = statistics.median(cpus["one process"]) / args.n
    server = statistics.median(served) / args.n
    cores = os.cpu_count() or 1
    if server > 0:
        bound = min(cores, 2) * client / (client + server)
        print(
            f"\nThe receiver used {server * 1e6:.0f} µs of CPU per row and one sending process "
            f"{client * 1e6:.0f} µs. One process can use at most one core; two workers share "
            f"the machine's {cores} cores with the receiver, so on this machine two workers can "
            f"be at most {bound:.2f}x one process, even at no cost of their own "
            "(2 × client ÷ (client + receiver), when the receiver runs here too)."
        )
    else:  # /proc counts CPU time in clock ticks (10 ms): a short run may show none
        print(
            "\nThe receiver used less CPU than the clock counts (one tick, 10 ms) over the "
            "run: too few rows to bound what two workers can give."
        )
    print(
        f"\nMachine: {os.cpu_count()} CPUs; load average (1, 5, 15 min) before "
        f"{', '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.2f}' for x in load_after)}; Python {sys.version.split()[0]}."
    )


if __name__ == "__main__":
    main()

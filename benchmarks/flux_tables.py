"""Benchmark: Flux's ``range |> filter |> map`` over whole columns vs row by row, one run.

The table is shaped like Flux's sampledata (``_time``, ``tag``, a float ``_value``; group key
``[tag]``) with ``--n`` rows (default 100,000). The same program runs with the column
evaluator (``flux_magic._flux._vectorize``) and with it switched off, so that every
``filter``/``map`` function is evaluated row by row by the interpreter; the repetitions are
interleaved and the ratio is paired. Both results are checked to be identical.

    python benchmarks/flux_tables.py [--n 100000] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flux_magic._flux import _vectorize, run_program

PROGRAM = """\
data
    |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-02T00:00:00Z)
    |> filter(fn: (r) => r._value > 0.0 and r.tag != "t3")
    |> map(fn: (r) => ({r with _value: r._value * 2.0, label: "${r.tag}: ${r._value}"}))
"""


def sampledata_like(n: int) -> pd.DataFrame:
    """``n`` rows shaped like sampledata.float(): a tag per table, a value every second."""
    rng = np.random.default_rng(0)
    tags = np.array(["t1", "t2", "t3", "t4"])
    df = pd.DataFrame(
        {
            "_time": pd.date_range("2021-01-01", periods=n, freq="s", tz="UTC"),
            "tag": pd.array(tags[np.arange(n) % 4], dtype="str"),
            "_value": np.round(rng.normal(5.0, 10.0, n), 2),
        }
    )
    df.attrs["flux_group_key"] = ["tag"]
    return df


def run_once(df: pd.DataFrame, vectorised: bool) -> tuple[float, pd.DataFrame]:
    _vectorize.ENABLED = vectorised
    started = time.perf_counter()
    frame = run_program(PROGRAM, variables={"data": df}).frame()
    elapsed = time.perf_counter() - started
    assert frame is not None
    return elapsed, frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    df = sampledata_like(args.n)
    run_once(df.head(10), True)  # warm-up: builds the (cached) parser, imports
    fast_times: list[float] = []
    slow_times: list[float] = []
    ratios: list[float] = []
    fast = slow = None
    for _ in range(args.reps):
        t_fast, fast = run_once(df, True)
        t_slow, slow = run_once(df, False)
        fast_times.append(t_fast)
        slow_times.append(t_slow)
        ratios.append(t_slow / t_fast)
    assert fast is not None
    assert slow is not None
    pd.testing.assert_frame_equal(fast, slow)
    same = "identical (pandas.testing.assert_frame_equal)"
    load = os.getloadavg()[0]
    print(f"### range |> filter |> map on {args.n:,} rows, {args.reps} interleaved repetitions")
    print()
    print(
        f"Machine: {platform.python_implementation()} {platform.python_version()}, "
        f"pandas {pd.__version__}, {os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"Output rows: {len(fast):,}; results {same}.")
    print()
    print("| evaluation | median s | min–max s | rows/s |")
    print("|---|---:|---:|---:|")
    for name, times in (("column-wise (default)", fast_times), ("row by row", slow_times)):
        med = statistics.median(times)
        print(f"| {name} | {med:.3f} | {min(times):.3f}–{max(times):.3f} | {args.n / med:,.0f} |")
    print()
    print(
        f"Speed-up, paired median: {statistics.median(ratios):.1f}x "
        f"(per repetition: {', '.join(f'{r:.1f}x' for r in ratios)})"
    )


if __name__ == "__main__":
    main()

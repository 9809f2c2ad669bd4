"""Shared pieces of the benchmark: the DataFrame, the mapping function, resource probes.

The DataFrame looks like a Flux table: a timestamp, a measurement, a host tag and an integer
value. The mapping function is written once and used by every variant: attribute access works
on flux_magic's row view and on ``itertuples()`` namedtuples alike.
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

import pandas as pd


def build_df(n: int) -> pd.DataFrame:
    """An ``n``-row table: time, measurement, host (16 values), value (0..99)."""
    import numpy as np

    hosts = np.array([f"server-{i:02d}" for i in range(16)], dtype=object)
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-01-01", periods=n, freq="s"),
            "measurement": "cpu",
            "host": hosts[np.arange(n) % 16],
            "value": np.arange(n, dtype=np.int64) % 100,
        }
    )


def mapfn(r: Any) -> dict[str, Any]:
    """The mapping function every variant calls: two headers and a ~15-byte body."""
    return {
        "headers": {"Content-Type": "text/plain", "X-Host": r.host},
        "data": f"The value is {r.value}".encode(),
    }


def mapfn_key(r: Any) -> dict[str, Any]:
    """The same mapping with key access (for ``iterrows`` Series rows)."""
    return {
        "headers": {"Content-Type": "text/plain", "X-Host": r["host"]},
        "data": f"The value is {r['value']}".encode(),
    }


def rss_now_mib() -> float:
    """Resident set size of this process now, MiB (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def peak_rss_mib() -> float:
    """Peak resident set size of this process, MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_s() -> float:
    """User + system CPU seconds of this process, all threads."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Timer:
    """Wall time and this process's CPU time (all threads) over a block."""

    wall: float
    cpu: float

    def __enter__(self) -> Timer:
        self.c0 = cpu_s()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = cpu_s() - self.c0


def proc_cpu_s(pid: int) -> float:
    """utime + stime (seconds) of one process from ``/proc/<pid>/stat``, or 0.0."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        fields = data[data.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (nginx workers of the master)."""
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(x) for x in f.read().split())
    except OSError:
        pass
    return out

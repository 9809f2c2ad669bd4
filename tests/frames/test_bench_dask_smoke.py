"""The Dask benchmark script runs end to end with tiny sizes (no timing is checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_dask_prints_its_table() -> None:
    # enough rows for the receiver's CPU to show in /proc's 10 ms clock ticks
    args = ["--n", "3000", "--reps", "1", "--workers", "1", "--receiver", "embedded"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_dask.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "### Sending 3,000 rows to embedded on loopback" in proc.stdout
    assert "| one process |" in proc.stdout
    assert "| LocalCluster, 1 worker |" in proc.stdout
    assert "load average" in proc.stdout
    assert "two workers can be at most" in proc.stdout  # the bound from measured CPU

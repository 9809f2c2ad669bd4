"""The benchmark script runs end to end with tiny sizes and prints its tables.

No timing is checked here: benchmarks are not tests. This only keeps ``benchmarks/bench.py``
working (embedded Receiver, no nginx, no wrk).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"


@pytest.mark.slow
def test_benchmark_prints_its_tables() -> None:
    args = ["--n", "40", "--reps", "1", "--receiver", "embedded", "--wrk-duration", "0"]
    args += ["--mem-n", "20,60", "--row-n", "200", "--big-n", "300", "--timeout", "120"]
    proc = subprocess.run(
        [sys.executable, str(BENCH), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for heading in (
        "### Sending 40 rows",
        "### Memory: peak RSS",
        "### Row path, no network",
        "### Preview of 10 rows",
        "### Sending 300 rows to the embedded Receiver",
        "### Targets",
        "Machine:",
    ):
        assert heading in out, out
    for variant in ("naive_requests", "httpx_sync", "aiohttp_pool8", "flux_seq", "flux_c8"):
        assert f"| {variant} |" in out, out
    assert "failed runs" not in out, out


@pytest.mark.slow
def test_flux_tables_benchmark_runs_and_checks_both_results() -> None:
    script = ROOT / "benchmarks" / "flux_tables.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--n", "2000", "--reps", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "results identical" in proc.stdout
    assert "Speed-up, paired median:" in proc.stdout

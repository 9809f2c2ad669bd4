"""The journal benchmark runs end to end with tiny sizes and prints its table.

No timing is checked here (benchmarks are not tests): this keeps
``benchmarks/journal_bench.py`` working, against the embedded Receiver.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "journal_bench.py"


@pytest.mark.slow
def test_journal_benchmark_prints_its_table() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--n", "60", "--reps", "2", "--receiver", "embedded"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "### Journal overhead: 60 rows, concurrency=32, embedded on loopback" in out
    assert "| no journal |" in out
    assert "| idempotency_key=True, no journal |" in out
    assert "| journal=<new file> (requests carry the Idempotency-Key) |" in out
    assert "Journal cost:" in out
    assert "Against the keyed send without a journal:" in out

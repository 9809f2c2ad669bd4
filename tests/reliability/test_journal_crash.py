"""The journal survives a crash: SIGKILL mid-send, then a second run finishes the job.

A child process sends 20,000 rows at concurrency 16 to a receiver in another process that
answers each request after a short delay; the child is killed with SIGKILL mid-send; a second
child runs the same send with the same journal (``retry_unknown=True``). Every row must have
reached the receiver, and a row may have arrived twice only if the journal held it as in
flight when the first child died, with the same Idempotency-Key both times; at most
``CONCURRENCY`` rows arrive twice: the rows in flight at the kill (every outcome known before
it is on record in the run's outcome file at once).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

import flux_magic

ROWS = 20_000
CONCURRENCY = 16
DELAY = 0.005  # the receiver answers each request after this many seconds
KILL_AFTER = 6_000  # rows done when the first child is killed
CHILD = Path(__file__).with_name("journal_crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
ENV = dict(
    os.environ,
    PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    """Stop one child by its PID (SIGKILL if it does not end), and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _read_line(stream: IO[str], timeout: float) -> str:
    """One line from a child's stdout, or fail after ``timeout`` seconds."""
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        pytest.fail(f"no line from the child within {timeout} s")
    return box[0]


@pytest.fixture
def receiver_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = _start("receive", str(DELAY))
    try:
        assert proc.stdout is not None
        url = _read_line(proc.stdout, 30).strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield proc, url
    finally:
        _stop(proc)


@pytest.mark.slow
def test_a_send_killed_mid_way_resumes_without_losing_or_repeating_rows(
    receiver_process: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    receiver, url = receiver_process
    journal = str(tmp_path / "sends.sqlite")
    deadline = time.monotonic() + 240

    # 1. the first run, killed with SIGKILL once KILL_AFTER rows are done
    first = _start("send", url, journal, str(ROWS), str(CONCURRENCY), "0", str(tmp_path / "1"))
    try:
        assert first.stdout is not None
        done = 0
        while done < KILL_AFTER:
            line = _read_line(first.stdout, max(1.0, deadline - time.monotonic()))
            if not line:
                pytest.fail("the first run ended before it was killed: " + first.stderr.read())
            if line.startswith("done "):
                done = int(line.split()[1])
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
    finally:
        _stop(first)
    assert done < ROWS, "killed mid-send"

    # what the journal says after the crash: sent, never sent, or in flight (unknown)
    after_crash = flux_magic.read_journal(journal)
    outcomes = Counter(after_crash["outcome"])
    assert set(outcomes) <= {"sent", "unknown", "not sent"}, outcomes
    assert outcomes["sent"] >= KILL_AFTER, outcomes  # every row done was on record
    in_flight = after_crash.loc[after_crash["outcome"] == "unknown"]
    # unknown: the rows in flight at the kill, at most one per worker (the run's outcome file
    # has every outcome the moment it is known, and which claimed rows never left)
    assert 0 < len(in_flight) <= CONCURRENCY, len(in_flight)
    recorded_key = dict(zip(after_crash["label"], after_crash["idempotency_key"], strict=True))
    unknown_rows = {f"row {label}" for label in in_flight["label"]}

    # 2. the second run, same journal, retry_unknown=True: finishes the job
    second = _start("send", url, journal, str(ROWS), str(CONCURRENCY), "1", str(tmp_path / "2"))
    try:
        left = max(1.0, deadline - time.monotonic())
        second.wait(timeout=left)
        assert second.returncode == 0, second.stderr.read() if second.stderr else ""
    finally:
        _stop(second)
    summary = json.loads((tmp_path / "2").read_text())
    assert summary["rows"] == ROWS
    assert summary["sent"] == ROWS, summary["errors"]
    note = summary["note"]
    assert note["resumed"] is True
    assert note["skipped"] == outcomes["sent"]
    assert note["resent_unknown"] == len(in_flight)

    # 3. what the receiver got over both runs
    assert receiver.stdin is not None
    assert receiver.stdout is not None
    receiver.stdin.write(f"dump {tmp_path / 'arrived.json'}\n")
    receiver.stdin.flush()
    assert _read_line(receiver.stdout, 30).strip() == "dumped"
    arrived = json.loads((tmp_path / "arrived.json").read_text())
    keys: dict[str, list[str]] = defaultdict(list)
    for body, key, _when in arrived:
        keys[body].append(key)
    assert set(keys) == {f"row {i}" for i in range(ROWS)}, "every row arrived at least once"
    duplicates = {body for body, seen in keys.items() if len(seen) > 1}
    assert duplicates <= unknown_rows, "only rows in flight at the kill arrived twice"
    assert len(duplicates) <= CONCURRENCY, "at most one per worker"
    for body in duplicates:
        label = body.removeprefix("row ")
        assert keys[body] == [recorded_key[label]] * 2, body
    final = flux_magic.read_journal(journal)
    assert len(final) == ROWS
    assert (final["outcome"] == "sent").all()
    final_key = dict(zip(final["label"], final["idempotency_key"], strict=True))
    for body, seen in keys.items():  # every request carried the key its row has on record
        assert seen == [final_key[body.removeprefix("row ")]] * len(seen)
    print(
        f"killed after {done:,} rows; {len(in_flight)} in flight per the journal; "
        f"{len(duplicates)} arrived twice"
    )

"""A journal run's outcome file: what a killed run leaves, and what the next send makes of it.

A child process sends with a journal and is killed with SIGKILL from its own progress
callback, mid-send, while requests are in flight (the receiver, in this process, answers
after a short delay; it fails rows ending in 0 with a 500 and resets the connection of rows
ending in 5). The child commits outcomes only when it tops its claims up (``FLUSH`` is
raised), so the last few hundred outcomes are only in the outcome file at the kill. What
it leaves: the journal, whose last commits lag the send, and the run's outcome file, which has
every row's state at the kill. ``read_journal`` reads the file as it is; the next send folds
it into the journal.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

import flux_magic
from flux_magic import JournalError, Received, Receiver, Reply

LOST = "failed (the error's text was lost: the run ended before it was recorded)"
ROWS = 3000
CONCURRENCY = 8
KILL_AT = 1200  # rows done when the child kills itself
ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import os, signal, sys
import pandas as pd
import flux_magic
from flux_magic import _journal

_journal.FLUSH = 60.0
url, journal, rows, concurrency, kill_at = sys.argv[1:6]

def progress(done, total, sent, failed):
    if done >= int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)

send = flux_magic.endpoint(url, concurrency=int(concurrency), journal=journal)(
    lambda r: {"headers": {}, "data": f"row {r.v}".encode()}
)
send(pd.DataFrame({"v": range(int(rows))}), progress=progress)
"""


class Arrivals:
    """Answers after 5 ms: 500 to rows ending in 0, a reset to rows ending in 5, 200 to the
    others; counts what arrives."""

    def __init__(self) -> None:
        self.seen: Counter[bytes] = Counter()
        self.lock = threading.Lock()

    def __call__(self, req: Received) -> Reply:
        with self.lock:
            self.seen[req.body] += 1
        row = int(req.body.split()[1])
        if row % 10 == 5:
            return Reply(fault="reset", delay=0.005)
        return Reply(500 if row % 10 == 0 else 200, delay=0.005)


@pytest.fixture
def served() -> tuple[Receiver, Arrivals]:
    arrivals = Arrivals()
    with Receiver(arrivals) as rx:
        yield rx, arrivals


def _killed_run(url: str, folder: Path) -> tuple[Path, Path]:
    """Run the child until it kills itself mid-send, with the journal ``sends.sqlite`` in
    ``folder``; the journal's path, and the killed run's outcome file."""
    journal = folder / "sends.sqlite"
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    args = [url, str(journal), str(ROWS), str(CONCURRENCY), str(KILL_AT)]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    return journal, folder / "sends.sqlite-run1"


def _send(url: str, journal: Path, rows: int = ROWS) -> pd.DataFrame:
    send = flux_magic.endpoint(url, concurrency=CONCURRENCY, journal=str(journal))(
        lambda r: {"headers": {}, "data": f"row {r.v}".encode()}
    )
    return send(pd.DataFrame({"v": range(rows)}))


def test_a_killed_run_leaves_its_outcomes_and_the_next_send_folds_them(
    served: tuple[Receiver, Arrivals], tmp_path: Path
) -> None:
    rx, arrivals = served
    journal, left = _killed_run(rx.url, tmp_path)
    assert left.exists(), "the killed run's outcome file stays"

    # read_journal reads the file as it is, and changes nothing
    seen = flux_magic.read_journal(journal)
    outcomes = Counter(seen["outcome"])
    assert set(outcomes) <= {"sent", "failed", "unknown", "not sent"}, outcomes
    assert outcomes["sent"] + outcomes["failed"] >= KILL_AT, outcomes  # all done on record
    assert 0 < outcomes["unknown"] <= CONCURRENCY, outcomes
    arrived = set(arrivals.seen)
    for label, outcome in zip(seen["label"], seen["outcome"], strict=True):
        if outcome in ("sent", "failed"):
            assert f"row {label}".encode() in arrived
        if outcome == "not sent":  # claimed ahead, never left
            assert f"row {label}".encode() not in arrived
    failed = seen.loc[seen["outcome"] == "failed"]
    ends = failed["label"].astype(int) % 10
    assert ends.isin([0, 5]).all()
    assert (failed.loc[ends == 0, "_status"] == "500").all()
    assert (failed.loc[ends == 5, "_status"] == "").all()
    assert left.exists()
    assert Counter(flux_magic.read_journal(journal)["outcome"]) == outcomes

    # the next send folds it: what was sent is skipped, the unknown ones are held back
    result = _send(rx.url, journal)
    assert not left.exists(), "folded, then removed"
    assert list(tmp_path.glob("sends.sqlite-run*")) == [], "a closed run leaves no file"
    note = result.attrs["flux_journal"]
    assert note["skipped"] == outcomes["sent"]
    assert note["held_unknown"] == outcomes["unknown"]
    unknown = result["_error"].str.startswith("outcome unknown")
    assert int(unknown.sum()) == outcomes["unknown"]
    # nothing arrived twice but failures, sent again by design; the unknown rows were held
    twice = {int(body.split()[1]) for body, n in arrivals.seen.items() if n > 1}
    assert all(row % 10 in (0, 5) for row in twice), sorted(twice)[:10]
    ends = result["v"] % 10
    assert (result.loc[~unknown & ~ends.isin([0, 5]), "_sent"] == "true").all()
    assert (result.loc[~unknown & (ends == 0), "_status"] == "500").all()
    assert (result.loc[~unknown & (ends == 5), "_status"] == "").all()


def test_the_fold_keeps_what_the_file_said(
    served: tuple[Receiver, Arrivals], tmp_path: Path
) -> None:
    rx, _ = served
    journal, _ = _killed_run(rx.url, tmp_path)
    before = flux_magic.read_journal(journal)
    _send(rx.url, journal, rows=0)  # opens the journal, so folds the killed run; sends nothing
    with sqlite3.connect(journal) as conn:
        stops = dict(conn.execute("SELECT run, stop FROM runs").fetchall())
    conn.close()
    assert stops[1] == "ended without closing the journal"
    after = flux_magic.read_journal(journal)
    # the fold keeps what the file said: the same outcome and status for every row
    assert after["outcome"].tolist() == before["outcome"].tolist()
    assert after["_status"].tolist() == before["_status"].tolist()
    failed = after.loc[after["outcome"] == "failed"]
    answered = failed.loc[failed["_status"] == "500"]
    assert len(answered) > 0
    assert (answered["_error"] == "").all(), "an answer's status says it all: nothing lost"
    reset = failed.loc[failed["_status"] == ""]
    lost = reset["_error"] == LOST
    assert lost.any(), "failures after the last commit are known only from the file"
    assert not lost.all(), "failures committed before the kill keep their text"
    assert reset.loc[~lost, "_error"].str.contains("reset|closed", case=False).all()


def test_a_damaged_outcome_file_is_not_trusted(
    served: tuple[Receiver, Arrivals], tmp_path: Path
) -> None:
    rx, _ = served
    journal, left = _killed_run(rx.url, tmp_path)
    trusted = Counter(flux_magic.read_journal(journal)["outcome"])
    data = bytearray(left.read_bytes())
    data[0:8] = b"garbage!"
    left.write_bytes(bytes(data))
    damaged = Counter(flux_magic.read_journal(journal)["outcome"])
    # without the file, what the killed run had not committed is unknown
    assert damaged["unknown"] > trusted["unknown"]
    assert damaged["sent"] < trusted["sent"]
    result = _send(rx.url, journal)
    assert left.read_bytes() == bytes(data), "kept as it is, never trusted, never removed"
    note = result.attrs["flux_journal"]
    assert note["held_unknown"] == damaged["unknown"]
    assert note["skipped"] == damaged["sent"]


def test_the_file_of_a_run_still_sending_is_left_alone(
    served: tuple[Receiver, Arrivals], tmp_path: Path
) -> None:
    rx, _ = served
    journal, left = _killed_run(rx.url, tmp_path)
    before = left.read_bytes()
    trusted = Counter(flux_magic.read_journal(journal)["outcome"])
    fd = os.open(left, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the run that writes it holds it
        result = _send(rx.url, journal)
        assert left.read_bytes() == before, "not folded while its run holds it"
        note = result.attrs["flux_journal"]
        assert note["held_unknown"] > trusted["unknown"]
    finally:
        os.close(fd)
    _send(rx.url, journal)  # let go: the next send folds it
    assert not left.exists()


def test_a_file_in_the_way_of_a_run_outcome_file(
    served: tuple[Receiver, Arrivals], tmp_path: Path
) -> None:
    rx, arrivals = served
    # an outcome file left by an earlier journal at this path (deleted since): replaced
    journal, left = _killed_run(rx.url, tmp_path)
    for name in ("sends.sqlite", "sends.sqlite-wal", "sends.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    result = _send(rx.url, journal)
    assert (result["_sent"] == "true").sum() == ROWS - 2 * ROWS // 10
    assert not left.exists()
    # a file that is not an outcome file: refused before anything is sent
    other = tmp_path / "other.sqlite"
    (tmp_path / "other.sqlite-run1").write_text("my notes")
    count = sum(arrivals.seen.values())
    with pytest.raises(
        JournalError, match=r"other\.sqlite-run1 exists and is not a flux_magic outcome file"
    ):
        _send(rx.url, other)
    assert sum(arrivals.seen.values()) == count, "nothing was sent"
    assert (tmp_path / "other.sqlite-run1").read_text() == "my notes"


def test_read_journal_during_a_send_sees_every_outcome_known(tmp_path: Path) -> None:
    """While a send runs, ``read_journal`` reads its outcome file: every row done by then is
    there (SQLite gets them only a few times a second), and at most the rows in flight are
    unknown."""
    journal = tmp_path / "sends.sqlite"
    done_at = threading.Event()
    read: dict[str, object] = {}

    def progress(done: int, total: int, sent: int, failed: int) -> None:
        if done >= 300 and not done_at.is_set():
            done_at.set()
            seen = flux_magic.read_journal(journal)  # in the middle of the send
            read["done"] = done
            read["outcomes"] = Counter(seen["outcome"])
            read["files"] = sorted(p.name for p in tmp_path.glob("sends.sqlite-run*"))

    with Receiver(delay=0.01) as rx:
        send = flux_magic.endpoint(rx.url, concurrency=CONCURRENCY, journal=str(journal))(
            lambda r: {"headers": {}, "data": f"row {r.v}".encode()}
        )
        result = send(pd.DataFrame({"v": range(1000)}), progress=progress)
    assert done_at.is_set()
    outcomes = read["outcomes"]
    assert isinstance(outcomes, Counter)
    assert outcomes["sent"] >= read["done"], (outcomes, read["done"])
    assert outcomes["unknown"] <= CONCURRENCY, outcomes
    assert read["files"] == ["sends.sqlite-run1"]
    assert (result["_sent"] == "true").all()
    assert list(tmp_path.glob("sends.sqlite-run*")) == []
    assert (flux_magic.read_journal(journal)["outcome"] == "sent").all()

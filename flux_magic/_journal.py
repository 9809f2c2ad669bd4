"""The journal of a send (option ``journal=``): an SQLite file that lets a crashed send resume.

The journal holds batches, appended in sending order (``seq``), each a few packed columns
(little-endian arrays, one entry per row; texts as JSON): ``claim`` batches (rows about to
leave: position, identity as content hash and occurrence, index label, Idempotency-Key) and
``outcome`` batches (position, state, ``_status``, ``_sent``, ``_attempts``, ``_elapsed``, and
the ``_error`` texts of the rows that have one). Replaying them in order gives each row's
latest state, keyed by the row's identity (``_identity``: scope, content hash, occurrence):

* ``NOT_SENT`` (0): claimed, then given back when the send stopped before the row left;
* ``IN_FLIGHT`` (1): claimed, with its Idempotency-Key, *before* its request may leave; a row
  still in this state after a crash has an unknown outcome;
* ``DONE`` (2): its outcome is recorded.

Two places, written at two speeds, from the event loop's thread:

* SQLite (WAL mode, ``synchronous=NORMAL``) gets batches a few times a second: the claims,
  ``concurrency + AHEAD`` rows ahead of the rows begun (topped up when half are used, before
  any row past them may begin), and the outcomes queued since the last commit, with their
  error texts (every ``FLUSH`` seconds, and at the end of the run).
* The run's outcome file (``_outcome_file``), memory-mapped, gets each row's state the moment
  it changes: "left" just before its request goes, then its outcome (``_status``, ``_sent``,
  ``_attempts``, ``_elapsed``) once known. Plain stores: no system call, nobody waits.

Both are in the operating system's hands as soon as they are written, which survives the
death of the kernel or of Python (SIGKILL, OOM); a power cut may lose the last of them. A run
that closes commits everything and removes its outcome file. One that did not (killed, or its
last commit failed) leaves the file, and the next send that opens the journal folds it in:
the rows it had claimed without a committed outcome become sent or failed (status kept; an
error's text, not committed yet, is lost), "not sent" (claimed, never left), or "outcome
unknown": in flight, at most ``concurrency`` rows, the only ones a resumed send
(``retry_unknown=True``) can deliver twice. ``read_journal`` reads the files of runs not over
as they are, without folding them.

(Committing every outcome before the worker's next request, in groups, was the first design:
it costs a commit per few dozen rows and a wait per row, about 17-24 % of the throughput of
a send on loopback. A writer thread for the commits cost more than it saved: every hand-over
of the interpreter between two threads cost the loop more than the commit itself.)

Never stored: request bodies, header values, the URL's credentials (only a masked URL and a
SHA-256 of the full URL, to refuse the journal of another URL).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import math
import os
import shutil
import sqlite3
import sys
import threading
import time
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import JournalError
from ._identity import RowIds, format_identity, key_strings
from ._outcome_file import (
    KNOWN,
    LEFT,
    NEVER_LEFT,
    OutcomeFile,
    Outcomes,
    file_for,
    read_outcomes,
    size_for,
    take_over,
)
from ._secrets import mask_url

if TYPE_CHECKING:
    from ._send import Run

__all__ = ["Journal", "JournalWriter", "Resume", "open_journal", "read_journal"]

FORMAT = "flux_magic journal"
VERSION = "2"
NOT_SENT, IN_FLIGHT, DONE = 0, 1, 2
#: Rows claimed beyond the concurrency, ahead of the rows begun: the claims are topped up
#: (one commit) each time half of them are used. Claimed rows that never left are told
#: apart from rows in flight by the run's outcome file.
AHEAD = 2048
#: A generous estimate of the journal's bytes per row (table, index, WAL), for the
#: free-space check before anything is sent.
BYTES_PER_ROW = 400
#: SQLite checkpoints the WAL (folds it into the file) once it holds this many pages.
WAL_PAGES = 1000
#: Outcomes are committed (with their error texts) this long (seconds) after the first
#: outcome not committed yet; the outcome file has them at once.
FLUSH = 0.2
_HEADER = b"SQLite format 3\x00"
_UNKNOWN = (
    "outcome unknown: this request was in flight when an earlier run with this journal "
    "stopped, so the server may or may not have it; not sent again (retry_unknown=True sends "
    "it again with the same Idempotency-Key)"
)

_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    scope TEXT NOT NULL,
    rows INTEGER NOT NULL,
    skipped INTEGER NOT NULL DEFAULT 0,
    held_unknown INTEGER NOT NULL DEFAULT 0,
    resent_unknown INTEGER NOT NULL DEFAULT 0,
    stop TEXT
);
CREATE TABLE batches (
    seq INTEGER PRIMARY KEY,
    run INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    positions BLOB NOT NULL,
    hashes BLOB,
    occurrences BLOB,
    keys BLOB,
    labels TEXT,
    states BLOB,
    statuses BLOB,
    sent BLOB,
    attempts BLOB,
    elapsed BLOB,
    errors TEXT
);
"""

# One entry per batch, appended: a commit writes one or two records, whatever the number of
# rows in it. Columns are packed arrays with one entry per row of ``positions`` (int64):
# ``claim``: hashes (uint64), occurrences (uint32), keys (16 bytes each), labels (JSON: a list
# of texts, or {"start", "step"} for a range index); ``outcome``: states (uint8), statuses
# (int32), sent (uint8), attempts (int32), elapsed (float64 seconds), errors (JSON
# [[index, text], ...] for the rows with one). An outcome's time is its batch's (``at``).
# Positions are those of the entry's run; its scope is the run's.
_COLUMNS = (
    "run, kind, at, positions, hashes, occurrences, keys, labels, states, statuses, sent, "
    "attempts, elapsed, errors"
)
_ROW = "(" + ", ".join("?" * 14) + ")"
#: One statement per commit (autocommit: the statement is the transaction), so the writer
#: thread gives the interpreter up and takes it back once per commit.
_INSERT = {n: f"INSERT INTO batches ({_COLUMNS}) VALUES " + ", ".join([_ROW] * n) for n in (1, 2)}
_I8, _U8, _U4, _I4, _F8 = "<i8", "<u8", "<u4", "<i4", "<f8"
_NO_CLAIM = (None, None, None, None)  # hashes, occurrences, keys, labels
_NO_OUTCOME = (None, None, None, None, None, None)  # states ... errors
_DONE = bytes([DONE])
_ONE = [1]


def _url_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _refusal(
    path: str, exc: BaseException, tail: str = " Nothing was sent.", where: str | None = None
) -> JournalError:
    """A clear JournalError for an SQLite or OS error on the journal at ``path`` (``where``:
    its absolute path, to tell a file that is not SQLite's from a damaged database)."""
    text = str(exc)
    low = text.lower()
    if where is not None and "not a database" in low:
        head = _head(where)
        if head is not None and head != _HEADER:
            return JournalError(
                f"journal {path!r} is not an SQLite file (it starts with {head[:8]!r}), so it "
                "is refused and left as it is; give the path of a flux_magic journal or of a "
                f"new file.{tail}"
            )
    if "full" in low or "no space" in low:
        why = (
            f"cannot be written: the disk is full ({text}); free some space or choose another path."
        )
    elif any(w in low for w in ("readonly", "read-only", "unable to open", "permission")):
        why = f"cannot be written ({text}); choose a path you can write to."
    elif any(w in low for w in ("not a database", "malformed", "corrupt", "encrypted")):
        why = (
            f"is damaged ({text}), so it is refused and left as it is. Move it away to start "
            "a new journal (its rows would then be sent again), or give another path."
        )
    else:
        why = f"cannot be used ({text})."
    return JournalError(f"journal {path!r} {why}{tail}")


def _head(where: str) -> bytes | None:
    """The first bytes of a file SQLite could not read as a database (so no connection holds
    locks on it), or None."""
    try:
        with open(where, "rb") as fh:
            return fh.read(len(_HEADER))
    except OSError:
        return None


def _check_file(path: str, where: str) -> bool:
    """Check the path before SQLite touches it; True if a journal file already exists."""
    if os.path.isdir(where):
        raise JournalError(
            f"journal {path!r} is a folder; give the path of a file, e.g. "
            f"{os.path.join(path, 'sends.sqlite')!r}. Nothing was sent."
        )
    parent = os.path.dirname(where)
    if not os.path.isdir(parent):
        raise JournalError(
            f"journal {path!r}: the folder {parent!r} does not exist; create it or choose "
            "another path. Nothing was sent."
        )
    # The file is not opened here (its size is enough): a process that opens and closes a
    # file SQLite has open loses every POSIX lock SQLite holds on it, in every connection of
    # the process (another thread's send, say), and another process could then fold the WAL
    # away under them. What SQLite cannot read is worded by ``_refusal``.
    try:
        return os.stat(where).st_size > 0
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _refusal(path, exc) from None


def _check_space(path: str, where: str, rows: int, concurrency: int) -> None:
    # the WAL grows by a page or two per commit until SQLite checkpoints it, every WAL_PAGES
    # pages; counted generously, as a commit per concurrency // 2 rows (there are far fewer)
    commits = rows // max(1, concurrency // 2) + 2
    needed = rows * BYTES_PER_ROW + size_for(rows) + min(2 * commits, WAL_PAGES) * 4096 + 64 * 1024
    try:
        free = shutil.disk_usage(os.path.dirname(where)).free
    except OSError:
        return
    if free < needed:
        raise JournalError(
            f"journal {path!r}: only {free:,} bytes are free on its disk, and recording "
            f"{rows:,} rows needs about {needed:,}; free some space or choose another path. "
            "Nothing was sent."
        )


@dataclass(frozen=True, slots=True)
class _Record:
    state: int
    status: int
    sent: bool
    error: str
    attempts: int
    elapsed: float
    key: bytes


@dataclass(slots=True)
class Resume:
    """What a journal said about the rows of this send."""

    path: str
    matched: int = 0
    skipped: int = 0
    held_unknown: int = 0
    resent_unknown: int = 0

    @property
    def resumed(self) -> bool:
        return self.matched > 0

    def note(self) -> dict[str, object]:
        """The ``flux_journal`` entry of the result's ``attrs`` (read by the summary)."""
        return {
            "path": self.path,
            "resumed": self.resumed,
            "skipped": self.skipped,
            "held_unknown": self.held_unknown,
            "resent_unknown": self.resent_unknown,
        }


class Journal:
    """An open, checked journal file, tied to one URL. Use ``open_journal``."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str,
        run_no: int,
        where: str,
        digest: bytes,
        scope: str = "",
        records: dict[tuple[int, int], _Record] | None = None,
    ) -> None:
        self.conn = conn
        self.path = path
        self.run_no = run_no
        #: What the journal held about the rows of ``scope`` when it was opened, by (content
        #: hash, occurrence): replayed (and checked) before this run was recorded.
        self.scope = scope
        self.records = records or {}
        #: The journal's absolute path, and what ties an outcome file to this journal.
        self.where = where
        self.digest = digest

    def resume(self, run: Run, ids: RowIds, keys: npt.NDArray[np.uint8]) -> Resume:
        """Settle the rows this journal already knows; the others are sent as usual.

        Rows recorded as sent come back with their recorded outcome and are not sent again.
        Rows recorded in flight (outcome unknown) are sent again only with
        ``retry_unknown=True``, with their recorded Idempotency-Key (written into ``keys``).
        Rows never sent, or whose recorded outcome is a failure, are sent again.
        """
        found = Resume(self.path)
        records = self.records
        if not records:
            return found
        retry_unknown = run.options.retry_unknown
        pairs = zip(ids.hashes.tolist(), ids.occurrences.tolist(), strict=True)
        for position, pair in enumerate(pairs):
            rec = records.get(pair)
            if rec is None:
                continue
            found.matched += 1
            keys[position] = np.frombuffer(rec.key, dtype=np.uint8)
            if rec.state == DONE and rec.sent:
                run.settle(position, rec.status, rec.error, rec.attempts, rec.elapsed, sent=True)
                found.skipped += 1
            elif rec.state == IN_FLIGHT:
                if retry_unknown:
                    found.resent_unknown += 1
                else:
                    run.settle(position, 0, _UNKNOWN, rec.attempts, math.nan)
                    found.held_unknown += 1
        self.conn.execute(
            "UPDATE runs SET skipped = ?, held_unknown = ?, resent_unknown = ? WHERE run = ?",
            (found.skipped, found.held_unknown, found.resent_unknown, self.run_no),
        )
        return found

    def writer(self, run: Run, ids: RowIds, keys: npt.NDArray[np.uint8]) -> JournalWriter:
        """Start recording ``run``: the hooks ``Run`` calls (the first claims are committed
        before this returns)."""
        return JournalWriter(self, run, ids, keys)

    def close(self) -> None:
        self.conn.close()


def open_journal(
    path: str, url: str, *, rows: int, scope: str = "", concurrency: int = 1
) -> Journal:
    """Open (or create) the journal at ``path`` for a send of ``rows`` rows to ``url``.

    Everything that can make the journal unusable is found here, before anything is sent:
    a folder or a missing folder, a path that cannot be written, too little free space, a
    file that is not a flux_magic journal or is damaged, the journal of another URL. Each is
    a ``JournalError``; the file is never reset or overwritten.
    """
    where = os.path.abspath(path)
    existed = _check_file(path, where)
    _check_space(path, where, rows, concurrency)
    try:
        conn = sqlite3.connect(where, timeout=10.0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _refusal(path, exc) from None
    try:
        if existed:
            problem = conn.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise _refusal(path, sqlite3.DatabaseError(f"database is corrupt: {problem}"))
        _check_or_create(conn, path, url)
        digest = _digest(conn)
        try:  # every batch of this scope is read (and checked) before anything is written
            records = _records(conn, scope)
            if _fold_ended_runs(conn, where, digest):
                records = _records(conn, scope)
        except JournalError as exc:  # a batch that does not fit together
            raise _refusal(path, sqlite3.DatabaseError(str(exc))) from None
        cur = conn.execute(
            "INSERT INTO runs (started, scope, rows) VALUES (?, ?, ?)", (time.time(), scope, rows)
        )
        run_no = int(cur.lastrowid or 0)
    except sqlite3.Error as exc:
        conn.close()
        raise _refusal(path, exc, where=where) from None
    except BaseException:
        conn.close()
        raise
    return Journal(conn, path, run_no, where, digest, scope, records)


def _records(conn: sqlite3.Connection, scope: str) -> dict[tuple[int, int], _Record]:
    """What the journal holds about the rows of ``scope``, by (content hash, occurrence)."""
    return {
        (row[0][1], row[0][2]): _Record(
            row[4], row[5], bool(row[6]), row[7], row[8], row[9], row[3]
        )
        for row in _replay(conn, scope)
    }


def _digest(conn: sqlite3.Connection) -> bytes:
    """What ties an outcome file to this journal (and not to another one made at its path)."""
    meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
    tag = f"{meta.get('created')}\n{meta.get('url_sha256')}".encode()
    return hashlib.sha256(tag).digest()[:16]


def _fold_ended_runs(conn: sqlite3.Connection, where: str, digest: bytes) -> bool:
    """Fold into the journal the outcome files of runs that ended without closing it (the
    process was killed, or the journal could not be written at the end): what each row did
    after the run's last commit. A file whose run still writes it is left alone; one that
    cannot be trusted is kept, unread (its rows stay "outcome unknown"). True if it folded
    any."""
    folded = False
    ended = conn.execute("SELECT run, rows FROM runs WHERE finished IS NULL").fetchall()
    for run_no, rows in ended:
        taken = take_over(file_for(where, run_no), run_no, rows, digest)
        if taken is None:
            continue
        try:
            if taken.outcomes is None:
                continue
            batch = _file_batch(conn, run_no, taken.outcomes)
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                if batch is not None:
                    conn.execute(_INSERT[1], (run_no, "outcome", now, *batch))
                conn.execute(
                    "UPDATE runs SET finished = ?, stop = ? WHERE run = ?",
                    (now, "ended without closing the journal", run_no),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            taken.remove()
            folded = True
        finally:
            taken.release()
    return folded


#: The ``_error`` of a row whose failure is known from an outcome file: its text was not
#: committed before the run ended.
_LOST_ERROR = "failed (the error's text was lost: the run ended before it was recorded)"


def _open_positions(conn: sqlite3.Connection, run_no: int) -> npt.NDArray[np.int64]:
    """Positions claimed by run ``run_no`` without an outcome committed by it (sorted)."""
    claimed: list[npt.NDArray[np.int64]] = []
    settled: list[npt.NDArray[np.int64]] = []
    for kind, blob in conn.execute(
        "SELECT kind, positions FROM batches WHERE run = ? ORDER BY seq", (run_no,)
    ):
        (claimed if kind == "claim" else settled).append(_positions(blob))
    if not claimed:
        return np.zeros(0, dtype=np.int64)
    done = np.concatenate(settled) if settled else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.concatenate(claimed), done).astype(np.int64)


def _from_file(
    outcomes: Outcomes, positions: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[Any], ...]:
    """What an outcome file says of ``positions``: states (``DONE``, ``IN_FLIGHT``,
    ``NOT_SENT``), statuses, sent, attempts, elapsed. An entry that does not make sense
    counts as in flight (outcome unknown): the file is not trusted beyond what it can say."""
    positions = positions[(positions >= 0) & (positions < len(outcomes.state))]
    state = outcomes.state[positions]
    status = outcomes.status[positions]
    attempts = outcomes.attempts[positions]
    sent = outcomes.sent[positions]
    elapsed = outcomes.elapsed[positions]
    known = (state == KNOWN) & (status >= 0) & (status <= 999) & (attempts >= 0) & (sent <= 1)
    states = np.where(known, DONE, np.where(state == NEVER_LEFT, NOT_SENT, IN_FLIGHT))
    return (
        positions,
        states.astype(np.uint8),
        np.where(known, status, 0).astype(_I4),
        np.where(known, sent, 0).astype(np.uint8),
        np.where(known, attempts, 0).astype(_I4),
        np.where(known & (elapsed >= 0) & (elapsed < math.inf), elapsed, math.nan).astype(_F8),
    )


def _text_lost(
    states: npt.NDArray[Any],
    sent: npt.NDArray[Any],
    attempts: npt.NDArray[Any],
    statuses: npt.NDArray[Any],
) -> npt.NDArray[np.bool_]:
    """Rows known from an outcome file to have failed with an error text the file has no
    room for: a failure with an answer has none beyond its status; one without (refused,
    reset, timed out) had one, not committed yet."""
    lost: npt.NDArray[np.bool_] = (states == DONE) & (sent == 0) & (attempts > 0) & (statuses == 0)
    return lost


def _file_batch(
    conn: sqlite3.Connection, run_no: int, outcomes: Outcomes
) -> tuple[Any, ...] | None:
    """The outcome batch (columns after ``at``) that folds an outcome file into the journal:
    the rows its run claimed without committing an outcome."""
    positions, states, statuses, sent, attempts, elapsed = _from_file(
        outcomes, _open_positions(conn, run_no)
    )
    if not len(positions):
        return None
    failed = np.flatnonzero(_text_lost(states, sent, attempts, statuses))
    notes = [[int(i), _LOST_ERROR] for i in failed.tolist()]
    return (
        positions.astype(_I8).tobytes(),
        *_NO_CLAIM,
        states.tobytes(),
        statuses.tobytes(),
        sent.tobytes(),
        attempts.tobytes(),
        elapsed.tobytes(),
        json.dumps(notes) if notes else None,
    )


def _check_or_create(conn: sqlite3.Connection, path: str, url: str) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables:
        _check_meta(conn, tables, path, url)  # before any write: a refused file stays as it was
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise JournalError(
            f"journal {path!r}: SQLite cannot use WAL mode there (it reports {mode!r}); "
            "choose a path on a local disk. Nothing was sent."
        )
    conn.execute("PRAGMA synchronous = NORMAL")
    if not tables:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another send may have created it meanwhile (Dask partitions starting together)
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if tables:
                conn.execute("COMMIT")
                _check_meta(conn, tables, path, url)
                return
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [
                    ("format", FORMAT),
                    ("version", VERSION),
                    ("url_sha256", _url_digest(url)),
                    ("url", mask_url(url)),
                    ("created", repr(time.time())),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _check_meta(conn: sqlite3.Connection, tables: set[str], path: str, url: str) -> None:
    meta: dict[str, str] = {}
    if {"meta", "runs", "batches"} <= tables:
        meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
    if meta.get("format") != FORMAT:
        raise JournalError(
            f"journal {path!r} is an SQLite database but not a flux_magic journal, so it is "
            "refused and left as it is; give the path of a journal or of a new file. "
            "Nothing was sent."
        )
    if meta.get("version") != VERSION:
        raise JournalError(
            f"journal {path!r} was written by another version of flux_magic (journal format "
            f"{meta.get('version')!r}, this one reads {VERSION!r}); give another path. "
            "Nothing was sent."
        )
    if meta.get("url_sha256") != _url_digest(url):
        raise JournalError(
            f"journal {path!r} records a send to {meta.get('url', '?')}, not to "
            f"{mask_url(url)}; a journal belongs to one URL (its rows were sent there), so "
            "give this send its own journal. Nothing was sent."
        )


class JournalWriter:
    """Records one run: claims rows before they leave, outcomes as they come.

    ``Run`` calls ``began`` (before a row's first attempt), ``outcome`` (when a row's outcome
    is in the ledger), ``failed_mapping`` (from the mapping thread) and ``close`` (when the
    send is over).

    * ``began`` marks the row as gone in the run's outcome file (``_outcome_file``) and, when
      the claims ahead of the rows begun run low, commits the next ``AHEAD + concurrency``
      claims first (in the event loop's thread, a few times a second at most).
    * ``outcome`` stores the row's outcome in the outcome file at once and queues its position:
      the queued outcomes (their error texts too, which the file has no room for) are
      committed to SQLite every ``FLUSH`` seconds and at the end.

    Nobody waits for a commit: what the outcome file holds survives the death of the process,
    so at most the rows in flight (``concurrency``) have an unknown outcome after a crash.
    """

    def __init__(
        self, journal: Journal, run: Run, ids: RowIds, keys: npt.NDArray[np.uint8]
    ) -> None:
        self.journal = journal
        self.run = run
        self.ids = ids
        self.keys = keys
        #: Rows settled from the journal: never claimed, never sent.
        self._settled = np.frombuffer(bytes(run.state), dtype=np.uint8) != 0
        #: Rows settled or claimed.
        self._taken = self._settled.copy()
        #: Every row before this position is claimed (or settled).
        self.claimed_upto = 0
        #: A row at this position or past it tops the claims up before it begins.
        self._refill_at = 0
        self._ahead = run.options.concurrency + AHEAD
        #: The highest position begun (or whose mapping failed).
        self._top = -1
        labels = run.labels
        self._range = (
            json.dumps({"start": int(labels.start), "step": int(labels.step)})
            if isinstance(labels, pd.RangeIndex)
            else None
        )
        #: Positions whose outcome is in the ledger but not committed (event loop's thread).
        self._pending: list[int] = []
        #: Rows whose mapping failed (the mapping thread's; committed with the next commit).
        self._failed: collections.deque[int] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self._lock = threading.Lock()
        self._closing = False
        #: 1 for a status that counts as sent (``Run.is_sent``), by status (0 to 999).
        self._sent = bytes(run.is_sent(status) for status in range(1000))
        self.error: JournalError | None = None
        try:
            self._file = OutcomeFile.create(
                file_for(journal.where, journal.run_no), journal.run_no, run.total, journal.digest
            )
        except OSError as exc:
            raise _refusal(journal.path, exc) from None
        # the file's columns, for the stores of the send path
        self._gone, self._ok = self._file.state, self._file.sent
        self._status, self._attempts = self._file.status, self._file.attempts
        self._elapsed = self._file.elapsed
        try:
            with self._lock:
                self._write(-1)  # the first claims, before anything may be sent
        except sqlite3.Error as exc:
            self._file.close(remove=True)
            raise _refusal(journal.path, exc) from None

    # -- the send path (the event loop's thread) ----------------------------------------------
    def began(self, position: int) -> None:
        """Called before the row's request leaves: its claim is committed (topped up here
        when they run low), and the outcome file says it left."""
        if self._closing:  # the send is over (a worker late after a stop): it goes no further
            raise asyncio.CancelledError
        if position >= self._refill_at:
            if self.error is not None:
                raise self.error
            self._commit(need=position)
            if position >= self.claimed_upto:
                raise self.error or JournalError(
                    f"journal {self.journal.path!r}: the row at position {position} could "
                    "not be claimed, so it was not sent."
                )
        if position > self._top:
            self._top = position
        self._gone[position] = LEFT

    def outcome(
        self, position: int, status: int, sent: bool, attempts: int, elapsed: float
    ) -> None:
        """Called when a sent row's outcome is in the ledger: stored in the outcome file at
        once (its state last), queued for the next commit."""
        self._status[position] = status
        self._ok[position] = sent
        self._attempts[position] = attempts
        self._elapsed[position] = elapsed
        self._gone[position] = KNOWN
        self._pending.append(position)
        if self._timer is None and not self._closing:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(loop.time() + FLUSH, self._due)

    def failed_mapping(self, position: int) -> None:
        """Called (from the mapping thread) when a row's mapping failed: it was never sent."""
        self._failed.append(position)

    def _due(self) -> None:
        self._timer = None
        if not self._closing:
            self._commit()

    # -- one commit ---------------------------------------------------------------------------
    def _commit(self, *, need: int = -1) -> None:
        """Commit every queued outcome and top the claims up; a failure stops the send."""
        try:
            with self._lock:
                self._write(need)
        except sqlite3.Error as exc:
            self._fail(exc)

    def _write(self, need: int, *, claim: bool = True) -> None:
        if self.error is not None or (claim and self._closing):
            return
        batch, self._pending = self._pending, []
        failed: list[int] = []
        failures = self._failed
        while failures:
            failed.append(len(batch))
            batch.append(failures.popleft())
        total = self.run.total
        start = end = self.claimed_upto
        top = max(self._top, need)
        if failed:
            top = max(top, *(batch[i] for i in failed))
        if claim and start < total and start - top <= self._ahead // 2:
            end = min(total, top + 1 + self._ahead)
        claims = None
        if end > start:
            claims = np.flatnonzero(~self._taken[start:end]) + start
        if failed:  # rows whose mapping failed beyond the claims: claimed for the record
            extra = np.array([batch[i] for i in failed], dtype=np.int64)
            extra = np.unique(extra[(extra >= end) & ~self._taken[extra]])
            claims = extra if claims is None else np.concatenate([claims, extra])
        now = time.time()
        run_no = self.journal.run_no
        params: list[Any] = []
        if claims is not None and len(claims):
            params += (run_no, "claim", now, *self._claim_columns(claims), *_NO_OUTCOME)
        if batch:
            params += (run_no, "outcome", now, *self._outcomes(batch, failed))
        if params:
            self.journal.conn.execute(_INSERT[len(params) // 14], params)
        if claims is not None:
            self._taken[claims] = True
        self.claimed_upto = end
        self._refill_at = end - self._ahead // 2 if end < total else total

    def _claim_columns(self, claims: npt.NDArray[np.int64]) -> tuple[Any, ...]:
        ids = self.ids
        labels = self._range
        if labels is None:
            labels = json.dumps([str(x) for x in self.run.labels.take(claims).tolist()])
        return (
            claims.astype(_I8).tobytes(),
            ids.hashes[claims].astype(_U8).tobytes(),
            ids.occurrences[claims].astype(_U4).tobytes(),
            self.keys[claims].tobytes(),
            labels,
        )

    def _outcomes(self, at: list[int], failed: list[int]) -> tuple[Any, ...]:
        """The columns of an outcome batch, gathered from the ledger (``positions`` then
        everything after the claim columns)."""
        run = self.run
        status, error, elapsed = run.status, run.error, run.elapsed
        n = len(at)
        statuses = [status[p] for p in at]
        sent = bytearray(map(self._sent.__getitem__, statuses))
        errors = [error[p] for p in at]
        notes: list[tuple[int, str]] | None = None
        if any(errors):
            notes = [(i, e) for i, e in enumerate(errors) if e]
            for i, _ in notes:
                sent[i] = 0
        answer = run.answer
        if answer is not None and any(answer[p] for p in at):  # said inside a sent answer
            errors = [e or answer[p] for e, p in zip(errors, at, strict=True)]
            notes = [(i, e) for i, e in enumerate(errors) if e]
        if run.attempts is not None:
            tries = array("i", [run.attempts[p] for p in at])
        else:
            tries = array("i", _ONE) * n
        for i in failed:
            tries[i] = 0
        return (
            _packed(array("q", at)),
            *_NO_CLAIM,
            _DONE * n,
            _packed(array("i", statuses)),
            bytes(sent),
            _packed(tries),
            _packed(array("d", [elapsed[p] for p in at])),
            json.dumps(notes) if notes else None,
        )

    def _fail(self, exc: BaseException) -> None:
        text = str(exc) or type(exc).__name__
        self.error = JournalError(
            f"journal {self.journal.path!r} could not be written during the send ({text}), "
            "so the send stopped: no row leaves without being recorded first. Rows already "
            "sent are recorded; fix the cause and run the same send again to resume."
        )
        self.run.crash = self.error
        self.run.stop("crashed")

    # -- the end ------------------------------------------------------------------------------
    def close(self) -> None:
        """Record the last outcomes and the end of the run; give back unused claims. The
        outcome file goes once that is committed; if it cannot be, the file stays, and the
        next send that opens the journal folds it in."""
        if self._closing:
            return
        self._closing = True
        conn = self.journal.conn
        run = self.run
        committed = False
        try:
            with self._lock:
                if self.error is None:
                    self._write(-1, claim=False)
                    state = np.frombuffer(bytes(run.state), dtype=np.uint8)
                    claimed = self._taken & ~self._settled
                    back = np.flatnonzero(claimed & (state == NOT_SENT))
                    flying = np.flatnonzero(claimed & (state == IN_FLIGHT))
                    now = time.time()
                    conn.execute("BEGIN IMMEDIATE")
                    if len(back) or len(flying):
                        ends = (self.journal.run_no, "outcome", now, *self._ends(back, flying))
                        conn.execute(_INSERT[1], ends)
                    conn.execute(
                        "UPDATE runs SET finished = ?, stop = ? WHERE run = ?",
                        (now, run.stop_reason, self.journal.run_no),
                    )
                    conn.execute("COMMIT")
                    committed = True
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._fail(exc)
        finally:
            self._file.close(remove=committed)
            self.journal.close()

    def _ends(self, back: npt.NDArray[np.intp], flying: npt.NDArray[np.intp]) -> tuple[Any, ...]:
        """Outcome columns for claims given back (never left) and rows in flight at the end."""
        positions = np.concatenate([back, flying]).astype(_I8)
        states = np.concatenate(
            [np.full(len(back), NOT_SENT, np.uint8), np.full(len(flying), IN_FLIGHT, np.uint8)]
        )
        error = self.run.error
        notes = [[len(back) + i, error[p]] for i, p in enumerate(flying.tolist()) if error[p]]
        n = len(positions)
        return (
            positions.tobytes(),
            *_NO_CLAIM,
            states.tobytes(),
            np.zeros(n, dtype=_I4).tobytes(),
            np.zeros(n, dtype=np.uint8).tobytes(),
            np.zeros(n, dtype=_I4).tobytes(),
            np.full(n, math.nan, dtype=_F8).tobytes(),
            json.dumps(notes) if notes else None,
        )


def _packed(values: array[Any]) -> bytes:
    """An array's bytes, little-endian (as numpy reads them back)."""
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _positions(blob: Any) -> npt.NDArray[np.int64]:
    """The positions column of a batch, checked to be whole int64 entries."""
    if not isinstance(blob, bytes) or len(blob) % 8:
        raise JournalError("database is corrupt: a batch's positions do not fit")
    return np.frombuffer(blob, dtype=_I8)


def _column(blob: Any, dtype: str, n: int, width: int = 1) -> npt.NDArray[Any]:
    """One packed column of a batch, checked to have ``n`` entries."""
    if not isinstance(blob, bytes):
        raise JournalError("database is corrupt: a batch column is missing")
    if len(blob) % np.dtype(dtype).itemsize:
        raise JournalError("database is corrupt: a batch column has the wrong length")
    values = np.frombuffer(blob, dtype=dtype if width == 1 else np.uint8)
    if width != 1:
        if len(values) != n * width:
            raise JournalError("database is corrupt: a batch column has the wrong length")
        return values.reshape(n, width)
    if len(values) != n:
        raise JournalError("database is corrupt: a batch column has the wrong length")
    return values


def _texts(text: Any) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise JournalError("database is corrupt: a batch's text is not JSON") from None


def _replay(
    conn: sqlite3.Connection, scope: str | None, files: tuple[str, bytes] | None = None
) -> list[list[Any]]:
    """Each row's latest state, replayed from the batches in order (rows of ``scope`` only,
    or every row for None): [(scope, hash, occurrence), label, position, key, state, status,
    sent, error, attempts, elapsed, claimed, finished, run, sends].

    With ``files`` (the journal's absolute path and digest), the outcome files of runs not
    over (still sending, or killed and not folded yet) say what their rows did since the
    run's last commit; they are only read.

    A batch whose columns do not fit together raises JournalError (a damaged journal)."""
    scopes = dict(conn.execute("SELECT run, scope FROM runs").fetchall())
    latest: dict[tuple[str, int, int], list[Any]] = {}
    where: dict[tuple[int, int], list[Any]] = {}
    entries = conn.execute(
        "SELECT run, kind, at, positions, hashes, occurrences, keys, labels, states, statuses, "
        "sent, attempts, elapsed, errors FROM batches ORDER BY seq"
    )
    for entry in entries:
        run_scope = scopes.get(entry[0])
        if run_scope is None or (scope is not None and run_scope != scope):
            continue
        try:
            _replay_one(entry, run_scope, latest, where)
        except (KeyError, TypeError, ValueError, OverflowError):  # what no journal holds
            raise JournalError("database is corrupt: a batch does not fit together") from None
    if files is not None:
        _read_files(conn, files, where)
    return list(latest.values())


def _replay_one(
    entry: tuple[Any, ...],
    run_scope: str,
    latest: dict[tuple[str, int, int], list[Any]],
    where: dict[tuple[int, int], list[Any]],
) -> None:
    """Apply one batch to the replayed rows (see ``_replay``)."""
    run_no, kind, at = entry[0], entry[1], entry[2]
    positions = _positions(entry[3])
    n = len(positions)
    if kind == "claim":
        hashes = _column(entry[4], _U8, n).tolist()
        occurrences = _column(entry[5], _U4, n).tolist()
        keys = _column(entry[6], "u1", n, 16)
        labels = _texts(entry[7])
        if isinstance(labels, dict):
            first, step = int(labels["start"]), int(labels["step"])
            names = [str(first + p * step) for p in positions.tolist()]
        elif isinstance(labels, list) and len(labels) == n:
            names = [str(x) for x in labels]
        else:
            raise JournalError("database is corrupt: a claim's labels do not fit")
        for i, pos in enumerate(positions.tolist()):
            identity = (run_scope, hashes[i], occurrences[i])
            old = latest.get(identity)
            sends = (old[13] if old is not None else 0) + 1
            rec = [identity, names[i], pos, keys[i].tobytes(), IN_FLIGHT, 0, 0, "", 0]
            rec += [math.nan, at, math.nan, run_no, sends]
            latest[identity] = rec
            where[run_no, pos] = rec
    elif kind == "outcome":
        states = _column(entry[8], "u1", n).tolist()
        statuses = _column(entry[9], _I4, n).tolist()
        sent = _column(entry[10], "u1", n).tolist()
        attempts = _column(entry[11], _I4, n).tolist()
        elapsed = _column(entry[12], _F8, n).tolist()
        notes = dict((int(i), str(e)) for i, e in (_texts(entry[13]) or []))
        for i, pos in enumerate(positions.tolist()):
            found = where.get((run_no, pos))
            if found is None:
                continue
            rec = found
            state = states[i]
            rec[4] = state
            rec[7] = notes.get(i, "")
            rec[11] = at
            if state == DONE:
                rec[5], rec[6], rec[8], rec[9] = statuses[i], sent[i], attempts[i], elapsed[i]
                if not attempts[i]:  # a failed mapping: never sent
                    rec[13] -= 1
            elif state == NOT_SENT:
                rec[13] -= 1


def _read_files(
    conn: sqlite3.Connection, files: tuple[str, bytes], where: dict[tuple[int, int], list[Any]]
) -> None:
    """Update the replayed rows of runs that are not over from their outcome files."""
    journal, digest = files
    for run_no, rows in conn.execute("SELECT run, rows FROM runs WHERE finished IS NULL"):
        found = read_outcomes(file_for(journal, run_no), run_no, rows, digest)
        if found is None:
            continue
        recs = {
            pos: rec
            for (run, pos), rec in where.items()
            if run == run_no and rec[12] == run_no and rec[4] == IN_FLIGHT
        }
        positions = np.array(sorted(recs), dtype=np.int64)
        columns = _from_file(found, positions)
        lost = _text_lost(columns[1], columns[3], columns[4], columns[2])
        for pos, state, status, sent, attempts, elapsed, no_text in zip(
            *(column.tolist() for column in (*columns, lost)), strict=True
        ):
            rec = recs[pos]
            rec[4] = state
            if state == DONE:
                rec[5], rec[6], rec[8], rec[9] = status, sent, attempts, elapsed
                if no_text:
                    rec[7] = "failed (its error's text is not recorded yet)"
            elif state == NOT_SENT:
                rec[13] -= 1


_OUTCOME_NAMES = {NOT_SENT: "not sent", IN_FLIGHT: "unknown"}


def read_journal(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The journal of a send (option ``journal=``) as a DataFrame, one row per input row.

    Columns: ``identity`` (index label + content hash + occurrence), ``label`` (the index
    label, as text), ``position`` (in the input of the run that last sent it),
    ``idempotency_key``, ``outcome`` ("sent", "failed", "unknown": in flight when a run
    stopped, "not sent": never left), ``_status``, ``_sent``, ``_error``, ``_attempts``,
    ``_elapsed`` (the latest outcome, as in a result), ``claimed_at`` and ``finished_at``
    (UTC: recorded before the request left / when its outcome was known), ``run`` (which run
    of this journal sent it last) and ``sends`` (how many runs sent it).

    The rows of a run still sending, or killed and not folded yet (the next send with this
    journal folds it), come from the run's outcome file (``<journal>-run<N>``), read as it is
    and left alone: their ``finished_at`` is empty until a commit records it. Nothing is
    written: a journal can be read while a send writes it.

    Examples
    --------
    >>> import flux_magic
    >>> flux_magic.read_journal("sends.sqlite")  # doctest: +SKIP
    """
    name = os.fspath(path)
    where = os.path.abspath(os.path.expanduser(name))
    if not os.path.isfile(where):
        raise JournalError(f"journal {name!r} does not exist (or is not a file).")
    _check_file(name, where)
    try:
        conn = sqlite3.connect(where, timeout=10.0)
    except sqlite3.Error as exc:
        raise _refusal(name, exc, "") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = (
            dict(conn.execute("SELECT name, value FROM meta").fetchall())
            if "meta" in tables
            else {}
        )
        if meta.get("format") != FORMAT or "batches" not in tables:
            raise JournalError(f"{name!r} is not a flux_magic journal.")
        if meta.get("version") != VERSION:
            raise JournalError(
                f"journal {name!r} was written by another version of flux_magic (journal "
                f"format {meta.get('version')!r}, this one reads {VERSION!r})."
            )
        problem = conn.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise _refusal(name, sqlite3.DatabaseError(f"database is corrupt: {problem}"), "")
        files = (where, _digest(conn))
        try:
            replayed = _replay(conn, None, files)
        except JournalError as exc:  # a batch that does not fit together
            raise _refusal(name, sqlite3.DatabaseError(str(exc)), "") from None
        rows = sorted(replayed, key=lambda r: (r[12], r[2], r[0]))
    except sqlite3.Error as exc:
        raise _refusal(name, exc, "", where) from None
    finally:
        conn.close()
    return _journal_frame(rows)


def _journal_frame(rows: list[list[Any]]) -> pd.DataFrame:
    columns = [
        "identity",
        "label",
        "position",
        "idempotency_key",
        "state",
        "status",
        "sent",
        "error",
        "attempts",
        "elapsed",
        "claimed",
        "finished",
        "run",
        "sends",
    ]
    for row in rows:  # the identity and the key as text
        row[0] = format_identity(*row[0])
    keys = np.frombuffer(b"".join(row[3] for row in rows), dtype=np.uint8).reshape(-1, 16)
    for row, key in zip(rows, key_strings(keys), strict=True):
        row[3] = key
    raw = pd.DataFrame.from_records(rows, columns=columns)
    outcome = [
        ("sent" if sent else "failed") if state == DONE else _OUTCOME_NAMES.get(state, "?")
        for state, sent in zip(raw["state"].tolist(), raw["sent"].tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "identity": raw["identity"].astype(object),
            "label": raw["label"].astype(object),
            "position": raw["position"].astype("int64"),
            "idempotency_key": raw["idempotency_key"].astype(object),
            "outcome": pd.Series(outcome, dtype=object),
            "_status": pd.Series(
                ["" if not s or pd.isna(s) else str(int(s)) for s in raw["status"].tolist()],
                dtype=object,
            ),
            "_sent": pd.Series(
                ["true" if s == 1 else "false" for s in raw["sent"].tolist()], dtype=object
            ),
            "_error": pd.Series(
                ["" if e is None or pd.isna(e) else str(e) for e in raw["error"].tolist()],
                dtype=object,
            ),
            "_attempts": pd.to_numeric(raw["attempts"]).fillna(0).astype("int64"),
            "_elapsed": pd.to_numeric(raw["elapsed"]).astype("float64"),
            "claimed_at": pd.to_datetime(pd.to_numeric(raw["claimed"]), unit="s", utc=True),
            "finished_at": pd.to_datetime(pd.to_numeric(raw["finished"]), unit="s", utc=True),
            "run": raw["run"].astype("int64"),
            "sends": raw["sends"].astype("int64"),
        }
    )

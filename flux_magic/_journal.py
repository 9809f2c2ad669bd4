"""The journal of a send (option ``journal=``): an SQLite file that lets a crashed send resume.

The journal holds batches, appended in sending order (``seq``): ``claim`` batches (rows
about to leave: position, identity, label, Idempotency-Key) and ``outcome`` batches.
Replaying them in order gives each row's latest state, keyed by the row's identity
(``_identity``: index label, content hash, occurrence):

* ``NOT_SENT`` (0): claimed, then given back when the send stopped before the row left;
* ``IN_FLIGHT`` (1): claimed, with its Idempotency-Key, *before* its request may leave; a row
  still in this state after a crash has an unknown outcome;
* ``DONE`` (2): its outcome (``_status``, ``_sent``, ``_error``, ``_attempts``, ``_elapsed``)
  is recorded.

The send path never waits for the disk row by row, and no second thread competes with it
for the interpreter: the hooks ``Run`` calls write in batches, in the sending thread. A row's
claim is committed before its request may leave, many rows ahead at a time; an outcome is
queued as a ready-made row of the next batch, and the queue is committed with the next claims, or
once the last commit is ``MIN_GAP`` seconds old (the caller's wait loop commits what a
stalled send left queued after ``FLUSH_SECONDS``). At most ``window``
(``2 * concurrency + SLACK``) rows are claimed without a committed outcome, so after a crash
at most that many rows are "outcome unknown": the rows in flight, rows answered in the last
few milliseconds, and rows claimed ahead that never left; no other row can have reached the
server without the journal knowing its outcome.

WAL mode with ``synchronous=NORMAL``: a commit is in the operating system's hands before the
next batch of requests may leave, which survives the crash of the kernel or of Python
(SIGKILL, OOM); a power cut may lose the last commits.

Never stored: request bodies, header values, the URL's credentials (only a masked URL and a
SHA-256 of the full URL, to refuse the journal of another URL).
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._errors import JournalError
from ._secrets import mask_url

if TYPE_CHECKING:
    from ._send import Run

__all__ = ["Journal", "JournalWriter", "Resume", "open_journal", "read_journal"]

FORMAT = "flux_magic journal"
VERSION = "1"
NOT_SENT, IN_FLIGHT, DONE = 0, 1, 2
#: The writer commits at least this often while anything is waiting to be recorded.
FLUSH_SECONDS = 0.05
#: Between two commits the writer waits at least this long (unless the sender is waiting
#: for claims), so that a fast send commits in batches rather than row by row.
MIN_GAP = 0.005
#: Claims beyond twice the concurrency, so the sender rarely waits for the writer.
SLACK = 128
#: A generous estimate of the journal's bytes per row (table, index, WAL), for the
#: free-space check before anything is sent.
BYTES_PER_ROW = 400
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
    rows TEXT NOT NULL
);
"""

# One entry per batch, appended: a commit writes one or two short records, whatever the
# number of rows in it. ``claim`` rows: [position, identity, label, Idempotency-Key];
# ``outcome`` rows: [position, state, status, sent, error, attempts, elapsed in µs]; an
# outcome's time is its batch's (``at``: when it was committed).
# Positions are those of the entry's run; replaying the entries in order gives each row's
# latest state (``_replay``).
_BATCH = "INSERT INTO batches (run, kind, at, rows) VALUES (?, ?, ?, ?)"


def _url_digest(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _refusal(path: str, exc: BaseException, tail: str = " Nothing was sent.") -> JournalError:
    """A clear JournalError for an SQLite or OS error on the journal at ``path``."""
    text = str(exc)
    low = text.lower()
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
    if not os.path.exists(where):
        return False
    try:
        with open(where, "rb") as fh:
            head = fh.read(len(_HEADER))
    except OSError as exc:
        raise _refusal(path, exc) from None
    if head and head != _HEADER:
        raise JournalError(
            f"journal {path!r} is not an SQLite file (it starts with {head[:8]!r}), so it is "
            "refused and left as it is; give the path of a flux_magic journal or of a new "
            "file. Nothing was sent."
        )
    return bool(head)


def _check_space(path: str, where: str, rows: int) -> None:
    needed = rows * BYTES_PER_ROW + 64 * 1024
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
    key: str


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

    def __init__(self, conn: sqlite3.Connection, path: str, run_no: int) -> None:
        self.conn = conn
        self.path = path
        self.run_no = run_no

    def records(self, scope: str) -> dict[str, _Record]:
        """What the journal holds about the rows of ``scope``, by identity."""
        return {
            row[0]: _Record(row[4], row[5], bool(row[6]), row[7], row[8], row[9], row[3])
            for row in _replay(self.conn, scope)
        }

    def resume(self, run: Run, identities: list[str], keys: list[str], scope: str) -> Resume:
        """Settle the rows this journal already knows; the others are sent as usual.

        Rows recorded as sent come back with their recorded outcome and are not sent again.
        Rows recorded in flight (outcome unknown) are sent again only with
        ``retry_unknown=True``, with their recorded Idempotency-Key (written into ``keys``).
        Rows never sent, or whose recorded outcome is a failure, are sent again.
        """
        found = Resume(self.path)
        records = self.records(scope)
        if not records:
            return found
        retry_unknown = run.options.retry_unknown
        for position, identity in enumerate(identities):
            rec = records.get(identity)
            if rec is None:
                continue
            found.matched += 1
            keys[position] = rec.key
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

    def writer(self, run: Run, identities: list[str], keys: list[str]) -> JournalWriter:
        """Start recording ``run``: the hooks ``Run`` calls."""
        return JournalWriter(self, run, identities, keys)

    def close(self) -> None:
        self.conn.close()


def open_journal(path: str, url: str, *, rows: int, scope: str = "") -> Journal:
    """Open (or create) the journal at ``path`` for a send of ``rows`` rows to ``url``.

    Everything that can make the journal unusable is found here, before anything is sent:
    a folder or a missing folder, a path that cannot be written, too little free space, a
    file that is not a flux_magic journal or is damaged, the journal of another URL. Each is
    a ``JournalError``; the file is never reset or overwritten.
    """
    where = os.path.abspath(path)
    existed = _check_file(path, where)
    _check_space(path, where, rows)
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
        cur = conn.execute(
            "INSERT INTO runs (started, scope, rows) VALUES (?, ?, ?)", (time.time(), scope, rows)
        )
        run_no = int(cur.lastrowid or 0)
    except sqlite3.Error as exc:
        conn.close()
        raise _refusal(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return Journal(conn, path, run_no)


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
    """Records one run: claims rows before they leave, outcomes when known, in batches.

    ``Run`` calls ``began`` (before a row's first attempt), ``outcome`` / ``failed_mapping``
    (when its outcome is known), ``tick`` (from the caller's wait loop) and ``close`` (when
    the send is over). The hooks run in the sending thread and write there, in batches: no
    second thread competes with the sender for the interpreter. ``began`` commits only when
    the claims ahead run low or the row is not claimed yet; ``outcome`` queues a ready-made
    parameter row and commits the queue when the last commit is ``MIN_GAP`` old.
    """

    def __init__(self, journal: Journal, run: Run, identities: list[str], keys: list[str]):
        self.journal = journal
        self.run = run
        self.identities = identities
        self.keys = keys
        self.claimed = bytearray(run.total)
        #: Outcomes of claimed rows, as ``outcome`` rows of the next batch.
        self.queue: collections.deque[tuple[Any, ...]] = collections.deque()
        #: Rows whose mapping failed (never claimed): (position, error).
        self.unclaimed: collections.deque[tuple[int, str]] = collections.deque()
        concurrency = run.options.concurrency
        #: At most this many rows claimed without a committed outcome.
        self.window = 2 * concurrency + SLACK
        #: Claims ahead of the rows begun: enough for a few milliseconds of sending, few
        #: enough that after a crash few rows that never left are "outcome unknown".
        self._ahead = concurrency + SLACK // 2
        self._low = SLACK // 4
        self._open = 0
        self._cursor = 0
        self._claimed_n = 0
        self._begun = 0
        self._last = time.monotonic()
        self._labels = [str(label) for label in run.labels.tolist()]
        self.error: JournalError | None = None
        self._closed = False
        self._lock = threading.Lock()

    # -- the send path ----------------------------------------------------------------------
    def began(self, position: int) -> None:
        """Called before the row's request leaves: returns once its claim is committed."""
        if not self.claimed[position] or self._claimed_n - self._begun < self._low:
            self._commit(claim=True, raising=True, need=position)
            if not self.claimed[position]:
                raise JournalError(
                    f"journal {self.journal.path!r}: the row at position {position} could not "
                    "be claimed, so it was not sent."
                )
        self._begun += 1

    def outcome(
        self, position: int, status: int, sent: bool, error: str, attempts: int, elapsed: float
    ) -> None:
        """Called when a sent row's outcome is in the ledger; committed with the next batch."""
        # elapsed in whole microseconds: integers encode several times faster than floats
        self.queue.append((position, DONE, status, int(sent), error, attempts, int(elapsed * 1e6)))
        if time.monotonic() - self._last >= MIN_GAP:
            self._commit(claim=True, raising=False)  # claims too: began rarely has to

    def failed_mapping(self, position: int, error: str) -> None:
        """Called when a row's mapping failed: it was never sent (and may not be claimed)."""
        self.unclaimed.append((position, error))

    def tick(self) -> None:
        """Called by the caller's wait loop: commit outcomes that have waited too long."""
        if (self.queue or self.unclaimed) and time.monotonic() - self._last >= FLUSH_SECONDS:
            self._commit(claim=False, raising=False)

    def _commit(self, *, claim: bool, raising: bool, need: int = -1) -> None:
        if self.error is not None:
            if raising:
                raise self.error
            return
        if self._closed:
            if raising:
                raise JournalError("the send is over: its journal is closed")
            return
        with self._lock:
            try:
                self._flush(claim=claim, need=need)
            except sqlite3.Error as exc:
                error = self._fail(exc)
                if raising:
                    raise error from None
            finally:
                self._last = time.monotonic()

    def _fail(self, exc: sqlite3.Error) -> JournalError:
        text = str(exc)
        self.error = JournalError(
            f"journal {self.journal.path!r} could not be written during the send ({text}), "
            "so the send stopped: no row leaves without being recorded first. Rows already "
            "sent are recorded; fix the cause and run the same send again to resume."
        )
        self.run.crash = self.error
        self.run.stop("crashed")
        return self.error

    def _flush(self, *, claim: bool, need: int = -1) -> None:
        """One transaction: claims for the next rows (through position ``need`` at least)
        and every outcome queued so far."""
        queue = self.queue
        done: list[Any] = [queue.popleft() for _ in range(len(queue))]
        failed = [self.unclaimed.popleft() for _ in range(len(self.unclaimed))]
        claimed = self.claimed
        claims: list[int] = []
        if claim:
            room = min(
                self.window - (self._open - len(done)),
                self._ahead - (self._claimed_n - self._begun),
            )
            state = self.run.state
            cursor = self._cursor
            total = self.run.total
            while cursor < total and (room > 0 or cursor <= need):
                if state[cursor] == 0:  # not attempted: not skipped, not a failed mapping
                    claims.append(cursor)
                    room -= 1
                cursor += 1
            self._cursor = cursor
        if not claims and not done and not failed:
            return
        labels = self._labels
        ids = self.identities
        keys = self.keys
        claim_rows = [[p, ids[p], labels[p], keys[p]] for p in claims]
        freed = len(done)
        for pos, err in failed:  # recorded with a claim of their own if need be
            if claimed[pos]:
                freed += 1
                self._begun += 1  # a claim used up, as if begun: keeps the claims ahead going
            else:
                claim_rows.append([pos, ids[pos], labels[pos], keys[pos]])
            done.append((pos, DONE, 0, 0, err, 0, None))
        conn = self.journal.conn
        run_no = self.journal.run_no
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if claim_rows:
                conn.execute(_BATCH, (run_no, "claim", now, json.dumps(claim_rows)))
            if done:
                conn.execute(_BATCH, (run_no, "outcome", now, json.dumps(done)))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._open -= freed
        if claims:
            for pos in claims:
                claimed[pos] = 1
            self._open += len(claims)
            self._claimed_n += len(claims)

    # -- the end -------------------------------------------------------------------------------
    def close(self) -> None:
        """Record the last outcomes and the end of the run; give back unused claims."""
        if self._closed:
            return
        self._closed = True
        conn = self.journal.conn
        run = self.run
        try:
            if self.error is None:
                with self._lock:
                    self._flush(claim=False)
                claimed = self.claimed
                now = time.time()
                # claims given back (never left), and rows in flight when the send stopped
                ends = [
                    (p, NOT_SENT, 0, 0, "", 0, None)
                    if run.state[p] == 0
                    else (p, IN_FLIGHT, 0, 0, run.error[p], 0, None)
                    for p in range(run.total)
                    if claimed[p] and run.state[p] < 2
                ]
                conn.execute("BEGIN IMMEDIATE")
                if ends:
                    conn.execute(_BATCH, (self.journal.run_no, "outcome", now, json.dumps(ends)))
                conn.execute(
                    "UPDATE runs SET finished = ?, stop = ? WHERE run = ?",
                    (now, run.stop_reason, self.journal.run_no),
                )
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._fail(exc)
        finally:
            self.journal.close()


def _replay(conn: sqlite3.Connection, scope: str | None) -> list[list[Any]]:
    """Each row's latest state, replayed from the batches in order (rows of ``scope`` only,
    or every row for None): [identity, label, position, key, state, status, sent, error,
    attempts, elapsed, claimed, finished, run, sends]."""
    prefix = None if scope is None else f"{scope}:"
    latest: dict[str, list[Any]] = {}
    where: dict[tuple[int, int], list[Any]] = {}
    entries = conn.execute("SELECT run, kind, at, rows FROM batches ORDER BY seq")
    for run_no, kind, at, text in entries:
        rows = json.loads(text)
        if kind == "claim":
            for pos, identity, label, key in rows:
                if prefix is not None and not identity.startswith(prefix):
                    continue
                old = latest.get(identity)
                sends = (old[13] if old is not None else 0) + 1
                rec = [identity, label, pos, key, IN_FLIGHT, 0, 0, "", 0, math.nan, at]
                rec += [math.nan, run_no, sends]
                latest[identity] = rec
                where[run_no, pos] = rec
        else:
            for pos, state, status, sent, error, attempts, elapsed_us in rows:
                found = where.get((run_no, pos))
                if found is None:
                    continue
                rec = found
                rec[4] = state
                rec[7] = error
                rec[11] = at
                if state == DONE:
                    rec[5], rec[6], rec[8] = status, sent, attempts
                    rec[9] = math.nan if elapsed_us is None else elapsed_us / 1e6
                    if not attempts:  # a failed mapping: never sent
                        rec[13] -= 1
                elif state == NOT_SENT:
                    rec[13] -= 1
    return list(latest.values())


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
        problem = conn.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise _refusal(name, sqlite3.DatabaseError(f"database is corrupt: {problem}"), "")
        rows = sorted(_replay(conn, None), key=lambda r: (r[12], r[2], r[0]))
    except sqlite3.Error as exc:
        raise _refusal(name, exc, "") from None
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

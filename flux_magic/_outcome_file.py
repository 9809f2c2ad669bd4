"""A journal run's outcome file: each row's state and outcome, stored the moment it is known.

The journal (``_journal``) commits to SQLite in batches, a few times a second. Between two
commits, what a row did is written here at once, by plain stores into a memory-mapped file
(no system call, no transaction, no wait): that its request left, and then its outcome. The
operating system holds those pages, so a kernel or Python killed mid-send (SIGKILL, OOM) loses
nothing written here; the next send that opens the journal folds the file into it. (A power
cut may lose it, as it may lose the last SQLite commits: WAL, ``synchronous=NORMAL``.)

One file per run, beside the journal: ``<journal>-run<N>``, removed when the run ends and its
outcomes are committed. Layout: a 64-byte header (magic, format version, byte order, run
number, rows, a digest that ties the file to its journal), then one column per field with
one entry per row of the run, by position: ``state`` (u1: 0 never left, 1 left and in flight,
2 outcome known), ``sent`` (u1), ``status`` (i4), ``attempts`` (i4), ``elapsed`` (f8 seconds).
A row's fields are stored before its state, so a state of 2 always comes with its fields.

The run writing a file holds an exclusive ``flock`` on it: a file nobody holds belongs to a
run that is over, and only such a file is folded. Its space is reserved when it is made
(``posix_fallocate``): a disk that fills up later cannot fail a store (on a memory-mapped file
that would end the process with SIGBUS). A file that is damaged or belongs to another journal
is never trusted: its rows keep what SQLite says (outcome unknown).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "KNOWN",
    "LEFT",
    "NEVER_LEFT",
    "OutcomeFile",
    "Outcomes",
    "file_for",
    "read_outcomes",
    "size_for",
    "take_over",
]

NEVER_LEFT, LEFT, KNOWN = 0, 1, 2
_MAGIC = b"fluxmrun"
_VERSION = 1
_ORDER = b"<" if sys.byteorder == "little" else b">"
#: magic, version, byte order, run, rows, digest (16 bytes); padded to 64 bytes
_HEAD = struct.Struct("<8sIc3xQQ16s")
_HEAD_SIZE = 64


if sys.platform != "win32":
    import fcntl

    def _lock(fd: int, *, wait: bool = False) -> bool | None:
        """Take the exclusive lock of a run's file: False if another process holds it and
        ``wait`` is not set (None where there are no such locks)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

else:  # pragma: no cover - no flock: a run's file is never taken for one whose run is over

    def _lock(fd: int, *, wait: bool = False) -> bool | None:
        return None


def _reserve(fd: int, size: int) -> None:
    """Give the file its ``size`` bytes on disk now (ENOSPC here, not SIGBUS later)."""
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, 0, size)
        return
    zeros = bytes(min(size, 1 << 20))  # pragma: no cover - systems without posix_fallocate
    written = 0  # pragma: no cover
    while written < size:  # pragma: no cover
        written += os.write(fd, zeros[: size - written])


def file_for(journal: str, run_no: int) -> str:
    """The outcome file of run ``run_no`` of the journal at the absolute path ``journal``."""
    return f"{journal}-run{run_no}"


def _offsets(rows: int) -> tuple[int, int, int, int, int, int]:
    """Byte offsets of the columns (state, sent, status, attempts, elapsed) and the size."""
    state = _HEAD_SIZE
    sent = state + rows
    status = (sent + rows + 7) // 8 * 8
    attempts = status + 4 * rows
    elapsed = attempts + 4 * rows  # a multiple of 8: status is, and 8 * rows is
    return state, sent, status, attempts, elapsed, elapsed + 8 * rows


def size_for(rows: int) -> int:
    """The size in bytes of the outcome file of a run of ``rows`` rows."""
    return _offsets(rows)[-1]


class OutcomeFile:
    """The outcome file a run writes (``create``): its columns as memoryviews, one entry per
    row; ``close`` ends it (and removes it once the run's outcomes are in SQLite)."""

    def __init__(self, path: str, fd: int, area: mmap.mmap, rows: int) -> None:
        self.path = path
        self._fd = fd
        self._area = area
        view = memoryview(area)
        state, sent, status, attempts, elapsed, end = _offsets(rows)
        self.state = view[state:sent]
        self.sent = view[sent : sent + rows]
        self.status = view[status:attempts].cast("i")
        self.attempts = view[attempts:elapsed].cast("i")
        self.elapsed = view[elapsed:end].cast("d")
        self._views: list[memoryview[Any]] = [
            self.state,
            self.sent,
            self.status,
            self.attempts,
            self.elapsed,
            view,
        ]

    @classmethod
    def create(cls, path: str, run_no: int, rows: int, digest: bytes) -> OutcomeFile:
        """Make the file of a new run, locked, its space reserved. Raises OSError."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            _drop_stale(path, digest)  # left by an earlier journal at this path
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            # a new file: only another send looking at it (``take_over``) can hold it, briefly
            if _lock(fd, wait=True) is False:
                raise FileExistsError(f"{path} is in use by another send")
            size = size_for(rows)
            _reserve(fd, size)
            area = mmap.mmap(fd, size)
            area[:_HEAD_SIZE] = _HEAD.pack(_MAGIC, _VERSION, _ORDER, run_no, rows, digest).ljust(
                _HEAD_SIZE, b"\0"
            )
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        return cls(path, fd, area, rows)

    def close(self, *, remove: bool) -> None:
        """Stop writing (every view is released: a late store raises, never writes freed
        memory); ``remove`` deletes the file, else it stays for the next open to fold."""
        for view in self._views:
            view.release()
        self._area.close()
        if remove:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(self._fd)  # releases the lock


def _drop_stale(path: str, digest: bytes) -> None:
    """Remove an outcome file at ``path`` that no run holds and that is not this journal's
    (the journal was deleted and made again); refuse anything else with OSError."""
    with open(path, "rb") as fh:
        if not _lock(fh.fileno()):
            raise FileExistsError(f"{path} is in use by another send")
        head = fh.read(_HEAD_SIZE)
        if len(head) < _HEAD.size or head[:8] != _MAGIC:
            raise FileExistsError(f"{path} exists and is not a flux_magic outcome file")
        if _HEAD.unpack_from(head)[5] == digest:
            raise FileExistsError(f"{path} belongs to a run of this journal that is not over")
        os.unlink(path)


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What an outcome file says, one entry per row of its run (numpy arrays)."""

    state: npt.NDArray[np.uint8]
    sent: npt.NDArray[np.uint8]
    status: npt.NDArray[np.int32]
    attempts: npt.NDArray[np.int32]
    elapsed: npt.NDArray[np.float64]


def _parse(data: bytes, run_no: int, rows: int, digest: bytes) -> Outcomes | None:
    """The columns of an outcome file's bytes, or None when they are not the file of run
    ``run_no`` (of ``rows`` rows) of this journal, or are damaged."""
    if len(data) != size_for(rows) or len(data) < _HEAD.size:
        return None
    magic, version, order, run, count, tag = _HEAD.unpack_from(data)
    if (magic, version, order, run, count, tag) != (_MAGIC, _VERSION, _ORDER, run_no, rows, digest):
        return None
    state, sent, status, attempts, elapsed, _ = _offsets(rows)
    return Outcomes(
        np.frombuffer(data, np.uint8, rows, state),
        np.frombuffer(data, np.uint8, rows, sent),
        np.frombuffer(data, np.int32, rows, status),
        np.frombuffer(data, np.int32, rows, attempts),
        np.frombuffer(data, np.float64, rows, elapsed),
    )


def read_outcomes(path: str, run_no: int, rows: int, digest: bytes) -> Outcomes | None:
    """Read an outcome file as it is now (its run may still be writing it), or None when
    there is none or it cannot be trusted."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(size_for(rows) + 1)
    except OSError:
        return None
    return _parse(data, run_no, rows, digest)


class _Taken:
    """An outcome file whose run is over, locked by the one folding it."""

    def __init__(self, path: str, fd: int, outcomes: Outcomes | None) -> None:
        self.path = path
        self._fd = fd
        self.outcomes = outcomes

    def remove(self) -> None:
        """Its outcomes are in the journal now: delete it."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self.release()

    def release(self) -> None:
        """Let the file go (unlocked), if not done yet."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


def take_over(path: str, run_no: int, rows: int, digest: bytes) -> _Taken | None:
    """Lock the outcome file of a run that is over, to fold it into the journal: None when
    there is no file or its run is still writing it (it holds the lock). The ``outcomes`` of
    what is returned are None when the file cannot be trusted."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if not _lock(fd):
        os.close(fd)
        return None
    try:
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(size_for(rows) + 1)
    except OSError:
        os.close(fd)
        return None
    return _Taken(path, fd, _parse(data, run_no, rows, digest))

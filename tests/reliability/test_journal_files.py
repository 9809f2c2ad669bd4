"""Hostile journal files: each is refused with a clear message before anything is sent, and
never reset or overwritten."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import JournalError, Receiver


def body(r: Any) -> dict[str, Any]:
    return {"headers": {}, "data": f"row {r.v}".encode()}


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"v": range(n)})


@pytest.fixture(scope="module")
def rx() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def refused(rx: Receiver, path: Path | str, match: str, n: int = 5) -> str:
    """Send with the journal at ``path``: it must raise JournalError and send nothing."""
    before = rx.count
    with pytest.raises(JournalError, match=match) as info:
        flux_magic.endpoint(rx.url, concurrency=4, journal=str(path))(body)(frame(n))
    assert rx.count == before, "nothing may be sent"
    assert "Nothing was sent." in str(info.value)
    return str(info.value)


def test_a_file_that_is_not_sqlite_is_refused_and_kept(rx: Receiver, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes, not a journal\n")
    refused(rx, path, "is not an SQLite file")
    assert path.read_text() == "my notes, not a journal\n"


def test_another_sqlite_database_is_refused_and_kept(rx: Receiver, tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    conn.close()
    before = path.read_bytes()
    refused(rx, path, "not a flux_magic journal")
    assert path.read_bytes() == before


def test_a_damaged_journal_is_refused_never_reset(rx: Receiver, tmp_path: Path) -> None:
    path = tmp_path / "sends.sqlite"
    flux_magic.endpoint(rx.url, journal=str(path))(body)(frame(300))
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    page = 4096
    data[2 * page : 3 * page] = b"\xa5" * page  # garble one page of the table
    path.write_bytes(bytes(data))
    message = refused(rx, path, "is damaged")
    assert "Move it away to start a new journal" in message
    assert path.read_bytes() == bytes(data)
    with pytest.raises(JournalError):
        flux_magic.read_journal(path)


def test_a_truncated_journal_is_refused(rx: Receiver, tmp_path: Path) -> None:
    path = tmp_path / "sends.sqlite"
    flux_magic.endpoint(rx.url, journal=str(path))(body)(frame(300))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused(rx, path, "is damaged")
    assert path.read_bytes() == data[: len(data) // 2]


def test_folders(rx: Receiver, tmp_path: Path) -> None:
    refused(rx, tmp_path, "is a folder")
    refused(rx, tmp_path / "missing" / "sends.sqlite", "does not exist")


def _mount(target: Path, options: str) -> bool:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB filesystem (tmpfs; needs root), unmounted after the test."""
    target = tmp_path / "disk"
    target.mkdir()
    if os.geteuid() != 0 or not _mount(target, "size=256k"):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def test_a_read_only_place_is_refused_before_sending(rx: Receiver, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through file modes: use a read-only filesystem
        target = tmp_path / "ro"
        target.mkdir()
        if not _mount(target, "size=256k"):
            pytest.skip("mounting a tmpfs needs privileges")
        try:
            flux_magic.endpoint(rx.url, journal=str(target / "old.sqlite"))(body)(frame(3))
            subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)
            _read_only_checks(rx, target)
        finally:
            subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)
    else:
        target = tmp_path / "ro"
        target.mkdir()
        flux_magic.endpoint(rx.url, journal=str(target / "old.sqlite"))(body)(frame(3))
        os.chmod(target / "old.sqlite", 0o444)
        os.chmod(target, 0o555)
        try:
            _read_only_checks(rx, target)
        finally:
            os.chmod(target, 0o755)


def _read_only_checks(rx: Receiver, target: Path) -> None:
    refused(rx, target / "new.sqlite", "cannot be written")
    refused(rx, target / "old.sqlite", "cannot be written")
    assert not (target / "new.sqlite").exists()


def test_a_disk_too_full_is_refused_before_sending(rx: Receiver, small_disk: Path) -> None:
    message = refused(rx, small_disk / "sends.sqlite", "bytes are free on its disk", n=5_000)
    assert "recording 5,000 rows needs about" in message
    # a full disk: fill it up, then even one row is refused
    fd = os.open(small_disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    refused(rx, small_disk / "sends.sqlite", "free on its disk|disk is full", n=1)


def test_read_journal_refuses_what_is_not_a_journal(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="does not exist"):
        flux_magic.read_journal(tmp_path / "nothing.sqlite")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(JournalError, match="is not an SQLite file"):
        flux_magic.read_journal(text)


def test_a_disk_that_fills_up_during_the_send_stops_it(tmp_path: Path) -> None:
    """The journal cannot be written mid-send: the send stops with a JournalError carrying
    every row; what the journal holds is true, and a second run resumes from it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not _mount(disk, "size=4m"):
        pytest.skip("mounting a small tmpfs needs root")
    path = disk / "sends.sqlite"
    filler = disk / "filler"

    def fill(done: int, total: int, sent: int, failed: int) -> None:
        if done >= 20 and not filler.exists():
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError:
                pass
            finally:
                os.close(fd)

    try:
        with Receiver(delay=0.01) as rx:
            send = flux_magic.endpoint(rx.url, concurrency=4, journal=str(path))(body)
            with pytest.raises(JournalError, match="could not be written during the send") as info:
                send(frame(400), progress=fill)
            result = info.value.result  # type: ignore[attr-defined]
            assert len(result) == 400
            arrived = rx.count
            assert 20 <= arrived < 400, arrived
            assert int((result["_sent"] == "true").sum()) <= arrived
            filler.unlink()
            recorded = flux_magic.read_journal(path)
            sent = recorded.loc[recorded["outcome"] == "sent"]
            # every row recorded as sent arrived; beyond them, at most one row per worker
            # arrived (answered, its outcome not on disk yet when the disk filled)
            assert len(sent) <= arrived <= len(sent) + 4, (len(sent), arrived)
            again = flux_magic.endpoint(
                rx.url, concurrency=4, journal=str(path), retry_unknown=True
            )(body)(frame(400))
            assert again["_sent"].eq("true").all()
            assert again.attrs["flux_journal"]["skipped"] == len(sent)
            assert rx.count <= 400 + 4  # at most one row per worker arrived twice
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)


def test_a_journal_of_another_format_version_is_refused(rx: Receiver, tmp_path: Path) -> None:
    path = tmp_path / "sends.sqlite"
    flux_magic.endpoint(rx.url, journal=str(path))(body)(frame(3))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE name = 'version'")
    conn.close()
    before = path.read_bytes()
    message = refused(rx, path, "written by another version of flux_magic")
    assert "journal format '1', this one reads '2'" in message
    assert path.read_bytes() == before
    with pytest.raises(JournalError, match="written by another version"):
        flux_magic.read_journal(path)


@pytest.mark.parametrize(
    ("kind", "column", "value"),
    [
        ("claim", "positions", b"\x00\x01\x02\x03\x04\x05\x06"),  # not whole int64s
        ("claim", "labels", '{"start": "x", "step": 1}'),  # a range index that is not one
        ("outcome", "errors", "[1, 2]"),  # error notes that are not [index, text] pairs
        ("outcome", "statuses", b"\x00"),  # a column of the wrong length
    ],
)
def test_a_batch_that_does_not_fit_together_is_refused(
    rx: Receiver, tmp_path: Path, kind: str, column: str, value: object
) -> None:
    """A journal whose SQLite file is sound but whose batches hold what no journal writes:
    refused before anything is written to it, and by ``read_journal``."""
    path = tmp_path / "sends.sqlite"
    flux_magic.endpoint(rx.url, journal=str(path))(body)(frame(5))
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE batches SET {column} = ? WHERE kind = ?", (value, kind))
    conn.close()
    before = path.read_bytes()
    message = refused(rx, path, "is damaged")
    assert "does not fit" in message or "wrong length" in message, message
    assert path.read_bytes() == before
    with pytest.raises(JournalError, match="is damaged"):
        flux_magic.read_journal(path)

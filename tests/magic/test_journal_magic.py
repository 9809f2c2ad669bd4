"""``--journal`` in the cell magic: a second run resumes, and the summary line says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError as IPythonUsageError

import flux_magic

MAPPING = 'lambda r: {"headers": {}, "data": f"{r.host}={r._value}".encode()}'


def test_a_second_run_with_the_same_journal_skips_what_was_sent(
    shell: Any, receiver: flux_magic.Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "sends.sqlite"
    line = f"df --url {receiver.url} --journal {journal} -o result"
    shell.run_cell_magic("flux_endpoint", line, MAPPING)
    first = capsys.readouterr().out
    assert "3 of 3 rows sent" in first
    assert "Resumed" not in first
    shell.run_cell_magic("flux_endpoint", line, MAPPING)
    second = capsys.readouterr().out
    assert receiver.count == 3  # nothing sent twice
    assert (
        f"Resumed from journal {journal}: 3 rows already sent by an earlier run were skipped "
        "(not sent again)." in second
    )
    assert shell.user_ns["result"]["_sent"].tolist() == ["true"] * 3
    # every request carried its Idempotency-Key, the one on record
    sent_keys = [h["Idempotency-Key"] for h in receiver.requests["headers"]]
    assert sent_keys == flux_magic.read_journal(journal)["idempotency_key"].tolist()


def test_a_refused_journal_is_a_one_line_error(
    shell: Any, receiver: flux_magic.Receiver, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a journal")
    with pytest.raises((flux_magic.UsageError, IPythonUsageError), match="is not an SQLite file"):
        shell.run_cell_magic("flux_endpoint", f"df --url {receiver.url} --journal {notes}", MAPPING)
    assert receiver.count == 0

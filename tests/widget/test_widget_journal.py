"""The widget's journal field: a second send resumes, and the message says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from widget_helpers import make, send

import flux_magic


def test_the_journal_field_resumes_a_send(
    namespace: dict[str, Any], receiver: flux_magic.Receiver, tmp_path: Path
) -> None:
    journal = str(tmp_path / "sends.sqlite")
    w = make(namespace, receiver.url)
    w.journal.value = journal
    assert w.options()["journal"] == journal
    assert f"--journal {journal}" in w.code_text()
    send(w)
    assert "Resumed" not in w.message.value
    send(w)
    assert receiver.count == 3
    assert (
        f"Resumed from journal {journal}: 3 rows already sent by an earlier run were skipped"
        in w.message.value
    )
    assert w.result is not None
    assert w.result["_sent"].tolist() == ["true"] * 3

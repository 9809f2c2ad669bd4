"""The processes of the journal crash test (``test_journal_crash.py``), one role each.

python journal_crash_child.py receive DELAY
    A flux_magic.Receiver answering every request after DELAY seconds; prints its URL,
    then, on a line "dump PATH" on stdin, writes what arrived (body, Idempotency-Key,
    time) as JSON to PATH and exits.
python journal_crash_child.py send URL JOURNAL ROWS CONCURRENCY RETRY_UNKNOWN OUT
    Sends ROWS rows with the journal, printing "done N" as progress; writes the result's
    counts and its journal note as JSON to OUT.
"""

from __future__ import annotations

import json
import sys

import pandas as pd

import flux_magic


def receive(delay: float) -> None:
    with flux_magic.Receiver(delay=delay) as rx:
        print(rx.url, flush=True)
        for line in sys.stdin:
            command, _, path = line.strip().partition(" ")
            if command == "dump":
                arrived = [
                    [r.body.decode(), r.headers.get("Idempotency-Key", ""), r.time]
                    for r in rx.received()
                ]
                with open(path, "w") as fh:
                    json.dump(arrived, fh)
                print("dumped", flush=True)
                return


def send(
    url: str, journal: str, rows: int, concurrency: int, retry_unknown: bool, out: str
) -> None:
    df = pd.DataFrame({"v": range(rows)})

    def progress(done: int, total: int, sent: int, failed: int) -> None:
        print(f"done {done}", flush=True)

    sender = flux_magic.endpoint(
        url, concurrency=concurrency, journal=journal, retry_unknown=retry_unknown, timeout=30
    )(lambda r: {"headers": {"Content-Type": "text/plain"}, "data": f"row {r.v}".encode()})
    result = sender(df, progress=progress)
    with open(out, "w") as fh:
        json.dump(
            {
                "rows": len(result),
                "sent": int((result["_sent"] == "true").sum()),
                "errors": sorted(set(result["_error"]))[:5],
                "note": result.attrs.get("flux_journal"),
            },
            fh,
        )


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "receive":
        receive(float(sys.argv[2]))
    else:
        url, journal, rows, concurrency, retry_unknown, out = sys.argv[2:8]
        send(url, journal, int(rows), int(concurrency), retry_unknown == "1", out)

"""The journal (option ``journal=``): what it records, and how a second run resumes."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import Received, Receiver, Reply
from flux_magic._summary import summarize


class Script:
    """What the receiver answers, by request body: a status, or a delay (seconds)."""

    def __init__(self) -> None:
        self.status: dict[bytes, int] = {}
        self.delay: dict[bytes, float] = {}
        self.keys: dict[bytes, list[str]] = {}
        self.lock = threading.Lock()

    def __call__(self, req: Received) -> Reply:
        with self.lock:
            self.keys.setdefault(req.body, []).append(req.headers.get("Idempotency-Key", ""))
        return Reply(self.status.get(req.body, 200), delay=self.delay.get(req.body, 0.0))

    def arrivals(self) -> Counter[bytes]:
        with self.lock:
            return Counter({body: len(keys) for body, keys in self.keys.items()})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Receiver, Script]]:
    script = Script()
    with Receiver(script) as rx:
        yield rx, script


@pytest.fixture
def rx(served: tuple[Receiver, Script]) -> Iterator[tuple[Receiver, Script]]:
    receiver, script = served
    yield receiver, script
    receiver.clear()
    with script.lock:
        script.status.clear()
        script.delay.clear()
        script.keys.clear()


def body(r: Any) -> dict[str, Any]:
    return {"headers": {"Content-Type": "text/plain"}, "data": f"row {r.v}".encode()}


def frame(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"v": range(start, start + n)}, index=range(start, start + n))


@pytest.mark.parametrize("concurrency", [1, 8])
def test_every_row_is_recorded_with_the_key_it_was_sent_with(
    rx: tuple[Receiver, Script], tmp_path: Path, concurrency: int
) -> None:
    receiver, script = rx
    script.status[b"row 3"] = 500
    path = tmp_path / "sends.sqlite"
    send = flux_magic.endpoint(receiver.url, concurrency=concurrency, journal=str(path))(body)
    result = send(frame(50))
    assert result["_sent"].tolist() == ["true"] * 3 + ["false"] + ["true"] * 46
    journal = flux_magic.read_journal(path)
    assert len(journal) == 50
    assert journal["label"].tolist() == [str(i) for i in range(50)]
    assert journal["position"].tolist() == list(range(50))
    assert journal["outcome"].tolist() == ["sent"] * 3 + ["failed"] + ["sent"] * 46
    assert journal["_status"].tolist() == ["200"] * 3 + ["500"] + ["200"] * 46
    assert journal["_sent"].tolist() == result["_sent"].tolist()
    assert journal["_attempts"].tolist() == [1] * 50
    assert (journal["_elapsed"] > 0).all()
    assert (journal["finished_at"] >= journal["claimed_at"]).all()
    # the journal turns the Idempotency-Key on: the key recorded is the key that was sent
    for i, key in enumerate(journal["idempotency_key"]):
        assert script.keys[f"row {i}".encode()] == [key]
    assert journal["identity"].is_unique


def test_a_second_run_sends_only_what_the_first_did_not(
    rx: tuple[Receiver, Script], tmp_path: Path
) -> None:
    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")
    send = flux_magic.endpoint(receiver.url, concurrency=4, journal=path)(body)
    script.status[b"row 7"] = 503
    first = send(frame(20))
    assert first["_sent"].tolist().count("false") == 1
    assert first.attrs["flux_journal"]["resumed"] is False
    script.status.clear()
    # the same rows plus five new ones: the 19 sent rows are skipped, row 7 and the new go
    second = send(frame(25))
    arrivals = script.arrivals()
    assert arrivals[b"row 7"] == 2
    assert all(arrivals[f"row {i}".encode()] == 1 for i in range(25) if i != 7)
    assert second["_sent"].tolist() == ["true"] * 25
    assert second["_status"].tolist() == ["200"] * 25
    assert second.attrs["flux_journal"] == {
        "path": path,
        "resumed": True,
        "skipped": 19,
        "held_unknown": 0,
        "resent_unknown": 0,
    }
    # skipped rows come back with their recorded outcome, elapsed time included (to the µs)
    recorded = second["_elapsed"].iloc[:7] - first["_elapsed"].iloc[:7]
    assert recorded.abs().max() <= 1e-6
    line = summarize(second).line()
    assert "Resumed from journal " + path in line
    assert "19 rows already sent by an earlier run were skipped (not sent again)." in line
    # a third run has nothing left to send
    third = send(frame(25))
    assert sum(script.arrivals().values()) == 26
    assert third.attrs["flux_journal"]["skipped"] == 25
    assert third["_sent"].tolist() == ["true"] * 25


def test_a_changed_row_is_a_new_row(rx: tuple[Receiver, Script], tmp_path: Path) -> None:
    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")
    send = flux_magic.endpoint(receiver.url, journal=path)(
        lambda r: {"headers": {}, "data": f"row {r.v} {r.w}".encode()}
    )
    df = pd.DataFrame({"v": [0, 1, 2], "w": ["a", "b", "c"]})
    send(df)
    changed = df.assign(w=["a", "B", "c"])
    again = send(changed)
    assert again.attrs["flux_journal"]["skipped"] == 2
    assert script.arrivals() == Counter(
        {b"row 0 a": 1, b"row 1 b": 1, b"row 2 c": 1, b"row 1 B": 1}
    )
    # equal rows under equal labels are told apart by their occurrence
    dupes = pd.DataFrame({"v": [9, 9], "w": ["x", "x"]}, index=[5, 5])
    send(dupes)
    assert script.arrivals()[b"row 9 x"] == 2
    assert send(dupes).attrs["flux_journal"]["skipped"] == 2
    assert script.arrivals()[b"row 9 x"] == 2


def test_interrupted_rows_resume_and_unknown_ones_need_retry_unknown(
    rx: tuple[Receiver, Script], tmp_path: Path
) -> None:
    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")
    n = 60
    for i in range(10, 14):  # in flight when the send is cancelled: outcome unknown
        script.delay[f"row {i}".encode()] = 3.0
    cancel = threading.Event()

    def progress(done: int, total: int, sent: int, failed: int) -> None:
        if done >= 10:
            cancel.set()

    send = flux_magic.endpoint(receiver.url, concurrency=4, journal=path)(body)
    first = send(frame(n), progress=progress, cancel=cancel)
    unknown = first["_error"].str.startswith("outcome unknown")
    assert unknown.tolist() == [10 <= i < 14 for i in range(n)]
    assert first["_sent"].iloc[:10].tolist() == ["true"] * 10
    journal = flux_magic.read_journal(path)
    by_label = journal.set_index("label")["outcome"]
    assert [by_label[str(i)] for i in range(10, 14)] == ["unknown"] * 4
    # rows never attempted are recorded as not sent, or not recorded at all
    assert set(by_label.reindex([str(i) for i in range(14, n)]).fillna("absent")) <= {
        "not sent",
        "absent",
    }
    script.delay.clear()
    receiver.wait_for(14, timeout=10)
    keys_before = {i: script.keys[f"row {i}".encode()][0] for i in range(10, 14)}

    second = send(frame(n))  # without retry_unknown: the four are held back
    arrivals = script.arrivals()
    assert [arrivals[f"row {i}".encode()] for i in range(n)] == [1] * n
    note = second.attrs["flux_journal"]
    assert (note["skipped"], note["held_unknown"], note["resent_unknown"]) == (10, 4, 0)
    held = second["_error"].str.startswith("outcome unknown")
    assert held.tolist() == [10 <= i < 14 for i in range(n)]
    assert "retry_unknown=True sends it again" in second["_error"].iloc[10]
    line = summarize(second).line(retry_unknown_hint="--retry-unknown")
    assert (
        "4 rows in flight when an earlier run stopped (outcome unknown) were not sent again; "
        "--retry-unknown sends them with their recorded Idempotency-Key." in line
    )

    third = flux_magic.endpoint(receiver.url, concurrency=4, journal=path, retry_unknown=True)(
        body
    )(frame(n))
    assert third["_sent"].tolist() == ["true"] * n
    assert third.attrs["flux_journal"]["resent_unknown"] == 4
    for i in range(10, 14):
        assert script.keys[f"row {i}".encode()] == [keys_before[i]] * 2
    assert "sent again with the recorded Idempotency-Key" in summarize(third).line()
    assert (flux_magic.read_journal(path)["outcome"] == "sent").all()


def test_mapping_errors_are_recorded_and_tried_again(
    rx: tuple[Receiver, Script], tmp_path: Path
) -> None:
    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")
    broken = {2}

    def mapping(r: Any) -> dict[str, Any]:
        if r.v in broken:
            raise ValueError("not today")
        return body(r)

    send = flux_magic.endpoint(receiver.url, concurrency=2, journal=path)(mapping)
    first = send(frame(5))
    assert first["_error"].iloc[2].startswith("mapping error")
    row = flux_magic.read_journal(path).set_index("label").loc["2"]
    assert (row["outcome"], row["_attempts"]) == ("failed", 0)
    assert "not today" in row["_error"]
    broken.clear()
    second = send(frame(5))
    assert second["_sent"].tolist() == ["true"] * 5
    assert script.arrivals()[b"row 2"] == 1


def test_nothing_secret_is_stored(rx: tuple[Receiver, Script], tmp_path: Path) -> None:
    receiver, _script = rx
    path = tmp_path / "sends.sqlite"
    url = receiver.url.replace("http://", "http://alice:pw-Zq81x@") + "?token=tk-Zq82y"
    send = flux_magic.endpoint(url, concurrency=4, journal=str(path))(
        lambda r: {
            "headers": {"Authorization": "Bearer hdr-Zq83z", "X-Custom": "val-Zq84w"},
            "data": f"body-Zq85v {r.v}".encode(),
        }
    )
    assert send(frame(30))["_sent"].eq("true").all()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"pw-Zq81x", b"tk-Zq82y", b"hdr-Zq83z", b"val-Zq84w", b"body-Zq85v", b"Bearer"):
        assert secret not in stored, secret
    # the check reads the real files: what is stored is there (packed: the key's 16 bytes,
    # the content hash as a little-endian 64-bit integer)
    journal = flux_magic.read_journal(path)
    assert uuid.UUID(journal["idempotency_key"].iloc[0]).bytes in stored
    content_hash = int(journal["identity"].iloc[-1].split(":")[1], 16)
    assert content_hash.to_bytes(8, "little") in stored


def test_a_journal_of_another_url_is_refused(rx: tuple[Receiver, Script], tmp_path: Path) -> None:
    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")
    flux_magic.endpoint(receiver.url, journal=path)(body)(frame(3))
    other = receiver.url + "elsewhere?token=tk-Zq86u"
    with pytest.raises(flux_magic.JournalError) as info:
        flux_magic.endpoint(other, journal=path)(body)(frame(3))
    message = str(info.value)
    assert "records a send to " + receiver.url in message
    assert "give this send its own journal" in message
    assert "tk-Zq86u" not in message
    assert sum(script.arrivals().values()) == 3  # nothing more was sent
    assert len(flux_magic.read_journal(path)) == 3  # and the journal is unchanged


def test_the_option_in_every_front_end(tmp_path: Path) -> None:
    assert flux_magic.Options().journal is None
    assert flux_magic.Options(journal=tmp_path / "a.sqlite").journal == str(tmp_path / "a.sqlite")
    assert flux_magic.Options(journal="~/x.sqlite").journal == str(Path.home() / "x.sqlite")
    for bad in ("", "  ", 3):
        with pytest.raises(flux_magic.UsageError, match="journal must be the path"):
            flux_magic.Options(journal=bad)  # type: ignore[arg-type]


def test_a_refusal_inside_a_sent_answer_comes_back_on_resume(tmp_path: Path) -> None:
    from flux_magic.endpoints import slack

    answers = iter([b'{"ok":true}', b'{"ok":false,"error":"channel_not_found"}'])
    path = str(tmp_path / "slack.sqlite")
    df = pd.DataFrame({"_message": ["a", "b"]})
    with Receiver(lambda req: Reply(200, body=next(answers, b'{"ok":true}'))) as receiver:
        send = slack.endpoint(url=receiver.url, token="xoxb-T0KEN", journal=path)(
            lambda r: {"channel": "#c", "text": r._message, "color": "good"}
        )
        first = send(df)
        second = send(df)
        assert receiver.count == 2  # both rows were sent (any 2xx, as Flux): not again
    for result in (first, second):
        assert result["_sent"].tolist() == ["true", "true"]
        assert result["_error"].iloc[0] == ""
        assert "channel_not_found" in result["_error"].iloc[1]
    assert second.attrs["flux_journal"]["skipped"] == 2
    assert summarize(second).refused == 1
    assert b"xoxb-T0KEN" not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_scopes_share_one_journal_even_at_the_same_time(
    rx: tuple[Receiver, Script], tmp_path: Path
) -> None:
    """Partitions (Dask) send with their own scope into one journal, concurrently."""
    from flux_magic._options import Options
    from flux_magic._send import send_frame

    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")
    options = Options(concurrency=4, journal=path)
    parts = [frame(300, start=300 * i) for i in range(4)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            out = send_frame(parts[i], body, receiver.url, options, scope=str(i))
            assert out["_sent"].eq("true").all()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(script.arrivals().values()) == 1200
    journal = flux_magic.read_journal(path)
    assert len(journal) == 1200
    assert (journal["outcome"] == "sent").all()
    # a partition run again skips what it sent; the same rows in another scope are new rows
    again = send_frame(parts[2], body, receiver.url, options, scope="2")
    assert again.attrs["flux_journal"]["skipped"] == 300
    assert sum(script.arrivals().values()) == 1200


def test_a_long_run_of_mapping_errors_does_not_stall_the_claims(
    rx: tuple[Receiver, Script], tmp_path: Path
) -> None:
    receiver, script = rx
    path = str(tmp_path / "sends.sqlite")

    def fails(v: int) -> bool:  # a long run, then every other row among claimed ones
        return 5 <= v < 900 or (v >= 900 and v % 2 == 1)

    def mapping(r: Any) -> dict[str, Any]:
        if fails(r.v):
            raise ValueError("no")
        return body(r)

    result = flux_magic.endpoint(receiver.url, concurrency=2, journal=path)(mapping)(frame(2000))
    assert result["_sent"].eq("true").tolist() == [not fails(i) for i in range(2000)]
    sent = sum(not fails(i) for i in range(2000))
    assert sum(script.arrivals().values()) == sent
    journal = flux_magic.read_journal(path)
    assert Counter(journal["outcome"]) == Counter({"sent": sent, "failed": 2000 - sent})

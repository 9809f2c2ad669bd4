"""After a send: resend_failed, limit, and plot_outcomes, against real loopback receivers."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import Received, Receiver, Reply

pytestmark = pytest.mark.usefixtures("concurrent_path")

CONCURRENCY = [1, 4]


def body_map(r: Any) -> dict[str, Any]:
    return {"headers": {}, "data": str(r.v).encode()}


def failing(*values: int) -> Any:
    """A receiver handler answering 500 to the bodies of ``values``, 200 to the others."""
    bodies = {str(v).encode() for v in values}
    return lambda req: 500 if req.body in bodies else 200


@pytest.mark.parametrize("concurrency", CONCURRENCY)
def test_resend_failed_sends_only_failed_rows_and_keeps_order_and_index(
    concurrency: int,
) -> None:
    df = pd.DataFrame({"v": range(8), "tag": list("xyxyxyxy")}, index=[f"r{i}" for i in range(8)])
    df.attrs["flux_group_key"] = ["tag"]
    with Receiver(status=failing(1, 5, 6)) as rx:
        first = flux_magic.endpoint(rx.url, concurrency=concurrency)(body_map)(df)
    assert first["_sent"].tolist().count("false") == 3
    with Receiver() as rx:
        sender = flux_magic.endpoint(rx.url, concurrency=concurrency)(body_map)
        again = sender.resend_failed(first)
        assert sorted(rx.requests["body"].tolist()) == [b"1", b"5", b"6"]
    assert again.index.tolist() == df.index.tolist()
    assert again["v"].tolist() == list(range(8))
    assert again["_sent"].tolist() == ["true"] * 8
    assert again["_status"].tolist() == ["200"] * 8
    unchanged = [0, 2, 3, 4, 7]
    assert again["_elapsed"].iloc[unchanged].tolist() == first["_elapsed"].iloc[unchanged].tolist()
    assert again.attrs["flux_group_key"] == ["tag", "_sent"]
    assert sender.result is again
    assert first["_sent"].tolist().count("false") == 3, "the earlier result is not changed"


def test_resend_failed_with_nothing_failed_sends_nothing(receiver: Receiver) -> None:
    df = pd.DataFrame({"v": range(3)})
    send = flux_magic.endpoint(receiver.url)(body_map)
    first = send(df)
    again = send.resend_failed(first)
    assert receiver.count == 3
    pd.testing.assert_frame_equal(again, first)
    with pytest.raises(flux_magic.UsageError, match="needs the result of an earlier send"):
        send.resend_failed(df)


def test_resend_failed_includes_unsent_rows_after_a_cancel() -> None:
    df = pd.DataFrame({"v": range(30)})
    cancel = threading.Event()

    def progress(done: int, total: int, sent: int, failed: int) -> None:
        if done >= 3:
            cancel.set()

    with Receiver(delay=0.05) as rx:
        first = flux_magic.endpoint(rx.url)(body_map)(df, progress=progress, cancel=cancel)
    unsent = first["_error"].str.startswith("not sent:")
    assert unsent.sum() > 10
    with Receiver() as rx:
        again = flux_magic.endpoint(rx.url, retries=1)(body_map).resend_failed(first)
        assert rx.count == int((first["_sent"] != "true").sum())
    assert again["_sent"].tolist() == ["true"] * 30
    # a column the resend adds (_attempts) is 1 for the rows attempted the first time
    assert (again.loc[~unsent.to_numpy(), "_attempts"] >= 1).all()


def test_limit_sends_the_first_rows_only(receiver: Receiver) -> None:
    df = pd.DataFrame({"v": range(5)})
    send = flux_magic.endpoint(receiver.url)(body_map)
    out = send(df, limit=2)
    assert out["v"].tolist() == [0, 1]
    assert receiver.requests["body"].tolist() == [b"0", b"1"]
    with pytest.raises(flux_magic.UsageError, match="limit must be a whole number >= 0"):
        send(df, limit=-1)


def test_plot_outcomes_draws_three_panels(receiver: Receiver) -> None:
    from matplotlib.figure import Figure

    df = pd.DataFrame({"v": range(20)})
    with Receiver(status=failing(3, 7)) as rx:
        result = flux_magic.endpoint(rx.url)(body_map)(df)
    fig = flux_magic.plot_outcomes(result)
    assert isinstance(fig, Figure)
    bars, timeline, histogram = fig.axes
    assert [t.get_text() for t in bars.get_yticklabels()] == ["2xx", "5xx"]
    assert [p.get_width() for p in bars.patches] == [18, 2]
    sent_line, failed_line = timeline.get_lines()[:2]
    assert list(failed_line.get_xdata()) == [3, 7]  # failures marked at their row
    assert len(sent_line.get_xdata()) == 18
    assert sum(p.get_height() for p in histogram.patches) == 20
    assert "Outcome: 2xx 18, 5xx 2." in fig.texts[0].get_text()


def test_plot_outcomes_without_matplotlib_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = pd.DataFrame(
        {"_status": ["200"], "_sent": ["true"], "_error": [""], "_elapsed": [0.1]}
    )
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'flux_magic\[plot\]'"):
        flux_magic.plot_outcomes(result)


def test_plot_outcomes_needs_a_result() -> None:
    with pytest.raises(flux_magic.UsageError, match="no _status, _sent, _error, _elapsed"):
        flux_magic.plot_outcomes(pd.DataFrame({"v": [1]}))


README_PLOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "outcome.png"


def test_the_readme_picture_of_the_outcome_plot(tmp_path: Path) -> None:
    """A send with some slow rows, some 503s and a few that time out, drawn; the picture
    goes to docs/img/outcome.png when that is missing or UPDATE_README_SCREENSHOT=1."""

    def answer(req: Received) -> Reply:
        n = int(req.body)
        if n % 29 == 7:
            return Reply(delay=0.5)  # past the 0.3 s timeout: no answer
        if n % 13 == 5:
            return Reply(status=503)
        return Reply(delay=0.002 + (n % 10) * 0.002)

    df = pd.DataFrame({"v": range(150)})
    with Receiver(status=answer) as rx:
        result = flux_magic.endpoint(rx.url, concurrency=8, timeout=0.3)(body_map)(df)
    fig = flux_magic.plot_outcomes(result, title="150 rows to a loopback receiver")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[:2] == ["2xx", "5xx"]
    assert "no answer (timeout)" in labels
    path = tmp_path / "outcome.png"
    fig.savefig(path, dpi=96)
    assert path.read_bytes().startswith(b"\x89PNG")
    if not README_PLOT.exists() or os.environ.get("UPDATE_README_SCREENSHOT") == "1":
        README_PLOT.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(README_PLOT, dpi=96)

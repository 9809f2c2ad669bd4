"""The magic and the widget take Polars and Dask frames (through the engine's boundary)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from flux_magic import Receiver

pl = pytest.importorskip("polars")
dd = pytest.importorskip("dask.dataframe")

MAPPING = 'lambda r: {"headers": {"X-N": str(r.n)}, "data": f"n={r.n}".encode()}'


@pytest.fixture
def shell() -> Iterator[Any]:
    ip = InteractiveShell.instance(history_length=0, colors="NoColor")
    before = set(ip.user_ns)
    ip.run_line_magic("load_ext", "flux_magic")
    yield ip
    ip.run_line_magic("unload_ext", "flux_magic")
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]


def cell(shell: Any, line: str) -> tuple[Any, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        value = shell.run_cell_magic("flux_endpoint", line, MAPPING)
    return value, out.getvalue()


def test_magic_sends_a_polars_frame_and_gives_polars(shell: Any, receiver: Receiver) -> None:
    shell.user_ns["pdf"] = pl.DataFrame({"n": pl.Series([1, None, 3], dtype=pl.Int64)})
    table, said = cell(shell, f"pdf --url {receiver.url} --preview 2")
    assert isinstance(table, pl.DataFrame)
    assert "Preview of 2 of 3 requests" in said
    assert receiver.count == 0
    result, said = cell(shell, f"pdf --url {receiver.url} -o out")
    assert isinstance(result, pl.DataFrame)
    assert shell.user_ns["out"] is result
    assert result["_sent"].to_list() == ["true"] * 3
    assert "3 of 3 rows sent" in said
    assert receiver.requests["body"].tolist() == [b"n=1", b"n=None", b"n=3"]


def test_magic_sends_a_polars_lazyframe(shell: Any, receiver: Receiver) -> None:
    shell.user_ns["lazy"] = pl.LazyFrame({"n": [4, 5]})
    table, said = cell(shell, f"lazy --url {receiver.url} --preview 5")
    assert "Preview of 2 requests" in said  # a LazyFrame is not counted for a preview
    assert table["body"].to_list() == ["n=4", "n=5"]
    result, _ = cell(shell, f"lazy --url {receiver.url}")
    assert result["_sent"].to_list() == ["true", "true"]
    assert receiver.requests["body"].tolist() == [b"n=4", b"n=5"]


def test_magic_sends_a_dask_frame_without_a_cluster(shell: Any, receiver: Receiver) -> None:
    shell.user_ns["ddf"] = dd.from_pandas(pd.DataFrame({"n": range(10)}), npartitions=3)
    table, said = cell(shell, f"ddf --url {receiver.url} --preview 2")
    assert table["body"].tolist() == ["n=0", "n=1"]
    assert "Preview of 2 requests" in said
    assert receiver.count == 0
    result, said = cell(shell, f"ddf --url {receiver.url} -o out")
    assert isinstance(result, pd.DataFrame)  # computed: the magic sends
    assert result["n"].tolist() == list(range(10))
    assert result["_sent"].eq("true").all()
    assert "10 of 10 rows sent" in said
    assert sorted(receiver.requests["body"]) == sorted(f"n={i}".encode() for i in range(10))


def test_widget_lists_polars_and_dask_frames_and_sends_them(receiver: Receiver) -> None:
    from flux_magic.widget import EndpointWidget

    namespace: dict[str, Any] = {
        "pdf": pl.DataFrame({"n": pl.Series([1, None], dtype=pl.Int64)}),
        "ddf": dd.from_pandas(pd.DataFrame({"n": range(6)}), npartitions=2),
        "lazy": pl.LazyFrame({"n": [9]}),
    }
    w = EndpointWidget(url=receiver.url, namespace=namespace, mapping=MAPPING)
    assert dict(w.df_picker.options) == {
        "ddf — Dask, 2 partitions": "ddf",
        "lazy — lazy": "lazy",
        "pdf — 2 rows": "pdf",
    }
    w.df_picker.value = "pdf"
    assert w.send_button.description == "Send 2 requests"
    w.preview_button.click()
    assert "First 2 of 2 requests" in w.preview_table.value
    w.send_button.click()
    assert w.wait(20)
    assert w.result["_sent"].tolist() == ["true", "true"]
    assert w.result["n"].tolist()[0] == 1  # an integer, not 1.0
    w.df_picker.value = "ddf"
    assert w.send_button.description == "Send"
    w.send_button.click()  # not counted: asks first
    assert w.confirm_box.layout.display == "flex"
    w.confirm_button.click()
    assert w.wait(30)
    assert w.result["n"].tolist() == list(range(6))
    assert w.result["_sent"].eq("true").all()
    assert receiver.count == 8

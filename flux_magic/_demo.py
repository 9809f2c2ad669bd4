"""``python -m flux_magic demo``: the whole story, headless.

Flux's docs example, in Python::

    import "http"
    import "sampledata"

    sampledata.int()
        |> http.endpoint(url: "http://example.com/")(
            mapFn: (r) => ({headers: {header1: "example1", header2: "example2"},
                            data: bytes(v: "The value is ${r._value}")}))()
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pandas as pd

from ._endpoint import endpoint
from ._receiver import Receiver
from ._secrets import mask_url


def docs_example_map(r: Any) -> dict[str, Any]:
    """The mapping of Flux's ``http.endpoint`` docs example."""
    return {
        "headers": {"header1": "example1", "header2": "example2"},
        "data": f"The value is {r._value}".encode(),
    }


def _show(title: str, df: pd.DataFrame) -> None:
    print(f"\n== {title}")
    with pd.option_context(
        "display.width", 160, "display.max_columns", 20, "display.max_colwidth", 60
    ):
        print(df.to_string())


def run_demo(url: str | None = None, concurrency: int = 1) -> int:
    from . import sampledata

    table = sampledata.int()
    print("flux_magic demo: Flux's sampledata.int() |> http.endpoint(url)(mapFn)")
    _show(
        f"input: sampledata.int() — {len(table)} rows, "
        f"group key {table.attrs.get('flux_group_key')}",
        table,
    )
    with contextlib.ExitStack() as stack:
        receiver = None
        if url is None:
            receiver = stack.enter_context(Receiver(status=200))
            url = receiver.url
        send = endpoint(url=url, concurrency=concurrency)(docs_example_map)
        _show(
            f"preview: the first 3 requests to {mask_url(url)} (nothing sent yet)",
            send.preview(table, n=3).drop(columns=["curl"]),
        )
        print("\ncurl for the first request:\n  " + send.preview(table, n=1)["curl"].iloc[0])
        started = time.perf_counter()
        result = send(table)
        elapsed = time.perf_counter() - started
        sent = int((result["_sent"] == "true").sum())
        _show(
            f"result: {sent} of {len(result)} sent in {elapsed:.3f} s; group key now "
            f"{result.attrs.get('flux_group_key')}",
            result,
        )
        if receiver is not None:
            got = receiver.requests
            got = got.assign(
                body=got["body"].map(lambda b: b.decode("utf-8", "replace")),
                # Go-style canonical names, as Flux sends them: header1 -> Header1
                header1=got["headers"].map(lambda h: h.get("Header1")),
                header2=got["headers"].map(lambda h: h.get("Header2")),
            ).drop(columns=["headers"])
            _show(f"the receiver got {len(got)} requests", got)
    failed = len(result) - sent
    if failed:
        print(f"\n{failed} row(s) were not sent; see _status and _error above.")
    return 0 if failed == 0 else 1

from __future__ import annotations

import shlex
import subprocess
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic._preview import PREVIEW_COLUMNS

TOKEN = "tok-5f0e8c1d9a"


def mapper(r: Any) -> dict[str, Any]:
    return {
        "headers": {"Authorization": f"Bearer {TOKEN}", "X-Row": str(r._value)},
        "data": f"The value is {r._value}".encode(),
    }


def test_preview_columns_and_masking() -> None:
    df = pd.DataFrame({"_value": [1, 2, 3]}, index=["a", "b", "c"])
    pv = flux_magic.endpoint("http://user:pw-secret@127.0.0.1:9/hook?api_key=k-secret")(
        mapper
    ).preview(df, n=2)
    assert list(pv.columns) == PREVIEW_COLUMNS
    assert pv["row"].tolist() == ["a", "b"]
    assert pv["method"].tolist() == ["POST", "POST"]
    assert pv["headers"].iloc[0] == {"Authorization": "Bearer ***", "X-Row": "1"}
    assert pv["body"].tolist() == ["The value is 1", "The value is 2"]
    assert pv["size"].tolist() == [14, 14]
    text = pv.to_string() + "".join(pv["curl"])
    for secret in (TOKEN, "pw-secret", "k-secret"):
        assert secret not in text
    assert pv["url"].iloc[0] == "http://user:***@127.0.0.1:9/hook?api_key=***"


def test_reveal_gives_a_pasteable_curl_that_really_sends(receiver: flux_magic.Receiver) -> None:
    df = pd.DataFrame({"_value": [7]})
    pv = flux_magic.endpoint(receiver.url)(mapper).preview(df, reveal=True)
    cmd = pv["curl"].iloc[0]
    assert TOKEN in cmd
    subprocess.run(["bash", "-c", cmd + " --silent --output /dev/null"], check=True, timeout=20)
    (got,) = receiver.received()
    assert got.body == b"The value is 7"
    assert got.headers["Authorization"] == f"Bearer {TOKEN}"
    assert got.headers["X-Row"] == "7"


def test_binary_bodies_are_marked_and_curl_sends_them_exactly(
    receiver: flux_magic.Receiver,
) -> None:
    payload = bytes(range(256))
    pv = flux_magic.endpoint(receiver.url)(lambda r: {"headers": {}, "data": payload}).preview(
        pd.DataFrame({"x": [1]})
    )
    assert pv["body"].iloc[0] == "<binary: 256 bytes>"
    subprocess.run(["bash", "-c", pv["curl"].iloc[0] + " -s -o /dev/null"], check=True, timeout=20)
    assert receiver.received()[0].body == payload


def test_curl_quotes_shell_characters() -> None:
    pv = flux_magic.endpoint("http://127.0.0.1:9/")(
        lambda r: {"headers": {"X-Q": "it's $HOME"}, "data": b"a'b `c` $(d)"}
    ).preview(pd.DataFrame({"x": [1]}))
    args = shlex.split(pv["curl"].iloc[0])
    assert "X-Q: it's $HOME" in args
    assert args[-1] == "a'b `c` $(d)"


def test_mapping_errors_show_in_the_error_column() -> None:
    pv = flux_magic.endpoint("http://127.0.0.1:9/")(
        lambda r: {"headers": {}, "data": 1} if r.x == 2 else {"headers": {}, "data": b"ok"}
    ).preview(pd.DataFrame({"x": [1, 2]}))
    assert pv["error"].iloc[0] == ""
    assert '"data" must be bytes' in pv["error"].iloc[1]
    assert "row 1" in pv["error"].iloc[1]


def test_preview_of_a_million_rows_touches_only_n() -> None:
    df = pd.DataFrame({"_value": range(1_000_000)})
    seen: list[int] = []

    def spy(r: Any) -> dict[str, Any]:
        seen.append(r._value)
        return {"headers": {}, "data": b""}

    pv = flux_magic.endpoint("http://127.0.0.1:9/")(spy).preview(df, n=10)
    assert len(pv) == 10
    assert seen == list(range(10))


def test_preview_n_is_checked() -> None:
    with pytest.raises(flux_magic.UsageError, match="n must be a whole number"):
        flux_magic.endpoint("http://127.0.0.1:9/")(mapper).preview(pd.DataFrame(), n=-1)


def test_framing_headers_are_shown_as_dropped() -> None:
    """Issue 11 item 4: a mapping's Content-Length, Transfer-Encoding, Trailer and Host are
    not sent; the preview shows the request without them and says why."""
    sender = flux_magic.endpoint("http://127.0.0.1:1/hook")(
        lambda r: {"headers": {"Host": "x", "Content-Length": "9", "X-A": "1"}, "data": b"ab"}
    )
    shown = sender.preview(pd.DataFrame({"n": [1]}))
    assert shown.loc[0, "headers"] == {"X-A": "1"}
    assert "Host" not in shown.loc[0, "curl"]
    assert "Content-Length" not in shown.loc[0, "curl"]
    assert shown.loc[0, "error"] == ""  # the row is sent (the magic checks this column)
    assert shown.loc[0, "note"] == (
        "not sent: Host, Content-Length (the framing comes from the body and the target from "
        "the URL, as in Flux)"
    )

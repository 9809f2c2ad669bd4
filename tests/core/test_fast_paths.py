"""The per-row fast paths answer exactly like the general ones they short-cut."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import Received, Receiver, Reply
from flux_magic._errors import HeaderError, MappingError
from flux_magic._request import build_request
from flux_magic._rows import Row, iter_rows


def test_row_attributes_are_columns_and_dict_methods_stay_methods() -> None:
    df = pd.DataFrame({"_value": [1], "host": ["a"], "keys": ["k"], "my col": [2]})
    row = next(iter_rows(df))
    assert isinstance(row, Row)
    assert (row._value, row.host, row["keys"], row["my col"]) == (1, "a", "k", 2)
    assert callable(row.keys)
    assert repr(row) == "Row({'_value': 1, 'host': 'a', 'keys': 'k', 'my col': 2})"
    del row["host"]
    with pytest.raises(AttributeError, match="the row has no column 'host'"):
        _ = row.host
    assert not hasattr(row, "host")
    assert pickle.loads(pickle.dumps(row)) == row
    assert copy.copy(row) == row


def test_header_checks_still_apply_after_a_name_was_seen_valid() -> None:
    labels = pd.RangeIndex(3)
    row = Row({"v": 1})
    ok = build_request(lambda r: {"headers": {"x-a": "1", "X-A": "2"}, "data": b""}, row, labels, 0)
    assert ok.headers == {"X-A": "2"}
    with pytest.raises(HeaderError, match="line break"):
        build_request(lambda r: {"headers": {"x-a": "1\r\nX: y"}, "data": b""}, row, labels, 1)
    with pytest.raises(HeaderError, match="must be a string"):
        build_request(lambda r: {"headers": {"x-a": 1}, "data": b""}, row, labels, 2)
    with pytest.raises(MappingError, match='"data" must be bytes'):
        build_request(lambda r: {"headers": {"x-a": "1"}, "data": 5}, row, labels, 2)
    assert build_request(lambda r: {"headers": {}, "data": b"x"}, row, labels, 0) == ({}, b"x")


def test_cookies_set_by_the_server_are_sent_back_sequentially() -> None:
    def handler(req: Received) -> Reply:
        if req.body == b"0":
            return Reply(200, headers={"Set-Cookie": "session=abc; Path=/"})
        return Reply(200)

    def mapping(r: Any) -> dict[str, Any]:
        return {"headers": {}, "data": str(r.v).encode()}

    with Receiver(handler) as rx:
        out = flux_magic.endpoint(rx.url)(mapping)(pd.DataFrame({"v": [0, 1, 2]}))
        cookies = [r.headers.get("Cookie", r.headers.get("cookie")) for r in rx.received()]
    assert out["_sent"].tolist() == ["true"] * 3
    assert cookies == [None, "session=abc", "session=abc"]

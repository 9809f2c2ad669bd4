from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import flux_magic
from flux_magic._rows import CHUNK_ROWS, Row, check_frame, iter_rows


def test_row_attribute_item_get_and_dict() -> None:
    df = pd.DataFrame(
        {
            "_value": [1],
            "_time": [pd.Timestamp("2021-01-01", tz="UTC")],
            "my col": ["x"],
            "host": ["h"],
        }
    )
    (r,) = iter_rows(df)
    assert r._value == 1
    assert r._time == pd.Timestamp("2021-01-01", tz="UTC")
    assert r.host == "h"
    assert r["my col"] == "x"
    assert r.get("nope", 42) == 42
    assert dict(r) == {
        "_value": 1,
        "_time": pd.Timestamp("2021-01-01", tz="UTC"),
        "my col": "x",
        "host": "h",
    }
    assert isinstance(r, Row)
    with pytest.raises(AttributeError, match="no column 'nope'"):
        _ = r.nope


def test_missing_values_arrive_as_none() -> None:
    df = pd.DataFrame(
        {
            "f": [1.5, np.nan],
            "i": pd.array([1, None], dtype="Int64"),
            "t": pd.to_datetime(["2021-01-01", None], utc=True),
            "o": ["a", None],
            "na": pd.array(["x", pd.NA], dtype="string"),
            "c": pd.Categorical(["u", None]),
        }
    )
    first, second = iter_rows(df)
    assert first == {
        "f": 1.5,
        "i": 1,
        "t": pd.Timestamp("2021-01-01", tz="UTC"),
        "o": "a",
        "na": "x",
        "c": "u",
    }
    assert all(v is None for v in second.values())


def test_values_are_python_scalars() -> None:
    df = pd.DataFrame({"i": np.arange(3, dtype=np.int64), "b": [True, False, True]})
    rows = list(iter_rows(df))
    assert [type(r["i"]) for r in rows] == [int, int, int]
    assert [type(r["b"]) for r in rows] == [bool, bool, bool]


def test_rows_cross_chunk_boundaries_in_order() -> None:
    n = CHUNK_ROWS * 2 + 7
    df = pd.DataFrame({"v": range(n)})
    assert [r.v for r in iter_rows(df)] == list(range(n))
    assert [r.v for r in iter_rows(df, 5, 9)] == [5, 6, 7, 8]


def test_frame_checks_explain_the_fix() -> None:
    with pytest.raises(flux_magic.UsageError, match=r"Series.*to_frame"):
        check_frame(pd.Series([1]))
    with pytest.raises(flux_magic.UsageError, match="got dict"):
        check_frame({"a": [1]})
    with pytest.raises(flux_magic.UsageError, match="duplicate column names 'a'"):
        check_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(flux_magic.UsageError, match="MultiIndex"):
        check_frame(pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)])))

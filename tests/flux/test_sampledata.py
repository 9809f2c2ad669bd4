"""sampledata.*() equals the shipped CSVs, value for value and null for null."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from importlib import resources

import pandas as pd
import pytest

from flux_magic import sampledata

FUNCTIONS: dict[str, Callable[..., pd.DataFrame]] = {
    "float": sampledata.float,
    "int": sampledata.int,
    "uint": sampledata.uint,
    "string": sampledata.string,
    "bool": sampledata.bool,
    "numericBool": sampledata.numericBool,
}
SHARED = resources.files("flux_magic").joinpath("_data", "sampledata")


def raw_rows(name: str) -> list[dict[str, str]]:
    """The CSV records as plain strings, read independently of flux_magic's reader."""
    lines = [ln for ln in SHARED.joinpath(name).read_text().splitlines() if not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


@pytest.mark.parametrize("include_null", [False, True])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_equal_to_the_csv(name: str, include_null: bool) -> None:
    df = FUNCTIONS[name](include_null=include_null)
    rows = raw_rows(f"{name}{'_includeNull' if include_null else ''}.csv")
    assert len(df) == 12
    assert df.attrs["flux_group_key"] == ["tag"]
    for record, (_, row) in zip(rows, df.iterrows(), strict=True):
        for column in ("_time", "tag", "_value"):
            assert cell(row[column]) == record[column], (column, record)
        assert row["table"] == int(record["table"])
        assert row["result"] == "_result"


def test_shapes_and_types() -> None:
    assert str(sampledata.int()["_value"].dtype) == "Int64"
    assert str(sampledata.uint()["_value"].dtype) == "UInt64"
    assert int(sampledata.uint()["_value"].iloc[0]) == 2**64 - 2
    assert str(sampledata.bool()["_value"].dtype) == "boolean"
    assert sampledata.float()["_value"].dtype == "float64"
    times = sampledata.float()["_time"]
    assert str(times.dtype) == "datetime64[ns, UTC]"
    assert times.iloc[5] == pd.Timestamp("2021-01-01T00:00:50Z")


def test_int_truncates_and_nulls_line_up() -> None:
    floats = sampledata.float()["_value"].tolist()
    assert sampledata.int()["_value"].tolist() == [int(f) for f in floats]
    masks = [f(include_null=True)["_value"].isna().tolist() for f in FUNCTIONS.values()]
    assert all(m == masks[0] for m in masks)
    assert sum(masks[0]) == 5


def test_each_call_returns_a_fresh_frame() -> None:
    a = sampledata.int()
    a.loc[0, "_value"] = 999
    assert sampledata.int()["_value"].iloc[0] == -2

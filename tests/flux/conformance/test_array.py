"""``array`` and ``experimental/array``: tables from arrays, and array helpers (docs' examples)."""

from __future__ import annotations

from typing import Any

import pytest

from .flux_eval import ev, fails, table


@pytest.mark.parametrize("package", ["array", "experimental/array"])
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("[1, 2, 3] |> array.concat(v: [4, 5, 6])", [1, 2, 3, 4, 5, 6]),
        ("array.concat(arr: [], v: [1])", [1]),
        ("[1, 2, 3, 4, 5] |> array.filter(fn: (x) => x >= 3)", [3, 4, 5]),
        ("array.filter(arr: [1, 2], fn: (x) => x > 5)", []),
        ("[1, 2, 3] |> array.map(fn: (x) => x * 2)", [2, 4, 6]),
        ("[1, 2] |> array.map(fn: (x) => ({_value: x}))", [{"_value": 1}, {"_value": 2}]),
        ('["a", "b"] |> array.map(fn: (x) => x + x)', ["aa", "bb"]),
    ],
)
def test_array_functions(package: str, expr: str, expected: Any) -> None:
    assert ev(expr, package) == expected


def test_from_builds_a_table() -> None:
    df = table(
        'import "array"\narray.from(rows: [{foo: "bar", baz: 21.2}, {foo: "bar", baz: 23.8}])\n'
    )
    assert list(df.columns) == ["foo", "baz"]
    assert df["foo"].tolist() == ["bar", "bar"]
    assert df["baz"].tolist() == [21.2, 23.8]
    assert df.attrs["flux_group_key"] == []


def test_from_takes_its_rows_piped() -> None:
    df = table('import "array"\n[{a: 1}, {a: 2}] |> array.from()\n')
    assert df["a"].tolist() == [1, 2]


def test_map_output_feeds_from() -> None:
    """The docs' pattern: build rows with array.map, then a table with array.from."""
    df = table(
        'import "array"\n'
        "c = [1, 2, 3] |> array.concat(v: [4, 5, 6])\n"
        "array.from(rows: c |> array.map(fn: (x) => ({_value: x})))\n"
    )
    assert df["_value"].tolist() == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('array.concat(arr: [1], v: ["a"])', "different types"),
        ("array.filter(arr: [1], fn: (x) => x)", "fn must return a bool, not int"),
        ('array.map(arr: [1, 2], fn: (x) => if x > 1 then "b" else 1)', "different types"),
        ("array.map(arr: [1], fn: (r) => r)", "expected a function \\(x\\) => ..."),
        ("array.from(rows: [1])", "expected record for argument rows but found int"),
    ],
)
def test_errors(expr: str, message: str) -> None:
    fails(expr, "array", match=message)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("array.toInt(arr: [12.1, 24.2, 36.3, 48.4])", [12, 24, 36, 48]),
        ("array.toInt(arr: [true, false])", [1, 0]),
        ("array.toInt(arr: [1s])", [1_000_000_000]),
        ('array.toInt(arr: ["12", "-3"])', [12, -3]),
        (
            "array.toUInt(arr: [-12.1, 24.2, -36.3, 48.4])",
            [18446744073709551604, 24, 18446744073709551580, 48],
        ),
        ("array.toFloat(arr: [1, 2])", [1.0, 2.0]),
        ('array.toBool(arr: ["true", "false"])', [True, False]),
        ("array.toString(arr: [12.1, 24.2])", ["12.1", "24.2"]),
        ("[1, 2] |> array.toString()", ["1", "2"]),
    ],
)
def test_experimental_converters(expr: str, expected: Any) -> None:
    assert ev(expr, "experimental/array") == expected


def test_experimental_to_duration_and_to_time() -> None:
    durations = ev('array.toDuration(arr: ["1h", "2m"])', "experimental/array")
    assert [str(d) for d in durations] == ["1h", "2m"]
    times = ev('array.toTime(arr: ["2021-01-01T00:00:00Z"])', "experimental/array")
    assert [str(t) for t in times] == ["2021-01-01 00:00:00+00:00"]

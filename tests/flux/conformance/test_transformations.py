"""Table transformations, aggregates and selectors on sampledata, as Flux's docs describe them.

sampledata.int(): two tables (key [tag]) t1 = -2, 10, 7, 17, 15, 4 and t2 = 19, 4, -3, 19, 13, 1
at 0, 10, ..., 50 s. Aggregates give one row per table (key columns + the column); selectors
give whole rows; both keep the group key.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from flux_magic._errors import FluxError

from .tables import INT_T1, INT_T2, at, columns, key, run, value


def values(body: str) -> list[object]:
    column = run(body)["_value"]
    return [None if pd.isna(v) else v for v in column.tolist()]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("count()", [6, 6]),
        ("sum()", [51, 53]),
        ("mean()", [51 / 6, 53 / 6]),
        ("min()", [-2, -3]),
        ("max()", [17, 19]),
        ("first()", [-2, 19]),
        ("last()", [4, 1]),
        ("unique()", [*INT_T1, 19, 4, -3, 13, 1]),
        ("sort()", sorted(INT_T1) + sorted(INT_T2)),
        ("sort(desc: true)", sorted(INT_T1, reverse=True) + sorted(INT_T2, reverse=True)),
        ("top(n: 2)", [17, 15, 19, 19]),
        ("bottom(n: 2)", [-2, 4, -3, 1]),
        ("tail(n: 2)", [15, 4, 13, 1]),
        ("tail(n: 2, offset: 1)", [17, 15, 19, 13]),
        ("limit(n: 2, offset: 1)", [10, 7, 4, -3]),
        ("group() |> count()", [12]),
        ("group() |> max()", [19]),
    ],
)
def test_aggregates_and_selectors(body: str, expected: list[object]) -> None:
    assert values(f"sampledata.int() |> {body}") == expected


def test_aggregate_shape_is_key_columns_and_the_column() -> None:
    df = run("sampledata.int() |> sum()")
    assert columns(df) == ["tag", "_value"]
    assert key(df) == ["tag"]
    assert df["tag"].tolist() == ["t1", "t2"]


def test_selector_keeps_whole_rows() -> None:
    df = run("sampledata.int() |> min()")
    assert df["_time"].tolist() == at(0, 20)
    assert columns(df) == ["_time", "_value", "tag"]


def test_aggregates_skip_nulls_and_count_every_row() -> None:
    df = run("sampledata.int(includeNull: true) |> count()")
    assert df["_value"].tolist() == [6, 6]
    assert values("sampledata.int(includeNull: true) |> sum()") == [9, 21]
    assert values("sampledata.int(includeNull: true) |> first()") == [-2, 4]
    assert values("sampledata.int(includeNull: true) |> last()") == [4, 1]


def test_distinct_gives_the_values_in_value() -> None:
    df = run('sampledata.int() |> distinct(column: "_value")')
    assert df["_value"].tolist() == [*INT_T1, 19, 4, -3, 13, 1]
    df = run('sampledata.int() |> group() |> distinct(column: "tag")')
    assert df["_value"].tolist() == ["t1", "t2"]


def test_columns_and_keys_list_labels() -> None:
    df = run("sampledata.int() |> columns()")
    assert df["_value"].tolist() == ["_time", "_value", "tag"] * 2
    df = run("sampledata.int() |> keys()")
    assert df["_value"].tolist() == ["tag", "tag"]
    assert df["tag"].tolist() == ["t1", "t2"]


def test_group_by_except_and_none() -> None:
    assert key(run('sampledata.int() |> group(columns: ["_time"])')) == ["_time"]
    df = run('sampledata.int() |> group(columns: ["_value", "_time"], mode: "except")')
    assert key(df) == ["tag"]
    df = run("sampledata.int() |> group()")
    assert key(df) == []
    assert values("sampledata.int() |> group() |> limit(n: 3)") == INT_T1[:3]


def test_pivot_turns_tags_into_columns() -> None:
    df = run(
        'sampledata.int() |> pivot(rowKey: ["_time"], columnKey: ["tag"], valueColumn: "_value")'
    )
    assert columns(df) == ["_time", "t1", "t2"]
    assert df["t1"].tolist() == INT_T1
    assert df["t2"].tolist() == INT_T2
    assert key(df) == []


def test_rename_set_duplicate() -> None:
    df = run('sampledata.int() |> rename(columns: {tag: "sensor", _value: "v"})')
    assert columns(df) == ["_time", "v", "sensor"]
    assert key(df) == ["sensor"]
    df = run('sampledata.int() |> rename(fn: (column) => "x${column}")')
    assert columns(df) == ["x_time", "x_value", "xtag"]
    df = run('sampledata.int() |> set(key: "unit", value: "m") |> limit(n: 1)')
    assert df["unit"].tolist() == ["m", "m"]
    df = run('sampledata.int() |> duplicate(column: "tag", as: "copy") |> limit(n: 1)')
    assert df["copy"].tolist() == ["t1", "t2"]
    assert key(df) == ["tag"]
    with pytest.raises(FluxError, match='rename error: column "nope" doesn\'t exist'):
        run('sampledata.int() |> rename(columns: {nope: "x"})')


def test_fill_with_a_value_or_the_previous_one() -> None:
    assert values("sampledata.int(includeNull: true) |> fill(value: 0)") == [
        -2,
        0,
        7,
        0,
        0,
        4,
        0,
        4,
        -3,
        19,
        0,
        1,
    ]
    assert values("sampledata.int(includeNull: true) |> fill(usePrevious: true)") == [
        -2,
        -2,
        7,
        7,
        7,
        4,
        None,
        4,
        -3,
        19,
        19,
        1,
    ]
    with pytest.raises(FluxError, match="fill column type mismatch"):
        run('sampledata.int(includeNull: true) |> fill(value: "0")')


def test_keep_and_drop_with_a_predicate() -> None:
    df = run("sampledata.int() |> keep(fn: (column) => column =~ /^_/)")
    assert columns(df) == ["_time", "_value"]
    assert key(df) == []
    df = run('sampledata.int() |> drop(fn: (column) => column == "_time")')
    assert columns(df) == ["_value", "tag"]


def test_keep_of_missing_columns_leaves_no_table() -> None:
    df = run('sampledata.int() |> keep(columns: ["nope"])')
    assert len(df) == 0
    assert columns(df) == []


def test_conversions_of_value() -> None:
    assert values("sampledata.int() |> toString() |> limit(n: 1)") == ["-2", "19"]
    assert values("sampledata.int() |> toFloat() |> limit(n: 1)") == [-2.0, 19.0]
    assert values("sampledata.float() |> toInt() |> limit(n: 1)") == [-2, 19]
    assert values("sampledata.numericBool() |> toBool() |> limit(n: 1)") == [True, False]


def test_extracting_tables_columns_and_records() -> None:
    x = value(
        'x = sampledata.int() |> tableFind(fn: (key) => key.tag == "t2") '
        '|> getColumn(column: "_value")',
        "sampledata",
    )
    assert x == INT_T2
    x = value(
        'x = sampledata.int() |> tableFind(fn: (key) => key.tag == "t1") |> getRecord(idx: 1)',
        "sampledata",
    )
    assert x == {"_time": at(10)[0], "_value": 10, "tag": "t1"}
    x = value(
        'x = sampledata.int() |> findColumn(fn: (key) => key.tag == "t9", column: "_value")',
        "sampledata",
    )
    assert x == []
    x = value(
        'x = sampledata.int() |> findRecord(fn: (key) => key.tag == "t2", idx: 0)',
        "sampledata",
    )
    assert x["_value"] == 19
    with pytest.raises(FluxError, match="no table found"):
        run('sampledata.int() |> tableFind(fn: (key) => key.tag == "t9")')


def test_die_stops_with_its_message() -> None:
    with pytest.raises(FluxError, match="@2:5-2:32: something broke"):
        value('import "sampledata"\nx = die(msg: "something broke")')


def test_mean_of_floats_and_empty_tables() -> None:
    got = values("sampledata.float() |> mean()")
    assert math.isclose(got[0], sum([-2.18, 10.92, 7.35, 17.53, 15.23, 4.43]) / 6)
    df = run("sampledata.int() |> filter(fn: (r) => r._value > 100) |> count()")
    assert len(df) == 0
    assert isinstance(df, pd.DataFrame)


def test_sort_puts_nulls_last_ascending_and_first_descending() -> None:
    assert values("sampledata.int(includeNull: true) |> sort()") == [
        -2,
        4,
        7,
        None,
        None,
        None,
        -3,
        1,
        4,
        19,
        None,
        None,
    ]
    assert values("sampledata.int(includeNull: true) |> sort(desc: true)") == [
        None,
        None,
        None,
        7,
        4,
        -2,
        None,
        None,
        19,
        4,
        1,
        -3,
    ]


def test_pivot_labels_a_null_column_key_null_and_keeps_the_last_duplicate() -> None:
    df = run(
        'array.from(rows: [{t: 1, f: "a", v: 1}, {t: 1, f: "a", v: 2}, {t: 2, v: 3}])'
        ' |> pivot(rowKey: ["t"], columnKey: ["f"], valueColumn: "v")',
        "array",
    )
    assert columns(df) == ["t", "a", "null"]
    assert df["a"].tolist()[0] == 2
    assert df["null"].tolist()[1] == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("difference()", [12, -3, 10, -2, -11, -15, -7, 22, -6, -12]),
        (
            "difference(nonNegative: true)",
            [12, None, 10, None, None, None, None, 22, None, None],
        ),
        (
            "difference(keepFirst: true)",
            [None, 12, -3, 10, -2, -11, None, -15, -7, 22, -6, -12],
        ),
        ("cumulativeSum()", [-2, 8, 15, 32, 47, 51, 19, 23, 20, 39, 52, 53]),
        ("spread()", [19, 22]),
    ],
)
def test_running_values_and_spread(body: str, expected: list[object]) -> None:
    assert values(f"sampledata.int() |> {body}") == expected


def test_difference_with_nulls_uses_the_last_non_null_value() -> None:
    assert values("sampledata.int(includeNull: true) |> difference()") == [
        None,
        9,
        None,
        None,
        -3,
        None,
        -7,
        22,
        None,
        -18,
    ]


def test_union_and_time_shift() -> None:
    df = run(
        "union(tables: [sampledata.int() |> limit(n: 1), sampledata.int() |> tail(n: 1)])"
        ' |> sort(columns: ["_time"])'
    )
    assert df["_value"].tolist() == [-2, 4, 19, 1]
    df = run("sampledata.int() |> timeShift(duration: -30s) |> limit(n: 1)")
    assert df["_time"].tolist() == [at(0)[0] - pd.Timedelta(seconds=30)] * 2


def test_reduce_gives_the_key_and_the_reducer_fields() -> None:
    df = run(
        "sampledata.int() |> reduce(\n"
        "    fn: (r, accumulator) => ({sum: r._value + accumulator.sum, "
        "count: accumulator.count + 1}),\n"
        "    identity: {sum: 0, count: 0},\n"
        ")"
    )
    assert columns(df) == ["tag", "count", "sum"]
    assert df["sum"].tolist() == [51, 53]
    assert df["count"].tolist() == [6, 6]
    assert key(df) == ["tag"]
    df = run(
        "sampledata.int() |> reduce(fn: (r, accumulator) => "
        "({prod: r._value * accumulator.prod}), identity: {prod: 1})"
    )
    assert df["prod"].tolist() == [-142800, -56316]
    with pytest.raises(FluxError, match="identity's types"):
        run(
            "sampledata.int() |> reduce(fn: (r, accumulator) => "
            "({s: float(v: r._value)}), identity: {s: 0})"
        )


def test_derivative_per_second_and_elapsed() -> None:
    assert values("sampledata.int() |> derivative(nonNegative: true)") == [
        1.2,
        None,
        1.0,
        None,
        None,
        None,
        None,
        2.2,
        None,
        None,
    ]
    got = values("sampledata.int(includeNull: true) |> derivative()")
    assert [None if v is None else round(v, 10) for v in got] == [
        None,
        0.45,
        None,
        None,
        -0.1,
        None,
        -0.7,
        2.2,
        None,
        -0.9,
    ]
    df = run("sampledata.int() |> elapsed(unit: 1s)")
    assert df["elapsed"].tolist() == [10] * 10
    assert df["_value"].tolist() == INT_T1[1:] + INT_T2[1:]
    assert df["_time"].tolist() == at(10, 20, 30, 40, 50) * 2

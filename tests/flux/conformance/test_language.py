"""Language: options, the pipe argument of array.from, label literals, three-valued logic,
NaN, string escapes and conversions, as Flux's spec and docs define them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from flux_magic._errors import FluxError
from flux_magic._flux import run_program

from .tables import run, value


def test_an_option_is_visible_to_later_statements() -> None:
    result = run_program("option n = 2\nx = n + 1\noption n = 5\ny = n")
    assert result.values["x"] == 3
    assert result.values["y"] == 5


def test_option_now_then_an_array_statement() -> None:
    df = run(
        "option now = () => 2030-01-01T00:00:00Z\n"
        "[{a: 1, t: now()}, {a: 2, t: now()}] |> array.from()",
        "array",
    )
    assert df["a"].tolist() == [1, 2]
    assert df["t"].tolist() == [pd.Timestamp("2030-01-01T00:00:00Z")] * 2


def test_rows_piped_into_array_from() -> None:
    df = run("[{a: 1}, {a: 2}] |> array.from() |> filter(fn: (r) => r.a > 1)", "array")
    assert df["a"].tolist() == [2]


def test_indexing_on_one_line_still_indexes() -> None:
    assert value("a = [1, 2, 3]\nx = a[1] + [4][0] + {k: [5]}.k[0]") == 11


def test_label_literals_are_strings_where_labels_go() -> None:
    assert value("x = .name") == "name"
    df = run("sampledata.int() |> group(columns: [.tag]) |> keep(columns: [.tag, ._value])")
    assert list(df.columns[-2:]) == ["_value", "tag"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("null or false", None),
        ("null or true", True),
        ("null and true", None),
        ("null and false", False),
        ("false and null", False),
        ("true or null", True),
        ("not null", None),
    ],
)
def test_three_valued_logic(expr: str, expected: bool | None) -> None:
    program = expr.replace("null", "r.missing")
    assert value(f"r = {{a: 1}}\nx = {program}") is expected


def test_filter_drops_rows_whose_predicate_is_null() -> None:
    df = run("sampledata.int(includeNull: true) |> filter(fn: (r) => r._value > 0 or false)")
    assert df["_value"].tolist() == [7, 4, 4, 19, 1]
    df = run("sampledata.int(includeNull: true) |> filter(fn: (r) => not (r._value > 0))")
    assert df["_value"].tolist() == [-2, -3]


def test_nan_is_a_value_not_null() -> None:
    assert value('x = exists {v: float(v: "NaN")}.v') is True
    df = run(
        'array.from(rows: [{v: 1.0}, {v: float(v: "NaN")}]) '
        "|> map(fn: (r) => ({r with e: exists r.v, nan: r.v != r.v}))",
        "array",
    )
    assert df["e"].tolist() == [True, True]
    assert df["nan"].tolist() == [False, True]
    assert math.isnan(df["v"].tolist()[1])


def test_byte_escapes_build_utf8() -> None:
    assert value('x = "\\xe6\\x97\\xa5" == "日"') is True
    with pytest.raises(FluxError, match="invalid UTF-8"):
        value('x = "\\xff"')


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("int(v: 1mo)", 2629800000000000),
        ("int(v: 1y)", 12 * 2629800000000000),
        ("int(v: 1h)", 3600000000000),
        ("time(v: uint(v: 1000000000))", pd.Timestamp("1970-01-01T00:00:01Z")),
        ("int(v: duration(v: uint(v: 5)))", 5),
        ('int(v: "-12")', -12),
        ('time(v: "2021-01-01T00:00:00+01:00")', pd.Timestamp("2020-12-31T23:00:00Z")),
        ('float(v: "1e3")', 1000.0),
        ('bool(v: "true")', True),
    ],
)
def test_conversions(expr: str, expected: object) -> None:
    assert value(f"x = {expr}") == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('int(v: "x")', 'cannot convert string "x" to int due to invalid syntax'),
        ('int(v: "1.5")', 'cannot convert string "1.5" to int due to invalid syntax'),
        ('uint(v: "-1")', 'cannot convert string "-1" to uint due to invalid syntax'),
        ('float(v: "one")', 'cannot convert string "one" to float due to invalid syntax'),
        ('bool(v: "yes")', 'cannot convert string "yes" to bool'),
        ('time(v: "now")', 'cannot convert string "now" to time'),
        ('time(v: "2021-01-01T00:00:00")', 'cannot convert string "2021-01-01T00:00:00" to time'),
        ('time(v: "2021-01-01 00:00:00Z")', 'cannot convert string "2021-01-01 00:00:00Z" to time'),
        ('duration(v: "1x")', 'cannot convert string "1x" to duration'),
    ],
)
def test_conversion_errors_in_fluxs_words(expr: str, message: str) -> None:
    with pytest.raises(FluxError, match=message):
        value(f"x = {expr}")


def test_a_flux_function_outside_flux_magic_is_named_as_such() -> None:
    with pytest.raises(FluxError, match=r"(?s)undefined identifier window.*does not implement"):
        run("sampledata.int() |> window(every: 1m)")


CSV_WITH_NAN = """#group,false,false,false
#datatype,string,long,double
#default,_result,,
,result,table,v
,,0,1.5
,,0,NaN
,,0,
"""


@pytest.mark.parametrize("vectorised", [True, False])
def test_nan_read_from_csv_exists_and_null_does_not(
    vectorised: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flux_magic._flux import _vectorize

    monkeypatch.setattr(_vectorize, "ENABLED", vectorised)
    result = run_program(
        f'import "csv"\ndata = "{CSV_WITH_NAN}"\n'
        "csv.from(csv: data) |> map(fn: (r) => ({r with e: exists r.v}))"
    )
    df = result.frame()
    assert df is not None
    assert df["e"].tolist() == [True, True, False]
    df = run_program(
        f'import "csv"\ndata = "{CSV_WITH_NAN}"\n'
        "csv.from(csv: data) |> filter(fn: (r) => exists r.v)"
    ).frame()
    assert df is not None
    assert len(df) == 2

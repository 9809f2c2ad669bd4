"""``types`` (isType, isNumeric) and ``internal/debug`` (pass, opaque, null, sink)."""

from __future__ import annotations

from typing import Any

import pytest

from .flux_eval import ev, fails, table


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('types.isType(v: "a", type: "string")', True),
        ('types.isType(v: 1, type: "string")', False),
        ('types.isType(v: 1, type: "int")', True),
        ('types.isType(v: uint(v: 1), type: "uint")', True),
        ('types.isType(v: uint(v: 1), type: "int")', False),
        ('types.isType(v: 1.5, type: "float")', True),
        ('types.isType(v: true, type: "bool")', True),
        ('types.isType(v: 2021-01-01T00:00:00Z, type: "time")', True),
        ('types.isType(v: 1h, type: "duration")', True),
        ('types.isType(v: bytes(v: "a"), type: "bytes")', True),
        ('types.isType(v: regexp.compile(v: "a"), type: "regexp")', True),
        ('types.isType(v: "a", type: "regexp")', False),
        ("types.isNumeric(v: 1)", True),
        ("types.isNumeric(v: uint(v: 1))", True),
        ("types.isNumeric(v: 1.5)", True),
        ('types.isNumeric(v: "1")', False),
        ("types.isNumeric(v: true)", False),
    ],
)
def test_types(expr: str, expected: Any) -> None:
    assert ev(expr, "types", "regexp") is expected


def test_unknown_type_name() -> None:
    fails('types.isType(v: 1, type: "integer")', "types", match='unknown type "integer"')


MIXED = """\
#datatype,string,long,dateTime:RFC3339,string,double
#group,false,false,false,true,false
#default,_result,,,,
,result,table,_time,_field,_value
,,0,2022-01-01T00:00:00Z,foo,12
,,0,2022-01-01T00:01:00Z,foo,15

#datatype,string,long,dateTime:RFC3339,string,string
#group,false,false,false,true,false
#default,_result,,,,
,result,table,_time,_field,_value
,,1,2022-01-01T00:00:00Z,bar,0jCcsMYM
,,1,2022-01-01T00:01:00Z,bar,jHvuDw35
"""


def test_filter_by_value_type() -> None:
    """The docs' example: a stream whose tables have _value of different types."""
    program = (
        'import "csv"\nimport "types"\n'
        f'csv.from(csv: "{MIXED}")\n'
        '    |> filter(fn: (r) => types.isType(v: r._value, type: "string"))\n'
    )
    df = table(program)
    assert df["_field"].tolist() == ["bar", "bar"]
    assert df["_value"].tolist() == ["0jCcsMYM", "jHvuDw35"]
    numeric = table(
        program.replace('types.isType(v: r._value, type: "string")', "types.isNumeric(v: r._value)")
    )
    assert numeric["_value"].tolist() == [12.0, 15.0]


def test_debug_pass_and_opaque_return_the_stream_unchanged() -> None:
    for fn in ("pass", "opaque", "slurp"):
        df = table(
            f'import "sampledata"\nimport "internal/debug"\nsampledata.int() |> debug.{fn}()\n'
        )
        assert df["_value"].tolist()[:3] == [-2, 10, 7]
        assert df.attrs["flux_group_key"] == ["tag"]


def test_debug_sink_drops_every_row() -> None:
    df = table('import "sampledata"\nimport "internal/debug"\nsampledata.int() |> debug.sink()\n')
    assert len(df) == 0
    assert "_value" in df.columns


@pytest.mark.parametrize("kind", ["string", "int", "float", "bool", "time"])
def test_debug_null_is_a_null_of_a_basic_type(kind: str) -> None:
    assert ev(f'debug.null(type: "{kind}")', "internal/debug") is None
    assert ev(f'exists debug.null(type: "{kind}")', "internal/debug") is False


def test_debug_null_in_a_table_column() -> None:
    df = table(
        'import "array"\nimport "internal/debug"\n'
        "array.from(rows: [{a: 1}, {a: 2}])\n"
        '    |> map(fn: (r) => ({r with b: debug.null(type: "string")}))\n'
    )
    assert df["b"].isna().all()


def test_debug_null_rejects_other_types() -> None:
    fails('debug.null(type: "record")', "internal/debug", match="not a basic type")

"""flux_fn: syntax coverage, errors with positions, looks_like_flux, use with the engine."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import flux_magic
from flux_magic import sampledata
from flux_magic._errors import FluxError
from flux_magic._flux import flux_fn, looks_like_flux
from flux_magic._rows import Row

ROW = {"_value": 10, "tag": "t1", "_time": pd.Timestamp("2021-01-01T00:00:10Z"), "x": None}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '(r) => ({headers: {"Content-Type": "text/plain"}})',
            {"headers": {"Content-Type": "text/plain"}},
        ),
        ("(r) => ({a: {b: {c: r.tag}}})", {"a": {"b": {"c": "t1"}}}),
        ("(r) => ({r with _value: r._value * 2})", {**ROW, "_value": 20}),
        ('(r) => ({a: [1, 2][1], b: r["tag"], c: {k: 3}.k})', {"a": 2, "b": "t1", "c": 3}),
        ("(r) => ({tag: r.tag, _value: r._value})", {"tag": "t1", "_value": 10}),
        (
            "(r) => ({e: exists r.x, f: exists r.tag, g: exists r.nope})",
            {"e": False, "f": True, "g": False},
        ),
        (
            '(r) => ({s: if r._value > 5 and not (r.tag == "t2") then "big" else "small"})',
            {"s": "big"},
        ),
        ("(r) => {\n  v = r._value + 1\n  w = v / 2\n  return {v: v, w: w}\n}", {"v": 11, "w": 5}),
        ("(r) => ({tag: r.tag}) // a comment", {"tag": "t1"}),
        ('(r) => ({s: "a\\"b\\\\c\\n\\${x}"})', {"s": 'a"b\\c\n${x}'}),
        (
            '(r) => ({s: "${r.tag}-${r._value + 1}-${strings.toUpper(v: "${r.tag}")}"})',
            {"s": "t1-11-T1"},
        ),
        ("(r) => ({t: r._time, d: 1h})", {"t": ROW["_time"], "d": pd.Timedelta(hours=1)}),
        ('(r, suffix="!") => ({s: r.tag + suffix})', {"s": "t1!"}),
        ("(r) => ({n: -r._value, m: +r._value})", {"n": -10, "m": 10}),
        ("(r) => ({bad: r.x + 1})", {"bad": None}),
    ],
)
def test_syntax(source: str, expected: dict[str, Any]) -> None:
    assert flux_fn(source)(ROW) == expected


def test_accepts_the_engine_row_and_exposes_the_source() -> None:
    source = '(r) => ({headers: {h: r.tag}, data: bytes(v: "${r._value}")})'
    fn = flux_fn(source)
    assert fn(Row({"_value": 1.5, "tag": "a"})) == {"headers": {"h": "a"}, "data": b"1.5"}
    assert fn.source == source
    assert fn.__flux__ is True
    assert callable(fn)


@pytest.mark.parametrize(
    ("source", "message", "where", "underline"),
    [
        ("(r) => ({a: 1", "unexpected end of input; expected ',', '}'", "@1:14-1:14", "^"),
        ("(r) => ({a: 1,, b: 2})", "unexpected token ','", "@1:15-1:16", "^"),
        ("(r) =>\n  ({a: r._value +})", "unexpected token '}'", "@2:18-2:19", "^"),
        ("(r) => r._value ?? 1", "invalid character '?'", "@1:17-1:18", "^"),
        ("(r) => foo", "undefined identifier foo", "@1:8-1:11", "^^^"),
        ("(r) => ({v: True})", "undefined identifier True", "@1:13-1:17", "^^^^"),
        (
            "(r) => json.encode(v: r) + sampledata.int()",
            "undefined identifier sampledata",
            "@1:28-1:38",
            "^^^^^^^^^^",
        ),
        (
            '(r) => bytes("x")',
            "positional argument: Flux calls take named arguments",
            "@1:14-1:17",
            "^^^",
        ),
        ("(r) => bytes()", "missing required argument v", "@1:8-1:15", "^^^^^^^"),
        ("(r) => bytes(x: 1)", "unexpected argument x: bytes takes v:", "@1:14-1:18", "^^^^"),
        (
            '(r) => ({data: "text"})',
            "expected bytes but found string for data",
            "@1:16-1:22",
            "^^^^^^",
        ),
        (
            '(r) => ({data: "v=${r._value}"})',
            "expected bytes but found string for data",
            "@1:16-1:31",
            "^",
        ),
        ("(r) => json.nope(v: 1)", "package json has no member nope", "@1:8-1:17", "^^^^^^^^^"),
        ('(r) => "x" |> 1', "the right side of |> must be a function call", "@1:15-1:16", "^"),
        ("r => r", "unexpected token '=>'", "@1:3-1:5", "^^"),
    ],
)
def test_errors_before_running(source: str, message: str, where: str, underline: str) -> None:
    with pytest.raises(FluxError) as info:
        flux_fn(source)
    text = str(info.value)
    assert message in text
    assert where in text
    assert underline in text.splitlines()[3]


@pytest.mark.parametrize(
    ("source", "row", "message"),
    [
        ("(r) => ({data: r.tag})", ROW, "expected bytes but found string for data"),
        (
            "(r) => ({headers: {n: r._value}, data: bytes(v: r.tag)})",
            ROW,
            'header value "n" must be a string',
        ),
        ("(r) => 1 + 1.5", ROW, "expected int but found float for the right operand of +"),
        ('(r) => int(v: "1.5")', ROW, 'cannot convert string "1.5" to int due to invalid syntax'),
        ("(r) => 1 / 0", ROW, "cannot divide by zero"),
        ("(r) => r.tag.x", ROW, "cannot access property x: expected a record but found string"),
        ("(r) => 9223372036854775807 + 1", ROW, "integer overflow"),
        ("(r) => {\n  x = 1\n}", ROW, "missing return statement"),
    ],
)
def test_errors_while_running(source: str, row: dict[str, Any], message: str) -> None:
    fn = flux_fn(source)
    with pytest.raises(FluxError, match="@") as info:
        fn(row)
    assert message in str(info.value)


def test_type_error_for_data_explains_bytes() -> None:
    with pytest.raises(FluxError) as info:
        flux_fn('(r) => ({headers: {}, data: "v=${r._value}"})')
    text = str(info.value)
    assert text.startswith("type error @1:29-1:44")
    assert 'wrap it in bytes(v: ...), e.g. data: bytes(v: "v=${r._value}")' in text


@pytest.mark.parametrize(
    ("text", "is_flux"),
    [
        ("(r) => ({})", True),
        ("  (r)=>r", True),
        ("// comment\n(r) => {\n return {}\n}", True),
        ("(r, x=1) => r", True),
        ("() => 1", True),
        ("lambda r: {'headers': {}, 'data': b''}", False),
        ("(lambda r: r)", False),
        ("my_function", False),
        ("(r)", False),
        ("{'a': 1}", False),
        ("", False),
    ],
)
def test_looks_like_flux(text: str, is_flux: bool) -> None:
    assert looks_like_flux(text) is is_flux


def test_flux_and_python_make_identical_requests(receiver: flux_magic.Receiver) -> None:
    df = sampledata.float(include_null=False)
    flux = flux_fn(
        '(r) => ({headers: {"Content-Type": "application/json", "X-Tag": r.tag}, '
        "data: json.encode(v: {value: r._value, time: r._time})})"
    )

    def python(r: Any) -> dict[str, Any]:
        t = r._time.strftime("%Y-%m-%dT%H:%M:%SZ")
        v = repr(r._value)
        return {
            "headers": {"Content-Type": "application/json", "X-Tag": r.tag},
            "data": f'{{"time":"{t}","value":{v}}}'.encode(),
        }

    send_flux = flux_magic.endpoint(receiver.url)(flux)
    send_python = flux_magic.endpoint(receiver.url)(python)
    a = send_flux.preview(df, n=12)
    b = send_python.preview(df, n=12)
    assert a["body"].tolist() == b["body"].tolist()
    assert a["headers"].tolist() == b["headers"].tolist()
    result = send_flux(df)
    assert result["_sent"].tolist() == ["true"] * 12
    assert receiver.requests["body"].iloc[0] == b'{"time":"2021-01-01T00:00:00Z","value":-2.18}'

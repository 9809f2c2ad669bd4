"""Flux's exact text formatting: string(), interpolation, json.encode, conversions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from flux_magic._errors import FluxError
from flux_magic._flux import flux_fn
from flux_magic._flux._values import (
    UInt,
    format_duration,
    format_float,
    format_time,
    format_time_rfc3339nano,
    json_encode,
    parse_duration,
)


def ev(expr: str, **row: Any) -> Any:
    """Evaluate a Flux expression with ``r`` bound to ``row``."""
    return flux_fn(f"(r) => {expr}")(row)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (10.92, "10.92"),
        (-2.18, "-2.18"),
        (1.0, "1"),
        (100.0, "100"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (-0.0, "-0"),
        (123456789.125, "123456789.125"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
        (float("-inf"), "-Inf"),
    ],
)
def test_float_is_shortest_without_exponent(value: float, text: str) -> None:
    assert format_float(value) == text
    if value == value:  # a NaN cell in a DataFrame is a null, so test NaN through float()
        assert ev("string(v: r.x)", x=value) == text
    else:
        assert ev('string(v: float(v: "NaN"))') == text


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        ("string(v: 9223372036854775807)", "9223372036854775807"),
        ("string(v: -9223372036854775807 - 1)", "-9223372036854775808"),
        ("string(v: -42)", "-42"),
        ("string(v: uint(v: -1))", "18446744073709551615"),
        ("string(v: true)", "true"),
        ("string(v: false)", "false"),
        ('string(v: "as is")', "as is"),
        ('string(v: bytes(v: "round trip"))', "round trip"),
        ("string(v: 2021-01-01T00:00:00Z)", "2021-01-01T00:00:00.000000000Z"),
        ("string(v: 2021-01-01T00:00:00.5Z)", "2021-01-01T00:00:00.500000000Z"),
        ("string(v: 2021-01-01T01:02:03.123456789+01:00)", "2021-01-01T00:02:03.123456789Z"),
        ("string(v: 2021-06-01)", "2021-06-01T00:00:00.000000000Z"),
        ("string(v: 1m)", "1m"),
        ("string(v: 90m)", "1h30m"),
        ("string(v: 1h30m)", "1h30m"),
        ("string(v: 14d)", "2w"),
        ("string(v: 1500ms)", "1s500ms"),
        ("string(v: 1mo)", "1mo"),
        ("string(v: 13mo)", "1y1mo"),
        ("string(v: -5s)", "-5s"),
        ("string(v: 0s)", "0ns"),
        ("string(v: 1us)", "1us"),
    ],
)
def test_string_of_basic_values(expr: str, text: str) -> None:
    assert ev(expr) == text


@pytest.mark.parametrize(
    ("row", "text"),
    [
        ({"x": 10.92}, "v=10.92"),
        ({"x": -3}, "v=-3"),
        ({"x": 2**63 - 1}, "v=9223372036854775807"),
        ({"x": "str"}, "v=str"),
        ({"x": True}, "v=true"),
        ({"x": pd.Timestamp("2021-01-01T00:00:10Z")}, "v=2021-01-01T00:00:10.000000000Z"),
        ({"x": pd.Timedelta(minutes=1)}, "v=1m"),
    ],
)
def test_interpolation_formats_like_string(row: dict[str, Any], text: str) -> None:
    assert ev('"v=${r.x}"', **row) == text


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"x": None}, "interpolated expression produced a null value"),
        ({}, "interpolated expression produced a null value"),
        ({"x": b"raw"}, "cannot interpolate a value of type bytes"),
        ({"x": {"a": 1}}, "cannot interpolate a value of type record"),
    ],
)
def test_interpolation_errors(row: dict[str, Any], message: str) -> None:
    with pytest.raises(FluxError, match=message) as info:
        ev('"v=${r.x}"', **row)
    assert "@1:13-1:16" in str(info.value)
    assert "            ^^^" in str(info.value)


@pytest.mark.parametrize(
    ("expr", "encoded"),
    [
        ("{b: 1, a: 2}", b'{"a":2,"b":1}'),
        ('{z: {y: [1, 2.5, "x"], b: true}, a: "q"}', b'{"a":"q","z":{"b":true,"y":[1,2.5,"x"]}}'),
        ('"<a href=\\"x\\">&</a>"', b'"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"'),
        ('"tab\\tnew\\nline\\\\"', b'"tab\\tnew\\nline\\\\"'),
        ('"caf\\xc3\\xa9"', '"café"'.encode()),  # \xNN escapes are UTF-8 bytes
        ('"\u00e9\u2028"', '"\u00e9\\u2028"'.encode()),
        ("2021-01-01T00:00:00Z", b'"2021-01-01T00:00:00Z"'),
        ("2021-01-01T00:00:00.120Z", b'"2021-01-01T00:00:00.12Z"'),
        ("1h", b'"1h"'),
        ("[]", b"[]"),
        ("{}", b"{}"),
        ("1.0", b"1"),
        ("1e21", b"1e+21"),
        ("-9223372036854775807", b"-9223372036854775807"),
        ('bytes(v: "hi")', b'"aGk="'),
        ("uint(v: 18446744073709551615.0)", b"0"),
    ],
)
def test_json_encode(expr: str, encoded: bytes) -> None:
    if expr == "1e21":
        assert json_encode(1e21) == encoded
        assert json_encode(1.5e-7) == b"1.5e-7"
        assert json_encode(1e-10) == b"1e-10"
        return
    assert ev(f"json.encode(v: {expr})") == encoded


def test_json_encode_of_a_row_sorts_and_keeps_nulls() -> None:
    row = {"_value": 1.5, "tag": "t1", "_time": pd.Timestamp("2021-01-01", tz="UTC"), "x": None}
    assert ev("json.encode(v: r)", **row) == (
        b'{"_time":"2021-01-01T00:00:00Z","_value":1.5,"tag":"t1","x":null}'
    )


def test_json_encode_rejects_nan() -> None:
    with pytest.raises(FluxError, match="unsupported value: NaN"):
        ev('json.encode(v: float(v: "NaN"))')


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ('int(v: "42")', 42),
        ('int(v: "-7")', -7),
        ("int(v: 10.92)", 10),
        ("int(v: -2.18)", -2),
        ("int(v: true)", 1),
        ("int(v: 1s)", 1_000_000_000),
        ("int(v: 1970-01-01T00:00:01Z)", 1_000_000_000),
        ("uint(v: -2)", 2**64 - 2),
        ("uint(v: -2.18)", 2**64 - 2),
        ('uint(v: "18446744073709551615")', 2**64 - 1),
        ('float(v: "1.5")', 1.5),
        ('float(v: "1e3")', 1000.0),
        ("float(v: 3)", 3.0),
        ('bool(v: "true")', True),
        ("bool(v: 0)", False),
        ("7 / 2", 3),
        ("-7 / 2", -3),
        ("7 % -3", 1),
        ("-7 % 3", -1),
        ("7.0 / 2.0", 3.5),
        ("2 ^ 10", 1024),
        ('"a" + "b"', "ab"),
        ("1 < 2.5", True),
        ("if 1 > 2 then 1 else 2", 2),
        ("not (1 == 1) or 2 >= 2", True),
        ('strings.substring(v: "influx", start: 0, end: 3)', "inf"),
        ('strings.strlen(v: "héllo")', 5),
        ('strings.toLower(v: "ABC")', "abc"),
        ('strings.toUpper(v: "abc")', "ABC"),
        ('strings.title(v: "hello wORLD-x_y")', "Hello WORLD-X_y"),
        ('strings.trimSpace(v: "  x \\n")', "x"),
        ('strings.replaceAll(v: "a-b-c", t: "-", u: "+")', "a+b+c"),
        ('strings.hasPrefix(v: "influx", prefix: "in")', True),
        ('strings.hasSuffix(v: "influx", suffix: "in")', False),
        ('strings.containsStr(v: "influx", substr: "flu")', True),
        ('http.basicAuth(u: "user", p: "pass")', "Basic dXNlcjpwYXNz"),
        ('http.pathEscape(inputString: "a b/c?d&e=f@g,h;i")', "a%20b%2Fc%3Fd&e=f@g%2Ch%3Bi"),
        ('http.pathEscape(inputString: "é~-_.")', "%C3%A9~-_."),
    ],
)
def test_builtins(expr: str, value: Any) -> None:
    result = ev(expr)
    assert result == value
    assert type(result) is type(value)


def test_uint_keeps_its_type_in_the_evaluator() -> None:
    assert UInt(-1) == 2**64 - 1
    assert repr(UInt(3)) == "UInt(3)"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("1h30m", "1h30m"), ("90m", "1h30m"), ("1y2mo", "1y2mo"), ("-1d", "-1d"), ("0s", "0ns")],
)
def test_duration_round_trip(text: str, canonical: str) -> None:
    assert format_duration(parse_duration(text)) == canonical


def test_time_formats() -> None:
    t = pd.Timestamp("2021-01-01T00:00:00.000001Z")
    assert format_time(t) == "2021-01-01T00:00:00.000001000Z"
    assert format_time_rfc3339nano(t) == "2021-01-01T00:00:00.000001Z"
    assert format_time_rfc3339nano(pd.Timestamp("2021-01-01")) == "2021-01-01T00:00:00Z"


def test_now_is_fixed_when_given_and_by_option() -> None:
    fn = flux_fn("(r) => string(v: now())", now=pd.Timestamp("2030-01-01", tz="UTC"))
    assert fn({}) == "2030-01-01T00:00:00.000000000Z"

"""The ``date`` package: parts of times, add/sub/truncate/scale, locations, constants.

Expected values of absolute times are the docs' examples. The docs' examples with relative
durations were written against another ``now()``; here ``now`` is fixed and the expected
values follow the documented rule (a duration is relative to ``now()``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from .flux_eval import ev, fails

T = "2020-02-11T12:21:03.293534940Z"
NOW = "2020-02-11T12:21:03.293534940Z"


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        ("second", 3),
        ("minute", 21),
        ("hour", 12),
        ("weekDay", 2),
        ("monthDay", 11),
        ("yearDay", 42),
        ("month", 2),
        ("year", 2020),
        ("week", 7),
        ("quarter", 1),
        ("millisecond", 293),
        ("microsecond", 293534),
        ("nanosecond", 293534940),
    ],
)
def test_parts_of_a_time(fn: str, expected: int) -> None:
    assert ev(f"date.{fn}(t: {T})", "date") == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("date.second(t: -50s)", 13),  # 12:20:13.29
        ("date.hour(t: -8h)", 4),
        ("date.monthDay(t: -8d)", 3),
        ("date.weekDay(t: -84h)", 6),  # Saturday 2020-02-08
        ("date.month(t: -3mo)", 11),
        ("date.year(t: -14y)", 2006),
        ("date.quarter(t: -7mo)", 3),
        ("date.millisecond(t: -150ms)", 143),
        ("date.nanosecond(t: -2111984ns)", 291422956),
    ],
)
def test_parts_of_a_relative_duration(expr: str, expected: int) -> None:
    assert ev(expr, "date", now=NOW) == expected


def test_an_int_is_nanoseconds_since_the_epoch() -> None:
    assert ev("date.year(t: 0)", "date") == 1970
    assert ev("date.second(t: 61000000000)", "date") == 1


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("date.add(d: 6h, to: 2019-09-16T12:00:00Z)", "2019-09-16T18:00:00Z"),
        ("date.sub(from: 2019-09-16T12:00:00Z, d: 6h)", "2019-09-16T06:00:00Z"),
        (
            "date.add(d: date.scale(d: 1mo1h, n: 5), to: 2022-01-01T00:00:00Z)",
            "2022-06-01T05:00:00Z",
        ),
        ("date.add(d: date.scale(d: 1h, n: 5), to: 2022-05-10T00:00:00Z)", "2022-05-10T05:00:00Z"),
        # months add on the calendar; a day past the month's end rolls over, as in Go
        ("date.add(d: 1mo, to: 2021-01-31T00:00:00Z)", "2021-03-03T00:00:00Z"),
        ("date.sub(from: 2021-03-31T00:00:00Z, d: 1mo)", "2021-03-03T00:00:00Z"),
        ("date.add(d: 1y, to: 2020-02-29T00:00:00Z)", "2021-03-01T00:00:00Z"),
        ("date.truncate(t: 2019-06-03T13:59:01Z, unit: 1s)", "2019-06-03T13:59:01Z"),
        ("date.truncate(t: 2019-06-03T13:59:01Z, unit: 1m)", "2019-06-03T13:59:00Z"),
        ("date.truncate(t: 2019-06-03T13:59:01Z, unit: 1h)", "2019-06-03T13:00:00Z"),
        ("date.truncate(t: 2019-06-03T13:59:01Z, unit: 1d)", "2019-06-03T00:00:00Z"),
        ("date.truncate(t: 2019-06-03T13:59:01Z, unit: 1mo)", "2019-06-01T00:00:00Z"),
        ("date.truncate(t: 2019-06-03T13:59:01Z, unit: 1y)", "2019-01-01T00:00:00Z"),
        ("date.time(t: 2020-02-11T12:21:03.293534940Z)", "2020-02-11T12:21:03.293534940Z"),
    ],
)
def test_arithmetic(expr: str, expected: str) -> None:
    assert ev(expr, "date") == stamp(expected)


MADRID = 'madrid = {zone: "Europe/Madrid", offset: 0h}\n'


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("1s", "2019-06-03T13:59:01Z"),
        ("1m", "2019-06-03T13:59:00Z"),
        ("1h", "2019-06-03T13:00:00Z"),
        ("1d", "2019-06-02T22:00:00Z"),
        ("1mo", "2019-05-31T22:00:00Z"),
        ("1y", "2018-12-31T23:00:00Z"),
    ],
)
def test_truncate_in_a_location(unit: str, expected: str) -> None:
    """The docs' example with option location = timezone.location(name: "Europe/Madrid")."""
    expr = f"date.truncate(t: 2019-06-03T13:59:01.000000000Z, unit: {unit}, location: madrid)"
    assert ev(expr, "date", prelude=MADRID) == stamp(expected)


def test_relative_times() -> None:
    now = "2022-01-01T12:00:00Z"
    assert ev("date.time(t: -1h)", "date", now=now) == stamp("2022-01-01T11:00:00Z")
    assert ev("date.add(d: 6h, to: 3h)", "date", now=now) == stamp("2022-01-01T21:00:00Z")
    assert ev("date.sub(d: 6h, from: -3h)", "date", now=now) == stamp("2022-01-01T03:00:00Z")
    dec = "2021-12-10T16:27:40Z"
    assert ev("date.add(d: 1mo, to: -1d)", "date", now=dec) == stamp("2022-01-09T16:27:40Z")
    assert ev("date.sub(from: -1h, d: 2d)", "date", now=dec) == stamp("2021-12-08T15:27:40Z")
    half = "2020-01-01T00:00:30.500000000Z"
    # now - 30s is 00:00:00.5 (the docs print 23:59:30, which is 30.5s earlier still)
    assert ev("date.truncate(t: -30s, unit: 1s)", "date", now=half) == stamp("2020-01-01T00:00:00Z")
    assert ev("date.truncate(t: -1h, unit: 1h)", "date", now=half) == stamp("2019-12-31T23:00:00Z")


def test_hour_in_a_location_and_a_fixed_offset() -> None:
    assert ev(f"date.hour(t: {T}, location: madrid)", "date", prelude=MADRID) == 13
    fixed = 'plus = {zone: "UTC", offset: -5h}\n'
    assert ev(f"date.hour(t: {T}, location: plus)", "date", prelude=fixed) == 7


def test_scale() -> None:
    assert str(ev("date.scale(d: 1h, n: 5)", "date")) == "5h"
    assert str(ev("date.scale(d: 1mo1h, n: -2)", "date")) == "-2mo2h"


@pytest.mark.parametrize(
    ("name", "value"),
    [("Sunday", 0), ("Wednesday", 3), ("Saturday", 6), ("January", 1), ("December", 12)],
)
def test_constants(name: str, value: Any) -> None:
    assert ev(f"date.{name}", "date") == value


def test_weekday_constant_in_a_filter() -> None:
    df = ev(
        "sampledata.int() |> filter(fn: (r) => date.weekDay(t: r._time) == date.Friday)",
        "date",
        "sampledata",
    )
    assert len(df) == 12  # 2021-01-01 was a Friday


def test_errors() -> None:
    fails('date.hour(t: "2021-01-01")', "date", match="expected time or duration or int")
    fails(
        f'date.hour(t: {T}, location: {{zone: "Mars/Base", offset: 0h}})',
        "date",
        match='unknown time zone "Mars/Base"',
    )


def test_option_location_with_the_timezone_package() -> None:
    """The docs' truncate example as written: option location = timezone.location(...)."""
    prelude = 'option location = timezone.location(name: "Europe/Madrid")\n'
    expr = "date.truncate(t: 2019-06-03T13:59:01.000000000Z, unit: 1d)"
    assert ev(expr, "date", "timezone", prelude=prelude) == stamp("2019-06-02T22:00:00Z")


@pytest.mark.parametrize(
    ("location", "hour"),
    [
        ("timezone.utc", 13),
        ("timezone.fixed(offset: -5h)", 8),
        ('timezone.location(name: "Asia/Tokyo")', 22),
    ],
)
def test_timezone_records(location: str, hour: int) -> None:
    expr = f"date.hour(t: 2019-06-03T13:59:01Z, location: {location})"
    assert ev(expr, "date", "timezone") == hour


def test_unknown_timezone_name() -> None:
    fails('timezone.location(name: "Mars/Base")', "timezone", match='unknown time zone "Mars/Base"')

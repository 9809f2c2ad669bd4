"""Flux's ``date`` package: parts of a time, ``add``/``sub``/``truncate``/``scale``, and the
day and month constants.

``t`` may be a time, a duration (relative to ``now()``) or an int (nanoseconds since the Unix
epoch). ``location`` is a record ``{zone: "Europe/Madrid", offset: 0h}`` (zone from the IANA
database, plus a fixed offset), defaulting to ``option location`` or UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin
from flux_magic._flux._values import Duration

PATH = "date"

_SECOND = 1_000_000_000
_DAY = 86400 * _SECOND
_UTC = {"zone": "UTC", "offset": Duration()}
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class _Location:
    """A Flux location: an IANA zone plus a fixed offset."""

    def __init__(self, value: Any, fn: str) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("zone"), str):
            raise FluxRuntimeError(
                f"date.{fn}: location must be a record {{zone: string, offset: duration}}",
                kind="type error",
                param="location",
            )
        offset = value.get("offset") or Duration()
        expect(offset, "location", f"date.{fn}", "duration")
        self.fixed = offset.total_nanoseconds()
        zone = value["zone"] or "UTC"
        try:
            self.zone = dt.UTC if zone == "UTC" else ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise FluxRuntimeError(
                f'date.{fn}: unknown time zone "{zone}"', param="location"
            ) from None

    def offset(self, utc_ns: int) -> int:
        """Nanoseconds to add to a UTC instant to get the local wall clock."""
        moment = dt.datetime.fromtimestamp(utc_ns // _SECOND, dt.UTC)
        delta = moment.astimezone(self.zone).utcoffset() or dt.timedelta()
        return int(delta.total_seconds()) * _SECOND + self.fixed

    def to_local(self, utc_ns: int) -> int:
        return utc_ns + self.offset(utc_ns)

    def to_utc(self, local_ns: int) -> int:
        """The UTC instant of a local wall-clock time (the earlier one when ambiguous)."""
        wall = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=(local_ns - self.fixed) // 1000)
        delta = wall.replace(tzinfo=self.zone).utcoffset() or dt.timedelta()
        return local_ns - self.fixed - int(delta.total_seconds()) * _SECOND

    def wall(self, utc_ns: int) -> dt.datetime:
        """The local wall clock as a naive datetime (microseconds)."""
        return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=self.to_local(utc_ns) // 1000)


def _location(interp: Any, value: Any, fn: str) -> _Location:
    if value is None:
        value = interp.options.get("location", _UTC)
    return _Location(value, fn)


def _add_months(local_ns: int, months: int) -> int:
    """Go's ``AddDate(0, months, 0)`` on a wall clock: day overflow rolls into the next month."""
    if not months:
        return local_ns
    days, rest = divmod(local_ns, _DAY)
    day = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    year, month = divmod(day.month - 1 + months, 12)
    first = dt.date(day.year + year, month + 1, 1)
    shifted = first + dt.timedelta(days=day.day - 1)
    return (shifted - dt.date(1970, 1, 1)).days * _DAY + rest


def _shift(utc_ns: int, d: Duration, loc: _Location, sign: int = 1) -> int:
    months = d.months * (-1 if d.negative else 1) * sign
    nanos = d.nanoseconds * (-1 if d.negative else 1) * sign
    if months:
        utc_ns = loc.to_utc(_add_months(loc.to_local(utc_ns), months))
    return utc_ns + nanos


def _time_ns(interp: Any, t: Any, fn: str, param: str = "t") -> int:
    expect(t, param, f"date.{fn}", "time", "duration", "int")
    if isinstance(t, pd.Timestamp):
        return int(t.value)
    if isinstance(t, Duration):
        return _shift(int(interp.now().value), t, _Location(_UTC, fn))
    return int(t)


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def _part(name: str, get: Any, *, located: bool = True) -> Builtin:
    if located:

        def impl(interp: Any, t: Any, location: Any = None) -> int:
            loc = _location(interp, location, name)
            result: int = get(loc.wall(_time_ns(interp, t, name)))
            return result

        params = "t, location=?"
    else:

        def impl(interp: Any, t: Any) -> int:  # type: ignore[misc]
            result: int = get(_time_ns(interp, t, name) % _SECOND)
            return result

        params = "t"
    return builtin(f"date.{name}", params, impl, example=f"date.{name}(t: r._time)")


def _second(interp: Any, t: Any) -> int:
    return _time_ns(interp, t, "second") // _SECOND % 60


def _time(interp: Any, t: Any, location: Any = None) -> pd.Timestamp:
    _location(interp, location, "time")
    return _stamp(_time_ns(interp, t, "time"))


def _add(interp: Any, d: Any, to: Any, location: Any = None) -> pd.Timestamp:
    expect(d, "d", "date.add", "duration")
    loc = _location(interp, location, "add")
    return _stamp(_shift(_time_ns(interp, to, "add", "to"), d, loc))


def _sub(interp: Any, d: Any, location: Any = None, **args: Any) -> pd.Timestamp:
    expect(d, "d", "date.sub", "duration")
    loc = _location(interp, location, "sub")
    return _stamp(_shift(_time_ns(interp, args["from"], "sub", "from"), d, loc, -1))


def _truncate(interp: Any, t: Any, unit: Any, location: Any = None) -> pd.Timestamp:
    expect(unit, "unit", "date.truncate", "duration")
    loc = _location(interp, location, "truncate")
    if unit.negative or (unit.months == 0 and unit.nanoseconds == 0):
        raise FluxRuntimeError("date.truncate: unit must be a positive duration", param="unit")
    if unit.months and unit.nanoseconds:
        raise FluxRuntimeError(
            "date.truncate: unit must be months or a fixed duration, not both", param="unit"
        )
    local = loc.to_local(_time_ns(interp, t, "truncate"))
    if unit.months:
        wall = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=local // 1000)
        index = wall.year * 12 + wall.month - 1
        index -= index % unit.months
        start = dt.datetime(index // 12, index % 12 + 1, 1)
        truncated = (start - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1) * 1000
    else:
        truncated = local - local % unit.nanoseconds
    return _stamp(loc.to_utc(truncated))


def _scale(interp: Any, d: Any, n: Any) -> Duration:
    expect(d, "d", "date.scale", "duration")
    factor = expect(n, "n", "date.scale", "int")
    negative = d.negative != (factor < 0)
    months, nanos = d.months * abs(factor), d.nanoseconds * abs(factor)
    return Duration(months, nanos, negative and bool(months or nanos))


def members() -> dict[str, Any]:
    """The package's names."""
    names: dict[str, Any] = {
        "second": builtin("date.second", "t", _second, example="date.second(t: r._time)"),
        "minute": _part("minute", lambda w: w.minute),
        "hour": _part("hour", lambda w: w.hour),
        "weekDay": _part("weekDay", lambda w: (w.weekday() + 1) % 7),
        "monthDay": _part("monthDay", lambda w: w.day),
        "yearDay": _part("yearDay", lambda w: w.timetuple().tm_yday),
        "month": _part("month", lambda w: w.month),
        "year": _part("year", lambda w: w.year),
        "week": _part("week", lambda w: w.isocalendar()[1]),
        "quarter": _part("quarter", lambda w: (w.month - 1) // 3 + 1),
        "millisecond": _part("millisecond", lambda ns: ns // 1_000_000, located=False),
        "microsecond": _part("microsecond", lambda ns: ns // 1_000, located=False),
        "nanosecond": _part("nanosecond", lambda ns: ns, located=False),
        "time": builtin("date.time", "t, location=?", _time, example="date.time(t: -1h)"),
        "add": builtin(
            "date.add", "d, to, location=?", _add, example="date.add(d: 6h, to: r._time)"
        ),
        "sub": builtin(
            "date.sub", "d, from, location=?", _sub, example="date.sub(d: 6h, from: r._time)"
        ),
        "truncate": builtin(
            "date.truncate",
            "t, unit, location=?",
            _truncate,
            example="date.truncate(t: r._time, unit: 1h)",
        ),
        "scale": builtin("date.scale", "d, n", _scale, example="date.scale(d: 1h, n: 5)"),
    }
    names.update({name: number for number, name in enumerate(_DAYS)})
    names.update({name: number for number, name in enumerate(_MONTHS, start=1)})
    return names

"""Flux values as Python objects, and Flux's exact text formatting of them.

Flux type      Python representation
-------------  ---------------------------------------------------------
null           ``None``
int            ``int``
uint           :class:`UInt` (an ``int`` subclass)
float          ``float``
string         ``str``
bool           ``bool``
bytes          ``bytes``
time           ``pandas.Timestamp`` (tz-aware UTC, nanoseconds)
duration       :class:`Duration` (``pandas.Timedelta`` is accepted on input)
record         ``dict`` (``str`` keys, insertion order kept)
array          ``list``
regexp         the compiled pattern of ``re2.compile`` (google-re2: Go's RE2 syntax)
function       any callable
stream         :class:`pandas.DataFrame` (group key in ``attrs["flux_group_key"]``)
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Duration",
    "UInt",
    "compile_regexp",
    "format_duration",
    "format_float",
    "format_time",
    "format_time_rfc3339nano",
    "from_python",
    "is_regexp",
    "json_encode",
    "parse_duration",
    "to_python",
    "type_name",
]

_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
    "d": 86400 * 1_000_000_000,
    "w": 7 * 86400 * 1_000_000_000,
}
_MONTHS = {"mo": 1, "y": 12}
_DURATION_PART = re.compile(r"(\d+)(mo|ms|us|µs|ns|y|w|d|h|m|s)")
_UINT_MAX = 2**64


class UInt(int):
    """A Flux ``uint``: an ``int`` in ``[0, 2**64)`` that remembers its type."""

    def __new__(cls, value: int = 0) -> UInt:
        """Wrap ``value`` modulo 2**64, as Go's conversion does."""
        return super().__new__(cls, int(value) % _UINT_MAX)

    def __repr__(self) -> str:
        """Show the type, so ``uint`` values are told apart from ``int`` ones."""
        return f"UInt({int(self)})"


@dataclass(frozen=True)
class Duration:
    """A Flux duration: months and nanoseconds kept apart, as Flux does."""

    months: int = 0
    nanoseconds: int = 0
    negative: bool = False

    @classmethod
    def from_timedelta(cls, value: pd.Timedelta | _dt.timedelta | np.timedelta64) -> Duration:
        """Build a duration from a pandas/Python/numpy timedelta."""
        ns = int(pd.Timedelta(value).value)
        return cls(0, abs(ns), ns < 0)

    def total_nanoseconds(self) -> int:
        """Signed nanoseconds; a duration with months has no fixed length."""
        if self.months:
            raise ValueError(f"duration {self} has months and no fixed length in nanoseconds")
        return -self.nanoseconds if self.negative else self.nanoseconds

    def to_timedelta(self) -> pd.Timedelta:
        """The same duration as a ``pandas.Timedelta`` (no months allowed)."""
        return pd.Timedelta(self.total_nanoseconds(), unit="ns")

    def __str__(self) -> str:
        """Flux's duration literal, e.g. ``1h30m``."""
        return format_duration(self)


def parse_duration(text: str) -> Duration:
    """Parse a Flux duration literal such as ``1h30m``, ``-5s`` or ``1mo2w``."""
    negative = text.startswith("-")
    body = text[1:] if negative else text
    pos = 0
    months = 0
    ns = 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            raise ValueError(f"invalid duration {text!r}")
        amount, unit = int(match.group(1)), match.group(2)
        if unit in _MONTHS:
            months += amount * _MONTHS[unit]
        else:
            ns += amount * _NS[unit]
        pos = match.end()
    if pos != len(body) or not body:
        raise ValueError(f"invalid duration {text!r}")
    return Duration(months, ns, negative and (months != 0 or ns != 0))


def format_duration(value: Duration | pd.Timedelta) -> str:
    """Format a duration as Flux does: largest units first, ``0ns`` for zero."""
    if not isinstance(value, Duration):
        value = Duration.from_timedelta(value)
    parts: list[str] = []
    years, months = divmod(value.months, 12)
    if years:
        parts.append(f"{years}y")
    if months:
        parts.append(f"{months}mo")
    rest = value.nanoseconds
    for unit in ("w", "d", "h", "m", "s", "ms", "us", "ns"):
        amount, rest = divmod(rest, _NS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    if not parts:
        return "0ns"
    return ("-" if value.negative else "") + "".join(parts)


def format_float(value: float) -> str:
    """Shortest decimal that round-trips, never with an exponent (Go's ``'f', -1``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(np.format_float_positional(value, trim="-"))


def _utc(value: pd.Timestamp) -> pd.Timestamp:
    if value.tzinfo is None:
        return value.tz_localize("UTC")
    return value.tz_convert("UTC")


def _time_parts(value: pd.Timestamp) -> tuple[str, int]:
    value = _utc(value)
    ns = int(value.value) % 1_000_000_000
    return value.strftime("%Y-%m-%dT%H:%M:%S"), ns


def format_time(value: pd.Timestamp) -> str:
    """``string(v: time)``: RFC 3339 with a fixed 9-digit fraction."""
    head, ns = _time_parts(value)
    return f"{head}.{ns:09d}Z"


def format_time_rfc3339nano(value: pd.Timestamp) -> str:
    """Go's ``RFC3339Nano``: trailing zeros of the fraction trimmed, none when zero."""
    head, ns = _time_parts(value)
    if ns == 0:
        return f"{head}Z"
    return f"{head}.{f'{ns:09d}'.rstrip('0')}Z"


def compile_regexp(pattern: str) -> Any:
    """A Flux regexp value: ``re2.compile(pattern)``; ValueError with RE2's reason if invalid."""
    import re2

    quiet = re2.Options()
    quiet.log_errors = False  # the reason goes into the Flux error, not to stderr
    try:
        re2.compile(pattern, quiet)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"error parsing regexp: {reason}: `{pattern}`") from None
    return re2.compile(pattern)


def is_regexp(value: Any) -> bool:
    """Whether ``value`` is a compiled RE2 pattern (a Flux regexp)."""
    return type(value).__module__ == "re2" and hasattr(value, "search")


def type_name(value: Any) -> str:
    """The Flux name of a value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, UInt):
        return "uint"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, pd.Timestamp):
        return "time"
    if isinstance(value, Duration):
        return "duration"
    if isinstance(value, dict):
        return "record"
    if isinstance(value, list):
        return "array"
    if isinstance(value, pd.DataFrame):
        return "stream"
    if is_regexp(value):
        return "regexp"
    if callable(value):
        return "function"
    flux_type = getattr(type(value), "flux_type", None)  # value classes of _stdlib packages
    return flux_type if isinstance(flux_type, str) else type(value).__name__


def from_python(value: Any) -> Any:
    """Convert a Python/pandas/numpy value into its Flux representation."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool | str | bytes | Duration | UInt):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.unsignedinteger):
        return UInt(int(value))
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp | _dt.datetime | np.datetime64):
        return _utc(pd.Timestamp(value)).as_unit("ns")
    if isinstance(value, pd.Timedelta | _dt.timedelta | np.timedelta64):
        return Duration.from_timedelta(value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, Mapping):
        return {str(k): from_python(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_python(v) for v in value]
    return value


def to_python(value: Any) -> Any:
    """Convert a Flux value into plain Python for the engine (records become dicts)."""
    if isinstance(value, UInt):
        return int(value)
    if isinstance(value, Duration):
        return value if value.months else value.to_timedelta()
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    return value


_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _json_string(text: str) -> str:
    out = ['"']
    for ch in text:
        escaped = _JSON_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {format_float(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        # Go: strconv 'e' format (two-digit exponent at least), then "e-09" becomes "e-9".
        mantissa, _, exponent = repr(value).partition("e")
        if exponent.startswith("-0"):
            exponent = "-" + exponent[2:]
        return f"{mantissa}e{exponent}"
    return format_float(value)


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, bytes):
        return _json_string(base64.b64encode(value).decode("ascii"))
    if isinstance(value, pd.Timestamp):
        return _json_string(format_time_rfc3339nano(value))
    if isinstance(value, Duration):
        return _json_string(format_duration(value))
    if isinstance(value, Mapping):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_json_string(k)}:{_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json(v) for v in value) + "]"
    converted = from_python(value)
    if converted is not value and not isinstance(converted, float):
        return _json(converted)
    raise ValueError(f"json: unsupported type {type_name(value)}")


def json_encode(value: Any) -> bytes:
    """``json.encode(v:)``: compact JSON bytes, sorted keys, HTML characters escaped."""
    return _json(value).encode("utf-8")

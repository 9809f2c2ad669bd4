"""Flux's builtins: the universe (conversions, ``now``, table functions) and the packages
``http``, ``json`` and ``sampledata``, with Flux's formatting (the other packages are modules
of ``_stdlib``)."""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from flux_magic._errors import EndpointError, FluxError, MappingError
from flux_magic._flux import _ast as ast
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin, Closure, Interpreter, Package, to_string
from flux_magic._flux._values import (
    Duration,
    UInt,
    from_python,
    json_encode,
    parse_duration,
    to_python,
    type_name,
)

__all__ = [
    "PACKAGES",
    "builtin",
    "check_request",
    "expect",
    "package",
    "request_function",
    "universe",
]

_BASIC = ("string", "int", "uint", "float", "bool", "time", "duration")


def builtin(
    name: str,
    params: str,
    impl: Callable[..., Any],
    *,
    pipe: str | None = None,
    example: str = "",
    aliases: dict[str, str] | None = None,
) -> Builtin:
    """A Flux builtin; ``params`` is e.g. ``"v, start, end=?"`` (``=?`` marks optional ones)."""
    names = tuple(p.strip().removesuffix("=?") for p in params.split(",") if p.strip())
    required = frozenset(
        p.strip() for p in params.split(",") if p.strip() and not p.strip().endswith("=?")
    )
    return Builtin(name, impl, names, required, pipe, aliases or {}, example)


def expect(value: Any, param: str, fn: str, *kinds: str, hint: str | None = None) -> Any:
    """``value`` if its Flux type is one of ``kinds``; otherwise Flux's type error."""
    kind = type_name(value)
    if kind not in kinds:
        wanted = " or ".join(kinds)
        raise FluxRuntimeError(
            f"{fn}: expected {wanted} for argument {param} but found {kind}",
            kind="type error",
            param=param,
            hint=hint,
        )
    return value


# conversions ------------------------------------------------------------------------------


def _bytes(interp: Interpreter, v: Any) -> bytes | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v
    expect(v, "v", "bytes", "string", hint="bytes(v:) converts a string; use string(v: ...) first.")
    return str(v).encode("utf-8")


def _string(interp: Interpreter, v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    expect(v, "v", "string", *_BASIC, "bytes")
    return to_string(v)


_INT_TEXT = re.compile(r"[+-]?\d+")
#: Flux's length of a month when a duration becomes nanoseconds: a twelfth of 365.25 days.
_MONTH_NS = 2_629_800_000_000_000


def _quote(text: str) -> str:
    """Go's %q of a string (how Flux quotes values in its errors)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _invalid(text: str, kind: str, syntax: bool = True) -> FluxRuntimeError:
    reason = " due to invalid syntax" if syntax else ""
    return FluxRuntimeError(f"cannot convert string {_quote(text)} to {kind}{reason}", param="v")


def _duration_nanoseconds(v: Duration) -> int:
    total = v.months * _MONTH_NS + v.nanoseconds
    return -total if v.negative else total


def _int(interp: Interpreter, v: Any) -> int | None:
    if v is None:
        return None
    kind = type_name(v)
    expect(v, "v", "int", *_BASIC)
    if kind == "string":
        if not _INT_TEXT.fullmatch(v):
            raise _invalid(v, "int")
        result = int(v)
    elif kind == "float":
        if math.isnan(v) or math.isinf(v):
            raise FluxRuntimeError(f"cannot convert float {v} to int", param="v")
        result = math.trunc(v)
    elif kind == "time":
        result = int(v.value)
    elif kind == "duration":
        result = _duration_nanoseconds(v)
    else:
        result = int(v)
    if kind == "uint" and result >= 2**63:
        result -= 2**64
    if not -(2**63) <= result < 2**63:
        raise FluxRuntimeError(f"cannot convert {v!r} to int: out of range", param="v")
    return result


def _uint(interp: Interpreter, v: Any) -> UInt | None:
    if v is None:
        return None
    kind = type_name(v)
    expect(v, "v", "int", *_BASIC)
    if kind == "string":
        if not re.fullmatch(r"\+?\d+", v) or int(v) >= 2**64:
            raise _invalid(v, "uint")
        return UInt(int(v))
    if kind == "float":
        if math.isnan(v) or math.isinf(v):
            raise FluxRuntimeError(f"cannot convert float {v} to uint", param="v")
        return UInt(math.trunc(v))
    return UInt(_int(interp, v) or 0)


_FLOAT_TEXT = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Inf|NaN)", re.I)


def _float(interp: Interpreter, v: Any) -> float | None:
    if v is None:
        return None
    expect(v, "v", "float", "string", "int", "uint", "float", "bool")
    if isinstance(v, str):
        if not _FLOAT_TEXT.fullmatch(v):
            raise _invalid(v, "float")
        return float(v)
    return float(v)


def _bool(interp: Interpreter, v: Any) -> bool | None:
    if v is None:
        return None
    expect(v, "v", "bool", "string", "int", "uint", "float", "bool")
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if v not in ("true", "false"):
            raise _invalid(v, "bool", syntax=False)
        return v == "true"
    if v in (0, 1):
        return bool(v)
    raise FluxRuntimeError(f"cannot convert {type_name(v)} {v} to bool", param="v")


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")


def _time(interp: Interpreter, v: Any) -> pd.Timestamp | None:
    if v is None:
        return None
    expect(v, "v", "time", "string", "int", "uint", "time")
    if isinstance(v, pd.Timestamp):
        return v
    if isinstance(v, int):
        return pd.Timestamp(int(v), unit="ns", tz="UTC")
    if not _RFC3339.fullmatch(v):  # Flux reads RFC 3339 with a zone, nothing else
        raise _invalid(v, "time")
    try:
        stamp = pd.Timestamp(v)
    except ValueError:
        raise _invalid(v, "time") from None
    return stamp.tz_convert("UTC").as_unit("ns")


def _duration(interp: Interpreter, v: Any) -> Duration | None:
    if v is None:
        return None
    expect(v, "v", "duration", "string", "int", "uint", "duration")
    if isinstance(v, Duration):
        return v
    if isinstance(v, int):
        n = int(v) if not isinstance(v, UInt) or v < 2**63 else int(v) - 2**64
        return Duration(0, abs(n), n < 0)
    try:
        return parse_duration(v)
    except ValueError:
        raise _invalid(v, "duration") from None


def _now(interp: Interpreter) -> pd.Timestamp:
    return interp.now()


def _length(interp: Interpreter, arr: Any) -> int:
    expect(arr, "arr", "length", "array")
    return len(arr)


# json, http ------------------------------------------------------------------------------


def _json_encode(interp: Interpreter, v: Any) -> bytes:
    try:
        return json_encode(v)
    except ValueError as exc:
        raise FluxRuntimeError(str(exc), param="v") from None


def _basic_auth(interp: Interpreter, u: Any, p: Any) -> str:
    expect(u, "u", "http.basicAuth", "string")
    expect(p, "p", "http.basicAuth", "string")
    token = base64.b64encode(f"{u}:{p}".encode()).decode("ascii")
    return f"Basic {token}"


_PATH_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~$&+:=@")


def _path_escape(interp: Interpreter, inputString: Any) -> str:
    expect(inputString, "inputString", "http.pathEscape", "string")
    return "".join(
        chr(b) if b in _PATH_SAFE else f"%{b:02X}" for b in str(inputString).encode("utf-8")
    )


def _find_property(fn: Closure, key: str) -> ast.Node | None:
    """The ``key:`` value in the record a function literal returns, when it is a literal."""
    body: Any = fn.node.body
    if isinstance(body, ast.Block):
        body = next((s.value for s in body.body if isinstance(s, ast.Return)), None)
    if isinstance(body, ast.Record):
        for prop in body.properties:
            if prop.key == key:
                return prop.value
    return None


def _headers_property(fn: Closure, header: str) -> ast.Node | None:
    headers = _find_property(fn, "headers")
    if isinstance(headers, ast.Record):
        for prop in headers.properties:
            if prop.key == header:
                return prop.value
    return headers


def check_request(interp: Interpreter, fn: Closure, record: Any) -> None:
    """Flux's checks on what ``mapFn`` returns: a record, ``data`` bytes, string headers."""
    where: ast.Node = fn.node.body if not isinstance(fn.node.body, ast.Block) else fn.node
    if not isinstance(record, dict):
        raise interp.error(
            where,
            f"mapFn must return a record with headers and data, not {type_name(record)}",
            kind="type error",
            hint='Write e.g. (r) => ({headers: {}, data: bytes(v: "...")}).',
        )
    data = record.get("data")
    if data is not None and not isinstance(data, bytes):
        node = _find_property(fn, "data") or where
        raise interp.error(
            node,
            f"expected bytes but found {type_name(data)} for data",
            kind="type error",
            hint="The request body must be bytes: wrap it in bytes(v: ...), "
            "or use json.encode(v: ...) for JSON.",
        )
    headers = record.get("headers")
    if headers is None:
        return
    if not isinstance(headers, dict):
        raise interp.error(
            _find_property(fn, "headers") or where,
            f"expected a record but found {type_name(headers)} for headers",
            kind="type error",
        )
    for key, value in headers.items():
        if not isinstance(value, str):
            raise interp.error(
                _headers_property(fn, key) or where,
                f'header value "{key}" must be a string',
                kind="type error",
                hint=f"Convert it with string(v: ...); it is a {type_name(value)}.",
            )


def request_function(
    interp: Interpreter, fn: Any, failures: list[FluxError] | None = None
) -> Callable[[Mapping[Any, Any]], dict[str, Any]]:
    """Wrap a Flux ``mapFn`` as the Python mapping function the engine calls per row."""
    if not isinstance(fn, Closure):
        raise FluxRuntimeError(
            f"mapFn must be a function literal such as (r) => ({{...}}), not {type_name(fn)}",
            kind="type error",
            param="mapFn",
        )
    if "r" not in fn.params:
        raise FluxRuntimeError(
            "mapFn must take the row as r, e.g. (r) => ({headers: {}, data: bytes(v: ...)})",
            param="mapFn",
        )

    def map_row(row: Mapping[Any, Any]) -> dict[str, Any]:
        try:
            record = fn(r={str(k): from_python(v) for k, v in row.items()})
            check_request(interp, fn, record)
        except FluxError as exc:
            if failures is not None:
                failures.append(exc)
            raise
        converted: dict[str, Any] = to_python(record)
        return converted

    return map_row


def _send(interp: Interpreter, url: Any, fn: Any, tables: pd.DataFrame) -> pd.DataFrame:
    from flux_magic._endpoint import endpoint

    failures: list[FluxError] = []
    map_row = request_function(interp, fn, failures)
    sender = endpoint(str(url), **interp.endpoint_options)(map_row)
    try:
        result = sender(tables)
    except (EndpointError, MappingError) as exc:
        partial = getattr(exc, "result", None)
        if failures:
            failures[0].result = partial  # type: ignore[attr-defined]
            raise failures[0] from None
        error = FluxRuntimeError(
            f"failed to evaluate map function: {getattr(exc, 'reason', exc)}",
            hint="Flux stops the whole query at the first failed request; rows posted "
            "before it stay posted. Run %%flux --collect to send every row and see each "
            "failure in _error.",
        )
        error.result = partial  # type: ignore[attr-defined]
        raise error from exc
    # Flux's output: no timing column, and _error only when --collect asked for it
    return result.drop(columns=["_elapsed", "_error"] if sender.options.strict else "_elapsed")


def _endpoint(interp: Interpreter, url: Any) -> Builtin:
    expect(url, "url", "http.endpoint", "string")
    from flux_magic._errors import UsageError
    from flux_magic._request import check_url

    try:
        check_url(url)
    except UsageError as exc:
        raise FluxRuntimeError(str(exc), param="url") from None

    def with_map_fn(interp: Interpreter, mapFn: Any) -> Builtin:
        request_function(interp, mapFn)

        def send(interp: Interpreter, tables: Any) -> pd.DataFrame:
            _tables_arg(tables)
            return _send(interp, url, mapFn, tables)

        return builtin("http.endpoint(url)(mapFn)", "tables", send, pipe="tables")

    return builtin(
        "http.endpoint(url)",
        "mapFn",
        with_map_fn,
        aliases={"mapfn": "mapFn"},
        example='http.endpoint(url: "...")(mapFn: (r) => ({headers: {}, data: bytes(v: "...")}))',
    )


def _post(interp: Interpreter, url: Any, headers: Any = None, data: Any = None) -> int:
    from flux_magic._endpoint import endpoint

    expect(url, "url", "http.post", "string")
    headers = {} if headers is None else expect(headers, "headers", "http.post", "record")
    data = (
        b""
        if data is None
        else expect(data, "data", "http.post", "bytes", hint="Wrap the body in bytes(v: ...).")
    )
    for key, value in headers.items():
        if not isinstance(value, str):
            raise FluxRuntimeError(
                f'header value "{key}" must be a string', kind="type error", param="headers"
            )
    options = {**interp.endpoint_options, "errors": "raise"}
    sender = endpoint(str(url), **options)(lambda r: {"headers": dict(headers), "data": data})
    try:
        result = sender(pd.DataFrame({"post": [0]}))
    except EndpointError as exc:
        raise FluxRuntimeError(f"http.post failed: {exc.reason}") from exc
    status = str(result["_status"].iloc[0])
    return int(status) if status else 0


# tables ---------------------------------------------------------------------------------


def _tables_arg(tables: Any) -> pd.DataFrame:
    if not isinstance(tables, pd.DataFrame):
        raise FluxRuntimeError(
            f"expected a stream of tables but found {type_name(tables)}",
            kind="type error",
            param="tables",
            hint="Pipe a stream into it, e.g. sampledata.int() |> ...",
        )
    return tables


def _sampledata_package() -> dict[str, Any]:
    from flux_magic import sampledata

    def make(name: str) -> Builtin:
        loader = getattr(sampledata, name)

        def impl(interp: Interpreter, includeNull: Any = False) -> pd.DataFrame:
            expect(includeNull, "includeNull", f"sampledata.{name}", "bool")
            result: pd.DataFrame = loader(include_null=includeNull)
            return result

        return builtin(f"sampledata.{name}", "includeNull=?", impl)

    members: dict[str, Any] = {
        n: make(n) for n in ("float", "int", "uint", "string", "bool", "numericBool")
    }
    # the bounds of every sample table, for range(start: sampledata.start, stop: sampledata.stop)
    members["start"] = pd.Timestamp("2021-01-01T00:00:00Z").as_unit("ns")
    members["stop"] = pd.Timestamp("2021-01-01T00:01:00Z").as_unit("ns")
    return members


def universe() -> dict[str, Any]:
    """The names every Flux program and function sees without an import."""
    from flux_magic._flux import _aggregate, _transform, _window

    return {
        **_transform.functions(),
        **_aggregate.functions(),
        **_window.functions(),
        "true": True,
        "false": False,
        "bytes": builtin("bytes", "v", _bytes, example='bytes(v: "text")'),
        "string": builtin("string", "v", _string, example="string(v: r._value)"),
        "int": builtin("int", "v", _int, example="int(v: r._value)"),
        "uint": builtin("uint", "v", _uint, example="uint(v: r._value)"),
        "float": builtin("float", "v", _float, example="float(v: r._value)"),
        "bool": builtin("bool", "v", _bool, example='bool(v: "true")'),
        "time": builtin("time", "v", _time, example='time(v: "2021-01-01T00:00:00Z")'),
        "duration": builtin("duration", "v", _duration, example='duration(v: "1h")'),
        "now": builtin("now", "", _now),
        "length": builtin("length", "arr", _length, example="length(arr: [1, 2])"),
    }


def _package_members(path: str) -> dict[str, Any] | None:
    if path == "http":
        return {
            "endpoint": builtin(
                "http.endpoint", "url", _endpoint, example='http.endpoint(url: "http://...")'
            ),
            "post": builtin(
                "http.post",
                "url, headers=?, data=?",
                _post,
                example='http.post(url: "http://...", data: bytes(v: "..."))',
            ),
            "basicAuth": builtin(
                "http.basicAuth", "u, p", _basic_auth, example='http.basicAuth(u: "me", p: "pw")'
            ),
            "pathEscape": builtin(
                "http.pathEscape",
                "inputString",
                _path_escape,
                example='http.pathEscape(inputString: "a/b")',
            ),
        }
    if path == "json":
        return {"encode": builtin("json.encode", "v", _json_encode, example="json.encode(v: r)")}
    if path == "sampledata":
        return _sampledata_package()
    return None


PACKAGES: tuple[str, ...] = ("array", "csv", "http", "json", "sampledata", "strings")


def package(path: str) -> Package | None:
    """The package imported by ``import "<path>"``, or None if flux_magic does not have it."""
    members = _package_members(path)
    if members is None:
        from flux_magic._flux import _stdlib

        members = _stdlib.members(path)
    return None if members is None else Package(path, members)

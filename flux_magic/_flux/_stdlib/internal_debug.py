"""Flux's ``internal/debug`` package: ``pass``, ``opaque``, ``slurp``, ``sink``, ``null``,
``getOption``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._values import type_name

PATH = "internal/debug"

_NULL_TYPES = ("string", "bytes", "int", "uint", "float", "bool", "time", "duration", "regexp")


def _stream(tables: Any, fn: str) -> pd.DataFrame:
    if not isinstance(tables, pd.DataFrame):
        raise FluxRuntimeError(
            f"{fn}: expected a stream of tables but found {type_name(tables)}",
            kind="type error",
            param="tables",
        )
    return tables


def _pass(interp: Any, tables: Any) -> Any:
    return _stream(tables, "debug.pass")


def _opaque(interp: Any, tables: Any) -> Any:
    return _stream(tables, "debug.opaque")


def _slurp(interp: Any, tables: Any) -> Any:
    return _stream(tables, "debug.slurp")


def _sink(interp: Any, tables: Any) -> pd.DataFrame:
    df = _stream(tables, "debug.sink")
    out = df.iloc[0:0].copy()
    out.attrs = dict(df.attrs)
    return out


def _null(interp: Any, type: Any = "string") -> None:
    expect(type, "type", "debug.null", "string")
    if type not in _NULL_TYPES:
        raise FluxRuntimeError(
            f"debug.null: {type!r} is not a basic type; use one of {', '.join(_NULL_TYPES)}",
            param="type",
        )
    return None


def _get_option(interp: Any, pkg: Any, name: Any) -> Any:
    expect(pkg, "pkg", "debug.getOption", "string")
    expect(name, "name", "debug.getOption", "string")
    key = f"{pkg.rsplit('/', 1)[-1]}.{name}" if pkg else name
    options: dict[str, Any] = interp.options
    if key not in options:
        raise FluxRuntimeError(f'option "{name}" of package "{pkg}" is not set', param="name")
    return options[key]


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "pass": builtin("debug.pass", "tables=?", _pass, pipe="tables"),
        "opaque": builtin("debug.opaque", "tables=?", _opaque, pipe="tables"),
        "slurp": builtin("debug.slurp", "tables=?", _slurp, pipe="tables"),
        "sink": builtin("debug.sink", "tables=?", _sink, pipe="tables"),
        "null": builtin("debug.null", "type=?", _null, example='debug.null(type: "int")'),
        "getOption": builtin(
            "debug.getOption",
            "pkg, name",
            _get_option,
            example='debug.getOption(pkg: "date", name: "location")',
        ),
    }

"""Flux's ``types`` package: ``isType`` and ``isNumeric``."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._values import type_name

PATH = "types"

_BASIC = ("string", "bytes", "int", "uint", "float", "bool", "time", "duration", "regexp")


def _kind(value: Any) -> str:
    from flux_magic._flux._stdlib.regexp import is_regexp

    return "regexp" if is_regexp(value) else type_name(value)


def _is_type(interp: Any, v: Any, type: Any) -> bool:
    expect(type, "type", "types.isType", "string")
    if type not in _BASIC:
        raise FluxRuntimeError(
            f'types.isType: unknown type "{type}"; use one of {", ".join(_BASIC)}',
            param="type",
        )
    return bool(_kind(v) == type)


def _is_numeric(interp: Any, v: Any) -> bool:
    return _kind(v) in ("int", "uint", "float")


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "isType": builtin(
            "types.isType", "v, type", _is_type, example='types.isType(v: r._value, type: "string")'
        ),
        "isNumeric": builtin(
            "types.isNumeric", "v", _is_numeric, example="types.isNumeric(v: r._value)"
        ),
    }

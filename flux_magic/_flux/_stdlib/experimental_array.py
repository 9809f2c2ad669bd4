"""Flux's ``experimental/array`` package: the earlier home of ``array``'s functions, and the
``toX`` converters, which convert every element as the universe conversion of that name does."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._builtins import builtin, expect, universe
from flux_magic._flux._interpreter import Builtin
from flux_magic._flux._stdlib.array import package_members

PATH = "experimental/array"

_CONVERTERS = {
    "toBool": "bool",
    "toDuration": "duration",
    "toFloat": "float",
    "toInt": "int",
    "toString": "string",
    "toTime": "time",
    "toUInt": "uint",
}


def _converter(name: str, conversion: str) -> Builtin:
    def impl(interp: Any, arr: Any) -> list[Any]:
        expect(arr, "arr", f"array.{name}", "array")
        convert: Builtin = universe()[conversion]
        return [convert.impl(interp, v=value) for value in arr]

    return builtin(f"array.{name}", "arr=?", impl, pipe="arr", example=f"array.{name}(arr: [1, 2])")


def members() -> dict[str, Any]:
    """The package's names."""
    names = package_members("array")
    names.update({name: _converter(name, kind) for name, kind in _CONVERTERS.items()})
    return names

"""Flux's ``array`` package: tables from arrays (``from``) and array helpers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin, Closure
from flux_magic._flux._tables import frame_from_records
from flux_magic._flux._values import type_name

PATH = "array"


def _from(prefix: str) -> Builtin:
    def impl(interp: Any, rows: Any) -> pd.DataFrame:
        expect(rows, "rows", f"{prefix}.from", "array")
        for row in rows:
            expect(row, "rows", f"{prefix}.from", "record")
        return frame_from_records(list(rows), key=[])

    return builtin(
        f"{prefix}.from", "rows", impl, pipe="rows", example=f"{prefix}.from(rows: [{{x: 1}}])"
    )


def _element_fn(fn: Any, name: str) -> Closure:
    if not isinstance(fn, Closure) or "x" not in fn.params:
        raise FluxRuntimeError(
            f"{name}: expected a function (x) => ... for fn but found {type_name(fn)}",
            kind="type error",
            param="fn",
            hint="The element is passed as x, e.g. (x) => x * 2.",
        )
    return fn


def _concat(prefix: str) -> Builtin:
    def impl(interp: Any, arr: Any, v: Any) -> list[Any]:
        expect(arr, "arr", f"{prefix}.concat", "array")
        expect(v, "v", f"{prefix}.concat", "array")
        kinds = {type_name(x) for x in [*arr, *v] if x is not None}
        if len(kinds) > 1:
            raise FluxRuntimeError(
                f"{prefix}.concat: the arrays hold different types ({', '.join(sorted(kinds))}); "
                "a Flux array has one element type",
                kind="type error",
                param="v",
            )
        return [*arr, *v]

    return builtin(
        f"{prefix}.concat",
        "arr=?, v",
        impl,
        pipe="arr",
        example=f"{prefix}.concat(arr: [1], v: [2])",
    )


def _map(prefix: str) -> Builtin:
    def impl(interp: Any, arr: Any, fn: Any) -> list[Any]:
        expect(arr, "arr", f"{prefix}.map", "array")
        fn = _element_fn(fn, f"{prefix}.map")
        result = [fn(x=x) for x in arr]
        kinds = {type_name(x) for x in result if x is not None}
        if len(kinds) > 1:
            raise FluxRuntimeError(
                f"{prefix}.map: fn returned values of different types "
                f"({', '.join(sorted(kinds))}); a Flux array has one element type",
                kind="type error",
                param="fn",
            )
        return result

    return builtin(
        f"{prefix}.map",
        "arr=?, fn",
        impl,
        pipe="arr",
        example=f"{prefix}.map(arr: [1], fn: (x) => x * 2)",
    )


def _filter(prefix: str) -> Builtin:
    def impl(interp: Any, arr: Any, fn: Any) -> list[Any]:
        expect(arr, "arr", f"{prefix}.filter", "array")
        fn = _element_fn(fn, f"{prefix}.filter")
        kept = []
        for x in arr:
            keep = fn(x=x)
            if keep is not None and not isinstance(keep, bool):
                raise FluxRuntimeError(
                    f"{prefix}.filter: fn must return a bool, not {type_name(keep)}",
                    kind="type error",
                    param="fn",
                )
            if keep:
                kept.append(x)
        return kept

    return builtin(
        f"{prefix}.filter",
        "arr=?, fn",
        impl,
        pipe="arr",
        example=f"{prefix}.filter(arr: [1, 2], fn: (x) => x > 1)",
    )


def package_members(prefix: str) -> dict[str, Any]:
    """``from``, ``concat``, ``map`` and ``filter``, named ``<prefix>.<name>`` in messages."""
    return {
        "from": _from(prefix),
        "concat": _concat(prefix),
        "map": _map(prefix),
        "filter": _filter(prefix),
    }


def members() -> dict[str, Any]:
    """The package's names."""
    return package_members("array")

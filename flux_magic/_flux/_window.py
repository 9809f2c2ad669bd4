"""Flux's ``aggregateWindow``: fixed windows of time, an aggregate or selector per window.

Windows are aligned to the Unix epoch (plus ``offset``), clipped to each table's ``_start`` and
``_stop`` (set by ``range()``); the function runs on each window's rows with ``_start``/``_stop``
set to the window; ``timeSrc`` (the window's ``_stop`` by default) becomes ``timeDst``
(``_time``); the table's own ``_start``/``_stop`` come back. Only the group key, ``column`` and
``timeDst`` are kept.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin, Closure, Interpreter
from flux_magic._flux._tables import STRUCTURAL, concat_tables, group_key, split_tables
from flux_magic._flux._transform import stream_arg
from flux_magic._flux._values import Duration, type_name

__all__ = ["functions"]

#: Selectors return rows of the window; an empty window gives them nothing (Flux's rule).
_SELECTORS = frozenset({"first", "last", "min", "max", "unique", "distinct", "top", "bottom"})


def _fixed(value: Any, param: str) -> int:
    expect(value, param, "aggregateWindow", "duration")
    assert isinstance(value, Duration)
    if value.months:
        raise FluxRuntimeError(
            f"aggregateWindow: {param} in months or years is not supported by flux_magic "
            "(calendar windows); use a fixed duration such as 1h or 1d",
            param=param,
        )
    return value.total_nanoseconds()


def _call(interp: Interpreter, fn: Any, table: pd.DataFrame, column: str) -> pd.DataFrame:
    if isinstance(fn, Builtin):
        result = fn.impl(interp, tables=table, column=column)
    elif isinstance(fn, Closure):
        result = fn(tables=table, column=column)
    else:
        raise FluxRuntimeError(
            f"aggregateWindow: fn must be a function such as mean, not {type_name(fn)}",
            kind="type error",
            param="fn",
        )
    if not isinstance(result, pd.DataFrame):
        raise FluxRuntimeError(
            f"aggregateWindow: fn must return a stream of tables, not {type_name(result)}",
            kind="type error",
            param="fn",
        )
    return result


def _empty_row(fn: Any, table: pd.DataFrame, key: list[str], column: str) -> pd.DataFrame | None:
    """What an aggregate gives for a window without rows (count: 0, others: null)."""
    name = getattr(fn, "name", "")
    if name in _SELECTORS:
        return None
    row = table[[c for c in table.columns if c in STRUCTURAL or c in key]].iloc[0:1].copy()
    row = row.reset_index(drop=True)
    if name == "count":
        row[column] = pd.array([0], dtype="Int64")
    else:
        dtype = table[column].dtype if column in table.columns else "float64"
        row[column] = pd.Series([None], dtype=dtype).array
    return row


def _aggregate_window(
    interp: Interpreter,
    tables: Any,
    every: Any,
    fn: Any,
    period: Any = None,
    offset: Any = None,
    location: Any = None,
    column: Any = "_value",
    timeSrc: Any = "_stop",
    timeDst: Any = "_time",
    createEmpty: Any = True,
) -> pd.DataFrame:
    df = stream_arg(tables)
    step = _fixed(every, "every")
    width = step if period is None else _fixed(period, "period")
    shift = 0 if offset is None else _fixed(offset, "offset")
    if step <= 0 or width <= 0:
        raise FluxRuntimeError("aggregateWindow: every and period must be positive", param="every")
    for name, value in (("column", column), ("timeSrc", timeSrc), ("timeDst", timeDst)):
        expect(value, name, "aggregateWindow", "string")
    expect(createEmpty, "createEmpty", "aggregateWindow", "bool")
    for needed in ("_start", "_stop", "_time"):
        if needed not in df.columns:
            raise FluxRuntimeError(
                f"aggregateWindow: the input has no {needed} column; "
                "use range() first, it adds _start and _stop"
            )
    key = group_key(df)
    parts: list[pd.DataFrame] = []
    for table in split_tables(df):
        lo = int(table["_start"].iloc[0].value)
        hi = int(table["_stop"].iloc[0].value)
        times = table["_time"].dt.as_unit("ns").array.asi8
        first = ((lo - shift - width) // step + 1) * step + shift  # first window ending after lo
        start = first
        while start < hi:
            w_lo, w_hi = max(start, lo), min(start + width, hi)
            rows = table[(times >= start) & (times < start + width)].copy()
            result: pd.DataFrame | None
            if len(rows):
                rows["_start"] = pd.Timestamp(w_lo, unit="ns", tz="UTC")
                rows["_stop"] = pd.Timestamp(w_hi, unit="ns", tz="UTC")
                result = _call(interp, fn, rows, column)
            elif createEmpty:
                result = _empty_row(fn, table, key, column)
                if result is not None:
                    result["_start"] = pd.Timestamp(w_lo, unit="ns", tz="UTC")
                    result["_stop"] = pd.Timestamp(w_hi, unit="ns", tz="UTC")
            else:
                result = None
            if result is not None and len(result):
                if timeSrc not in result.columns:
                    raise FluxRuntimeError(
                        f"aggregateWindow: time column {timeSrc} not found", param="timeSrc"
                    )
                result = result.copy()
                result[timeDst] = result[timeSrc]
                result["_start"] = table["_start"].iloc[0]
                result["_stop"] = table["_stop"].iloc[0]
                kept = [c for c in result.columns if c in STRUCTURAL or c in key]
                kept += [c for c in (column, timeDst) if c in result.columns and c not in kept]
                parts.append(result[kept].reset_index(drop=True))
            start += step
    out = concat_tables(parts, key)
    return out.reset_index(drop=True) if len(out.columns) else out


def functions() -> dict[str, Any]:
    """``aggregateWindow``, by name."""
    return {
        "aggregateWindow": builtin(
            "aggregateWindow",
            "tables=?, every, fn, period=?, offset=?, location=?, column=?, timeSrc=?, "
            "timeDst=?, createEmpty=?",
            _aggregate_window,
            pipe="tables",
            example="aggregateWindow(every: 20s, fn: mean)",
        )
    }

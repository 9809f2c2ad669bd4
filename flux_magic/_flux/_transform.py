"""Flux's table transformations of the universe that keep rows as rows: ``range``, ``filter``,
``map``, ``limit``, ``tail``, ``keep``, ``drop``, ``rename``, ``set``, ``duplicate``, ``fill``,
``group``, ``sort``, ``pivot``, ``union``, ``timeShift``, ``difference``, ``derivative``,
``elapsed``, ``cumulativeSum``,
``yield`` and the ``toX()`` conversions.

A stream is one DataFrame whose tables are the groups of its group key (see :mod:`._tables`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._flux import _vectorize
from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Builtin, Closure, Interpreter
from flux_magic._flux._tables import (
    STRUCTURAL,
    column_kind,
    concat_tables,
    frame_from_records,
    group_key,
    rows_of,
    split_tables,
    table_ids,
    with_group_key,
)
from flux_magic._flux._values import Duration, type_name

__all__ = ["functions", "stream_arg"]


def stream_arg(tables: Any) -> pd.DataFrame:
    """The piped-forward stream, or Flux's type error."""
    if not isinstance(tables, pd.DataFrame):
        raise FluxRuntimeError(
            f"expected a stream of tables but found {type_name(tables)}",
            kind="type error",
            param="tables",
            hint="Pipe a stream into it, e.g. sampledata.int() |> ...",
        )
    return tables


def _function(fn: Any, name: str, param: str, arg: str = "fn") -> Closure:
    if not isinstance(fn, Closure):
        raise FluxRuntimeError(
            f"{name}: expected a function ({param}) => ... for {arg} but found {type_name(fn)}",
            kind="type error",
            param=arg,
        )
    if param not in fn.params:
        raise FluxRuntimeError(
            f"{name}: {arg} must take the parameter {param}, e.g. ({param}) => ...", param=arg
        )
    return fn


def _same(df: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    return with_group_key(out, group_key(df))


def _columns_arg(columns: Any, fn: str, param: str = "columns") -> list[str]:
    expect(columns, param, fn, "array")
    for c in columns:
        expect(c, param, fn, "string")
    return [str(c) for c in columns]


def _data_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns if c not in STRUCTURAL]


# range ----------------------------------------------------------------------------------------


def _bound(interp: Interpreter, value: Any, param: str, now: pd.Timestamp) -> pd.Timestamp:
    expect(value, param, "range", "time", "duration", "int")
    if isinstance(value, pd.Timestamp):
        return value
    if isinstance(value, Duration):
        sign = -1 if value.negative else 1
        moved = now + pd.DateOffset(months=sign * value.months) if value.months else now
        return moved + pd.Timedelta(sign * value.nanoseconds, unit="ns")
    return pd.Timestamp(int(value) * 1_000_000_000, unit="ns", tz="UTC")


def _range(interp: Interpreter, tables: Any, start: Any, stop: Any = None) -> pd.DataFrame:
    df = stream_arg(tables)
    now = interp.now()
    lo = _bound(interp, start, "start", now)
    hi = now if stop is None else _bound(interp, stop, "stop", now)
    if "_time" not in df.columns:
        raise FluxRuntimeError("range error: supplied time column _time doesn't exist")
    times = df["_time"]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise FluxRuntimeError("range error: provided time column _time is not of type time")
    mask = (times.notna() & (times >= lo) & (times < hi)).to_numpy(dtype=bool)
    out = df.loc[mask].copy()
    at = sum(1 for c in out.columns[:2] if c in STRUCTURAL)
    key = group_key(df)
    bounds = {
        "_start": pd.Series(lo, index=out.index, dtype="datetime64[ns, UTC]"),
        "_stop": pd.Series(hi, index=out.index, dtype="datetime64[ns, UTC]"),
    }
    if "_start" in key and "_stop" in key:
        # a table already bounded keeps the intersection of its bounds with these
        old_start, old_stop = out["_start"], out["_stop"]
        overlap = old_start.notna() & old_stop.notna() & (old_start < hi) & (old_stop > lo)
        bounds["_start"] = bounds["_start"].where(~overlap | (old_start < lo), old_start)
        bounds["_stop"] = bounds["_stop"].where(~overlap | (old_stop > hi), old_stop)
    for offset, (name, column) in enumerate(bounds.items()):
        if name in out.columns:
            out[name] = column
        else:
            out.insert(at + offset, name, column)
    if not ("_start" in key and "_stop" in key):
        key = ["_start", "_stop", *(c for c in key if c not in ("_start", "_stop"))]
    return with_group_key(out, key)


# filter, map ----------------------------------------------------------------------------------


def _filter(interp: Interpreter, tables: Any, fn: Any, onEmpty: Any = "drop") -> pd.DataFrame:
    df = stream_arg(tables)
    fn = _function(fn, "filter", "r")
    expect(onEmpty, "onEmpty", "filter", "string")
    keep = _vectorize.predicate(fn, df)
    if keep is None:
        keep = np.zeros(len(df), dtype=bool)
        for i, row in enumerate(rows_of(df)):
            value = fn(r=row)
            if value is not None and not isinstance(value, bool):
                raise FluxRuntimeError(
                    f"filter: fn must return a bool, not {type_name(value)}",
                    kind="type error",
                    param="fn",
                )
            keep[i] = value is True  # a null predicate drops the row
    return _same(df, df.loc[keep].copy() if len(df) else df.copy())


def _map(interp: Interpreter, tables: Any, fn: Any, mergeKey: Any = False) -> pd.DataFrame:
    df = stream_arg(tables)
    fn = _function(fn, "map", "r")
    fast = _vectorize.mapping(fn, df)
    if fast is not None:
        return _same(df, fast)
    records: list[dict[str, Any]] = []
    for row in rows_of(df):
        value = fn(r=row)
        if not isinstance(value, dict):
            raise FluxRuntimeError(
                f"map: fn must return a record, not {type_name(value)}",
                kind="type error",
                param="fn",
                hint="Return a record, e.g. (r) => ({r with x: 1}).",
            )
        records.append(value)
    if not records:
        return _same(df, df.copy())
    return frame_from_records(records, key=group_key(df), index=df.index)


# rows -----------------------------------------------------------------------------------------


def _ranks(df: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    ids = table_ids(df)
    series = pd.Series(ids)
    rank = series.groupby(ids).cumcount().to_numpy()
    size = series.groupby(ids).transform("size").to_numpy()
    return rank, size


def _limit(interp: Interpreter, tables: Any, n: Any, offset: Any = 0) -> pd.DataFrame:
    df = stream_arg(tables)
    expect(n, "n", "limit", "int")
    expect(offset, "offset", "limit", "int")
    rank, _ = _ranks(df)
    return _same(df, df[(rank >= offset) & (rank < offset + n)].copy())


def _tail(interp: Interpreter, tables: Any, n: Any, offset: Any = 0) -> pd.DataFrame:
    df = stream_arg(tables)
    expect(n, "n", "tail", "int")
    expect(offset, "offset", "tail", "int")
    rank, size = _ranks(df)
    back = size - 1 - rank
    return _same(df, df[(back >= offset) & (back < offset + n)].copy())


# columns --------------------------------------------------------------------------------------


def _column_fn(interp: Interpreter, fn: Any, name: str) -> Closure:
    return _function(fn, name, "column")


def _keep(interp: Interpreter, tables: Any, columns: Any = None, fn: Any = None) -> pd.DataFrame:
    df = stream_arg(tables)
    names = _data_columns(df)
    if fn is not None:
        test = _column_fn(interp, fn, "keep")
        wanted = {c for c in names if test(column=c) is True}
    else:
        wanted = set(_columns_arg(columns if columns is not None else [], "keep"))
    kept = [c for c in names if c in wanted]
    if not kept:  # a table with no columns has no rows: Flux returns nothing
        return with_group_key(pd.DataFrame(), [])
    out = df[[c for c in df.columns if c in wanted or c in STRUCTURAL]].copy()
    return with_group_key(out, [c for c in group_key(df) if c in wanted])


def _drop(interp: Interpreter, tables: Any, columns: Any = None, fn: Any = None) -> pd.DataFrame:
    df = stream_arg(tables)
    names = _data_columns(df)
    if fn is not None:
        test = _column_fn(interp, fn, "drop")
        unwanted = {c for c in names if test(column=c) is True}
    else:
        unwanted = set(_columns_arg(columns if columns is not None else [], "drop"))
    out = df[[c for c in df.columns if c not in unwanted]].copy()
    return with_group_key(out, [c for c in group_key(df) if c not in unwanted])


def _rename(interp: Interpreter, tables: Any, columns: Any = None, fn: Any = None) -> pd.DataFrame:
    df = stream_arg(tables)
    names = _data_columns(df)
    mapping: dict[str, str] = {}
    if fn is not None:
        change = _column_fn(interp, fn, "rename")
        for c in names:
            new = change(column=c)
            expect(new, "fn", "rename", "string")
            mapping[c] = str(new)
    elif columns is not None:
        expect(columns, "columns", "rename", "record")
        for old, new in columns.items():
            expect(new, "columns", "rename", "string")
            if old not in names:
                raise FluxRuntimeError(
                    f'rename error: column "{old}" doesn\'t exist', param="columns"
                )
            mapping[old] = str(new)
    else:
        raise FluxRuntimeError("rename error: neither column mapping nor mapping function provided")
    out = df.rename(columns=mapping)
    if len(set(out.columns)) != len(out.columns):
        raise FluxRuntimeError("rename error: the new column names are not unique")
    return with_group_key(out, [mapping.get(c, c) for c in group_key(df)])


def _regroup(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    out = df.drop(columns=[c for c in ("table",) if c in df.columns]).copy()
    out = with_group_key(out, key)
    order = np.argsort(table_ids(out), kind="stable")
    return with_group_key(out.iloc[order].copy(), key)


def _set(interp: Interpreter, tables: Any, key: Any, value: Any) -> pd.DataFrame:
    df = stream_arg(tables)
    expect(key, "key", "set", "string")
    expect(value, "value", "set", "string")
    out = df.copy()
    out[key] = pd.array([value] * len(out), dtype="str")
    if key in group_key(df):
        return _regroup(out, group_key(df))
    return _same(df, out)


def _duplicate(interp: Interpreter, tables: Any, column: Any, **kw: Any) -> pd.DataFrame:
    df = stream_arg(tables)
    target = kw["as"]
    expect(column, "column", "duplicate", "string")
    expect(target, "as", "duplicate", "string")
    if column not in df.columns:
        raise FluxRuntimeError(f"duplicate error: column {column!r} doesn't exist", param="column")
    out = df.copy()
    if target in out.columns:
        out[target] = df[column]
    else:
        out[target] = df[column].copy()
    key = group_key(df)
    if target in key and column not in key:
        key = [c for c in key if c != target]
    return with_group_key(out, key)


def _fill(
    interp: Interpreter,
    tables: Any,
    column: Any = "_value",
    value: Any = None,
    usePrevious: Any = False,
) -> pd.DataFrame:
    df = stream_arg(tables)
    expect(column, "column", "fill", "string")
    expect(usePrevious, "usePrevious", "fill", "bool")
    if value is None and not usePrevious:
        raise FluxRuntimeError("fill error: value must be non-null if usePrevious is false")
    if value is not None and usePrevious:
        raise FluxRuntimeError("fill error: cannot set both value and usePrevious")
    if column not in df.columns:
        return _same(df, df.copy())
    out = df.copy()
    if usePrevious:
        values = out[column].reset_index(drop=True)
        out[column] = values.groupby(table_ids(df)).ffill().array  # within each table
        return _same(df, out)
    kind = column_kind(df[column])
    given = type_name(value)
    if kind != "unknown" and kind != given:
        raise FluxRuntimeError(
            f"fill column type mismatch: {column}/{kind} cannot be filled with {given}",
            kind="type error",
            param="value",
        )
    fillers = value.to_timedelta() if isinstance(value, Duration) else value
    out[column] = out[column].fillna(fillers)
    return _same(df, out)


# group, sort, pivot ---------------------------------------------------------------------------


def _group(interp: Interpreter, tables: Any, columns: Any = None, mode: Any = "by") -> pd.DataFrame:
    df = stream_arg(tables)
    names = _columns_arg(columns if columns is not None else [], "group")
    expect(mode, "mode", "group", "string")
    if mode == "by":
        key = [c for c in names if c in df.columns]
    elif mode == "except":
        key = [c for c in _data_columns(df) if c not in names]
    elif mode == "extend":
        key = [*group_key(df), *(c for c in names if c not in group_key(df))]
    else:
        raise FluxRuntimeError(
            f'group: mode must be "by", "except" or "extend", not {mode!r}', param="mode"
        )
    return _regroup(df, key)


def _sort_one(table: pd.DataFrame, columns: list[str], desc: bool) -> pd.DataFrame:
    present = [c for c in columns if c in table.columns]
    if not present or len(table) < 2:
        return table
    order = np.arange(len(table))
    for c in reversed(present):  # stable sorts, last key first
        values = table[c].iloc[order]
        nulls = values.isna().to_numpy()
        ranked = values.rank(method="dense", na_option="keep").to_numpy()
        # Flux: nulls sort last ascending and first descending
        if desc:
            sub = np.lexsort((-np.nan_to_num(ranked, nan=0.0), ~nulls))
        else:
            sub = np.lexsort((np.nan_to_num(ranked, nan=0.0), nulls))
        order = order[sub]
    return table.iloc[order]


def _sort(interp: Interpreter, tables: Any, columns: Any = None, desc: Any = False) -> pd.DataFrame:
    df = stream_arg(tables)
    names = _columns_arg(columns if columns is not None else ["_value"], "sort")
    expect(desc, "desc", "sort", "bool")
    parts = [_sort_one(t, names, bool(desc)) for t in split_tables(df)]
    return concat_tables(parts, group_key(df), like=df)


def _pivot(
    interp: Interpreter, tables: Any, rowKey: Any, columnKey: Any, valueColumn: Any
) -> pd.DataFrame:
    df = stream_arg(tables)
    rows = _columns_arg(rowKey, "pivot", "rowKey")
    cols = _columns_arg(columnKey, "pivot", "columnKey")
    expect(valueColumn, "valueColumn", "pivot", "string")
    for c in [*rows, *cols, valueColumn]:
        if c not in df.columns:
            raise FluxRuntimeError(f"pivot: column {c!r} does not exist", param="columnKey")
    key = [c for c in group_key(df) if c not in cols]
    regrouped = _regroup(df, key)
    out_tables: list[pd.DataFrame] = []
    for table in split_tables(regrouped):
        # the new column's label joins the columnKey values with "_" ("null" for a null)
        texts = table[cols].astype(object).where(table[cols].notna(), "null").astype(str)
        labels = texts.agg("_".join, axis=1)
        row_ids = table[rows].astype(object).where(table[rows].notna(), None)
        row_tuples = list(row_ids.itertuples(index=False, name=None))
        first: dict[tuple[Any, ...], int] = {}
        for i, t in enumerate(row_tuples):
            first.setdefault(t, i)
        positions = list(first.values())
        base = table.iloc[positions][[c for c in table.columns if c in (*STRUCTURAL, *key, *rows)]]
        base = base.reset_index(drop=True)
        index_of = {t: n for n, t in enumerate(first)}
        for label in dict.fromkeys(labels):
            picked = table[(labels == label).to_numpy()]
            values = pd.Series([pd.NA] * len(base), dtype=table[valueColumn].dtype)
            picked_rows = list(
                picked[rows]
                .astype(object)
                .where(picked[rows].notna(), None)
                .itertuples(index=False, name=None)
            )
            for t, v in zip(picked_rows, picked[valueColumn], strict=True):
                values.iloc[index_of[t]] = v
            base[label] = values.to_numpy() if values.dtype == "float64" else values.array
        base = _sort_one(base, rows, False)
        out_tables.append(base)
    return concat_tables(out_tables, key, like=df.iloc[0:0][[]])


# running values, union, timeShift -------------------------------------------------------------


def _numeric_column(table: pd.DataFrame, column: str, fn: str) -> str:
    kind = column_kind(table[column])
    if kind not in ("int", "uint", "float"):
        raise FluxRuntimeError(
            f"{fn}: unsupported type for column {column}: {kind}", kind="type error"
        )
    return kind


def _difference_values(values: list[Any], non_negative: bool, initial_zero: bool) -> list[Any]:
    out: list[Any] = []
    last: Any = None
    for v in values:
        if v is None:
            out.append(None)
            continue
        if last is None:
            out.append(None)
        else:
            d = v - last
            if non_negative and d < 0:
                d = (v if v >= 0 else None) if initial_zero else None
            out.append(d)
        last = v
    return out


def _difference(
    interp: Interpreter,
    tables: Any,
    nonNegative: Any = False,
    columns: Any = None,
    keepFirst: Any = False,
    initialZero: Any = False,
) -> pd.DataFrame:
    df = stream_arg(tables)
    for name, flag in (("nonNegative", nonNegative), ("keepFirst", keepFirst)):
        expect(flag, name, "difference", "bool")
    expect(initialZero, "initialZero", "difference", "bool")
    names = _columns_arg(columns if columns is not None else ["_value"], "difference")
    parts = []
    for table in split_tables(df):
        table = table.copy()
        for column in names:
            if column not in table.columns:
                continue
            kind = _numeric_column(table, column, "difference")
            values = [None if pd.isna(v) else v for v in table[column].tolist()]
            if kind != "float":
                values = [None if v is None else int(v) for v in values]
            diffs = _difference_values(values, bool(nonNegative), bool(initialZero))
            dtype = "float64" if kind == "float" else "Int64"  # a uint difference is an int
            table[column] = (
                pd.array(diffs, dtype="Int64")
                if dtype == "Int64"
                else [np.nan if v is None else v for v in diffs]
            )
        parts.append(table if keepFirst else table.iloc[1:])
    return concat_tables(parts, group_key(df), like=df)


def _unit_ns(unit: Any, fn: str) -> int:
    expect(unit, "unit", fn, "duration")
    ns = unit.total_nanoseconds() if not unit.months else 0
    if ns <= 0:
        raise FluxRuntimeError(f"{fn}: unit must be a positive duration", param="unit")
    return int(ns)


def _derivative(
    interp: Interpreter,
    tables: Any,
    unit: Any = None,
    nonNegative: Any = False,
    columns: Any = None,
    timeColumn: Any = "_time",
    initialZero: Any = False,
) -> pd.DataFrame:
    df = stream_arg(tables)
    per = _unit_ns(unit if unit is not None else Duration(0, 1_000_000_000), "derivative")
    expect(nonNegative, "nonNegative", "derivative", "bool")
    expect(initialZero, "initialZero", "derivative", "bool")
    expect(timeColumn, "timeColumn", "derivative", "string")
    names = _columns_arg(columns if columns is not None else ["_value"], "derivative")
    if timeColumn not in df.columns:
        raise FluxRuntimeError(f"derivative: time column {timeColumn} not found")
    parts = []
    for table in split_tables(df):
        table = table.copy()
        times = table[timeColumn].dt.as_unit("ns").array.asi8
        for column in names:
            if column not in table.columns:
                continue
            _numeric_column(table, column, "derivative")
            rates: list[float | None] = []
            last: tuple[float, int] | None = None
            for v, t in zip(table[column].tolist(), times, strict=True):
                if pd.isna(v):
                    rates.append(None)
                    continue
                value = float(v)
                if last is None:
                    rates.append(None)
                else:
                    delta = value - last[0]
                    if nonNegative and delta < 0:
                        delta = (value if value >= 0 else math.nan) if initialZero else math.nan
                    rate = delta / ((int(t) - last[1]) / per)
                    rates.append(None if math.isnan(rate) else rate)
                last = (value, int(t))
            table[column] = [np.nan if r is None else r for r in rates]
        parts.append(table.iloc[1:])
    return concat_tables(parts, group_key(df), like=df)


def _elapsed(
    interp: Interpreter,
    tables: Any,
    unit: Any = None,
    timeColumn: Any = "_time",
    columnName: Any = "elapsed",
) -> pd.DataFrame:
    df = stream_arg(tables)
    per = _unit_ns(unit if unit is not None else Duration(0, 1_000_000_000), "elapsed")
    expect(timeColumn, "timeColumn", "elapsed", "string")
    expect(columnName, "columnName", "elapsed", "string")
    if timeColumn not in df.columns:
        raise FluxRuntimeError(f"elapsed: time column {timeColumn} not found")
    parts = []
    for table in split_tables(df):
        table = table.copy()
        times = table[timeColumn].dt.as_unit("ns").array.asi8
        gaps = np.diff(times, prepend=times[:1]) // per
        table[columnName] = pd.array(gaps, dtype="Int64")
        parts.append(table.iloc[1:])
    return concat_tables(parts, group_key(df), like=df)


def _cumulative_sum(interp: Interpreter, tables: Any, columns: Any = None) -> pd.DataFrame:
    df = stream_arg(tables)
    names = _columns_arg(columns if columns is not None else ["_value"], "cumulativeSum")
    out = df.copy()
    ids = table_ids(df)
    for column in names:
        if column not in df.columns:
            continue
        _numeric_column(df, column, "cumulativeSum")
        values = df[column].reset_index(drop=True)
        summed = values.groupby(ids).cumsum(skipna=True)  # nulls stay null
        out[column] = summed.where(values.notna()).array
    return _same(df, out)


def _union(interp: Interpreter, tables: Any) -> pd.DataFrame:
    expect(tables, "tables", "union", "array")
    if len(tables) < 2:
        raise FluxRuntimeError("union: at least 2 streams are required", param="tables")
    for t in tables:
        stream_arg(t)
    key = group_key(tables[0])
    for t in tables[1:]:
        if group_key(t) != key:
            raise FluxRuntimeError(
                f"union: every stream must have the same group key ({key} and {group_key(t)})",
                param="tables",
            )
    out = pd.concat([t for t in tables if len(t.columns)], ignore_index=True)
    return with_group_key(out, key)


def _time_shift(
    interp: Interpreter, tables: Any, duration: Any, columns: Any = None
) -> pd.DataFrame:
    df = stream_arg(tables)
    expect(duration, "duration", "timeShift", "duration")
    names = _columns_arg(
        columns if columns is not None else ["_start", "_stop", "_time"], "timeShift"
    )
    out = df.copy()
    for column in names:
        if column not in out.columns:
            continue
        if column_kind(out[column]) != "time":
            raise FluxRuntimeError(
                f"timeShift: column {column} is not of type time", kind="type error"
            )
        if duration.months:
            sign = -1 if duration.negative else 1
            shifted = out[column] + pd.DateOffset(months=sign * duration.months)
            out[column] = shifted + pd.Timedelta(sign * duration.nanoseconds, unit="ns")
        else:
            out[column] = out[column] + duration.to_timedelta()
    return _same(df, out)


# yield, conversions ---------------------------------------------------------------------------


def _yield(interp: Interpreter, tables: Any, name: Any = "_result") -> pd.DataFrame:
    df = stream_arg(tables)
    expect(name, "name", "yield", "string")
    out = df.copy()
    if "result" in out.columns:
        out["result"] = pd.array([name] * len(out), dtype="str")
    out = _same(df, out)
    interp.results.append((str(name), out))
    interp.yielded.add(id(out))
    return out


def _conversion(fn: str, convert: str) -> Builtin:
    def impl(interp: Interpreter, tables: Any) -> pd.DataFrame:
        from flux_magic._flux._builtins import universe

        df = stream_arg(tables)
        if "_value" not in df.columns:
            return _same(df, df.copy())
        to = universe()[convert]
        values = [to.impl(interp, v=row["_value"]) for row in rows_of(df[["_value"]])]
        records = [{"_value": v} for v in values]
        out = df.copy()
        column = frame_from_records(records, key=[], index=df.index)
        out["_value"] = (
            column["_value"]
            if len(column.columns)
            else pd.Series([None] * len(df), index=df.index, dtype=object)
        )
        return _same(df, out)

    return builtin(fn, "tables=?", impl, pipe="tables")


def functions() -> dict[str, Any]:
    """The table transformations of the universe, by name."""
    t = "tables=?"
    names: dict[str, Any] = {
        "range": builtin(
            "range",
            f"{t}, start, stop=?",
            _range,
            pipe="tables",
            example="range(start: -1h)",
        ),
        "filter": builtin(
            "filter",
            f"{t}, fn, onEmpty=?",
            _filter,
            pipe="tables",
            example="filter(fn: (r) => r._value > 0)",
        ),
        "map": builtin(
            "map",
            f"{t}, fn, mergeKey=?",
            _map,
            pipe="tables",
            example="map(fn: (r) => ({r with x: 1}))",
        ),
        "limit": builtin(
            "limit", f"{t}, n, offset=?", _limit, pipe="tables", example="limit(n: 3)"
        ),
        "tail": builtin("tail", f"{t}, n, offset=?", _tail, pipe="tables", example="tail(n: 3)"),
        "keep": builtin(
            "keep",
            f"{t}, columns=?, fn=?",
            _keep,
            pipe="tables",
            example='keep(columns: ["_time", "_value"])',
        ),
        "drop": builtin(
            "drop", f"{t}, columns=?, fn=?", _drop, pipe="tables", example='drop(columns: ["tag"])'
        ),
        "rename": builtin(
            "rename",
            f"{t}, columns=?, fn=?",
            _rename,
            pipe="tables",
            example='rename(columns: {_value: "value"})',
        ),
        "set": builtin(
            "set", f"{t}, key, value", _set, pipe="tables", example='set(key: "unit", value: "m")'
        ),
        "duplicate": builtin(
            "duplicate",
            f"{t}, column, as",
            _duplicate,
            pipe="tables",
            example='duplicate(column: "tag", as: "tag2")',
        ),
        "fill": builtin(
            "fill",
            f"{t}, column=?, value=?, usePrevious=?",
            _fill,
            pipe="tables",
            example="fill(value: 0)",
        ),
        "group": builtin(
            "group",
            f"{t}, columns=?, mode=?",
            _group,
            pipe="tables",
            example='group(columns: ["tag"])',
        ),
        "sort": builtin(
            "sort",
            f"{t}, columns=?, desc=?",
            _sort,
            pipe="tables",
            example='sort(columns: ["_value"], desc: true)',
        ),
        "pivot": builtin(
            "pivot",
            f"{t}, rowKey, columnKey, valueColumn",
            _pivot,
            pipe="tables",
            example='pivot(rowKey: ["_time"], columnKey: ["tag"], valueColumn: "_value")',
        ),
        "yield": builtin("yield", f"{t}, name=?", _yield, pipe="tables"),
        "difference": builtin(
            "difference",
            f"{t}, nonNegative=?, columns=?, keepFirst=?, initialZero=?",
            _difference,
            pipe="tables",
        ),
        "derivative": builtin(
            "derivative",
            f"{t}, unit=?, nonNegative=?, columns=?, timeColumn=?, initialZero=?",
            _derivative,
            pipe="tables",
        ),
        "elapsed": builtin(
            "elapsed", f"{t}, unit=?, timeColumn=?, columnName=?", _elapsed, pipe="tables"
        ),
        "cumulativeSum": builtin(
            "cumulativeSum", f"{t}, columns=?", _cumulative_sum, pipe="tables"
        ),
        "union": builtin("union", "tables", _union, example="union(tables: [a, b])"),
        "timeShift": builtin(
            "timeShift",
            f"{t}, duration, columns=?",
            _time_shift,
            pipe="tables",
            example="timeShift(duration: 1h)",
        ),
    }
    for fn, convert in (
        ("toString", "string"),
        ("toInt", "int"),
        ("toUInt", "uint"),
        ("toFloat", "float"),
        ("toBool", "bool"),
        ("toTime", "time"),
    ):
        names[fn] = _conversion(fn, convert)
    return names

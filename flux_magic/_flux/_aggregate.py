"""Flux's aggregates and selectors of the universe: ``count``, ``sum``, ``mean``, ``min``,
``max``, ``spread``, ``reduce``, ``first``, ``last``, ``unique``, ``distinct``, ``columns``,
``keys``, ``top``, ``bottom``, and the functions that pull values out of a stream
(``tableFind``, ``getColumn``, ``getRecord``, ``findColumn``, ``findRecord``), with ``die``.

An aggregate gives one row per table: the group key columns and the aggregated column. A
selector gives whole rows of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._interpreter import Closure, Interpreter
from flux_magic._flux._tables import (
    STRUCTURAL,
    column_kind,
    concat_tables,
    frame_from_records,
    group_key,
    rows_of,
    split_tables,
    with_group_key,
)
from flux_magic._flux._transform import stream_arg
from flux_magic._flux._values import type_name

__all__ = ["functions"]


def _column(df: pd.DataFrame, column: Any, fn: str) -> str:
    expect(column, "column", fn, "string")
    return str(column)


def _key_part(table: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The first row's structural and group key columns (a one-row frame)."""
    cols = [c for c in table.columns if c in STRUCTURAL] + [c for c in key if c in table.columns]
    return table[cols].iloc[0:1].reset_index(drop=True)


def _aggregate(
    df: pd.DataFrame,
    column: str,
    fn: str,
    reduce: Callable[[pd.Series], tuple[Any, str]],
) -> pd.DataFrame:
    key = group_key(df)
    if column in key:
        raise FluxRuntimeError(f"{fn}: cannot aggregate a column of the group key: {column}")
    parts = []
    for table in split_tables(df):
        if column not in table.columns:
            raise FluxRuntimeError(f'{fn}: column "{column}" does not exist', param="column")
        value, dtype = reduce(table[column])
        part = _key_part(table, key)
        part[column] = (
            pd.array([value], dtype=dtype)  # type: ignore[call-overload]
            if dtype != "float64"
            else [np.nan if value is None else value]
        )
        parts.append(part)
    out = concat_tables(parts, key, like=df[[c for c in df.columns if c in key]])
    return with_group_key(out.reset_index(drop=True), key)


def _numeric(series: pd.Series, fn: str) -> str:
    kind = column_kind(series)
    if kind not in ("int", "uint", "float"):
        raise FluxRuntimeError(
            f"{fn}: unsupported column type {kind} for column {series.name}",
            kind="type error",
            param="column",
        )
    return kind


_DTYPES = {"int": "Int64", "uint": "UInt64", "float": "float64"}


def _count(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    name = _column(df, column, "count")
    return _aggregate(df, name, "count", lambda s: (len(s), "Int64"))


def _sum(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    name = _column(df, column, "sum")

    def reduce(s: pd.Series) -> tuple[Any, str]:
        kind = _numeric(s, "sum")
        values = s.dropna()
        if values.empty:
            return None, _DTYPES[kind]
        if kind == "float":
            return float(values.astype("float64").sum()), "float64"
        total = sum(int(v) for v in values)
        if kind == "uint":
            return total % 2**64, "UInt64"
        return ((total + 2**63) % 2**64) - 2**63, "Int64"

    return _aggregate(df, name, "sum", reduce)


def _spread(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    name = _column(df, column, "spread")

    def reduce(s: pd.Series) -> tuple[Any, str]:
        kind = _numeric(s, "spread")
        values = s.dropna()
        if values.empty:
            return None, _DTYPES[kind]
        if kind == "float":
            return float(values.max() - values.min()), "float64"
        return int(values.max()) - int(values.min()), _DTYPES[kind]

    return _aggregate(df, name, "spread", reduce)


def _mean(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    name = _column(df, column, "mean")

    def reduce(s: pd.Series) -> tuple[Any, str]:
        _numeric(s, "mean")
        values = s.dropna().astype("float64")
        return (None if values.empty else float(values.mean())), "float64"

    return _aggregate(df, name, "mean", reduce)


# selectors ------------------------------------------------------------------------------------


def _select(df: pd.DataFrame, pick: Callable[[pd.DataFrame], list[int]]) -> pd.DataFrame:
    parts = []
    for table in split_tables(df):
        positions = pick(table)
        if positions:
            parts.append(table.iloc[positions])
    return concat_tables(parts, group_key(df), like=df)


def _extreme(name: str, largest: bool) -> Callable[..., pd.DataFrame]:
    def impl(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
        df = stream_arg(tables)
        col = _column(df, column, name)

        def pick(table: pd.DataFrame) -> list[int]:
            if col not in table.columns:
                raise FluxRuntimeError(f'{name}: column "{col}" does not exist', param="column")
            values = table[col]
            if column_kind(values) not in ("int", "uint", "float", "time", "string", "duration"):
                raise FluxRuntimeError(
                    f"{name}: unsupported column type", kind="type error", param="column"
                )
            present = values.notna().to_numpy()
            if not present.any():
                return []
            ranked = values.rank(method="first", ascending=not largest).to_numpy()
            return [int(np.nanargmin(ranked))]

        return _select(df, pick)

    return impl


def _first(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    col = _column(df, column, "first")

    def pick(table: pd.DataFrame) -> list[int]:
        present = np.flatnonzero(table[col].notna().to_numpy() if col in table else [])
        return [int(present[0])] if len(present) else []

    return _select(df, pick)


def _last(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    col = _column(df, column, "last")

    def pick(table: pd.DataFrame) -> list[int]:
        present = np.flatnonzero(table[col].notna().to_numpy() if col in table else [])
        return [int(present[-1])] if len(present) else []

    return _select(df, pick)


def _unique(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    col = _column(df, column, "unique")

    def pick(table: pd.DataFrame) -> list[int]:
        if col not in table.columns:
            return []
        seen = table[col].astype(object).where(table[col].notna(), None)
        return list(np.flatnonzero(~seen.duplicated().to_numpy()))

    return _select(df, pick)


def _top_bottom(name: str, desc: bool) -> Callable[..., pd.DataFrame]:
    def impl(interp: Interpreter, tables: Any, n: Any, columns: Any = None) -> pd.DataFrame:
        from flux_magic._flux import _transform

        stream_arg(tables)
        expect(n, "n", name, "int")
        sort = _transform.functions()["sort"]
        limit = _transform.functions()["limit"]
        cols = columns if columns is not None else ["_value"]
        ordered = sort.impl(interp, tables=tables, columns=cols, desc=desc)
        result: pd.DataFrame = limit.impl(interp, tables=ordered, n=n)
        return result

    return impl


def _reduce(interp: Interpreter, tables: Any, fn: Any, identity: Any) -> pd.DataFrame:
    df = stream_arg(tables)
    if not isinstance(fn, Closure) or not {"r", "accumulator"} <= set(fn.params):
        raise FluxRuntimeError(
            f"reduce: fn must be a function (r, accumulator) => ({{...}}), not {type_name(fn)}",
            kind="type error",
            param="fn",
        )
    expect(identity, "identity", "reduce", "record")
    key = group_key(df)
    records: list[dict[str, Any]] = []
    for table in split_tables(df):
        accumulator = dict(identity)
        for row in rows_of(table):
            accumulator = fn(r=row, accumulator=accumulator)
            if not isinstance(accumulator, dict):
                raise FluxRuntimeError(
                    f"reduce: fn must return a record, not {type_name(accumulator)}",
                    kind="type error",
                    param="fn",
                )
            for name, value in identity.items():
                got = accumulator.get(name)
                if got is not None and value is not None and type_name(got) != type_name(value):
                    raise FluxRuntimeError(
                        f"reduce: {name} is {type_name(got)} but identity gives "
                        f"{type_name(value)}; the identity's types are the output's",
                        kind="type error",
                        param="fn",
                    )
        head = next(rows_of(table[[c for c in table.columns if c in STRUCTURAL] + key].iloc[:1]))
        # the group key, then the reducer's fields (a key column the reducer sets is overwritten)
        record = {**head, **{k: accumulator[k] for k in sorted(accumulator) if k in head}}
        record.update({k: accumulator[k] for k in sorted(accumulator) if k not in head})
        records.append(record)
    if not records:
        return with_group_key(pd.DataFrame(), key)
    return frame_from_records(records, key=key)


# tables of labels and values ------------------------------------------------------------------


def _labels(df: pd.DataFrame, column: str, labels: Callable[[pd.DataFrame], list[Any]]) -> Any:
    key = group_key(df)
    parts = []
    for table in split_tables(df):
        values = labels(table)
        head = _key_part(table, key)
        part = head.loc[head.index.repeat(len(values))].reset_index(drop=True)
        column_data = frame_from_records([{column: v} for v in values], key=[])
        part[column] = column_data[column].array if len(values) else []
        parts.append(part)
    out = concat_tables(parts, key)
    return with_group_key(out.reset_index(drop=True), key)


def _distinct(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    col = _column(df, column, "distinct")

    def labels(table: pd.DataFrame) -> list[Any]:
        if col not in table.columns:
            return []
        values = [row[col] for row in rows_of(table[[col]])]
        seen: dict[Any, None] = {}
        for v in values:
            seen.setdefault(("v", v) if v is not None else ("null",), None)
        return [None if k[0] == "null" else k[1] for k in seen]

    key = group_key(df)
    out: pd.DataFrame = _labels(df, "_value", labels)
    return with_group_key(out, [c for c in key if c != "_value"])


def _columns(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    col = _column(df, column, "columns")
    names = [str(c) for c in df.columns if c not in STRUCTURAL]
    out: pd.DataFrame = _labels(df, col, lambda table: names)
    return out


def _keys(interp: Interpreter, tables: Any, column: Any = "_value") -> pd.DataFrame:
    df = stream_arg(tables)
    col = _column(df, column, "keys")
    key = group_key(df)
    out: pd.DataFrame = _labels(df, col, lambda table: list(key))
    return out


# extracting values ----------------------------------------------------------------------------


def _key_record(table: pd.DataFrame) -> dict[str, Any]:
    key = group_key(table)
    if not len(table):
        return {}
    first = next(rows_of(table[key].iloc[0:1]))
    return first


def _predicate(fn: Any, name: str) -> Closure:
    if not isinstance(fn, Closure) or "key" not in fn.params:
        raise FluxRuntimeError(
            f"{name}: fn must be a function (key) => bool, not {type_name(fn)}",
            kind="type error",
            param="fn",
        )
    return fn


def _find_table(df: pd.DataFrame, fn: Closure, name: str) -> pd.DataFrame | None:
    for table in split_tables(df):
        found = fn(key=_key_record(table))
        if found is not None and not isinstance(found, bool):
            raise FluxRuntimeError(
                f"{name}: fn must return a bool, not {type_name(found)}", kind="type error"
            )
        if found is True:
            return table
    return None


def _table_find(interp: Interpreter, tables: Any, fn: Any) -> pd.DataFrame:
    df = stream_arg(tables)
    table = _find_table(df, _predicate(fn, "tableFind"), "tableFind")
    if table is None:
        raise FluxRuntimeError("no table found", param="fn")
    return table


def _table_arg(table: Any, name: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise FluxRuntimeError(
            f"{name}: expected a table but found {type_name(table)}",
            kind="type error",
            param="table",
        )
    return table


def _column_values(table: pd.DataFrame, column: str) -> list[Any]:
    if column not in table.columns:
        raise FluxRuntimeError(f"cannot find column {column}", param="column")
    return [row[column] for row in rows_of(table[[column]])]


def _record_at(table: pd.DataFrame, idx: int) -> dict[str, Any]:
    if not 0 <= idx < len(table):
        raise FluxRuntimeError(f"index out of bounds: {idx}", param="idx")
    names = [c for c in table.columns if c not in STRUCTURAL]
    return next(rows_of(table[names].iloc[idx : idx + 1]))


def _get_column(interp: Interpreter, table: Any, column: Any) -> list[Any]:
    expect(column, "column", "getColumn", "string")
    return _column_values(_table_arg(table, "getColumn"), str(column))


def _get_record(interp: Interpreter, table: Any, idx: Any) -> dict[str, Any]:
    expect(idx, "idx", "getRecord", "int")
    return _record_at(_table_arg(table, "getRecord"), int(idx))


def _find_column(interp: Interpreter, tables: Any, fn: Any, column: Any) -> list[Any]:
    df = stream_arg(tables)
    expect(column, "column", "findColumn", "string")
    table = _find_table(df, _predicate(fn, "findColumn"), "findColumn")
    if table is None or column not in table.columns:
        return []
    return _column_values(table, str(column))


def _find_record(interp: Interpreter, tables: Any, fn: Any, idx: Any) -> dict[str, Any]:
    df = stream_arg(tables)
    expect(idx, "idx", "findRecord", "int")
    table = _find_table(df, _predicate(fn, "findRecord"), "findRecord")
    if table is None or not 0 <= idx < len(table):
        return {}
    return _record_at(table, int(idx))


def _die(interp: Interpreter, msg: Any) -> Any:
    expect(msg, "msg", "die", "string")
    raise FluxRuntimeError(str(msg))


def functions() -> dict[str, Any]:
    """The aggregates, selectors and value extractors of the universe, by name."""
    t = "tables=?"
    names: dict[str, Any] = {
        "count": builtin("count", f"{t}, column=?", _count, pipe="tables"),
        "sum": builtin("sum", f"{t}, column=?", _sum, pipe="tables"),
        "mean": builtin("mean", f"{t}, column=?", _mean, pipe="tables"),
        "spread": builtin("spread", f"{t}, column=?", _spread, pipe="tables"),
        "reduce": builtin(
            "reduce",
            f"{t}, fn, identity",
            _reduce,
            pipe="tables",
            example="reduce(fn: (r, accumulator) => ({sum: r._value + accumulator.sum}), "
            "identity: {sum: 0})",
        ),
        "min": builtin("min", f"{t}, column=?", _extreme("min", False), pipe="tables"),
        "max": builtin("max", f"{t}, column=?", _extreme("max", True), pipe="tables"),
        "first": builtin("first", f"{t}, column=?", _first, pipe="tables"),
        "last": builtin("last", f"{t}, column=?", _last, pipe="tables"),
        "unique": builtin("unique", f"{t}, column=?", _unique, pipe="tables"),
        "distinct": builtin("distinct", f"{t}, column=?", _distinct, pipe="tables"),
        "columns": builtin("columns", f"{t}, column=?", _columns, pipe="tables"),
        "keys": builtin("keys", f"{t}, column=?", _keys, pipe="tables"),
        "top": builtin(
            "top",
            f"{t}, n, columns=?",
            _top_bottom("top", True),
            pipe="tables",
            example="top(n: 3)",
        ),
        "bottom": builtin(
            "bottom",
            f"{t}, n, columns=?",
            _top_bottom("bottom", False),
            pipe="tables",
            example="bottom(n: 3)",
        ),
        "tableFind": builtin(
            "tableFind",
            f"{t}, fn",
            _table_find,
            pipe="tables",
            example='tableFind(fn: (key) => key.tag == "t1")',
        ),
        "getColumn": builtin(
            "getColumn",
            "table=?, column",
            _get_column,
            pipe="table",
            example='getColumn(column: "_value")',
        ),
        "getRecord": builtin(
            "getRecord", "table=?, idx", _get_record, pipe="table", example="getRecord(idx: 0)"
        ),
        "findColumn": builtin(
            "findColumn",
            f"{t}, fn, column",
            _find_column,
            pipe="tables",
            example='findColumn(fn: (key) => true, column: "_value")',
        ),
        "findRecord": builtin(
            "findRecord",
            f"{t}, fn, idx",
            _find_record,
            pipe="tables",
            example="findRecord(fn: (key) => true, idx: 0)",
        ),
        "die": builtin("die", "msg", _die, example='die(msg: "stop")'),
    }
    return names

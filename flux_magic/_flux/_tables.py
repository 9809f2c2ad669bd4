"""Streams of tables as DataFrames: rows in and out, and the table functions of ``%%flux``.

A stream is one DataFrame; its tables are the groups of ``attrs["flux_group_key"]`` (and of the
annotated CSV ``result``/``table`` columns when present). Row order is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from flux_magic._flux._diagnostics import FluxRuntimeError
from flux_magic._flux._values import Duration, UInt, from_python, type_name

__all__ = [
    "STRUCTURAL",
    "column_kind",
    "concat_tables",
    "frame_from_records",
    "group_key",
    "rows_of",
    "split_tables",
    "table_ids",
    "with_group_key",
]

GROUP_KEY_ATTR = "flux_group_key"
_STRUCTURAL = ("result", "table")
#: The annotated CSV columns kept beside a table's own columns (not Flux columns).
STRUCTURAL = _STRUCTURAL


def group_key(df: pd.DataFrame) -> list[str]:
    """The stream's group key (columns that exist)."""
    return [c for c in df.attrs.get(GROUP_KEY_ATTR, []) if c in df.columns]


def with_group_key(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Set the group key (in place) and return the frame."""
    df.attrs[GROUP_KEY_ATTR] = [c for c in key if c in df.columns]
    return df


def _masked_float(value: Any) -> Any:
    return None if value is pd.NA else float(value)


def _converter(series: pd.Series) -> Callable[[Any], Any]:
    if pd.api.types.is_unsigned_integer_dtype(series.dtype):
        return lambda v: None if v is pd.NA else UInt(int(v))
    if isinstance(series.dtype, pd.Float64Dtype | pd.Float32Dtype):
        # a masked float column tells null (the mask) from NaN (a value, as in Flux)
        return _masked_float
    return from_python


def rows_of(df: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Each row as a Flux record (column name -> Flux value; missing values are null)."""
    names = [str(c) for c in df.columns]
    convert = [_converter(df[c]) for c in df.columns]
    for values in df.itertuples(index=False, name=None):
        yield {n: f(v) for n, f, v in zip(names, convert, values, strict=True)}


def table_ids(df: pd.DataFrame) -> np.ndarray[Any, Any]:
    """A table number for each row: rows of one table share it (numbered by first appearance)."""
    by = [c for c in _STRUCTURAL if c in df.columns] + group_key(df)
    if not by or df.empty:
        return np.zeros(len(df), dtype=np.int64)
    keys = df[by].astype(object).where(df[by].notna(), None)
    codes: dict[tuple[Any, ...], int] = {}
    return np.array(
        [codes.setdefault(t, len(codes)) for t in keys.itertuples(index=False, name=None)],
        dtype=np.int64,
    )


def _column(name: str, values: list[Any]) -> Any:
    kinds = {type_name(v) for v in values if v is not None}
    if len(kinds) > 1:
        raise FluxRuntimeError(
            f"column {name} would hold values of different types ({', '.join(sorted(kinds))}); "
            "a Flux column has one type",
            kind="type error",
        )
    kind = kinds.pop() if kinds else "null"
    if kind == "bool":
        return pd.array(values, dtype="boolean")
    if kind == "uint":
        return pd.array([None if v is None else int(v) for v in values], dtype="UInt64")
    if kind == "int":
        return pd.array(values, dtype="Int64")
    if kind == "float":
        data = np.array([np.nan if v is None else v for v in values], dtype="float64")
        nulls = np.array([v is None for v in values], dtype=bool)
        if np.isnan(data[~nulls]).any():  # NaN is a value in Flux: keep it apart from null
            return pd.arrays.FloatingArray(data, nulls)
        return data
    if kind == "string":
        return pd.array(values, dtype="str")
    if kind == "time":
        return pd.Series(
            [pd.NaT if v is None else v for v in values], dtype="datetime64[ns, UTC]"
        ).array
    if kind == "duration" and all(v is None or not v.months for v in values):
        return pd.Series(
            [pd.NaT if v is None else v.to_timedelta() for v in values],
            dtype="timedelta64[ns]",
        ).array
    if kind in ("record", "array", "function", "stream"):
        raise FluxRuntimeError(
            f"column {name} would hold a {kind}; table columns hold basic values only",
            kind="type error",
        )
    return pd.array(
        [v.to_timedelta() if isinstance(v, Duration) and not v.months else v for v in values],
        dtype=object,
    )


def frame_from_records(
    records: list[dict[str, Any]], *, key: list[str], index: pd.Index | None = None
) -> pd.DataFrame:
    """Build a typed DataFrame from Flux records (Flux types decide the dtypes)."""
    columns: dict[str, None] = {}
    for record in records:
        for name in record:
            columns.setdefault(name, None)
    data = {name: _column(name, [r.get(name) for r in records]) for name in columns}
    df = pd.DataFrame(
        data, index=index if index is not None and len(index) == len(records) else None
    )
    return with_group_key(df, key)


def split_tables(df: pd.DataFrame) -> list[pd.DataFrame]:
    """The stream's tables, in order of first appearance (each keeps the group key)."""
    ids = table_ids(df)
    key = group_key(df)
    if len(df) == 0:
        return []
    if ids.max() == 0:
        return [df]
    order = np.argsort(ids, kind="stable")
    bounds = np.flatnonzero(np.diff(ids[order])) + 1
    return [with_group_key(df.iloc[part], key) for part in np.split(order, bounds) if len(part)]


def concat_tables(
    frames: list[pd.DataFrame], key: list[str], like: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One stream of these tables (an empty stream shaped like ``like`` when there are none)."""
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        empty = like.iloc[0:0].copy() if like is not None else pd.DataFrame()
        return with_group_key(empty, key)
    out = frames[0].copy() if len(frames) == 1 else pd.concat(frames)
    return with_group_key(out, key)


def column_kind(series: pd.Series) -> str:
    """The Flux type of a column, from its dtype (``"unknown"`` for object columns)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_unsigned_integer_dtype(dtype):
        return "uint"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        return "time"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "string"
    return "unknown"

"""The row view handed to mapping functions, built cheaply column by column.

A row is a ``dict`` of column name to value, with attribute access on top: ``r._value``,
``r.host``, ``r["my col"]``, ``dict(r)`` and ``r.get(k, default)`` all work. Missing values
(NaN, NaT, None, pd.NA) arrive as ``None``, as Flux's null.

Rows are built a chunk at a time from per-column Python lists (``Series.tolist``), which costs
about as much as ``itertuples(name=None)`` and keeps names such as ``_value`` that
``itertuples()`` would rename. Memory stays bounded by the chunk size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator
from itertools import repeat
from typing import Any

import pandas as pd

from ._errors import UsageError
from ._frames import not_a_frame

__all__ = ["CHUNK_ROWS", "Row", "check_frame", "iter_rows"]

CHUNK_ROWS = 2048


class Row(dict[Hashable, Any]):
    """One input row: a dict of column name to value, also readable as attributes.

    Attribute access covers every column whose name is an identifier and does not collide
    with a dict method (``keys``, ``values``, ``items``, ``get``, ...); use ``r["name"]``
    for the others.

    Examples
    --------
    >>> r = Row({"_value": 3, "my col": "x"})
    >>> r._value, r["my col"], r.get("missing", 0)
    (3, 'x', 0)
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            cols = ", ".join(repr(c) for c in self)
            raise AttributeError(
                f"the row has no column {name!r}; its columns are {cols}"
            ) from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *(k for k in self if isinstance(k, str))})

    def __repr__(self) -> str:
        return f"Row({dict.__repr__(self)})"


def _column_getter(name: str) -> Callable[[Row], Any]:
    def get(self: Row) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None  # Row.__getattr__ then explains

    return get


def _reduce(self: Row) -> tuple[type[Row], tuple[dict[Hashable, Any]]]:
    return Row, (dict(self),)


@functools.lru_cache(maxsize=32)
def _row_class(columns: tuple[Hashable, ...]) -> type[Row]:
    """``Row`` with a property per column name, for one DataFrame's columns.

    ``r.host`` on plain ``Row`` goes through a failed attribute lookup (an AttributeError
    built and dropped) before ``__getattr__``: ~1.5 µs, most of a typical mapping's cost.
    A property answers in ~0.1 µs. Names of dict methods keep meaning the method, as before.
    """
    namespace: dict[str, Any] = {"__slots__": (), "__reduce__": _reduce}
    for name in columns:
        if isinstance(name, str) and not name.startswith("__") and not hasattr(Row, name):
            namespace[name] = property(_column_getter(name))
    return type("Row", (Row,), namespace)


def check_frame(df: object) -> pd.DataFrame:
    """Return ``df`` if it is a DataFrame that rows can be built from, else explain why not."""
    if not isinstance(df, pd.DataFrame):
        raise UsageError(not_a_frame(df))
    if isinstance(df.columns, pd.MultiIndex):
        raise UsageError(
            "the DataFrame has MultiIndex columns; flatten them first, e.g. "
            "df.columns = ['_'.join(map(str, c)) for c in df.columns]."
        )
    if not df.columns.is_unique:
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise UsageError(
            f"the DataFrame has duplicate column names {', '.join(map(repr, dupes))}; a row "
            "maps each name to one value. Rename them, e.g. with df.set_axis([...], axis=1)."
        )
    return df


def _column_values(col: pd.Series) -> list[Any]:
    values = col.tolist()
    mask = col.isna()
    if mask.any():
        flags = mask.tolist()
        values = [None if m else v for v, m in zip(values, flags, strict=True)]
    return values


def iter_rows(df: pd.DataFrame, start: int = 0, stop: int | None = None) -> Iterator[Row]:
    """Yield the rows of ``df[start:stop]`` (by position) as ``Row`` objects."""
    n = len(df) if stop is None else min(stop, len(df))
    columns = list(df.columns)
    row = _row_class(tuple(columns))
    for lo in range(start, n, CHUNK_ROWS):
        chunk = df.iloc[lo : min(lo + CHUNK_ROWS, n)]
        cols = [_column_values(chunk.iloc[:, j]) for j in range(len(columns))]
        # the whole pipeline runs in C (map/zip), a row at a time; the per-row tuples have
        # len(columns) items by construction
        yield from map(row, map(zip, repeat(columns), zip(*cols, strict=True)))
        if not columns:
            for _ in range(len(chunk)):
                yield Row()

"""The boundary between DataFrame libraries and the engine, which sees pandas only.

* pandas DataFrames go through unchanged.
* Polars DataFrames (and LazyFrames, collected once) cross through Arrow: in as pandas columns
  backed by Arrow (``pd.ArrowDtype``), out with ``pl.from_pandas``. An integer column with
  nulls stays integer (a 1 reaches the mapping as ``1``, not ``1.0``), timestamps keep their
  unit and zone, decimals, lists, dates and unsigned integers keep their types.
* Dask DataFrames are recognised here and handled by ``_dask``.

Frames are recognised by the module of their type, so ``import flux_magic`` never imports
Polars or Dask; they are imported the first time such a frame arrives, with a one-line
message naming the extra to install when something is missing.

Why not narwhals: its ``to_pandas()`` gives NumPy dtypes (an integer column with nulls comes
back as float64, ``1.0``), so type fidelity needs the Arrow step anyway, and Polars' own
``to_arrow()`` / ``from_pandas`` are then the whole conversion.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pandas as pd

from ._errors import UsageError

__all__ = [
    "DASK",
    "PANDAS",
    "POLARS",
    "POLARS_LAZY",
    "frame_kind",
    "frame_rows",
    "is_frame",
    "not_a_frame",
    "require",
    "to_pandas",
]

PANDAS = "pandas"
POLARS = "polars"
POLARS_LAZY = "polars-lazy"
DASK = "dask"

#: What each frame kind needs, and the extra that brings it.
_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    POLARS: ("polars", ("polars", "pyarrow")),
    POLARS_LAZY: ("polars", ("polars", "pyarrow")),
    DASK: ("dask", ("dask.dataframe", "distributed")),
}
_LIBRARY = {
    POLARS: "a Polars DataFrame",
    POLARS_LAZY: "a Polars LazyFrame",
    DASK: "a Dask DataFrame",
}


def _library(cls: type) -> str:
    """The library a class comes from, by its module's top package (dask-expr is Dask)."""
    root = cls.__module__.partition(".")[0]
    return "dask" if root == "dask_expr" else root


def frame_kind(obj: object) -> str | None:
    """Which DataFrame library ``obj`` belongs to, without importing any of them; or None."""
    if isinstance(obj, pd.DataFrame):
        return PANDAS
    cls = type(obj)
    library = _library(cls)
    if library == "polars":
        if cls.__name__ == "DataFrame":
            return POLARS
        if cls.__name__ == "LazyFrame":
            return POLARS_LAZY
    elif library == "dask" and cls.__name__ == "DataFrame":
        return DASK
    return None


#: How to make a one-column DataFrame of a Series, by the Series' library.
_SERIES_FIX = {
    "pandas": "series.to_frame() (or df[[column]] instead of df[column])",
    "polars": "series.to_frame() (or df.select(column) instead of df[column])",
    "dask": "series.to_frame() (or ddf[[column]] instead of ddf[column])",
}


def not_a_frame(obj: object) -> str:
    """What is wrong with ``obj`` (not a DataFrame) as the frame to send, and the fix."""
    cls = type(obj)
    library = _library(cls)
    if cls.__name__ == "Series" and library in _SERIES_FIX:
        return f"expected a DataFrame, got a {library} Series; use {_SERIES_FIX[library]}."
    hint = " (pd.DataFrame(...) builds one)" if isinstance(obj, dict | list) else ""
    return f"expected a pandas DataFrame, got {cls.__name__}{hint}."


def is_frame(obj: object) -> bool:
    """Whether ``obj`` is a DataFrame flux_magic can send (pandas, Polars or Dask)."""
    return frame_kind(obj) is not None


def frame_rows(obj: object) -> int | None:
    """The number of rows, when known without reading data (None for a LazyFrame or Dask)."""
    kind = frame_kind(obj)
    if kind in (PANDAS, POLARS):
        return len(obj)  # type: ignore[arg-type]
    return None


def require(kind: str) -> None:
    """Import what frames of ``kind`` need, or say in one line which extra to install."""
    if kind not in _NEEDS:
        return
    extra, modules = _NEEDS[kind]
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing = exc.name or module
            raise UsageError(
                f"sending {_LIBRARY[kind]} needs the {extra} extra (missing: {missing}): "
                f"pip install 'flux_magic[{extra}]'"
            ) from None


def to_pandas(obj: object, *, head: int | None = None) -> tuple[pd.DataFrame, Callable[[Any], Any]]:
    """``obj`` as pandas for the engine, and the function that turns a result back.

    ``head`` limits the conversion to the first rows (previews). Dask frames are not
    converted here: ``_dask`` sends them partition by partition.
    """
    kind = frame_kind(obj)
    if kind == PANDAS:
        df: pd.DataFrame = obj  # type: ignore[assignment]
        return (df if head is None else df.iloc[:head]), _same
    if kind in (POLARS, POLARS_LAZY):
        require(kind)
        frame: Any = obj
        if kind == POLARS_LAZY:
            frame = (frame if head is None else frame.head(head)).collect()
        elif head is not None:
            frame = frame.head(head)
        return frame.to_arrow().to_pandas(types_mapper=pd.ArrowDtype), _to_polars
    raise AssertionError(f"not a frame to convert: {type(obj).__name__}")


def _same(df: Any) -> Any:
    return df


def _to_polars(df: pd.DataFrame) -> Any:
    """A pandas result (Arrow-backed input columns plus the result columns) as Polars."""
    import polars as pl

    return pl.from_pandas(df, include_index=False)

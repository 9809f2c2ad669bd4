"""Flux's ``sampledata`` package as pandas DataFrames.

Every function returns two tables (group key ``["tag"]``: ``t1`` and ``t2``) of six rows each,
at 0, 10, ..., 50 seconds past 2021-01-01T00:00:00Z, with the annotated CSV columns ``result``
and ``table`` kept. ``include_null=True`` gives the variant with nulls at the same positions in
every set. The group key is in ``df.attrs["flux_group_key"]``.

Examples
--------
>>> from flux_magic import sampledata
>>> df = sampledata.int()
>>> df["_value"].tolist()[:3]
[-2, 10, 7]
>>> df.attrs["flux_group_key"]
['tag']
"""

from __future__ import annotations

import builtins
from functools import cache
from importlib import resources

import pandas as pd

from flux_magic._annotated_csv import read_annotated_csv

__all__ = ["bool", "float", "int", "numericBool", "string", "uint"]


@cache
def _text(name: str, include_null: builtins.bool) -> str:
    suffix = "_includeNull" if include_null else ""
    path = resources.files("flux_magic").joinpath("_data", "sampledata", f"{name}{suffix}.csv")
    return path.read_text(encoding="utf-8")


def _table(name: str, include_null: builtins.bool) -> pd.DataFrame:
    return read_annotated_csv(_text(name, builtins.bool(include_null)))


def float(*, include_null: builtins.bool = False) -> pd.DataFrame:
    """``sampledata.float()``: ``_value`` is a double (``float64``).

    Examples
    --------
    >>> float()["_value"].tolist()[:2]
    [-2.18, 10.92]
    """
    return _table("float", include_null)


def int(*, include_null: builtins.bool = False) -> pd.DataFrame:
    """``sampledata.int()``: the float values truncated toward zero (``Int64``).

    Examples
    --------
    >>> int(include_null=True)["_value"].isna().sum()
    np.int64(5)
    """
    return _table("int", include_null)


def uint(*, include_null: builtins.bool = False) -> pd.DataFrame:
    """``sampledata.uint()``: negatives wrapped modulo 2**64 (``UInt64``).

    Examples
    --------
    >>> uint()["_value"].iloc[0]
    np.uint64(18446744073709551614)
    """
    return _table("uint", include_null)


def string(*, include_null: builtins.bool = False) -> pd.DataFrame:
    """``sampledata.string()``: ``_value`` is a string.

    Examples
    --------
    >>> string()["_value"].iloc[0]
    'smpl_g9qczs'
    """
    return _table("string", include_null)


def bool(*, include_null: builtins.bool = False) -> pd.DataFrame:
    """``sampledata.bool()``: ``_value`` is a boolean (nullable ``boolean``).

    Examples
    --------
    >>> bool()["_value"].tolist()[:3]
    [True, True, False]
    """
    return _table("bool", include_null)


def numericBool(*, include_null: builtins.bool = False) -> pd.DataFrame:
    """``sampledata.numericBool()``: the booleans as 1 and 0 (``Int64``).

    Examples
    --------
    >>> numericBool()["_value"].tolist()[:3]
    [1, 1, 0]
    """
    return _table("numericBool", include_null)

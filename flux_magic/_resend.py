"""Sending the failed rows of a result again: which rows, and putting them back in place."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from ._errors import UsageError

__all__ = ["ENGINE_COLUMNS", "failed_rows", "merge_rows"]

#: The columns a send adds; everything else in a result is the input row.
ENGINE_COLUMNS = ("_status", "_sent", "_error", "_elapsed", "_response", "_attempts")


def failed_rows(result: pd.DataFrame) -> tuple[list[int], pd.DataFrame]:
    """The positions of the rows whose ``_sent`` is not "true", and those rows' input columns."""
    if not isinstance(result, pd.DataFrame) or "_sent" not in result.columns:
        raise UsageError(
            "resend_failed needs the result of an earlier send (a DataFrame with a _sent "
            f"column), not {type(result).__name__}"
            + (" without _sent." if isinstance(result, pd.DataFrame) else ".")
        )
    flags = result["_sent"].astype(str).to_numpy() != "true"
    positions = [int(p) for p in flags.nonzero()[0]]
    inputs = [c for c in result.columns if c not in ENGINE_COLUMNS]
    rows = result.iloc[positions][inputs]
    rows.attrs = dict(result.attrs)
    return positions, rows


def _filled(result: pd.DataFrame, column: str, dtype: object) -> pd.Series:
    """A column the earlier result lacked: _attempts is 1 for its attempted rows, else 0."""
    if column == "_attempts":
        never = (
            result["_error"].astype(str).str.startswith("not sent:")
            if "_error" in result
            else False
        )
        values: object = (~pd.Series(never, index=result.index)).astype("int64")
        return pd.Series(values, index=result.index, dtype="int64")
    fill = None if column == "_response" else ""
    return pd.Series([fill] * len(result), index=result.index, dtype=cast(Any, dtype))


def merge_rows(result: pd.DataFrame, positions: list[int], again: pd.DataFrame) -> pd.DataFrame:
    """``result`` with the rows at ``positions`` replaced by ``again`` (same order), every
    other row kept; a column only one side has is filled with its empty value."""
    out = result.copy()
    for column in again.columns:
        if column not in out.columns:
            out[column] = _filled(out, column, again[column].dtype)
        index = out.columns.get_loc(column)
        assert isinstance(index, int)
        out.iloc[positions, index] = again[column].to_numpy()
    return out

"""Helpers of the table and language cases: run a Flux program, read its table or a value."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._flux import run_program

T0 = pd.Timestamp("2021-01-01T00:00:00Z")

#: sampledata.int()'s _value column per tag (Flux's sample data, as documented).
INT_T1 = [-2, 10, 7, 17, 15, 4]
INT_T2 = [19, 4, -3, 19, 13, 1]


def run(body: str, *imports: str) -> pd.DataFrame:
    """The single table stream a program yields (``sampledata`` imported by default)."""
    head = "".join(f'import "{p}"\n' for p in (imports or ("sampledata",)))
    frame = run_program(head + body).frame()
    assert frame is not None, "the program yielded no single result"
    return frame


def value(body: str, *imports: str) -> Any:
    """The value a program binds to ``x``."""
    head = "".join(f'import "{p}"\n' for p in imports)
    return run_program(head + body).values["x"]


def at(*seconds: int) -> list[pd.Timestamp]:
    """Times ``seconds`` past 2021-01-01T00:00:00Z."""
    return [T0 + pd.Timedelta(seconds=s) for s in seconds]


def key(df: pd.DataFrame) -> list[str]:
    """The stream's group key."""
    return list(df.attrs["flux_group_key"])


def columns(df: pd.DataFrame) -> list[str]:
    """The Flux columns (without the annotated CSV result/table columns)."""
    return [c for c in df.columns if c not in ("result", "table")]

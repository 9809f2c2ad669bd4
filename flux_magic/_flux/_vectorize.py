"""Evaluate ``filter`` and ``map`` functions over whole pandas columns where Flux allows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from flux_magic._flux._interpreter import Closure

__all__ = ["ENABLED", "mapping", "predicate"]

#: Switch for the benchmark and the tests: False evaluates every row with the interpreter.
ENABLED = True


def predicate(fn: Closure, df: pd.DataFrame) -> np.ndarray[Any, Any] | None:
    """Rows ``filter(fn)`` keeps, or None when the row-by-row interpreter must decide."""
    return None


def mapping(fn: Closure, df: pd.DataFrame) -> pd.DataFrame | None:
    """The table ``map(fn)`` returns, or None when the row-by-row interpreter must build it."""
    return None

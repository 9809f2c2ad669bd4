"""Run a Flux expression or program the way ``%%flux`` does and give back Flux values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from flux_magic._errors import FluxError
from flux_magic._flux import run_program


def ev(expr: str, *packages: str, now: str | None = None, prelude: str = "") -> Any:
    """The value of ``expr`` in a program importing ``packages``."""
    imports = "".join(f'import "{p}"\n' for p in packages)
    clock: Callable[[], pd.Timestamp] | None = None
    if now is not None:
        fixed = pd.Timestamp(now).tz_convert("UTC").as_unit("ns")
        clock = lambda: fixed  # noqa: E731
    result = run_program(f"{imports}{prelude}\nresult__ = {expr}\n", now=clock)
    return result.values["result__"]


def table(program: str) -> pd.DataFrame:
    """The single result table of a program."""
    df = run_program(program).frame()
    assert df is not None
    return df


def fails(expr: str, *packages: str, match: str) -> FluxError:
    """Evaluating ``expr`` raises a FluxError whose message matches ``match``."""
    with pytest.raises(FluxError, match=match) as info:
        ev(expr, *packages)
    return info.value

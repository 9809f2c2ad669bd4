"""Flux's ``csv`` package: ``csv.from(csv:, mode:)`` reads annotated (or raw) CSV text."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flux_magic._errors import FluxError
from flux_magic._flux._builtins import builtin, expect
from flux_magic._flux._diagnostics import FluxRuntimeError

PATH = "csv"


def _from(
    interp: Any, csv: Any = None, file: Any = None, mode: Any = "annotations"
) -> pd.DataFrame:
    from flux_magic._annotated_csv import read_annotated_csv

    if file is not None:
        raise FluxRuntimeError(
            "csv.from: file is not supported by flux_magic",
            param="file",
            hint="Read the file in Python and pass its text: csv.from(csv: text), with text "
            "a notebook variable.",
        )
    if csv is None:
        raise FluxRuntimeError(
            "csv.from: missing required argument csv",
            hint='Write e.g. csv.from(csv: "#datatype,...").',
        )
    expect(csv, "csv", "csv.from", "string")
    expect(mode, "mode", "csv.from", "string")
    if mode not in ("annotations", "raw"):
        raise FluxRuntimeError(
            f'csv.from: mode must be "annotations" or "raw", not "{mode}"', param="mode"
        )
    try:
        return read_annotated_csv(csv, mode=mode)
    except FluxError as exc:
        message, _, hint = str(exc).partition("\n\n")
        raise FluxRuntimeError(message, param="csv", hint=hint or None) from None


def members() -> dict[str, Any]:
    """The package's names."""
    return {
        "from": builtin("csv.from", "csv=?, file=?, mode=?", _from, example='csv.from(csv: "...")'),
    }

"""The Flux language layer: parse and run Flux function literals and small programs.

- :func:`flux_fn` turns ``(r) => ({headers: ..., data: bytes(v: ...)})`` into a Python callable.
- :func:`looks_like_flux` tells a Flux function literal from a Python expression, cheaply.
- :func:`run_program` runs a ``%%flux`` program and returns its results as DataFrames.

The parser is a Lark grammar (:mod:`._grammar`); errors are :class:`flux_magic.FluxError` with
Flux's ``error @line:col-line:col: message`` and the offending text underlined.
"""

from __future__ import annotations

from flux_magic._flux._interpreter import FluxWarning
from flux_magic._flux._program import (
    FluxFunction,
    FluxResult,
    flux_fn,
    looks_like_flux,
    run_program,
)

__all__ = [
    "FluxFunction",
    "FluxResult",
    "FluxWarning",
    "flux_fn",
    "looks_like_flux",
    "run_program",
]

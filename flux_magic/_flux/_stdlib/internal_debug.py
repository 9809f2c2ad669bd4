"""Flux's ``internal/debug`` package: ``pass`` (more of its functions belong here too)."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._builtins import builtin

PATH = "internal/debug"


def _pass(interp: Any, tables: Any) -> Any:
    return tables


def members() -> dict[str, Any]:
    """The package's names."""
    return {"pass": builtin("debug.pass", "tables=?", _pass, pipe="tables")}

"""Flux's ``experimental/array`` package: the earlier home of ``array``'s functions."""

from __future__ import annotations

from typing import Any

from flux_magic._flux._stdlib.array import package_members

PATH = "experimental/array"


def members() -> dict[str, Any]:
    """The package's names (``from``, ``concat``, ``map``, ``filter``)."""
    return package_members("array")
